"""Write notebooks/06_explorer.ipynb: live sliders, a morph scrubber and a blend pad on the digits model."""

from __future__ import annotations

from _build import code, md, write

CELLS = [
    md("""
# Explore a latent space live: sliders, a morph scrubber, a blend pad

Reading about a latent direction is one thing; *dragging* along it and watching the image
change is how people build intuition. This notebook puts three live widgets in front of the
bundled `digits` model (a small VAE with a 16-D latent space):

1. **Explorer**: one slider per direction; the image re-renders as you drag.
2. **Scrubber**: play or scrub through a morph from one digit to another.
3. **BlendPad**: drag a point between three digits to mix them.

Everything runs on a laptop CPU. Slider events are rendered in the background and *the latest
value wins*: if you drag faster than images render, stale positions are skipped instead of
queued, so the image never lags behind your hand. (The flagship `glyphs` font model plugs into
the same widgets with bold / italic / serif sliders once it ships.)
"""),
    code("""
import os
import tempfile
import torch
import latentlab as ll
from sklearn.datasets import load_digits

QUICK = os.environ.get("LATENTLAB_QUICK") == "1"   # CI runs a shorter version
gen = ll.load("digits")
gen
"""),
    md("""
## Where do good sliders come from?
A VAE's prior is an isotropic Gaussian, so principal components of *random samples* are
arbitrary. The interesting directions are where the *data* varies: we encode the real
hand-written digits (8x8 ink images, inverted and upscaled to the model's 32x32 paper) and
run PCA on their codes (`(N, 16)`), as GANSpace does.
"""),
    code("""
digits = load_digits()
n = 600 if QUICK else len(digits.images)
ink = torch.tensor(digits.images[:n], dtype=torch.float32)[:, None] / 16
images = torch.nn.functional.interpolate(1 - ink, size=(32, 32), mode="bilinear").clamp(0, 1)
codes = gen.encode(images)                  # (N, 16)
labels = torch.tensor(digits.target[:n])
pcs = ll.directions.pca(gen, codes=codes, n_components=4)
[(d.name, round(d.provenance["scores"]["explained_variance_ratio"], 3)) for d in pcs]
"""),
    md("""
We add one *supervised* direction as well: from codes of "not a zero" towards codes of zeros
(`from_labels`, mean difference). Directions know the model and space they were found in;
using one with another model is an error that says so.
"""),
    code("""
zero = ll.directions.from_labels(codes, labels == 0, method="mean_diff", space=gen, name="more 0")
directions = [*pcs, zero]
"""),
    md("""
## 1. The Explorer
Drag a slider (or click a handle and use the arrow keys). The controls:

* one strength slider per direction (in units of the latent's standard deviation);
* **temperature** scales the starting sample (smaller: more typical digits);
* **seed** / **random**: start from another sample; **reset**: sliders back to 0;
* **bookmark** keeps the current latent in the strip below; **save PNG** writes the image;
  **save morph** writes a GIF through the bookmarks.
"""),
    code("""
export_dir = tempfile.mkdtemp(prefix="explorer-")
ex = ll.Explorer(gen, directions=directions, seed=3, export_dir=export_dir)
ex
"""),
    md("""
The widget is also an object you can drive from code: `ex.latent` is the current latent
(set it to start from a code of your own), `ex.strengths` the slider values, and
`ex.observe(fn, names="latent")` calls `fn` whenever the latent changes, as for any ipywidget.
"""),
    code("""
ex.strengths = [0.0, 0.0, 0.0, 0.0, 2.0]     # push towards "0"
ex.wait()                                     # renders happen in the background
ex.bookmark()
ex.latent = codes[(labels == 7).nonzero()[0, 0]]   # start from an encoded "7"
ex.wait()
ex.bookmark()
ll.show(gen.decode(torch.stack(ex.bookmarks)), nrow=2)
"""),
    md("""
Two bookmarks make a path: export it as an animation (GIF here; `.mp4` and `.webp` work too).
"""),
    code("""
anim = ex.save_morph(os.path.join(export_dir, "bookmarks.gif"), fps=12, seconds=1 if QUICK else 2)
anim
"""),
    md("""
## 2. Scrub a morph
Between two encoded digits, `interpolate` picks slerp for this Gaussian space (a straight
line would pass through washed-out, low-probability latents). Press play, or drag the frame
slider.
"""),
    code("""
three = codes[(labels == 3).nonzero()[0, 0]]
eight = codes[(labels == 8).nonzero()[0, 0]]
sc = ll.Scrubber(gen, three, eight, frames=24, fps=12)
sc
"""),
    md("""
## 3. Blend three digits
Each corner of the triangle holds a digit; the point's position sets the blend weights
(shown under the pad). Click or drag inside the pad, or focus it and use the arrow keys.
"""),
    code("""
corners = torch.stack([codes[(labels == d).nonzero()[0, 0]] for d in (0, 1, 6)])
pad = ll.BlendPad(gen, corners)
pad
"""),
    md("""
From code, move the point and read the weights and the blended latent:
"""),
    code("""
pad.pad.x, pad.pad.y = 0.3, 0.4
pad.wait()
print([round(w, 2) for w in pad.weights.tolist()])
ll.show(gen.decode(pad.latent))
"""),
    md("""
## What next
* Find directions with labels you care about (`ll.directions.from_labels`), or unsupervised
  ones (`pca`, `sefa`), and give them to `ll.Explorer`.
* `ll.save_morph` renders any path through latents to MP4/GIF/WebP for slides.
"""),
]

if __name__ == "__main__":
    print(write("06_explorer", CELLS))
