"""Data-set jobs: latentlab.dataset vs the loop a user writes, Ray vs local, streaming PCA vs loading it all.

Every measurement runs in a fresh subprocess (one torch thread each, ``OMP_NUM_THREADS=1``) that
reports its wall seconds, CPU seconds and peak resident memory (``VmHWM`` in ``/proc``, including the
~300 MB that importing torch and latentlab costs; ``above imports`` is the peak minus the RSS
after the imports):

* **render**: ``N`` glyph latents (and 100k digits latents) -> measures (slant, stroke weight,
  width) + 32 px PNG thumbnails.
  latentlab: ``dataset.render("glyphs", ...)`` on the local engine (Parquet shards, resumable).
  Baseline: the plain loop a user writes: sample a batch, decode, measure, ``png_bytes`` each
  image, keep every row in Python lists, write one Parquet file with pandas at the end.
* **ray**: the same job on a local Ray Data with 2 actors (each loads the model once) vs the local
  engine; Ray's start-up is timed inside.
* **pca**: principal directions of a ``1M x 64`` Parquet data set (glyph style codes):
  ``dataset.pca`` streaming shard by shard vs ``ll.directions.pca(codes=...)`` after reading it all.

Full sizes: ``N = 100_000`` glyph latents and ``1M`` rows; ``--quick`` uses ``N = 300`` and ``50k`` rows.
A glyph font (7 glyphs at 64 px, decoded for the thumbnail and again one by one for the measures)
costs ~30 ms of one core, so each full render row takes about an hour of CPU here;
``LATENTLAB_BENCH_RENDER_N`` sets ``N``, and ``LATENTLAB_BENCH_DATASET_PARTS`` (a comma list of
``digits,glyphs,ray,pca``) runs only those rows, e.g. ``LATENTLAB_BENCH_RENDER_N=10000
LATENTLAB_BENCH_DATASET_PARTS=glyphs,ray python -m benchmarks dataset``. The Ray row counts the CPU
of Ray's own processes (raylet, workers) as well as the driver's. Both variants decode batches of
128 latents. CPU seconds are the fairer figure on a shared machine (wall time includes waiting for
other work's cores). The local engine and the loop run side by side, one core each, so that both
see the same machine state; the Ray row runs after them, alone, on both cores.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_HEAD = """
import json, sys, time
t_wall, t_cpu = time.perf_counter(), time.process_time()
import torch
torch.set_num_threads(1)
import latentlab as ll
from latentlab import dataset
def hwm():  # peak RSS (kB) of this process image; ru_maxrss would include the parent before exec
    return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
rss0 = hwm()
def report(**extra):
    peak = hwm()
    print(json.dumps({"wall": time.perf_counter() - t_wall, "cpu": time.process_time() - t_cpu,
                      "peak_mb": peak / 1024, "above_imports_mb": (peak - rss0) / 1024,
                      "load": __import__("os").getloadavg()[0], **extra}))
MEASURES = ["slant", "stroke_weight", "width"]
BATCH = 128  # latents decoded together, the same in every variant
n, out, MODEL = int(sys.argv[1]), sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "glyphs"
SHARD = max(BATCH, min(10_000, n // 4))
"""

_LATENTLAB = (
    _HEAD
    + """
dataset.render(MODEL, n=n, seed=0, out=out, measures=MEASURES, thumbnails=32, shard_size=SHARD, batch_size=BATCH,
               progress=False)
report(rows=dataset.read(out, columns=["index"]).num_rows)
"""
)

_LOOP = (
    _HEAD
    + """
import pandas as pd
gen = ll.load(MODEL)
size = ll.render.fit_size(gen.image_size, 32)
rows = {"latent": [], "thumbnail": [], **{m: [] for m in MEASURES}}
for start in range(0, n, BATCH):
    z = gen.sample(min(BATCH, n - start), seed=start)
    images = gen.decode(z)
    views, k = gen.measure_views(z)
    for m in MEASURES:
        rows[m].extend(ll.measures.MEASURES[m](views).view(len(z), k).mean(1).tolist())
    rows["latent"].extend(z.numpy())
    rows["thumbnail"].extend(ll.png_bytes(img, size=size) for img in images)
pd.DataFrame(rows).to_parquet(out + ".parquet")
report(rows=len(rows["latent"]))
"""
)

_RAY = (
    _HEAD
    + """
import os
os.environ.setdefault("RAY_AUTH_MODE", "disabled")
import ray
t = time.perf_counter()
ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
start = time.perf_counter() - t
import threading
import psutil
me, seen, stop = psutil.Process(), {}, threading.Event()
def poll():  # CPU seconds of Ray's processes (raylet, GCS, actors: children of this driver), sampled every 0.5 s
    while not stop.is_set():  # so actors that exit when the pool finishes are still counted (to within 0.5 s)
        for p in me.children(recursive=True):
            try:
                t = p.cpu_times()
                seen[p.pid] = t.user + t.system
            except psutil.Error:
                pass
        stop.wait(0.5)
watcher = threading.Thread(target=poll, daemon=True)
watcher.start()
def tree_cpu():
    stop.set()
    watcher.join()
    return sum(seen.values())
dataset.render("glyphs", n=n, seed=0, out=out, measures=MEASURES, thumbnails=32, shard_size=SHARD, batch_size=BATCH,
               progress=False, engine="ray", workers=2)
report(rows=dataset.read(out, columns=["index"]).num_rows, ray_start=start, ray_cpu=tree_cpu())
"""
)

_MAKE_CODES = (
    _HEAD
    + """
gen = ll.load("glyphs")
z = torch.cat([gen.sample(min(100_000, n - s), seed=s) for s in range(0, n, 100_000)])
dataset.render(gen, latents=z, out=out, measures=None, thumbnails=None, shard_size=100_000, progress=False)
report()
"""
)

_PCA_STREAM = (
    _HEAD
    + """
d = dataset.pca(out, n_components=10)
report(evr=d.provenance["explained_variance_ratio"][:3])
"""
)

_PCA_ALL = (
    _HEAD
    + """
gen = ll.load("glyphs")
z = dataset.latents(out)
d = ll.directions.pca(gen, codes=z, n_components=10)
report(evr=d.provenance["explained_variance_ratio"][:3])
"""
)


def _run(script: str, *args: object) -> dict[str, float]:
    (result,) = _run_side_by_side((script, *args))
    return result


def _run_side_by_side(*jobs: tuple[object, ...]) -> list[dict[str, float]]:
    """Run each ``(script, *args)`` in its own subprocess, all at once; their reports in order.

    Two one-thread jobs on this 2-core machine each get a core and see the same machine state
    (load, other work), which makes their figures comparable and halves the wall time of a row.
    """
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(str(script)), *map(str, args)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for script, *args in jobs
    ]
    results = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=6 * 3600)
        if proc.returncode:
            raise RuntimeError(f"benchmark subprocess failed:\n{stderr[-3000:]}")
        results.append(json.loads(stdout.strip().splitlines()[-1]))
    return results


def _cell(r: dict[str, float]) -> str:
    return (
        f"{r['wall']:.1f} s wall ({r['cpu']:.1f} s CPU), peak {r['peak_mb']:.0f} MB (+{r['above_imports_mb']:.0f}), "
        f"load {r['load']:.1f}"
    )


PARTS = ("digits", "glyphs", "ray", "pca")


def _parts() -> set[str]:
    """The rows to run: ``LATENTLAB_BENCH_DATASET_PARTS=glyphs,ray`` (default: all of :data:`PARTS`)."""
    raw = os.environ.get("LATENTLAB_BENCH_DATASET_PARTS", ",".join(PARTS))
    parts = {p.strip() for p in raw.split(",") if p.strip()}
    unknown = parts - set(PARTS)
    if unknown:
        raise ValueError(f"LATENTLAB_BENCH_DATASET_PARTS: unknown {sorted(unknown)}; choose from {PARTS}")
    return parts


def run(quick: bool = False) -> list[dict[str, str]]:
    n = int(os.environ.get("LATENTLAB_BENCH_RENDER_N", 300 if quick else 100_000))
    work = Path(tempfile.mkdtemp(prefix="bench_dataset_"))
    table: list[dict[str, str]] = []
    parts = _parts()
    try:
        if "digits" in parts:
            table.append(_digits_row(quick, work))
        if "glyphs" in parts:  # side by side: one core each, the same machine state
            ours, loop = _run_side_by_side((_LATENTLAB, n, work / "local"), (_LOOP, n, work / "loop"))
        elif "ray" in parts:
            ours = _run(_LATENTLAB, n, work / "local")
        if "glyphs" in parts:
            table.append(
                {
                    "benchmark": f"{n:,} glyph latents -> 3 measures + 32 px thumbnails, local",
                    "latentlab": _cell(ours),
                    "baseline": "loop: " + _cell(loop),
                    "ratio": f"{loop['cpu'] / ours['cpu']:.2f}x CPU time, "
                    f"{loop['above_imports_mb'] / max(ours['above_imports_mb'], 1):.1f}x memory",
                    "note": "latentlab writes resumable shards and holds one shard",
                }
            )
        if "ray" in parts:
            ray = _run(_RAY, n, work / "ray")
            table.append(
                {
                    "benchmark": f"{n:,} glyph latents, Ray Data 2 actors vs local engine",
                    "latentlab": "ray: "
                    + _cell(ray)
                    + f"; Ray start {ray['ray_start']:.1f} s; Ray's processes {ray['ray_cpu']:.1f} s CPU",
                    "baseline": "local: " + _cell(ours),
                    "ratio": f"{ours['wall'] / ray['wall']:.2f}x wall, "
                    f"{(ray['cpu'] + ray['ray_cpu']) / ours['cpu']:.2f}x total CPU",
                    "note": "2 cores shared with other work; CPU = driver + Ray's processes",
                }
            )
        if "pca" in parts:
            table.append(_pca_row(quick, work))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return table


def _digits_row(quick: bool, work: Path) -> dict[str, str]:
    n_digits = 2_000 if quick else 100_000
    d_ours = _run(_LATENTLAB, n_digits, work / "d_local", "digits")
    d_loop = _run(_LOOP, n_digits, work / "d_loop", "digits")
    return {
        "benchmark": f"{n_digits:,} digits latents -> 3 measures + 32 px thumbnails, local",
        "latentlab": _cell(d_ours),
        "baseline": "loop: " + _cell(d_loop),
        "ratio": f"{d_loop['cpu'] / d_ours['cpu']:.2f}x CPU time, "
        f"{d_loop['above_imports_mb'] / max(d_ours['above_imports_mb'], 1):.1f}x memory",
        "note": "the same job at 100k where a model decodes fast",
    }


def _pca_row(quick: bool, work: Path) -> dict[str, str]:
    rows_pca = 50_000 if quick else 1_000_000
    codes = work / "codes"
    _run(_MAKE_CODES, rows_pca, codes)
    stream = _run(_PCA_STREAM, rows_pca, codes)
    held = _run(_PCA_ALL, rows_pca, codes)
    same = all(abs(a - b) < 1e-9 for a, b in zip(stream["evr"], held["evr"]))
    return {
        "benchmark": f"PCA of a {rows_pca:,} x 64 Parquet data set",
        "latentlab": "dataset.pca (streaming): " + _cell(stream),
        "baseline": "read all + directions.pca: " + _cell(held),
        "ratio": f"{held['cpu'] / stream['cpu']:.2f}x CPU time, "
        f"{held['above_imports_mb'] / max(stream['above_imports_mb'], 1):.1f}x memory",
        "note": f"same explained variance: {same}",
    }


if __name__ == "__main__":
    from benchmarks.__main__ import format_table

    print(format_table(run(quick="--quick" in sys.argv)))
