"""Write notebooks/07_maps.ipynb: a UMAP map of the digits latent space, linked to the generator."""

from __future__ import annotations

from _build import code, md, write

CELLS = [
    md("""
# Maps of a latent space

A map lays every code of a collection on a plane so that neighbours stay neighbours: which
shapes cluster, where one class turns into another, which regions no training example occupies.
Map tools usually only *show* points. latentlab also holds the generator, so any place on the
map, even an empty one, can be **rendered**.

We use the bundled `digits` model: every hand-written digit of scikit-learn's dataset is
encoded to its 16-D latent code, and the codes are mapped with UMAP
(`pip install "latentlab[maps]"`; PCA works without it).
"""),
    code("""
%matplotlib inline
import os
import numpy as np
import torch
import latentlab as ll
from sklearn.datasets import load_digits

QUICK = os.environ.get("LATENTLAB_QUICK") == "1"   # CI runs a shorter version
gen = ll.load("digits")
"""),
    md("""
## Encode the training images
The digits are 8x8 images of ink intensity 0-16. The model expects dark ink on white paper at
32x32 in `[0, 1]`, so we invert, scale and upsample, then `gen.encode` returns one code per image:
`(N, 16)`. The digit classes are the labels we colour by.
"""),
    code("""
digits = load_digits()
n = 600 if QUICK else len(digits.images)
ink = torch.tensor(digits.images[:n], dtype=torch.float32)[:, None] / 16
images = torch.nn.functional.interpolate(1 - ink, size=(32, 32), mode="bilinear").clamp(0, 1)
codes = gen.encode(images.expand(-1, 3, -1, -1))
labels = {"digit": digits.target[:n]}
print("codes", tuple(codes.shape))
ll.show(gen.decode(codes[:10]), nrow=10)
"""),
    md("""
## Fit the map
`LatentMap` follows scikit-learn: `fit` returns the map, learned attributes end in `_`.
`embedding_` holds one `(x, y)` per code. A `seed` makes it reproducible. The first UMAP fit in a
session compiles numba code; latentlab computes the neighbours with torch and keeps compiled code
in `~/.cache/latentlab/numba`, so later sessions start faster. Progress bars show both phases.
"""),
    code("""
try:
    latent_map = ll.LatentMap(method="umap", seed=0, n_epochs=150 if QUICK else None).fit(codes, labels=labels)
except ll.MissingDependencyError as err:   # umap-learn not installed: PCA needs nothing extra
    print(err)
    latent_map = ll.LatentMap(method="pca").fit(codes, labels=labels)
latent_map, latent_map.embedding_.shape
"""),
    md("""
## Look at it
`plot` colours points by a label and decodes a few thumbnails, spread so that none overlap.
Pass `path=` to save a PNG.
"""),
    code("""
fig = latent_map.plot(gen, color_by="digit", thumbnails=30, figsize=(7, 7))
fig
"""),
    md("""
## Between the points
`transform` places new codes on the map (here: samples from the prior); `inverse_transform`
turns map positions back into codes: a point of the map becomes a blend of the codes of its
nearest map points. Here we walk in a straight line across the map from the `0`s to the `6`s;
where the map has an empty gap, the blend switches from one side's codes to the other's.
"""),
    code("""
samples = gen.sample(5, seed=1)
print("new codes land at\\n", latent_map.transform(samples).round(2))

emb, digit = latent_map.embedding_, labels["digit"]
start, end = emb[digit == 0].mean(0), emb[digit == 6].mean(0)
line = np.linspace(start, end, 10).astype(np.float32)
ll.show(gen.decode(latent_map.inverse_transform(line)), nrow=10)
"""),
    md("""
## Explore it live
The map widget is linked to the generator and to an `Explorer`:

* **hover** a point to see its image; **click** a point to render it (and move the Explorer there);
* **click empty space** to render the code under the cursor;
* move the Explorer's sliders and the black ring on the map follows;
* **drag** a lasso (shift-drag: a box) to select points; `widget.selection` holds their indices.
"""),
    code("""
from latentlab.widgets import Explorer

explorer = Explorer(gen)
widget = latent_map.widget(gen, explorer=explorer, color_by="digit")
widget.show_path(ll.slerp(codes[0], codes[1], steps=20))   # an interpolation path, drawn as a line
widget
"""),
    code("""
explorer
"""),
    md("""
## From a lasso to a direction
Lasso a region of the map above and run the next cell: the selected codes become the positive
class of `ll.directions.from_labels`, and the direction moves any code towards that region.
Without a selection (as in CI) we select a box around the `0`s from code, which is exactly what
the widget does with your lasso.
"""),
    code("""
chosen = widget.selection
if len(chosen) == 0:
    zeros = emb[digit == 0]
    lo, hi = np.percentile(zeros, 10, axis=0), np.percentile(zeros, 90, axis=0)
    chosen = widget.select([[lo[0], lo[1]], [hi[0], lo[1]], [hi[0], hi[1]], [lo[0], hi[1]]])
inside = np.zeros(len(codes), dtype=bool)
inside[chosen] = True
print(f"{inside.sum()} codes selected; their digits:", np.bincount(digit[inside], minlength=10))

towards = ll.directions.from_labels(codes, inside, method="mean_diff", space=gen, name="lasso region")
seven = codes[digit == 7][0]                                  # one code, (16,)
walk = towards.apply(seven, strength=[0, 1, 2, 3, 4, 5])      # (6, 16): one code per strength
ll.show(gen.decode(walk), nrow=6)
"""),
    md("""
The row starts from a `7` and walks towards the lassoed region. Try a different region, a larger
`strength`, or `color_by=` another label. With the `glyphs` model the same code maps every training
font: `ll.LatentMap(seed=0).fit(gen.codes(), labels=gen.labels())`.
"""),
]

if __name__ == "__main__":
    print(write("07_maps", CELLS))
