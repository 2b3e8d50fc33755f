"""Write notebooks/01_glyphs_tour.ipynb: sample fonts, compare with real ones, morph, complete an alphabet."""

from __future__ import annotations

from _build import code, md, write

CELLS = [
    md("""
# A tour of the `glyphs` model: the latent space of typefaces

`glyphs` is latentlab's flagship bundled model. Every point of its latent space is a **whole font**:
62 glyphs (A-Z, a-z, 0-9) at 64x64 px. It was trained on open-licensed Google Fonts (OFL, Apache,
UFL), split by family so that the fonts used to measure it were never seen in training.

In this tour we

1. sample new fonts,
2. compare reconstructions with real fonts the model never saw,
3. morph one typeface into another,
4. complete a whole alphabet from five letters of a font file.
"""),
    code("""
import os
from pathlib import Path

import numpy as np
import torch
import latentlab as ll

QUICK = os.environ.get("LATENTLAB_QUICK") == "1"   # CI: fewer fonts per cell
gen = ll.load("glyphs")
gen
"""),
    md("""
The model card travels with the weights: data, architecture, training command and the quality
bars measured on held-out families.
"""),
    code("""
m = gen.card["metrics"]
print(gen.card["description"])
print(f"held-out (test-half) reconstruction IoU {m['recon_iou']:.3f}, 5-letter completion "
      f"{m['completion5_iou']:.3f} (nearest-font retrieval {m['retrieval5_iou']:.3f})")
assert m["completion5_iou"] > m["retrieval5_iou"], "the card says completion beats retrieval"
"""),
    md("""
## 1. Sample new fonts

`gen.sample(n, seed=...)` draws latents. The VAE's standard-normal prior misses the region where
real fonts live, so the bundle ships a Gaussian mixture fitted on the training fonts' codes and
`sample()` draws from it. `gen.decode(z)` renders a specimen line (the text is `gen.text`).
"""),
    code("""
z = gen.sample(4 if QUICK else 8, seed=1)
ll.show(gen.decode(z), nrow=1, scale=1)
"""),
    md("""
`gen.glyphs(z, chars)` gives the glyph images themselves, `(N, len(chars), 64, 64)`, ink = 1.
Change the specimen text with `gen.text = ...`.
"""),
    code("""
g = gen.glyphs(z[:2], "Type42")
print(tuple(g.shape))
assert g.shape == (2, len("Type42"), 64, 64)
gen.text = "Quartz"
ll.show(gen.decode(z[:3]), nrow=1, scale=1)
gen.text = "Hamburg"
"""),
    md("""
## 2. Real fonts vs their reconstructions

The bundle ships a small evaluation sample of held-out fonts. We encode each from all 62 glyphs
(`encode_glyphs` takes a dict `{char: image}`; any subset works) and decode it again: top row
real, bottom row the model.
"""),
    code("""
from latentlab.generators.glyphs import CHARS, load_eval_sample

sample = load_eval_sample(gen.folder)
real = sample["glyphs"][: 3 if QUICK else 6].float() / 255       # (F, 62, 64, 64), ink = 1
codes = torch.stack([gen.encode_glyphs({c: font[i] for i, c in enumerate(CHARS)}) for font in real])
text = "Hamburg"
idx = [CHARS.index(c) for c in text]
def as_line(glyphs):   # (F, K, 64, 64) ink -> (F, 3, 64, 64 K) dark ink on paper
    return (1 - torch.cat(list(glyphs.permute(1, 0, 2, 3)), dim=-1))[:, None].expand(-1, 3, -1, -1)
rows = torch.stack([as_line(real[:, idx]), as_line(gen.glyphs(codes, text))], dim=1).flatten(0, 1)
ll.show(rows, nrow=2, scale=0.75)
"""),
    md("""
## 3. Morph one typeface into another

Interpolating between two fonts' codes morphs every glyph at once. `gen.codes()` and
`gen.labels()` (a dict of numpy arrays) hold the training fonts: here a bold serif and a light
sans-serif (picked by their labels).
"""),
    code("""
labels = gen.labels()
codes_train = gen.codes()
def pick(category, heavy):
    ok = np.flatnonzero((labels["category"] == category) & ~labels["italic"])
    return ok[np.argmax(labels["weight"][ok]) if heavy else np.argmin(labels["weight"][ok])]
a, b = pick("serif", heavy=True), pick("sans-serif", heavy=False)
print(labels["family"][a], labels["weight"][a], "->", labels["family"][b], labels["weight"][b])
path = ll.lerp(codes_train[a], codes_train[b], steps=5 if QUICK else 7)
ll.show(gen.decode(path), nrow=1, scale=1)
"""),
    md("""
## 4. Complete an alphabet from five letters of a font file

`gen.encode_font(path, chars=...)` renders a `.ttf/.otf/.woff/.woff2` file the way the training
data was made and encodes the given characters. Here we give it only **H a m b g** of EB Garamond
(an open font from a family held out of training; the file ships in `assets/fonts/` with its
licence) and ask for all 62 glyphs: top row the real font, bottom row the model's guess.
"""),
    code("""
from latentlab.generators.glyphs import render_font

font_path = Path("assets/fonts/EBGaramond-Regular.woff2")
z5 = gen.encode_font(font_path, chars="Hambg")
truth = torch.from_numpy(render_font(font_path.read_bytes())).float() / 255
guess = gen.glyphs(z5)                                        # (62, 64, 64)
pair = torch.stack([truth, guess])                            # real, model
show_chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if not QUICK else "ABCDEFGHIJ"
sel = [CHARS.index(c) for c in show_chars]
ll.show(as_line(pair[:, sel]), nrow=1, scale=0.6)
def iou(a, b):   # IoU of the ink masks, per glyph: (..., 64, 64) -> (...)
    return ((a > 0.5) & (b > 0.5)).sum((-2, -1)) / ((a > 0.5) | (b > 0.5)).sum((-2, -1)).clamp_min(1)
unseen = [CHARS.index(c) for c in CHARS if c not in "Hambg"]
completed = float(iou(truth, guess)[unseen].mean())
average = float(iou(truth, gen.glyphs(codes_train.mean(0)))[unseen].mean())   # the control: the average font
print(f"IoU of the 57 glyphs it never saw: {completed:.3f} (the average training font gets {average:.3f})")
assert completed >= average + 0.1, "five letters should say more about the font than the average font does"
"""),
    md("""
## Where next

* `ll.directions.from_labels(...)` with `gen.codes()` and `gen.labels()["weight"]` gives a "bolder" direction;
* `ll.Explorer(gen)` puts sliders on it;
* `ll.save_morph(gen, gen.sample(4, seed=0), "fonts.gif")` animates a walk through typefaces.
"""),
]

if __name__ == "__main__":
    print(write("01_glyphs_tour", CELLS))
