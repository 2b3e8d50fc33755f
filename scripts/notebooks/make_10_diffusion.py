"""Write notebooks/10_diffusion.ipynb: a diffusers text-to-image pipeline as a latentlab generator."""

from __future__ import annotations

from _build import code, md, write

CELLS = [
    md("""
# Text-to-image diffusion: noise, prompts and everything in between

`ll.from_diffusers(...)` turns a diffusers pipeline (Stable Diffusion 1.x / 2.x, sd-turbo, SDXL, or an
unconditional DDPM) into a latentlab `Generator`. An image is fixed by two things, and each is a
latent space:

| space | shape (SD 1.5 at 512 px) | what it is |
|---|---|---|
| `noise` (default) | `(4, 64, 64)`, normal prior | the sampler's starting latents |
| `prompt` | `(77, 768)` | the text encoder's output (SDXL adds a pooled vector) |
| `joint` | one flat vector | noise and prompt together: a whole image's recipe |

Decoding runs latentlab's own deterministic DDIM sampler (with classifier-free guidance) and gives the
same pixels as the pipeline's own `pipe(...)` call for the same inputs.

**About the images below.** This notebook must run offline in seconds, so it builds *tiny* pipelines
from the real diffusers / transformers classes with **random weights**. Their pictures are abstract
colour noise: everything here shows the mechanics (spaces, morphs, inversion, directions, widgets),
not image quality. With a real checkpoint the same lines give real pictures (see the marked cell).
"""),
    code("""
import json
import os
import tempfile
import wave
from pathlib import Path

import numpy as np
import torch

import latentlab as ll

QUICK = os.environ.get("LATENTLAB_QUICK") == "1"   # CI: fewer frames and steps
workdir = Path(tempfile.mkdtemp())
"""),
    md("""
## A tiny Stable-Diffusion-style pipeline, built offline

A UNet, a VAE, a CLIP text encoder and a CLIP tokenizer (with a 54-token alphabet vocabulary, since
the real one would be downloaded), saved with `save_pretrained` like any hub model.
"""),
    code("""
from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

letters = "abcdefghijklmnopqrstuvwxyz"
vocab = ["<|startoftext|>", "<|endoftext|>", *letters, *(c + "</w>" for c in letters)]
(workdir / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(vocab)}))
(workdir / "merges.txt").write_text("#version: 0.2\\n")

torch.manual_seed(0)
pipe = StableDiffusionPipeline(
    unet=UNet2DConditionModel(block_out_channels=(16, 32), layers_per_block=1, sample_size=16, cross_attention_dim=32,
                              down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), attention_head_dim=4,
                              up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"), norm_num_groups=8),
    vae=AutoencoderKL(block_out_channels=(8, 16), down_block_types=("DownEncoderBlock2D",) * 2, layers_per_block=1,
                      up_block_types=("UpDecoderBlock2D",) * 2, latent_channels=4, norm_num_groups=4, sample_size=32),
    text_encoder=CLIPTextModel(CLIPTextConfig(hidden_size=32, intermediate_size=37, num_attention_heads=4,
                                              num_hidden_layers=2, vocab_size=len(vocab), max_position_embeddings=16,
                                              bos_token_id=0, eos_token_id=1, pad_token_id=1)),
    tokenizer=CLIPTokenizer(str(workdir / "vocab.json"), str(workdir / "merges.txt"), model_max_length=16),
    scheduler=DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear", clip_sample=False,
                            set_alpha_to_one=False, steps_offset=1),
    safety_checker=None, feature_extractor=None, requires_safety_checker=False)
pipe.set_progress_bar_config(disable=True)
pipe.save_pretrained(workdir / "tiny-sd")
sorted(p.name for p in (workdir / "tiny-sd").iterdir())
"""),
    md("""
### With a real model (not run here)

Where a model hub is reachable, this is the only line that changes: a hub id (or a local folder) goes
through `from_pretrained`, exactly as you would load it yourself. sd-turbo makes a 512 px image in one step.
"""),
    code("""
LOAD_REAL_MODEL = False   # <- set True on a machine with internet (and ideally a GPU)
if LOAD_REAL_MODEL:
    gen = ll.from_diffusers("stabilityai/sd-turbo", device="cuda", dtype=torch.float16)
"""),
    code("""
gen = ll.from_diffusers(workdir / "tiny-sd", steps=4 if QUICK else 10, guidance=5.0, prompt="a red fox",
                        name="tiny-sd")
print(gen)
print("steps", gen.steps, "guidance", gen.guidance, "preview steps", gen.preview_steps)
"""),
    md("""
## Decode: noise + prompt -> image

`gen.decode(noise, prompt=...)`: one prompt for all, one per latent (a mixed batch), or prompt latents.
Seeds never touch torch's global random state.
"""),
    code("""
noise = gen.sample(4, seed=0)                                   # (4, 4, 16, 16)
images = gen.decode(noise, prompt=["a red fox", "a red fox", "a blue bird", "a blue bird"])
ll.show(images, nrow=4, scale=3)
"""),
    md("""
**Parity.** Same noise, same embeddings, same steps and guidance: latentlab's loop and the pipeline's
own `__call__` give the same pixels.
"""),
    code("""
emb = gen.embed(["a red fox", "a red fox", "a blue bird", "a blue bird"])
theirs = pipe(latents=noise, prompt_embeds=emb, num_inference_steps=gen.steps, guidance_scale=gen.guidance,
              height=32, width=32, output_type="pt").images
print("largest pixel difference:", float((images - theirs).abs().max()))
assert float((images - theirs).abs().max()) < 1e-4
"""),
    md("""
Embeddings are cached per text, so a long morph between a few prompts runs the text encoder a few times:
"""),
    code("""
before = gen.texts_encoded
print("texts encoded so far:", before)   # 'a red fox', 'a blue bird' and the empty negative prompt
gen.decode(gen.sample(8, seed=1), prompt="a blue bird")
print("after 8 more images:", gen.texts_encoded)
assert before == gen.texts_encoded == 3, "a cached text is not encoded again"
"""),
    md("""
## Joint latents: (prompt, seed) keyframes

`gen.keyframes([(text, seed), ...])` gives joint latents; interpolation treats each part in its own
geometry: the noise moves on a great circle (it keeps the norm a Gaussian sample has), the prompt
embedding on a straight line.
"""),
    code("""
keys = gen.keyframes([("a red fox", 1), ("a blue bird", 7), ("an old tree", 3)])
joint = gen.space("joint")
print(joint.describe(), tuple(keys.shape))
assert keys.shape == (3, 4 * 16 * 16 + 16 * 32)
path = ll.interpolate(keys[0], keys[1], 6, space=joint)    # slerp on noise, lerp on prompt
ll.show(gen.decode(path, space="joint"), nrow=6, scale=3)
"""),
    md("""
## Morphs with music, resumable

`ll.save_morph` renders frames in batches. With `audio=` the walk lasts as long as the audio and moves
faster at its onsets (here a synthetic click track), and the audio is muxed into the MP4. Finished
frames are kept beside the output until it is written, so an interrupted render run again picks up
where it stopped (`resume=`, on by default for diffusion models).
"""),
    code("""
sr, seconds = 22050, 2.0
track = np.zeros(int(sr * seconds))
for t in (0.5, 1.0, 1.5):                                   # three clicks
    i = int(t * sr)
    track[i:i + 110] = np.sin(np.arange(110) * 0.6) * np.exp(-np.arange(110) / 30)
with wave.open(str(workdir / "clicks.wav"), "wb") as w:
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(sr)
    w.writeframes((track * 0.8 * 32767).astype("<i2").tobytes())

anim = ll.save_morph(gen, keys, workdir / "fox_bird_tree.mp4", space="joint", fps=6 if QUICK else 12, size=96,
                     audio=workdir / "clicks.wav", progress=False)
print(anim)
anim
"""),
    md("""
The same from a terminal: `latentlab morph stabilityai/sd-turbo --prompts "a red fox" "a blue bird" --seeds 1 7 --audio song.wav -o fox.mp4`.

## Inversion: a photo back to its noise

`gen.encode(images, prompt=...)` (and `ll.encode(gen, "photo.jpg")`) encodes with the VAE, then runs
DDIM backwards to the noise that re-creates the image, so two photos can be morphed. With random
weights a latent pipeline's VAE cannot invert its own decoder, so this demo uses a tiny *pixel-space*
DDPM (unconditional, mild noise schedule), where the round trip is well posed even untrained.
"""),
    code("""
from diffusers import DDPMPipeline, DDPMScheduler, UNet2DModel

torch.manual_seed(0)
ddpm = DDPMPipeline(unet=UNet2DModel(sample_size=16, in_channels=3, out_channels=3, block_out_channels=(16, 32),
                                     layers_per_block=1, down_block_types=("DownBlock2D", "AttnDownBlock2D"),
                                     up_block_types=("AttnUpBlock2D", "UpBlock2D"), norm_num_groups=8),
                    scheduler=DDPMScheduler(beta_start=1e-4, beta_end=2e-3, beta_schedule="linear", clip_sample=False))
pixels = ll.from_diffusers(ddpm, name="tiny-ddpm")

yy, xx = torch.meshgrid(torch.linspace(0, 1, 16), torch.linspace(0, 1, 16), indexing="ij")
photo = torch.stack([0.5 + 0.4 * torch.sin(3 * xx + 1), 0.5 + 0.4 * torch.cos(2 * yy), 0.3 + 0.4 * xx * yy])[None]
rows, round_trip = [photo], {}
for steps in (10, 50):
    z = pixels.encode(photo, steps=steps)
    again = pixels.decode(z, steps=steps)
    rows.append(again)
    round_trip[steps] = float(((again - photo) ** 2).mean())
    print(f"{steps} steps: round-trip MSE {round_trip[steps]:.5f}")
control = pixels.decode(pixels.sample(1, seed=0), steps=10)
print(f"random noise instead: MSE {float(((control - photo) ** 2).mean()):.3f}")
assert round_trip[50] < round_trip[10] < 0.1 * float(((control - photo) ** 2).mean())
ll.show(torch.cat([*rows, control]), nrow=4, scale=6)       # photo | 10 steps | 50 steps | random noise
"""),
    md("""
## Directions: from words, and in the UNet's h-space

`ll.directions.from_prompts(gen, positive, negative)` is the mean difference of the embeddings (with
its provenance). `ll.directions.h_space(gen)` runs PCA on the UNet's mid-block activations (the
"h-space" of Kwon et al. 2022); such a direction is applied while sampling, added to the mid-block's
output during the chosen steps. A zero edit gives exactly the plain image.
"""),
    code("""
toward_bird = ll.directions.from_prompts(gen, ["a blue bird"], ["a red fox"], name="fox->bird")
print(toward_bird, "norm", round(toward_bird.provenance["norm"], 3))
strengths = torch.linspace(0, toward_bird.provenance["norm"], 5)
prompts = toward_bird.apply(gen.embed("a red fox"), strengths.tolist())[:, 0]     # (5, L, D)
ll.show(gen.decode(prompts, space="prompt", seed=1), nrow=5, scale=3)
"""),
    code("""
h_dirs = ll.directions.h_space(gen, n_samples=8 if QUICK else 32, n_components=3, step=0)
z = gen.sample(1, seed=2)
plain = gen.decode(z)
same = gen.decode(z, h_edit=[(h_dirs[0], 0.0)])
print("zero edit == plain image:", torch.equal(plain, same))
assert torch.equal(plain, same)
# the mid-block output has a norm of about 40 here, so strengths of that size are large edits
edits = [gen.decode(z, h_edit=[(h_dirs[0], s)], h_steps=slice(0, gen.steps // 2)) for s in (-80, -40, 0, 40, 80)]
change = [float((e - plain).abs().mean()) for e in edits]
print("mean pixel change:", [round(c, 3) for c in change])
assert change[2] == 0 and min(change[:2] + change[3:]) > 0.005   # strength 0 is the plain image; the others edit
ll.show(torch.cat(edits), nrow=5, scale=3)
"""),
    md("""
## Live: the Explorer

On a diffusion model the Explorer previews while you drag (fewer steps, half size), renders at full
quality once you stop, shows a progress bar, abandons a render between two denoising steps as soon
as a newer slider value arrives, and has a prompt box (type, press Enter).
"""),
    code("""
ex = ll.Explorer(gen, space="joint", n_components=3)
ex
"""),
    code("""
ex.set_prompt("an old tree")      # what typing in the box and pressing Enter does
ex.sliders[0].value = 1.0
ex.wait(60)
ll.show(gen.decode(ex.latent[None], space="joint"), scale=4)
"""),
]


if __name__ == "__main__":
    print(write("10_diffusion", CELLS))
