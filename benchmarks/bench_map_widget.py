"""The million-point map: fit-on-sample + transform time, and the browser's frame rate while panning.

Rows (all measured in this run):

* fit a UMAP ``LatentMap`` on a 20,000-row sample of 1,000,000 x 64 latents (a 20-cluster Gaussian
  mixture, like font style codes) and place every row with ``transform`` in batches of 65,536
  (what ``dataset.fit_map`` does), in a fresh subprocess with 1 torch thread; the baseline is
  fitting UMAP on every row, measured at ``LATENTLAB_BENCH_MAP_ALL`` rows (default 50,000) against
  the sample approach at the same size (a fit on all 1,000,000 rows was not run here);
* frames per second while panning a 1,000,000-point ``MapWidget`` in JupyterLab + Chromium
  (Playwright drags the map with real mouse events for a few seconds; the page counts
  ``requestAnimationFrame`` callbacks and the widget's redraws): zoomed out (the density) and
  zoomed in (points and thumbnails), against the same widget forced to draw every point as
  the small-map widget does (``density_above`` above the number of points).

``LATENTLAB_BENCH_MAP_N`` changes the number of points (default 1,000,000; ``--quick``: 100,000);
``LATENTLAB_BENCH_MAP_PARTS=fit`` or ``=browser`` runs one half (the fit rows take about 7 minutes here).
The browser rows need Debian chromium (``/usr/bin/chromium``); without it they are skipped with a note.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

from benchmarks._map_cell import million_map_cell

ROOT = Path(__file__).resolve().parents[1]

_FIT = textwrap.dedent(
    """
    import json, sys, time
    import numpy as np, torch
    torch.set_num_threads(1)
    import latentlab as ll

    n, sample, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(20, 64)) * 3
    x = torch.from_numpy((centres[rng.integers(0, 20, n)] + rng.normal(size=(n, 64))).astype(np.float32))
    c, w = time.process_time(), time.perf_counter()
    if mode == "sample":
        pick = torch.from_numpy(np.sort(rng.choice(n, size=sample, replace=False)))
        m = ll.LatentMap(method="umap", seed=0, progress=False).fit(x[pick])
        fit_cpu, fit_wall = time.process_time() - c, time.perf_counter() - w
        xy = np.concatenate([m.transform(x[s : s + 65_536]) for s in range(0, n, 65_536)])
    else:
        m = ll.LatentMap(method="umap", seed=0, progress=False).fit(x)
        fit_cpu, fit_wall = time.process_time() - c, time.perf_counter() - w
        xy = m.embedding_
    print(json.dumps({"cpu": time.process_time() - c, "wall": time.perf_counter() - w,
                      "fit_cpu": fit_cpu, "fit_wall": fit_wall, "shape": list(xy.shape)}))
    """
)


def _fit(n: int, sample: int, mode: str) -> dict[str, Any]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", _FIT, str(n), str(sample), mode],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _fit_rows(n: int, quick: bool) -> list[dict[str, str]]:
    sample = 5_000 if quick else 20_000
    n_all = int(os.environ.get("LATENTLAB_BENCH_MAP_ALL", 10_000 if quick else 50_000))
    big = _fit(n, sample, "sample")
    same = _fit(n_all, sample, "sample")
    every = _fit(n_all, sample, "all")
    return [
        {
            "benchmark": f"map of {n:,} x 64 latents: UMAP fitted on {sample:,}, transform of every row",
            "latentlab": f"{big['cpu']:.1f} s CPU ({big['wall']:.1f} s wall; fit {big['fit_cpu']:.1f} s)",
            "baseline": "fit on every row: not run at this size (next row compares the two)",
            "ratio": "-",
            "note": "1 torch thread, fresh process, batches of 65,536",
        },
        {
            "benchmark": f"map of {n_all:,} x 64 latents: fit on a {sample:,} sample + transform vs fit on all",
            "latentlab": f"{same['cpu']:.1f} s CPU ({same['wall']:.1f} s wall)",
            "baseline": f"{every['cpu']:.1f} s CPU ({every['wall']:.1f} s wall)",
            "ratio": f"{every['cpu'] / max(same['cpu'], 1e-9):.1f}x less CPU",
            "note": "the same data generator, 1 torch thread",
        },
    ]


# counts requestAnimationFrame callbacks from now on (the page's own frame rate)
_COUNT_FRAMES = """() => { window.__rafs = 0; if (window.__rafLoop) return;
  window.__rafLoop = true;
  const tick = () => { window.__rafs++; requestAnimationFrame(tick); };
  requestAnimationFrame(tick); }"""


def _notebook(n: int) -> dict[str, Any]:
    import nbformat

    cells = [
        nbformat.v4.new_code_cell(million_map_cell(n, "scalable", density_above=20_000)),
        nbformat.v4.new_code_cell(million_map_cell(n, "every_point", density_above=10 * n)),
    ]
    nb = nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}})
    return dict(nb)


def _pan_fps(page: Any, k: int, seconds: float) -> dict[str, Any]:
    """Drag map ``k`` round in a circle for ``seconds`` with real mouse events; frames and redraws per second."""
    import time

    root = page.locator(".ll-map").nth(k)
    root.scroll_into_view_if_needed()
    overlay = page.locator(".ll-map-overlay").nth(k)
    box = overlay.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.locator(".ll-map-pan-mode").nth(k).click()
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.evaluate(_COUNT_FRAMES)
    redraws0 = int(root.get_attribute("data-frames") or 0)
    draw_ms: list[float] = []
    t0 = time.perf_counter()
    step = 0
    while time.perf_counter() - t0 < seconds:
        step += 1
        a = step * 0.15
        page.mouse.move(cx + 60 * math.cos(a) - 60, cy + 60 * math.sin(a))
        if step % 3 == 0:
            draw_ms.append(float(root.get_attribute("data-draw-ms") or 0))
    elapsed = time.perf_counter() - t0
    draw_ms.append(float(root.get_attribute("data-draw-ms") or 0))
    rafs = int(page.evaluate("() => window.__rafs"))
    redraws = int(root.get_attribute("data-frames") or 0) - redraws0
    page.mouse.up()
    draw_ms.sort()
    return {
        "fps": rafs / elapsed,
        "redraws": redraws / elapsed,
        "draw_ms": draw_ms[len(draw_ms) // 2] if draw_ms else float("nan"),
        "draw": str(root.get_attribute("data-draw")),
    }


def _zoom_in(page: Any, k: int, steps: int) -> None:
    overlay = page.locator(".ll-map-overlay").nth(k)
    box = overlay.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for _ in range(steps):
        page.mouse.wheel(0, -300)
        page.wait_for_timeout(100)


def browser_fps(n: int, seconds: float = 4.0) -> dict[str, dict[str, Any]]:
    """Pan both maps (scalable, every point drawn) zoomed out and zoomed in; frame rates per case."""
    from tests.conftest import running_lab

    root = Path(tempfile.mkdtemp(prefix="bench-map-root-"))
    tmp = Path(tempfile.mkdtemp(prefix="bench-map-"))
    (root / "bench_map.ipynb").write_text(json.dumps(_notebook(n)))
    out: dict[str, dict[str, Any]] = {}
    try:
        with running_lab(root, tmp) as lab:
            page = lab.open("bench_map.ipynb")
            lab.run_all(page, timeout_s=600)
            page.wait_for_function(
                "(n) => [...document.querySelectorAll('.ll-map')]"
                ".filter(e => Number(e.dataset.points) === n).length === 2",
                arg=n,
                timeout=300_000,
            )
            for k, name in ((0, "scalable"), (1, "every_point")):
                out[f"{name} zoomed out"] = _pan_fps(page, k, seconds)
            for k, name in ((0, "scalable"), (1, "every_point")):
                page.locator(".ll-map-reset").nth(k).click()
                _zoom_in(page, k, 6)
                out[f"{name} zoomed in"] = _pan_fps(page, k, seconds)
            page.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def _browser_rows(n: int) -> list[dict[str, str]]:
    chromium = os.environ.get("LATENTLAB_CHROMIUM", "/usr/bin/chromium")
    if not Path(chromium).exists():
        return [
            {
                "benchmark": f"pan a {n:,}-point map (JupyterLab + Chromium)",
                "latentlab": "-",
                "baseline": "-",
                "ratio": "-",
                "note": f"skipped: no chromium at {chromium}",
            }
        ]
    got = browser_fps(n)
    baseline = {  # the same widget with density_above above N: it never switches to the density
        "zoomed out": "drawing every point",
        "zoomed in": "density off (both read only the cells in view)",
    }
    rows = []
    for view in ("zoomed out", "zoomed in"):
        a, b = got[f"scalable {view}"], got[f"every_point {view}"]
        rows.append(
            {
                "benchmark": f"pan a {n:,}-point map {view}: frames/s (redraws/s, median draw)",
                "latentlab": f"{a['fps']:.0f} ({a['redraws']:.0f}, {a['draw_ms']:.1f} ms)",
                "baseline": f"{b['fps']:.0f} ({b['redraws']:.0f}, {b['draw_ms']:.1f} ms) {baseline[view]}",
                "ratio": f"{a['fps'] / max(b['fps'], 1e-9):.1f}x",
                "note": f"drawn as {a['draw']}" + ("" if view == "zoomed out" else ", after 6 wheel steps"),
            }
        )
    return rows


def run(quick: bool = False) -> list[dict[str, str]]:
    n = int(os.environ.get("LATENTLAB_BENCH_MAP_N", 100_000 if quick else 1_000_000))
    parts = os.environ.get("LATENTLAB_BENCH_MAP_PARTS", "fit,browser").split(",")
    return (_fit_rows(n, quick) if "fit" in parts else []) + (_browser_rows(n) if "browser" in parts else [])


if __name__ == "__main__":
    from benchmarks.__main__ import format_table

    print(format_table(run(quick="--quick" in sys.argv)))
