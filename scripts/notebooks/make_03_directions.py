"""Write notebooks/03_directions.ipynb: finding, comparing, measuring and saving latent directions."""

from __future__ import annotations

from _build import code, md, write

CELLS = [
    md("""
# Directions in latent space

A **direction** is a unit vector `v` in a latent space: moving a latent `z` to `z + s * v` changes the
image in one consistent way ("more slanted", "bolder", "wider"). This notebook finds directions four
ways, compares them, **measures** what they do, and keeps a record of how each one was found.

* **from labels** (supervised): `mean_diff`, `svm` (InterFaceGAN), `logistic`, `ridge`
* **conditional**: a direction with other directions removed ("slant without moving the digit up/down")
* **unsupervised**: `pca` (GANSpace), `sefa` (closed-form factorisation), `jacobian` (local)

We use the bundled `digits` model (a 16-D VAE). The flagship `glyphs` font model will get the same
treatment (bold / italic / serif from its font labels) once it ships; every call below works unchanged
with `ll.load("glyphs")`.
"""),
    code("""
import os
import numpy as np
import matplotlib.pyplot as plt
import latentlab as ll
from latentlab import directions as dirs

QUICK = os.environ.get("LATENTLAB_QUICK") == "1"   # CI runs a shorter version
N_LABELS = 1000 if QUICK else 3000
SEEDS = range(100, 108) if QUICK else range(100, 124)

gen = ll.load("digits")
gen
"""),
    md("""
## 1. Labels for the model's own samples

InterFaceGAN's recipe: sample latents, render them, score each image, then fit a direction that
predicts the score. Here the score is a **measure** from `ll.measures`: `slant` is the shear of the ink
(positive = the top leans right, like italics). Any function `images (N, 3, H, W) -> (N,)` works,
including a classifier.
"""),
    code("""
z, slant = dirs.measure_samples(gen, "slant", n=N_LABELS, seed=1)
print("codes", tuple(z.shape), "labels", tuple(slant.shape))
print("slant ranges from %.2f to %.2f" % (slant.min(), slant.max()))
"""),
    md("""
## 2. Four methods side by side

`from_labels(codes, y, method=...)` returns a `Direction`. For continuous labels the classifiers keep the
top and bottom 30% (InterFaceGAN); `ridge` regresses the label itself. Every direction carries its
**provenance**: method, parameters, sample counts and a held-out score.
"""),
    code("""
methods = ["mean_diff", "svm", "logistic", "ridge"]
found = {m: dirs.from_labels(z, slant, method=m, space=gen, name=f"slant/{m}") for m in methods}
for m, d in found.items():
    print(f"{m:9s}", d.provenance["scores"], " cosine to mean_diff: %.3f" % d.cosine(found["mean_diff"]))
"""),
    code("""
found["svm"].provenance
"""),
    md("""
Each row below is one method applied to the same digit, from strength -3 to +3 (in latent standard
deviations). They agree closely: a well-defined attribute gives the same direction whichever way you
fit it.
"""),
    code("""
start = gen.sample(1, seed=7)
rows = dirs.DirectionSet(found.values())
ll.show(dirs.preview(gen, rows, z=start, strengths=np.linspace(-3, 3, 7)), scale=2)
"""),
    md("""
## 3. Measure what a direction does: response curves

`response` moves several starting latents along the direction, renders them, and measures each image.
The line is the mean, the band (shown for `ridge`) one standard deviation over starting latents.
A good "slant" direction raises measured slant monotonically (Spearman close to 1).
"""),
    code("""
fig, ax = plt.subplots(figsize=(5, 3.2))
for m, d in found.items():
    r = dirs.response(gen, d, "slant", np.linspace(-3, 3, 7), seeds=SEEDS)
    r.plot(ax=ax, label=m, band=(m == "ridge"))
    print(f"{m:9s} Spearman {r.spearman():+.2f}   slope {r.slope():.3f} per unit")
ax.set_xlabel("strength"); ax.legend(); plt.show()
"""),
    md("""
## 4. Entanglement, and conditional editing

A direction can change more than it claims. The **entanglement table** shows how much each direction
moves each measure (in standard deviations of that measure per unit strength). On `digits`, slanting
also moves the ink up or down (`centroid_y`). We find a "vertical position" direction the same way and
remove it with `conditional`, which projects out any number of condition directions at once.
"""),
    code("""
slant_dir = found["ridge"].rename("slant")
z2, height = dirs.measure_samples(gen, "centroid_y", n=N_LABELS, seed=2)
lower = dirs.from_labels(z2, height, method="ridge", space=gen, name="lower")
pure = dirs.conditional(slant_dir, [lower], name="slant | not lower")
print("cosine(pure, lower) = %.1e" % pure.cosine(lower))
table = dirs.entanglement(gen, [slant_dir, lower, pure], ["slant", "centroid_y", "width", "ink_coverage"],
                          seeds=SEEDS)
table
"""),
    md("""
`slant | not lower` keeps a good part of its effect on slant (about half here: on this small model,
slant and vertical position are correlated) while its effect on vertical position almost vanishes.
Side by side (top: plain slant, bottom: conditional):
"""),
    code("""
ll.show(dirs.preview(gen, dirs.DirectionSet([slant_dir, pure]), z=start, strengths=np.linspace(-3, 3, 7)), scale=2)
"""),
    md("""
## 5. Labels from real data

Directions can also come from real, labelled images: encode sklearn's digits (dark ink on white paper,
upsampled to 32 px) and take the balanced class-mean difference from the 1s to the 8s.
"""),
    code("""
import torch, torch.nn.functional as F
from sklearn.datasets import load_digits

data = load_digits()
images = F.interpolate(torch.from_numpy(1 - data.images.astype("float32") / 16)[:, None], size=32).repeat(1, 3, 1, 1)
codes = gen.encode(images)
pick = np.isin(data.target, [1, 8])
one_to_eight = dirs.from_labels(codes[pick], data.target[pick] == 8, method="mean_diff", space=gen, name="1->8")
print(one_to_eight, one_to_eight.provenance["scores"])
ll.show(dirs.preview(gen, one_to_eight, z=codes[data.target == 1][:3], strengths=[0, 1, 2, 3, 4]), scale=2)
"""),
    md("""
## 6. Unsupervised directions: PCA, SeFa, Jacobian

* `pca` samples (or takes codes), and returns principal directions. A VAE's prior is isotropic, so for
  `digits` we run PCA on the **encoded** dataset (`codes=`); for StyleGAN it samples and maps `z -> w`
  (GANSpace), streaming with constant memory for large `n_samples`.
* `sefa` factorises the decoder's first latent-facing weight (no sampling at all).
* `jacobian` gives the directions that change the image most *at one point*.

They come unnamed; previews of both extremes let us name them.
"""),
    code("""
pcs = dirs.pca(gen, n_components=4, codes=codes)
print("explained variance ratio:", np.round(pcs.provenance["explained_variance_ratio"], 3))
ll.show(dirs.preview(gen, pcs, z=start, strengths=np.linspace(-2.5, 2.5, 7)), scale=2)
"""),
    md("""
Reading the rows from left to right, the first component turns a 0 into a 6 and then a 7, the second
a 2 into a 6 and then a 4. Unsupervised directions of a small digits model mostly move between digit
classes; we name them after what we see (the sign of a component is arbitrary: `-d` flips it).
"""),
    code("""
named = dirs.DirectionSet([pcs[0].rename("0 -> 6 -> 7"), pcs[1].rename("2 -> 6 -> 4")])
print(named.names, named[0].provenance["scores"])
"""),
    code("""
sf = dirs.sefa(gen, n_components=4)
print("SeFa eigenvalues:", np.round(sf.provenance["eigenvalues"], 2))
jac = dirs.jacobian(gen, start[0], k=4)
print("Jacobian singular values:", np.round(jac.provenance["singular_values"], 2))
ll.show(dirs.preview(gen, dirs.DirectionSet([*sf[:2], *jac[:2]]), z=start, strengths=np.linspace(-3, 3, 7)), scale=2)
"""),
    md("""
## 7. Save with provenance; wrong-model protection

`save` writes `name.safetensors` (the vectors) and `name.json` (space, model, provenance) atomically.
A direction remembers its model and space: applying it to another model raises an error naming both.
"""),
    code("""
import tempfile, pathlib
folder = pathlib.Path(tempfile.mkdtemp())
path = pure.save(folder / "slant_pure")
print(sorted(p.name for p in folder.iterdir()))
again = ll.Direction.load(path)
print(again, "identical:", torch.equal(again.vectors, pure.vectors))

gen2 = ll.load("digits-2d")
try:
    again.apply(gen2.sample(1, seed=0), 2.0, space=gen2)
except ll.IncompatibleLatentError as err:
    print(err)
"""),
]

if __name__ == "__main__":
    print(write("03_directions", CELLS))
