"""Write notebooks/05_morph_animation.ipynb: morph animations (GIF, MP4, WebP) from keyframes, paths and seeds."""

from __future__ import annotations

from _build import code, md, write

CELLS = [
    md("""
# Morph animations

A *morph* walks through latent space from one keyframe to the next and decodes every step:
the image changes smoothly from one sample into another. It is the classic way to show what a
latent space has learned (and the most shared output of latent-space tools).

`ll.save_morph(gen, keyframes, "morph.mp4")` does the whole job:

* samples a smooth path through the keyframes (`ll.LatentPath`: easing, curves, loops);
* decodes the frames **in batches and writes each one as it comes**, so a 10-minute morph needs
  no more memory than a 2-second one;
* picks the format from the extension: `.mp4` (H.264), `.gif` (one adaptive palette per frame),
  `.webp`, or no extension for a folder of PNG frames;
* writes to a temporary file and renames it at the end: if anything fails (or you press stop),
  no half-written file is left behind.

We use the bundled `digits` model (a small VAE on hand-written digits, 32x32 images).
"""),
    code("""
import os
import sys
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import torch
import latentlab as ll

QUICK = os.environ.get("LATENTLAB_QUICK") == "1"   # CI renders shorter, smaller animations
SECONDS = 2 if QUICK else 4
OUT = Path(tempfile.mkdtemp(prefix="latentlab-morphs-"))   # keep the repository clean
gen = ll.load("digits")
gen
"""),
    md("""
## Keyframes
Any latents of the model's space can be keyframes. Seeds make them reproducible: the same
seed always gives the same latent. `ll.contact_sheet` shows them with labels.
"""),
    code("""
seeds = [1, 5, 9, 2]
keys = torch.cat([gen.sample(1, seed=s) for s in seeds])     # (4, 16)
ll.contact_sheet(gen.decode(keys), labels=[f"seed {s}" for s in seeds], nrow=4)
"""),
    md("""
## A GIF, previewed inline
`save_morph` returns an `Animation`: the path plus frames, fps, size and duration.
`ll.show_animation` plays it in the cell (GIF/WebP as an image, MP4 as an HTML5 video).
Small models are enlarged to about 256 px unless you pass `size=`.
"""),
    code("""
anim = ll.save_morph(gen, keys, OUT / "morph.gif", fps=15, seconds=SECONDS, progress=False)
print(anim)
assert anim.path.read_bytes()[:4] == b"GIF8" and anim.frames == round(15 * SECONDS)
ll.show_animation(anim)
"""),
    md("""
## What is in the frames
`ll.frames` yields the same frames one by one as `uint8 (H, W, 3)` arrays, for your own
writer or analysis. Here every few frames side by side: the first frame is exactly keyframe 1
and the last exactly keyframe 4.
"""),
    code("""
frames = np.stack(list(ll.frames(gen, keys, fps=15, seconds=SECONDS, size=64)))
print(frames.shape, frames.dtype)
assert frames.shape == (anim.frames, 64, 64, 3) and frames.dtype == np.uint8
every = max(1, len(frames) // 10)
strip = torch.from_numpy(frames[::every]).permute(0, 3, 1, 2)     # uint8 (N, 3, H, W) is accepted
ll.grid_image(strip, nrow=len(strip), scale=1)
"""),
    md("""
## Easing, curves and seamless loops
A linear walk moves at constant speed and turns sharply at each keyframe. An `ll.LatentPath` can

* ease in and out of every keyframe (`easing="ease-in-out"`) so that each digit lingers a moment;
* follow a smooth spline through the keyframes (`curve="smooth", geometry="spherical"`: smooth and norm-aware,
  the right choice for Gaussian latents);
* loop back to the start (`loop=True`): the last frame leads into the first, so the video
  repeats without a jump.

Pass the path instead of the keyframes. MP4 is the smallest file for long, smooth morphs.
"""),
    code("""
path = ll.LatentPath(keys, easing="ease-in-out", curve="smooth", geometry="spherical", loop=True)
video = ll.save_morph(gen, path, OUT / "loop.mp4", fps=24, seconds=2 * SECONDS, progress=False)
print(video, f"({video.path.stat().st_size / 1024:.0f} kB)")
ll.show_animation(video, width=256)
"""),
    md("""
## Several morphs side by side, with a caption
`ll.save_grid_morph` plays one morph per grid cell in a single animation; `caption=` writes a
string (or `f(i, n) -> str`) on every frame.
"""),
    code("""
sources = [torch.cat([gen.sample(1, seed=s) for s in (a, a + 10, a + 20)]) for a in range(6)]
grid_anim = ll.save_grid_morph(gen, sources, OUT / "grid.webp", nrow=3, fps=12, seconds=SECONDS, size=96,
                               caption=lambda i, n: f"frame {i + 1}/{n}", progress=False)
print(grid_anim)
ll.show_animation(grid_anim)
"""),
    md("""
## Frames you already have
If you computed the latents yourself (say `ll.slerp` between two samples), pass them with
`interpolate=False`: each row becomes one frame. With no extension you get a folder of PNGs.
"""),
    code("""
z = gen.sample(2, seed=7)
rows = ll.slerp(z[0], z[1], steps=12)                         # (12, 16)
folder = ll.save_morph(gen, rows, OUT / "frames", interpolate=False, fps=12, size=64, progress=False)
print(folder.format, folder.frames, sorted(p.name for p in folder.path.iterdir())[:3], "...")
assert folder.frames == 12 == len(list(folder.path.glob("*.png")))
"""),
    md("""
## Mistakes give clear messages
Bad input raises a latentlab error that says what was expected, what was got and how to fix it,
before anything is written.
"""),
    code("""
try:
    ll.save_morph(gen, keys, OUT / "morph.avi")
except ll.LatentLabError as err:
    print(err)
else:
    raise AssertionError("expected ll.LatentLabError: this call must be refused")
"""),
    md("""
## From the shell
The same works without Python code: `latentlab models`, `latentlab sample MODEL -n 16 -o grid.png`
and `latentlab morph MODEL --seeds 1 5 9 --seconds 6 --loop -o morph.mp4`. With the `glyphs`
model, `latentlab morph glyphs --fonts a.ttf b.woff2 -o morph.gif` morphs between fonts you own.
(Here we call it through `python -m latentlab.cli`, which is the same program.)
"""),
    code("""
cmd = [sys.executable, "-m", "latentlab.cli", "morph", "digits", "--seeds", "1", "5", "9",
       "--seconds", str(SECONDS), "--loop", "--quiet", "-o", str(OUT / "cli.mp4")]
print(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
"""),
]


if __name__ == "__main__":
    print(write("05_morph_animation", CELLS))
