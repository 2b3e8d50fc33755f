"""Write notebooks/07_maps.ipynb: a UMAP map of every training font of `glyphs`, linked to the generator."""

from __future__ import annotations

from _build import code, md, write

CELLS = [
    md("""
# Maps of a latent space

A map lays every code of a collection on a plane so that neighbours stay neighbours: which
styles cluster, where one kind of font turns into another, which regions no training font
occupies. Map tools usually only *show* points. latentlab also holds the generator, so any
place on the map, even an empty one, can be **rendered**, and any region you draw around can
become a **direction** to move other fonts along.

We map the bundled `glyphs` model: every latent is a whole typeface, and `gen.codes()` holds
the codes of all its training fonts, with their labels in `gen.labels()`. The map uses UMAP
(`pip install "latentlab[maps]"`); PCA works without it.
"""),
    code("""
%matplotlib inline
import os
import time
from collections import Counter

import numpy as np
import torch
import latentlab as ll

QUICK = os.environ.get("LATENTLAB_QUICK") == "1"   # CI runs a shorter version
gen = ll.load("glyphs")
codes, labels = gen.codes(), gen.labels()           # (N, 64) codes; a dict of N-long label arrays
category = labels["category"]
print("codes", tuple(codes.shape), "| labels:", ", ".join(labels))
print(dict(Counter(category.tolist()).most_common()))
"""),
    md("""
## Fit the map
`LatentMap` follows scikit-learn: `fit` returns the map, learned attributes end in `_`, and
`embedding_` holds one `(x, y)` per font. A `seed` makes it reproducible. `n_neighbors=50` (UMAP's
default is 15) weighs the global arrangement more, so the font categories form regions instead
of many small islands; `min_dist=0.5` spreads the points so that regions stay readable.

The first UMAP fit on a machine compiles numba code (about 20 s); latentlab computes the
neighbours with torch and keeps the compiled code in `~/.cache/latentlab/numba`, so later fits
of these fonts take a few seconds.
"""),
    code("""
start = time.perf_counter()
try:
    latent_map = ll.LatentMap(method="umap", n_neighbors=50, min_dist=0.5, seed=0,
                              n_epochs=200 if QUICK else None).fit(codes, labels=labels)
except ll.MissingDependencyError as err:   # umap-learn not installed: PCA needs nothing extra
    import importlib.util
    assert importlib.util.find_spec("umap") is None, f"umap-learn is installed, yet: {err}"
    print(err)
    latent_map = ll.LatentMap(method="pca").fit(codes, labels=labels)
print(f"{latent_map} in {time.perf_counter() - start:.1f} s; embedding_", latent_map.embedding_.shape)
"""),
    md("""
## Look at it
`plot` colours the points by a label and decodes thumbnails at spread-out points, never
overlapping. A thumbnail keeps the shape of the model's image, so the long specimen line
"Hamburg" would leave room for only a few: for the plot we render the short specimen "Ag" (its
`g` tells the two-storey serif `g` from the one-storey one). Pass `path=` to save a PNG.
"""),
    code("""
gen.text = "Ag"
fig = latent_map.plot(gen, color_by="category", thumbnails=24, figsize=(9, 8),
                      title="Every training font of glyphs")
gen.text = "Hamburg"
fig
"""),
    md("""
The small islands far from the middle are usually fonts that are nearly the same, such as families
that share one Latin design across many scripts (the *Noto Serif* fonts, for one): UMAP keeps
near-duplicates together and away from the rest. The labels of the points farthest from the centre:
"""),
    code("""
emb = latent_map.embedding_
far = np.argsort(-np.abs(emb - np.median(emb, 0)).max(1))[:8]
for i in far:
    print(f"{labels['family'][i]:28s} {category[i]:12s} weight {labels['weight'][i]}")
"""),
    md("""
## New fonts and the space between the points
`transform` places new codes on the map: here the two held-out fonts of `assets/fonts` (never
seen in training), encoded from their files; `nearest` names the training fonts next to them.
`inverse_transform` turns map positions back into codes (a blend of the codes of the nearest
map points), so a straight line across the map can be rendered: from the middle of the serif
fonts to the middle of the monospace ones.
"""),
    code("""
new = {name: gen.encode_font(f"assets/fonts/{name}.woff2") for name in ("EBGaramond-Regular", "Barlow-Bold")}
for name, z in new.items():
    at = latent_map.transform(z)                       # (1, 2)
    near = latent_map.nearest(at)[0]
    print(f"{name:20s} lands at {at[0].round(1)}, next to {labels['family'][near]} ({category[near]})")

start, end = emb[category == "serif"].mean(0), emb[category == "monospace"].mean(0)
line = np.linspace(start, end, 8).astype(np.float32)   # (8, 2) map positions
gen.text = "Ag"
ll.show(gen.decode(latent_map.inverse_transform(line)), nrow=8, padding=12)
gen.text = "Hamburg"
"""),
    md("""
## Explore it live
The map widget is linked to the generator and to an `Explorer`:

* **hover** a point to see its font; **click** a point to render it (and move the Explorer there);
  the caption names the font;
* **click empty space** to render the code under the cursor;
* move the Explorer's sliders and the black ring on the map follows;
* **drag** a lasso (shift-drag: a box) to select points; `widget.selection` holds their indices;
* **scroll** over the map to zoom about the cursor, drag with the middle button (or switch the toolbar
  to **Pan** and drag) to move, and press **Reset view** to see every point; `widget.view` holds the
  window on show.
"""),
    code("""
from latentlab.widgets import Explorer, MapWidget

explorer = Explorer(gen)
widget = MapWidget(latent_map, gen, explorer=explorer, color_by="category")
widget
"""),
    code("""
explorer
"""),
    md("""
## From a lasso to a direction
Lasso a region of the map above and run the next cell: the fonts inside become the positive
class of `ll.directions.from_labels` (all the others the negative one), and the direction moves
any font towards that region. Without a lasso (as in CI) the cell selects a box around the
middle of the monospace fonts from code, which is exactly what the widget does with your lasso:
`widget.select(polygon)` takes the polygon in map coordinates.
"""),
    code("""
chosen = widget.selection
if len(chosen) == 0:
    mono = emb[category == "monospace"]
    lo, hi = np.percentile(mono, 15, axis=0), np.percentile(mono, 85, axis=0)
    chosen = widget.select([[lo[0], lo[1]], [hi[0], lo[1]], [hi[0], hi[1]], [lo[0], hi[1]]])
    assert np.mean(category[chosen] == "monospace") >= 0.8, "the box around the monospace fonts holds them"
inside = np.zeros(len(codes), dtype=bool)
inside[chosen] = True
print(f"{inside.sum()} fonts selected:", dict(Counter(category[inside].tolist()).most_common()))

towards = ll.directions.from_labels(codes, inside, method="mean_diff", space=gen, name="lasso region")
print("held-out accuracy of the direction:", towards.provenance["scores"],
      f"(a small region: answering 'outside' for every font scores {1 - inside.mean():.3f}; the walk below is the test)")
gap = float((codes[inside].mean(0) - codes[~inside].mean(0)).norm())   # from the rest to the region
walk = towards.apply(new["Barlow-Bold"], strength=(gap * np.linspace(0, 2, 5)).tolist())   # (5, 64)
widget.show_path(walk)                                  # the walk, drawn as a line on the map above
ll.show(gen.decode(walk), nrow=1)
def in_region(z):   # the share of the 10 training fonts nearest to z that lie in the selected region
    return float(inside[torch.cdist(z[None].float(), codes.float())[0].argsort()[:10].numpy()].mean())
aside = ll.Direction(torch.randn(64, generator=torch.Generator().manual_seed(0)), gen, "random")   # the control
off = aside.apply(new["Barlow-Bold"], strength=float(2 * gap))
print(f"nearest fonts in the region: at the start {in_region(walk[0]):.0%}, at the end {in_region(walk[-1]):.0%};"
      f" as far along a random direction {in_region(off):.0%}")
assert in_region(walk[-1]) >= 0.8 > 0.2 >= max(in_region(walk[0]), in_region(off))
"""),
    md("""
Barlow Bold (top row) walks towards the lassoed region. Look for the `m` narrowing and the `r`
growing a slab: a monospace font gives every letter the same width. The red line on the map shows
where the walk goes. Try another region (the handwriting fonts, a corner of the sans-serifs),
another font (`explorer.latent` is the one on show), or `color_by="weight"` to colour the map by a
number.

Other models work the same way: encode your own data with `gen.encode(images)` (or sample codes),
fit `ll.LatentMap` on them, and the plot, widget and lasso follow.
"""),
]

if __name__ == "__main__":
    print(write("07_maps", CELLS))
