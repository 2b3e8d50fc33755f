"""Write notebooks/03_directions.ipynb: finding, comparing, measuring and saving latent directions."""

from __future__ import annotations

from _build import code, md, write

CELLS = [
    md("""
# Directions in latent space

A **direction** is a unit vector `v` in a latent space: moving a latent `z` to `z + s * v` changes the
image in one consistent way ("bolder", "more italic", "with serifs"). This notebook finds directions
several ways, compares them, **measures** what they do, and keeps a record of how each one was found.

* **from labels** (supervised): `mean_diff`, `svm` (InterFaceGAN), `logistic`, `ridge`
* **conditional**: a direction with other directions removed ("bolder without becoming more italic")
* **unsupervised**: `pca` (GANSpace), `sefa` (closed-form factorisation), `jacobian` (local)

The main model is the bundled `glyphs` font model: every latent is a whole typeface, and the model
ships the codes of its 2,348 training fonts together with their labels (weight, italic, category...).
The last sections use the small `digits` model for the methods that need a decoder weight.
"""),
    code("""
import os
import numpy as np
import matplotlib.pyplot as plt
import torch
%matplotlib inline
import latentlab as ll
from latentlab import directions as dirs

QUICK = os.environ.get("LATENTLAB_QUICK") == "1"   # CI runs a shorter version
N_STARTS = 6 if QUICK else 16                       # starting fonts for response curves

gen = ll.load("glyphs")
codes, labels = gen.codes(), gen.labels()          # (F, 64) posterior means, dict of (F,) arrays
print(gen)
print("codes", tuple(codes.shape), "labels", sorted(labels))
print("categories", dict(zip(*np.unique(labels["category"], return_counts=True))))
print("weights   ", dict(zip(*np.unique(labels["weight"], return_counts=True))))
print("italic    ", int(labels["italic"].sum()), "of", len(labels["italic"]))
"""),
    md("""
## 1. Bold, italic and serif from the font labels

`from_labels(codes, y, method=...)` returns a `Direction` pointing towards the positive class. We use
`mean_diff` first: the mean code of the positive fonts minus the mean code of the negative ones
(each class counts once, however rare). Each direction carries its **provenance**, including a held-out
score: the accuracy of telling the two groups apart by their position along the direction.

* **bold**: weight >= 600 against weight <= 400 (the medium 500 fonts are left out);
* **italic**: the `italic` flag;
* **serif**: category `serif` against `sans-serif`.
"""),
    code("""
w, category = labels["weight"], labels["category"]
heavy_or_light = (w >= 600) | (w <= 400)
serif_or_sans = np.isin(category, ["serif", "sans-serif"])
TASKS = {   # name: (rows of the codes, binary label of those rows)
    "bold": (heavy_or_light, w[heavy_or_light] >= 600),
    "italic": (np.ones(len(w), bool), labels["italic"]),
    "serif": (serif_or_sans, category[serif_or_sans] == "serif"),
}

def find(name, method="mean_diff"):
    rows, y = TASKS[name]
    return dirs.from_labels(codes[rows], y, method=method, space=gen, name=name)

bold, italic, serif = find("bold"), find("italic"), find("serif")
for d in (bold, italic, serif):
    print(d, d.provenance["scores"], "positives:", d.provenance["n_positive"], "negatives:", d.provenance["n_negative"])
# the control: the same fit on shuffled italic labels, which carry no information, separates about half the fonts
shuffled = dirs.from_labels(codes, np.random.default_rng(0).permutation(labels["italic"]), space=gen, name="shuffled")
print("shuffled italic labels:", shuffled.provenance["scores"])
assert min(d.provenance["scores"]["heldout_accuracy"] for d in (bold, italic, serif)) >= 0.85
assert shuffled.provenance["scores"]["heldout_accuracy"] < 0.85
"""),
    md("""
How far is "one step"? The codes are not isotropic, so we measure strengths in units of the
training fonts' **spread along the direction** (the standard deviation of their projections): a
strength of 2 spreads moves a font about as far as the typical heavy font is from the typical light one.
"""),
    code("""
def spread(d):
    \"\"\"Standard deviation of the training codes projected on d: one 'step' along d.\"\"\"
    return float((codes.double() @ d.vector.double()).std())

for d in (bold, italic, serif):
    print(f"{d.name:7s} spread {spread(d):.2f} latent units")

regular = np.flatnonzero((w == 400) & ~labels["italic"])                # upright regular fonts
starts = codes[regular[:: len(regular) // N_STARTS][:N_STARTS]]          # from several families
print("starting fonts:", ", ".join(labels["family"][regular[:: len(regular) // N_STARTS][:N_STARTS]]))
"""),
    md("""
`preview` renders a grid: one row per starting font, one column per strength. Bold from -2 to +3
spreads, italic and serif from -1 to +3 (our starting fonts are already upright and mostly sans).
"""),
    code("""
def strengths(d, lo, hi, n=5):
    return (np.linspace(lo, hi, n) * spread(d)).tolist()

for d, lo in [(bold, -2), (italic, -1), (serif, -1)]:
    print(d.name)
    ll.show(dirs.preview(gen, d, z=starts[:3], strengths=strengths(d, lo, 3)))
"""),
    md("""
## 2. Three methods side by side

The same labels, three fitting methods. `svm` (InterFaceGAN) and `logistic` use the normal of a linear
classifier's boundary. The table shows each direction's held-out accuracy and its cosine to the
`mean_diff` direction (1 = the same direction).
"""),
    code("""
METHODS = ["mean_diff", "svm", "logistic"]
found = {(name, m): find(name, m) for name in TASKS for m in METHODS}
print(f"{'':8s}" + "".join(f"{m:>12s}" for m in METHODS) + "   cosines: svm-md  log-md  svm-log")
for name in TASKS:
    acc = [found[name, m].provenance["scores"]["heldout_accuracy"] for m in METHODS]
    md_, svm, log = (found[name, m] for m in METHODS)
    print(f"{name:8s}" + "".join(f"{a:12.3f}" for a in acc)
          + f"   {svm.cosine(md_):14.2f}  {log.cosine(md_):6.2f}  {svm.cosine(log):7.2f}")
"""),
    md("""
A direction can *separate* two groups well without being the way the groups *differ*. A classifier
is rewarded for finding any axis where heavy and light fonts fall apart, including low-variance quirks
of the codes; the mean difference follows where the fonts actually are. To edit, what matters is what
a step does to the glyphs, so we measure it: the stroke weight of the decoded glyphs along each bold
direction, with strengths in spreads.

## 3. Measure what a direction does: response curves

`response` moves the starting fonts along a direction, renders them and measures every image. Any
function `images (N, 3, H, W) -> (N,)` is a measure. `ll.measures.stroke_weight` (mean stroke
thickness) and `ll.measures.slant` (shear of the ink: positive when the top leans right, as in
italics) are written for glyphs. A specimen line shows seven letters side by side, so measures see
each glyph on its own (`gen.measure_views`) and average them per font.
"""),
    code("""
stroke_weight, slant, width = "stroke_weight", "slant", "width"   # measure names
units = np.linspace(-1.5, 2.5, 9)                    # strengths in spreads

fig, axes = plt.subplots(1, 2, figsize=(10, 3.4))
curves = {}
for m in METHODS:
    d = found["bold", m]
    r = curves["bold", m] = dirs.response(gen, d, stroke_weight, units * spread(d), z=starts)
    r.strengths = units                              # plot against spreads, comparable across methods
    r.plot(ax=axes[0], label=m, band=(m == "mean_diff"))
    print(f"bold/{m:9s} Spearman {r.spearman():+.2f}   stroke weight {r.mean[0]:.3f} -> {r.mean[-1]:.3f}")
for m in METHODS:
    d = found["italic", m]
    r = curves["italic", m] = dirs.response(gen, d, slant, np.linspace(0, 3, 7) * spread(d), z=starts)
    r.strengths = np.linspace(0, 3, 7)
    r.plot(ax=axes[1], label=m, band=(m == "mean_diff"))
    print(f"italic/{m:9s} Spearman {r.spearman():+.2f}   slant {r.mean[0]:+.3f} -> {r.mean[-1]:+.3f}")
# what the text below says: mean_diff rises monotonically and by far the most; the classifiers barely move the glyphs
rise = {key: float(r.mean[-1] - r.mean[0]) for key, r in curves.items()}
for name in ("bold", "italic"):
    assert curves[name, "mean_diff"].spearman() >= 0.9
    assert rise[name, "mean_diff"] > 3 * max(rise[name, "svm"], rise[name, "logistic"]), rise
axes[0].set(xlabel="strength along bold (spreads)", ylabel="stroke weight (of the glyph height)")
axes[1].set(xlabel="strength along italic (spreads)", ylabel="slant (shear)")
for ax in axes:
    ax.legend()
fig.tight_layout(); plt.show()
"""),
    md("""
A good direction raises its measure monotonically (Spearman close to 1) *and* by a lot. Compare how far
each method's direction moves the glyphs over the same number of spreads: the best classifier is not
necessarily the best editor, so the rest of this notebook edits with `mean_diff` directions.

## 4. Labels from the model's own samples

Without labels, InterFaceGAN's recipe works too: sample latents, render them, score each image with a
measure (or a classifier), then fit a direction to the scores. `measure_samples` does the first three
steps. Here the score is the measured glyph **width**; for continuous scores `mean_diff` compares the
top and bottom 30 % of the samples.
"""),
    code("""
z_samples, widths = dirs.measure_samples(gen, width, n=400 if QUICK else 2000, seed=1)
wide = dirs.from_labels(z_samples, widths, method="mean_diff", space=gen, name="wide")
print(wide, wide.provenance["scores"])
r = dirs.response(gen, wide, width, np.linspace(-2, 2, 5) * spread(wide), z=starts)
print(f"width along 'wide': Spearman {r.spearman():+.2f}, {r.mean[0]:.3f} -> {r.mean[-1]:.3f}")
assert r.spearman() >= 0.9 and r.mean[-1] - r.mean[0] > 0.1
ll.show(dirs.preview(gen, wide, z=starts[:2], strengths=strengths(wide, -2, 2)))
"""),
    md("""
## 5. Entanglement, and conditional editing

A direction can change more than it claims. The **entanglement table** shows how much each direction
moves each measure (in standard deviations of that measure over the starting fonts, per latent unit;
here over a random mix of training fonts). A clean direction moves its own measure strongly and the
others little.

`conditional` removes any number of condition directions at once (least squares against all of them),
so the result is exactly orthogonal to each: a step along it leaves every font's position along the
conditions unchanged. "Bolder without becoming more italic" is `conditional(bold, [italic])`; adding
`wide` asks for bolder without becoming wider as well.
"""),
    code("""
bold_upright = dirs.conditional(bold, [italic], name="bold | not italic")
bold_pure = dirs.conditional(bold, [italic, wide], name="bold | not italic, wide")
for d in (bold_upright, bold_pure):
    print(f"{d.name:24s} cosine to bold {d.cosine(bold):+.3f}, to italic {d.cosine(italic):+.1e}, to wide {d.cosine(wide):+.1e}")
assert abs(bold_upright.cosine(italic)) < 1e-6 and max(abs(bold_pure.cosine(italic)), abs(bold_pure.cosine(wide))) < 1e-6

mixed = codes[np.random.default_rng(0).choice(len(codes), N_STARTS * 2, replace=False)]   # any fonts
table = dirs.entanglement(gen, [bold, italic, wide, bold_upright, bold_pure], [stroke_weight, slant, width],
                          strength=spread(bold), z=mixed)
table
"""),
    code("""
proj = lambda z, d: (z.double() @ d.vector.double())
col = {name: j for j, name in enumerate(table.columns)}
row = {name: i for i, name in enumerate(table.rows)}
for d in (bold, bold_upright, bold_pure):
    moved = d.apply(mixed, spread(bold))
    print(f"{d.name:24s} one spread moves the fonts along italic by {float((proj(moved, italic) - proj(mixed, italic)).mean()):+.3f},"
          f" along wide by {float((proj(moved, wide) - proj(mixed, wide)).mean()):+.3f} latent units;"
          f" effect on stroke weight {table.values[row[d.name], col['stroke_weight']]:+.3f},"
          f" slant {table.values[row[d.name], col['slant']]:+.3f}, width {table.values[row[d.name], col['width']]:+.3f}")
moved = bold_pure.apply(mixed, spread(bold))
assert max(float((proj(moved, c) - proj(mixed, c)).abs().max()) for c in (italic, wide)) < 1e-6   # exactly
effect = lambda name, measure: table.values[row[name], col[measure]]   # noqa: E731
assert abs(effect(bold_pure.name, "width")) < 0.5 * abs(effect("bold", "width"))   # measured: much less
assert effect(bold_pure.name, "stroke_weight") > 0.8 * effect("bold", "stroke_weight")  # still bolder
"""),
    md("""
The positions along the conditions stop moving exactly (that is linear algebra); the *measured* slant
and width change much less but not always to zero, because the decoder is not linear and each
condition is one estimate of its attribute. When two directions are already nearly orthogonal (compare
the cosine of bold and italic), conditioning on one removes little; it matters where a direction
shares a lot with a condition. Side by side (top: bold, bottom: bold | not italic, wide), from the
same starting font:
"""),
    code("""
ll.show(dirs.preview(gen, dirs.DirectionSet([bold, bold_pure]), z=starts[1:2], strengths=strengths(bold, -1.5, 2.5, 6)))
"""),
    md("""
## 6. Unsupervised directions: PCA of the font codes

`pca` finds the directions along which the training fonts vary most (GANSpace samples and maps `z -> w`
for a StyleGAN; a VAE's prior is isotropic, so here we pass the fonts' own codes with `codes=`). They
come unnamed: one row per component, from -2 to +2 standard deviations, all starting from the same font.
"""),
    code("""
pcs = dirs.pca(gen, n_components=6, codes=codes)
ratio = pcs.provenance["explained_variance_ratio"]
print("explained variance ratio:", np.round(ratio, 3))
start = starts[:1]
pc_strengths = lambda d: (np.linspace(-2, 2, 5) * spread(d)).tolist()
ll.show(dirs.preview(gen, pcs, z=start, strengths=pc_strengths(pcs[0])))
"""),
    md("""
To name a component, look at its row, then check against the labels: the correlation of the fonts'
positions along each component with each label. We flip each component to point towards its
best-matching label (the sign of a principal component is arbitrary: `-d` flips it) and name it after
that label; the preview of the renamed set should agree with the names.
"""),
    code("""
numeric = {
    "weight": w.astype(float), "italic": labels["italic"].astype(float), "width": labels["width"],
    "contrast": labels["contrast"], "ink": labels["ink"],
    **{c: (category == c).astype(float) for c in ["serif", "sans-serif", "display", "handwriting", "monospace"]},
}
ADJECTIVE = {"weight": "heavier", "width": "wider", "italic": "more italic", "contrast": "more contrast", "ink": "more ink"}
named = []
for d in pcs:
    p = proj(codes, d).numpy()
    corr = {k: float(np.corrcoef(p, v)[0, 1]) for k, v in numeric.items()}
    best = max(corr, key=lambda k: abs(corr[k]))
    top3 = sorted(corr, key=lambda k: -abs(corr[k]))[:3]
    print(f"{d.name}: " + ", ".join(f"{k} {corr[k]:+.2f}" for k in top3))
    named.append((d if corr[best] > 0 else -d).rename(f"{d.name}: {ADJECTIVE.get(best, best)}"))
named = dirs.DirectionSet(named)
print(named.names)
ll.show(dirs.preview(gen, named, z=start, strengths=pc_strengths(pcs[0])))
"""),
    md("""
## 7. SeFa and Jacobian directions

* `sefa` factorises the decoder's first latent-facing weight (no sampling at all); a model has to
  declare that weight. The glyphs decoder mixes the latent with the character first, so it does not,
  and says so.
* `jacobian` gives the directions that change the image most *at one point*; it only needs gradients.
"""),
    code("""
try:
    dirs.sefa(gen)
except ll.CapabilityError as err:
    print(err)
else:
    raise AssertionError("expected ll.CapabilityError: this call must be refused")
jac = dirs.jacobian(gen, start[0], k=3)
print("Jacobian singular values:", np.round(jac.provenance["singular_values"], 2))
ll.show(dirs.preview(gen, jac, z=start, strengths=np.linspace(-4, 4, 5)))
"""),
    md("""
SeFa on the small `digits` VAE (a 16-D latent; its decoder's first layer reads the latent directly).
Unsupervised directions of a digits model mostly move between digit classes:
"""),
    code("""
digits = ll.load("digits")
sf = dirs.sefa(digits, n_components=4)
print("SeFa eigenvalues:", np.round(sf.provenance["eigenvalues"], 2))
ll.show(dirs.preview(digits, sf, z=digits.sample(1, seed=7), strengths=np.linspace(-3, 3, 7)), scale=2)
"""),
    md("""
## 8. Save with provenance; wrong-model protection

`save` writes `name.safetensors` (the vectors) and `name.json` (space, model, provenance) atomically.
A direction remembers its model and space: applying it to another model raises an error naming both.
"""),
    code("""
import tempfile, pathlib
folder = pathlib.Path(tempfile.mkdtemp())
path = bold_pure.save(folder / "bold_pure")
print(sorted(p.name for p in folder.iterdir()))
again = ll.Direction.load(path)
print(again, "identical:", torch.equal(again.vectors, bold_pure.vectors))
assert torch.equal(again.vectors, bold_pure.vectors) and again.provenance == bold_pure.provenance
print({k: again.provenance[k] for k in ("method", "created_at", "library_version")})

try:
    again.apply(digits.sample(1, seed=0), 2.0, space=digits)
except ll.IncompatibleLatentError as err:
    print(err)
else:
    raise AssertionError("expected ll.IncompatibleLatentError: this call must be refused")
"""),
]

if __name__ == "__main__":
    print(write("03_directions", CELLS))
