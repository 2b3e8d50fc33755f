"""Write notebooks/09_train_your_own.ipynb: train a generator on a folder of pictures, then explore it."""

from __future__ import annotations

from _build import code, md, write

CELLS = [
    md("""
# Train your own generator

Artists train models on their own drawings to explore variations of their style. Here we do it in
one cell, on a laptop CPU, in a few minutes: `ll.train(folder)` returns a `Generator` like the
bundled ones, so sampling, interpolation, directions, sliders, maps and morph animations all work.

The folder `assets/doodle_faces/` holds 150 small face doodles drawn by latentlab's
`scripts/make_doodles.py` (public domain, CC0). Point `FOLDER` at your own pictures instead:
any mix of PNG/JPEG/WebP/... files, in sub-folders too; unreadable files are skipped and listed.
"""),
    code("""
import os
import torch
import latentlab as ll

FOLDER = "assets/doodle_faces"
QUICK = os.environ.get("LATENTLAB_QUICK") == "1"   # CI runs a short version of this notebook
ll.show(ll.load_images(FOLDER)[:16], nrow=8)
"""),
    md("""
## Train
Settings are chosen from the data size (about 4,000 optimiser steps, fitted to the time budget
`max_minutes`; a few minutes on 2 CPU cores, faster on a GPU, which is used automatically). Watch the loss curve and the grid:
top row validation pictures, middle their reconstructions, bottom new samples. Press the stop
button at any time: you keep the best model so far (best on a validation split; the card's `test_*`
figures come from a third split that no choice has seen). `out=` saves it (and checkpoints to resume
with `resume=True`).

What to expect from 150 doodles and a few CPU minutes: the outline, size and placement of each
face and where its eyes sit come back; small details such as the curve of a mouth stay soft
(a small VAE on few pictures averages what it cannot tell apart). More pictures and more minutes
sharpen them.
"""),
    code("""
gen = ll.train(FOLDER, size=64, seed=0, out="my_doodles",
               max_minutes=0.5 if QUICK else 10)   # quick mode: the same plan, fitted to 30 s
gen
"""),
    code("""
m = gen.card["metrics"]
# a full run beats the mean picture; quick mode's 30 s on a loaded CI machine may not yet (it got 1.1x once)
assert gen.card["data"]["n_test"] > 0, gen.card["data"]
assert 0 < m["test_recon_mse"] < (2.0 if QUICK else 1.0) * m["mean_image_baseline_mse"], m
print(f"test-split reconstruction error {m['test_recon_mse']:.4f} per pixel "
      f"(the mean picture scores {m['mean_image_baseline_mse']:.4f})")
"""),
    md("""
## New doodles from the latent space
"""),
    code("""
ll.show(gen.decode(gen.sample(16, seed=1)), nrow=8)
"""),
    md("""
## Morph between two of your pictures
Encode two pictures, then walk the great circle between their latents with `ll.slerp`.
"""),
    code("""
pics = ll.load_images([os.path.join(FOLDER, "face_000.png"), os.path.join(FOLDER, "face_006.png")], size=gen.image_size)
a, b = gen.encode(pics)
ll.show(gen.decode(ll.slerp(a, b, steps=8)), nrow=8)
"""),
    md("""
## What varies most? PCA of your pictures
Encode every picture and take the principal components of their latents: the main ways *your*
pictures vary (PCA of random prior samples would not tell you this: a VAE's prior is the same in
every direction). Each row walks one component from -2 to +2 standard deviations.
"""),
    code("""
pictures = ll.load_images(FOLDER, size=gen.image_size)
codes = gen.encode(pictures)
components = ll.directions.pca(gen, codes=codes, n_components=3)
z0 = codes[0]
spread = [float((codes @ d.vector).std()) for d in components]      # std of the pictures along each one
rows = [d.apply(z0, (torch.linspace(-2, 2, 7) * s).tolist()) for d, s in zip(components, spread)]
ll.show(gen.decode(torch.cat(rows)), nrow=7)
"""),
    md("""
## Explore with sliders
Drag a slider: the picture re-renders live.
"""),
    code("""
ll.Explorer(gen, directions=list(components)).show()
"""),
    md("""
## Reload later
The saved folder holds safetensors weights, a model card (data summary, settings, metrics) and a
checksum manifest. `ll.load` opens it like a bundled model.
"""),
    code("""
again = ll.load("my_doodles")
z = gen.sample(4, seed=0)
print("reloaded bit-identically:", torch.equal(gen.decode(z), again.decode(z)))
assert torch.equal(gen.decode(z), again.decode(z))
"""),
]

if __name__ == "__main__":
    print(write("09_train_your_own", CELLS))
