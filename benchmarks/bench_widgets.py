"""Live widgets: render time per slider event, burst coalescing, and keypress -> paint in JupyterLab.

Rows (all measured in this run, on the bundled ``digits`` model at 256 px):

* render per slider event (decode + resize + encode) as JPEG q90 and as fast PNG
  (``compress_level=1``), against PNG at Pillow's default level (what ad-hoc widget code does);
* render per slider event of the ``glyphs`` specimen (64 x 364 px) while dragging (its half-resolution
  ``preview``) against the full render shown once the drag settles;
* a 1,000-event slider burst: time until the last value is shown and number of renders, latest
  value wins vs. rendering inside the ``observe`` handler (every event, in order);
* keypress on a slider -> new image loaded and painted in Chromium (JupyterLab driven by
  Playwright), p50 and p95, against the floor measured in the same JupyterLab run: a bare
  ipywidgets slider redrawing a 64 px PNG. A press that never paints counts as the 5 s timeout.

The browser rows need Debian chromium (``/usr/bin/chromium``); without it they are skipped with a note.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from PIL import Image

from benchmarks._timing import median_of, ms

GOAL_P95_S = 0.150


def _png_default(gen: Any, z: torch.Tensor, size: tuple[int, int]) -> bytes:
    """The baseline: decode, resize with PIL, PNG at Pillow's default compression."""
    from latentlab.render import to_pil

    img = to_pil(gen.decode(z))
    assert isinstance(img, Image.Image)
    buf = io.BytesIO()
    img.resize((size[1], size[0]), Image.Resampling.BICUBIC).save(buf, format="PNG")
    return buf.getvalue()


def _jpeg_default(gen: Any, z: torch.Tensor, size: tuple[int, int]) -> bytes:
    """The same baseline as :func:`_png_default`, encoded as JPEG q90 like latentlab's default."""
    from latentlab.render import to_pil

    img = to_pil(gen.decode(z))
    assert isinstance(img, Image.Image)
    buf = io.BytesIO()
    img.resize((size[1], size[0]), Image.Resampling.BICUBIC).save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def _in_process_rows(quick: bool) -> list[dict[str, str]]:
    import latentlab as ll
    from latentlab.widgets._render import render_bytes

    gen = ll.load("digits")
    space, size = gen.default_space, (256, 256)
    zs = gen.sample(64, seed=0)
    it = iter(range(10**9))

    def nxt() -> torch.Tensor:
        return zs[next(it) % len(zs)]

    repeat = 15 if quick else 60
    t_jpeg = median_of(lambda: render_bytes(gen, nxt(), space, size=size, fmt="jpeg"), repeat)
    t_png1 = median_of(lambda: render_bytes(gen, nxt(), space, size=size, fmt="png"), repeat)
    t_base = median_of(lambda: _png_default(gen, nxt(), size), repeat)
    t_base_jpeg = median_of(lambda: _jpeg_default(gen, nxt(), size), repeat)
    kb = len(render_bytes(gen, zs[0], space, size=size, fmt="jpeg")) / 1024
    kb_png = len(render_bytes(gen, zs[0], space, size=size, fmt="png")) / 1024
    kb_base = len(_png_default(gen, zs[0], size)) / 1024
    rows = [
        {
            "benchmark": "render per slider event, JPEG q90 (256 px)",
            "latentlab": ms(t_jpeg),
            "baseline": ms(t_base),
            "ratio": f"{t_base / t_jpeg:.1f}x faster",
            "note": f"{kb:.1f} KiB vs {kb_base:.1f} KiB; baseline: PIL resize + PNG at default level",
        },
        {
            "benchmark": "render per slider event, JPEG q90 vs JPEG q90 (256 px)",
            "latentlab": ms(t_jpeg),
            "baseline": ms(t_base_jpeg),
            "ratio": f"{t_base_jpeg / t_jpeg:.1f}x faster",
            "note": "like with like: baseline PIL resize + JPEG q90",
        },
        {
            "benchmark": "render per slider event, PNG level 1 (256 px)",
            "latentlab": ms(t_png1),
            "baseline": ms(t_base),
            "ratio": f"{t_base / t_png1:.1f}x faster",
            "note": f"{kb_png:.1f} KiB",
        },
    ]
    rows += _glyphs_rows(quick)
    rows += _burst_rows(gen, quick)
    return rows


def _glyphs_rows(quick: bool) -> list[dict[str, str]]:
    """The glyphs specimen per slider event: preview (while dragging) vs full quality (once settled)."""
    import latentlab as ll
    from latentlab.render import fit_size
    from latentlab.widgets._render import render_bytes

    gen = ll.load("glyphs")
    space, size = gen.default_space, fit_size(gen.image_size, None)
    n = 100 if quick else 300
    base, step = gen.sample(1, seed=0)[0], gen.sample(1, seed=1)[0] - gen.sample(1, seed=2)[0]
    drag = [base + (i / n) * step for i in range(n)]  # the latents of one slider drag
    it = iter(range(10**9))

    def event(preview: bool) -> bytes:
        return render_bytes(gen, drag[next(it) % n], space, size=size, fmt="jpeg", preview=preview)

    t_prev = median_of(lambda: event(True), n)
    t_full = median_of(lambda: event(False), n)
    h, w = size
    return [
        {
            "benchmark": f"glyphs render per slider event while dragging ({h}x{w} specimen)",
            "latentlab": ms(t_prev),
            "baseline": ms(t_full),
            "ratio": f"{t_full / t_prev:.1f}x faster",
            "note": f"median of {n}; preview at {h // 2}x{w // 2} vs full render (shown once the drag settles)",
        }
    ]


def _burst_rows(gen: Any, quick: bool) -> list[dict[str, str]]:
    from latentlab.widgets import Explorer
    from latentlab.widgets._render import render_bytes

    n = 300 if quick else 1000
    axes = [torch.eye(16)[i] for i in range(3)]
    ex = Explorer(gen, directions=axes)
    values = [round(-3 + 6 * i / (n - 1), 4) for i in range(n)]
    renders0 = ex.view.renders
    t0 = time.perf_counter()
    for v in values:
        ex.sliders[0].value = v
    handler_s = time.perf_counter() - t0
    ex.wait(60)
    latest_s = time.perf_counter() - t0
    renders = ex.view.renders - renders0
    ex.close()

    # baseline: render inside the observe handler, so every event is rendered in order
    ex2 = Explorer(gen, directions=axes)
    ex2.close()  # keep its widgets, stop its loop; render synchronously instead

    def render_now(change: dict[str, Any]) -> None:
        z = ex2.base + float(change["new"]) * axes[0]
        ex2.image.value = render_bytes(gen, z, ex2.space, size=ex2.view.size)

    ex2.sliders[0].observe(render_now, names="value")
    t0 = time.perf_counter()
    for v in values:
        ex2.sliders[0].value = v
    naive_s = time.perf_counter() - t0
    return [
        {
            "benchmark": f"{n}-event slider burst: last value shown after",
            "latentlab": ms(latest_s),
            "baseline": ms(naive_s),
            "ratio": f"{naive_s / latest_s:.1f}x sooner",
            "note": f"handlers returned in {ms(handler_s)}; baseline renders in the handler",
        },
        {
            "benchmark": f"{n}-event slider burst: renders",
            "latentlab": str(renders),
            "baseline": str(n),
            "ratio": f"{n / max(renders, 1):.0f}x fewer",
            "note": "latest value wins",
        },
    ]


# -- browser -------------------------------------------------------------------------
_FLOOR_CELL = """import io
import ipywidgets as W
import numpy as np
from PIL import Image
floor_slider = W.IntSlider(value=0, min=0, max=100)
floor_image = W.Image(format="png")
def paint(change=None):  # the least a live slider can do: a flat 64 px PNG per value
    buf = io.BytesIO()
    Image.fromarray(np.full((64, 64, 3), (floor_slider.value * 2) % 256, np.uint8)).save(buf, format="PNG")
    floor_image.value = buf.getvalue()
floor_slider.observe(paint, names="value")
paint()
floor = W.VBox([floor_slider, floor_image])
floor.add_class("bench-floor")
floor"""

BENCH_NOTEBOOK = {
    "cells": [
        {
            "cell_type": "code",
            "execution_count": None,
            "id": "bench-0",
            "metadata": {},
            "outputs": [],
            "source": _FLOOR_CELL,
        },
        {
            "cell_type": "code",
            "execution_count": None,
            "id": "bench-1",
            "metadata": {},
            "outputs": [],
            "source": "import torch\nimport latentlab as ll\ngen = ll.load('digits')\n"
            "ex = ll.Explorer(gen, directions=[torch.eye(16)[i] for i in range(3)])\nex",
        },
    ],
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}},
    "nbformat": 4,
    "nbformat_minor": 5,
}

#: a press that never paints counts as this latency in the percentiles (it is the wait's timeout)
MISSED_S = 5.0

_INSTRUMENT = """([img, handle]) => {
    window.__lat = []; window.__t0 = null;
    handle.addEventListener('keydown', () => { window.__t0 = performance.now(); }, true);
    img.addEventListener('load', () => requestAnimationFrame(() => {
        if (window.__t0 !== null) { window.__lat.push(performance.now() - window.__t0); window.__t0 = null; }
    }));
}"""


@contextlib.contextmanager
def _jupyterlab(root: Path) -> Iterator[Any]:
    """A JupyterLab serving ``root`` and a Chromium context: the tests' harness (run from the repo root)."""
    from tests.conftest import running_lab

    tmp = Path(tempfile.mkdtemp(prefix="bench-widgets-"))
    try:
        with running_lab(root, tmp) as lab:
            yield lab
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def keypress_to_paint(presses: int) -> dict[str, tuple[list[float], int]]:
    """Press arrow keys on a slider in JupyterLab and time each until its image is painted.

    Two sliders in the same JupyterLab run: the floor (a bare ipywidgets slider redrawing a 64 px PNG)
    and latentlab's Explorer. Returns ``{"floor" | "latentlab": (latencies in s, presses never painted)}``;
    a press that never paints is counted as :data:`MISSED_S` in the latencies.
    """
    root = Path(tempfile.mkdtemp(prefix="bench-widgets-root-"))
    (root / "bench_widgets.ipynb").write_text(json.dumps(BENCH_NOTEBOOK))
    out: dict[str, tuple[list[float], int]] = {}
    try:
        with _jupyterlab(root) as lab:
            page = lab.open("bench_widgets.ipynb")
            lab.run_all(page)
            for name, box in (("floor", ".bench-floor"), ("latentlab", ".latentlab-explorer")):
                out[name] = _time_presses(page, f"{box} img", f"{box} .widget-slider .noUi-handle", presses)
            page.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return out


def _time_presses(page: Any, img_sel: str, handle_sel: str, presses: int) -> tuple[list[float], int]:
    img = page.locator(img_sel).first
    img.wait_for(timeout=60_000)
    handle = page.locator(handle_sel).first
    page.evaluate(_INSTRUMENT, [img.element_handle(), handle.element_handle()])
    handle.focus()
    latencies: list[float] = []
    missed = 0
    for key in ["ArrowRight"] * (presses // 2) + ["ArrowLeft"] * (presses - presses // 2):
        painted = int(page.evaluate("window.__lat.length"))
        handle.press(key)
        try:
            page.wait_for_function(f"window.__lat.length > {painted}", timeout=MISSED_S * 1000)
            latencies.append(page.evaluate("window.__lat[window.__lat.length - 1]") / 1e3)
        except Exception as exc:  # a press that never painted is a failure, not a dropped sample
            if type(exc).__name__ != "TimeoutError":
                raise
            missed += 1
            latencies.append(MISSED_S)
            page.evaluate("window.__t0 = null")
        page.wait_for_timeout(30)
    return latencies, missed


def _percentile(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


def _browser_rows(quick: bool) -> list[dict[str, str]]:
    chromium = os.environ.get("LATENTLAB_CHROMIUM", "/usr/bin/chromium")
    if not Path(chromium).exists():
        return [
            {
                "benchmark": "keypress -> paint (JupyterLab + Chromium)",
                "latentlab": "-",
                "baseline": "-",
                "ratio": "-",
                "note": f"skipped: no chromium at {chromium}",
            }
        ]
    timed = keypress_to_paint(16 if quick else 40)
    (lat, missed), (floor, floor_missed) = timed["latentlab"], timed["floor"]
    p50, p95 = statistics.median(lat), _percentile(lat, 0.95)
    f50, f95 = statistics.median(floor), _percentile(floor, 0.95)
    note = (
        f"{len(lat)} presses each, same JupyterLab run; never painted: {missed} (floor {floor_missed}), "
        f"counted as {MISSED_S:g} s"
    )
    return [
        {
            "benchmark": "keypress -> paint p50 (JupyterLab + Chromium)",
            "latentlab": ms(p50),
            "baseline": f"{ms(f50)} (floor: bare slider -> 64 px PNG)",
            "ratio": f"{p50 / f50:.2f}x the floor",
            "note": note + "; goal <= 1.3x the floor",
        },
        {
            "benchmark": "keypress -> paint p95 (JupyterLab + Chromium)",
            "latentlab": ms(p95),
            "baseline": f"{ms(f95)} (floor)",
            "ratio": f"{p95 / f95:.2f}x the floor",
            "note": f"goal p95 <= {ms(GOAL_P95_S)}",
        },
    ]


def run(quick: bool = False) -> list[dict[str, str]]:
    return _in_process_rows(quick) + _browser_rows(quick)


if __name__ == "__main__":
    from benchmarks.__main__ import format_table

    print(format_table(run(quick="--quick" in sys.argv)))
