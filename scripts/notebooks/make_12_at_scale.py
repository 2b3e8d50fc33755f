"""Write notebooks/12_at_scale.ipynb: render fonts to Parquet with measures, locally and on Ray, then map and fit."""

from __future__ import annotations

from _build import code, md, write

CELLS = [
    md("""
# latentlab at scale: many fonts to Parquet, locally and on Ray

Directions and maps want many samples: GANSpace runs PCA over a million latents,
InterFaceGAN fits boundaries on hundreds of thousands of labelled ones. A loop in a notebook
holds them all in memory and runs on one core. `ll.dataset` runs such work as a **job**:

* `dataset.render(gen, n=..., measures=[...], thumbnails=..., out="folder/")` samples latents,
  decodes them, measures them and writes **Parquet shards**, one at a time (memory stays flat);
* a job **resumes**: shards appear only when complete, a re-run skips them, and a folder that
  holds another job is refused;
* `engine="ray"` runs the same job on **Ray Data** (a local Ray here, a cluster with
  `ray.init(address=...)`, see `docs/CLUSTER.md`) and writes the identical table;
* `dataset.pca`, `dataset.from_labels` and `dataset.fit_map` read a job's output without holding it.

This notebook renders fonts of the bundled `glyphs` model (quick mode: a few hundred; set
`LATENTLAB_QUICK=0` and it renders 100,000, which takes a few hours on one CPU core and minutes
on a cluster; `LATENTLAB_AT_SCALE_N` sets another number).
"""),
    code("""
%matplotlib inline
import os
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import latentlab as ll
from latentlab import dataset

QUICK = os.environ.get("LATENTLAB_QUICK", "1") == "1"
N = int(os.environ.get("LATENTLAB_AT_SCALE_N", 300 if QUICK else 100_000))   # make test-full: 3,000
OUT = Path(tempfile.mkdtemp(prefix="latentlab_12_"))   # use a lasting folder for real jobs: they resume
gen = ll.load("glyphs")
gen.text = "Ag"        # a short specimen: thumbnails stay small and measures average two glyphs
MEASURES = ["slant", "stroke_weight", "width"]
print(gen, "| rendering", N, "fonts into", OUT)
"""),
    md("""
## Render on this machine
Each row holds its index, its own **seed** (row `i`'s latent is `gen.sample(1, seed=row_seed)`:
shard sizes and engines never change which font a row gets), the latent, the measures
(averaged over the glyphs of the specimen) and a PNG thumbnail.
"""),
    code("""
start = time.perf_counter()
job = dataset.render(gen, n=N, seed=0, out=OUT / "fonts", measures=MEASURES, thumbnails=48,
                     shard_size=max(50, N // 10), batch_size=128)
print(job, f"in {time.perf_counter() - start:.1f} s")
table = dataset.read(job.out)
table.drop_columns(["latent", "thumbnail"]).to_pandas().head()
"""),
    md("""
The table is a `pyarrow.Table` (`.to_pandas()` gives a DataFrame); `dataset.latents(table)` gives
the latents as one tensor, and the thumbnails are PNG bytes. The boldest and the lightest fonts:
"""),
    code("""
from io import BytesIO
from PIL import Image

order = np.argsort(table["stroke_weight"].to_numpy())
picks = np.concatenate([order[-6:][::-1], order[:6]])
thumbs = ll.load_images([Image.open(BytesIO(table["thumbnail"][int(i)].as_py())) for i in picks])
ll.contact_sheet(thumbs, labels=[f"{table['stroke_weight'][int(i)].as_py():.3f}" for i in picks], nrow=6)
"""),
    md("""
## Resume
Running the same call again finds every shard written and computes nothing. A job killed half
way (Ctrl-C, a crash, `kill -9`) keeps its complete shards and is finished by the same call; a
different job aimed at the folder is refused instead of mixed in:
"""),
    code("""
again = dataset.render(gen, n=N, seed=0, out=OUT / "fonts", measures=MEASURES, thumbnails=48,
                       shard_size=max(50, N // 10), batch_size=128, progress=False)
print("shards computed on the re-run:", again.computed)
assert again.computed == 0 and dataset.read(again.out).equals(table)
try:
    dataset.render(gen, n=N, seed=1, out=OUT / "fonts", measures=MEASURES, thumbnails=48,
                   shard_size=max(50, N // 10), batch_size=128, progress=False)
except ll.InvalidValueError as err:
    print(err)
else:
    raise AssertionError("expected ll.InvalidValueError: another job's folder must be refused")
"""),
    md("""
## The same job on Ray Data
With `engine="ray"` each Ray actor builds the generator once (from its name, `ll.load("glyphs")`;
our generator's specimen was changed after loading, so latentlab sends it pickled instead), then
computes and writes whole shards, with the same names, atomically. On a cluster, call
`ray.init(address="auto")` first and put `out` on a shared file system. Here a local Ray with two
CPUs; its start takes a few seconds.
"""),
    code("""
try:
    import ray
except ImportError:
    ray = None
    print('Ray is not installed: pip install "latentlab[ray]"')
if ray is not None:
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="warning")
    start = time.perf_counter()
    on_ray = dataset.render(gen, n=N, seed=0, out=OUT / "fonts_ray", measures=MEASURES, thumbnails=48,
                            shard_size=max(50, N // 10), batch_size=128, engine="ray", workers=2)
    print(on_ray, f"in {time.perf_counter() - start:.1f} s")
    print("identical to the local table:", dataset.read(on_ray.out).equals(table))
    assert dataset.read(on_ray.out).equals(table)
    ray.shutdown()
"""),
    md("""
## A map of every font
`dataset.fit_map` fits a `LatentMap` on a random sample of the rows and places every row with
`transform`, batch by batch (umap-learn's own advice for large data). Here coloured by stroke weight.
"""),
    code("""
method = "umap"
try:
    import umap  # noqa: F401
except ImportError:
    method = "pca"
fitted, xy = dataset.fit_map(job.out, sample=min(N, 20_000), method=method, labels=["stroke_weight"],
                             n_epochs=200 if QUICK else None)
fig, ax = plt.subplots(figsize=(6, 5))
dots = ax.scatter(xy[:, 0], xy[:, 1], c=table["stroke_weight"].to_numpy(), s=4 if N > 10_000 else 12,
                  cmap="viridis")
fig.colorbar(dots, label="stroke weight")
ax.set_title(f"{N:,} sampled fonts ({method}, fitted on {len(fitted.embedding_):,})")
ax.set_xticks([]); ax.set_yticks([]);
"""),
    md("""
## The interactive map of every font
`ll.MapWidget` takes the positions of every row (`points=xy`) and the job folder as the source of
their latents (`latents=job.out`): it holds only the positions (8 bytes a row) and reads a clicked
row's latent, and the thumbnails the job stored, from its shards. The browser draws the
**density** while more than 20,000 points are in view, zoom in (mouse wheel) for the **points**,
and further for **thumbnails** of spread-out fonts; a click renders the font (in quick mode the
map has only a few hundred points, so it starts with points). `ll.MapWidget.from_dataset(job.out, gen)`
does the fit and the widget in one call.
"""),
    code("""
widget = ll.MapWidget(fitted, gen, points=xy, latents=job.out, color_by="stroke_weight")
boldest = int(np.argmax(table["stroke_weight"].to_numpy()))
widget.click_point(boldest)   # what a click on that point does: render it, here from Python
print(f"{widget.n_points:,} points on the map; clicked {widget.caption}")
assert widget.n_points == N
widget
"""),
    md("""
## A direction from the data set
`dataset.from_labels` fits a linear boundary out of core (scikit-learn's SGD, one batch at a
time) with one whole shard held out for the score. The direction is bound to the job's space, so
it applies to the model's latents directly.
"""),
    code("""
bold = dataset.from_labels(job.out, "stroke_weight", method="logistic", name="bold")
print("held-out accuracy:", round(bold.provenance["scores"]["heldout_accuracy"], 3),
      "on", bold.provenance["n_test"], "fonts of the held-out shard")
assert bold.provenance["scores"]["heldout_accuracy"] >= 0.85   # an unrelated label gets < 0.62 (tests/test_dataset.py)
spread = float((dataset.latents(table) @ bold.vector.float()).std())    # how far the fonts spread along it
print(f"the fonts' projections on the direction have a spread of {spread:.2f}")
z = gen.sample(2, seed=7)
edited = bold.apply(z, [-3 * spread, 0.0, 3 * spread])   # (strengths, fonts, 64)
ll.show(gen.decode(edited.transpose(0, 1).reshape(-1, z.shape[1])), nrow=3)   # a row per font: lighter, as is, bolder
"""),
    md("""
## Sweep the direction over every font
`latents=` also takes a finished job's folder: its latents are rendered again, streamed from its
shards, here each moved along the direction by each strength (`direction=`, `strength=`; row
`i * S + j` is font `i` at strength `j`, with columns `source_index` and `strength`). The job
records its source (folder, model, fingerprint), and resumes like any other.
"""),
    code("""
strengths = [-2 * spread, 2 * spread]
start = time.perf_counter()
sweep = dataset.render(gen, latents=job.out, direction=bold, strength=strengths, out=OUT / "bolder",
                       measures=["stroke_weight"], thumbnails=None, shard_size=max(50, N // 10), batch_size=128,
                       progress=False)
swept = dataset.read(sweep.out).to_pandas()
print(sweep, f"in {time.perf_counter() - start:.1f} s; source:", dataset.info(sweep.out)["args"]["latents_job"]["path"])
weight = swept.pivot(index="source_index", columns="strength", values="stroke_weight")
print(weight.mean().round(4).to_string())
bolder = float((weight[strengths[1]] > weight[strengths[0]]).mean())
print(f"fonts bolder at +{strengths[1]:.2f} than at {strengths[0]:.2f}: {bolder:.1%}")
assert len(swept) == 2 * N and bolder > 0.9
"""),
    md("""
`dataset.pca` streams the principal directions (the exact covariance, shard by shard):
"""),
    code("""
pcs = dataset.pca(job.out, n_components=5)
print("explained variance ratio:", np.round(pcs.provenance["explained_variance_ratio"], 3))
"""),
]

if __name__ == "__main__":
    print(write("12_at_scale", CELLS))
