"""Real browser: a map of a million points in JupyterLab.

Zoomed out it draws the density (the inked bins match the data's own 2-D histogram; a blank
canvas fails the same check); wheel zoom switches to points and thumbnails; a click renders
the point under the cursor (the one Python finds nearest); panning keeps moving the view.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest
from scipy.spatial import cKDTree

from benchmarks._map_cell import million_map_cell

from .conftest import Lab

pytestmark = pytest.mark.browser

N_POINTS = int(os.environ.get("LATENTLAB_MAP_POINTS", 1_000_000))
NOTEBOOK = "_map_million.ipynb"
XY_FILE = "_map_million_xy.npy"


def write_notebook(folder: Path, n: int = N_POINTS) -> str:
    """Write the million-point map notebook into ``folder``; returns its file name."""
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(million_map_cell(n, xy_file=XY_FILE))],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    )
    nbformat.write(nb, folder / NOTEBOOK)
    return NOTEBOOK


# the fraction of inked (not white) pixels inside the plot area, and how many distinct colours;
# with blank=true the same measure of a fresh white canvas of the same size (the negative control)
INK = """(canvas, blank) => {
  let c = canvas;
  if (blank) {
    c = document.createElement('canvas'); c.width = canvas.width; c.height = canvas.height;
    const ctx = c.getContext('2d'); ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, c.width, c.height);
  }
  const { width, height } = c, dpr = width / canvas.clientWidth, pad = Math.round(8 * dpr);
  const d = c.getContext('2d').getImageData(pad, pad, width - 2 * pad, height - 2 * pad).data;
  let ink = 0; const seen = new Set();
  for (let i = 0; i < d.length; i += 4) {
    if (d[i] + d[i + 1] + d[i + 2] < 759) {
      ink++;
      if (seen.size < 1000) seen.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
    }
  }
  return [ink / (d.length / 4), seen.size];
}"""


# what the map drew in its last frame: [density | points, thumbnails it wants to show, view]
_DRAWN = "() => { const d = document.querySelector('.ll-map').dataset; return [d.draw, d.thumbsWanted, d.view]; }"


def map_state(page: Any) -> dict[str, str]:
    """The map's data attributes: points, drawn, draw (density | points), thumbs, frames, view."""
    return dict(page.locator(".ll-map").first.evaluate("(el) => ({...el.dataset})"))


def view_of(page: Any) -> list[float]:
    return [float(t) for t in map_state(page)["view"].split(",")]


def open_map(lab: Lab, page: Any) -> None:
    """Run the notebook and wait until the map has drawn every point."""
    lab.run_all(page, timeout_s=300)
    page.locator(".ll-map-stage").first.wait_for(timeout=120_000)
    page.wait_for_function(
        "(n) => { const d = document.querySelector('.ll-map').dataset; return Number(d.points) === n; }",
        arg=N_POINTS,
        timeout=120_000,
    )
    page.locator(".ll-map-stage").first.scroll_into_view_if_needed()


def occupied_bins(xy: np.ndarray, view: list[float], bins: int) -> float:
    """The fraction of a ``bins x bins`` histogram of the points in ``view`` that holds any point."""
    x0, x1, y0, y1 = view
    h, _, _ = np.histogram2d(xy[:, 0], xy[:, 1], bins=bins, range=[[x0, x1], [y0, y1]])
    return float((h > 0).mean())


def test_a_million_points(lab: Lab) -> None:
    folder = lab.root / "notebooks"
    page = lab.open("notebooks/" + write_notebook(folder))
    open_map(lab, page)
    state = map_state(page)
    assert state["draw"] == "density", state
    assert int(state["drawn"]) == N_POINTS, state
    canvas = page.locator(".ll-map-points").first
    overlay = page.locator(".ll-map-overlay").first
    box = overlay.bounding_box()
    assert box is not None
    side = box["width"]

    # zoomed out: the density is drawn; its inked bins are the data's occupied bins
    ink, colours = canvas.evaluate(INK, False)
    xy = np.load(folder / XY_FILE)
    assert len(xy) == N_POINTS
    want = occupied_bins(xy, view_of(page), bins=round((side - 16) / 2))
    assert abs(ink - want) < 0.05, f"inked {ink:.3f} of the plot, the data occupy {want:.3f} of its bins"
    assert 0.05 < ink < 0.95 and colours > 20, (ink, colours)  # a shaded density, not a flat fill
    blank_ink, blank_colours = canvas.evaluate(INK, True)
    assert blank_ink == 0 and blank_colours == 0  # the negative control: the check fails on a blank canvas
    lab.screenshot(page, "map_million_density", full_page=False)

    # wheel zoom about the densest spot: points, then thumbnails of spread-out points
    x0, x1, y0, y1 = view_of(page)
    h, ex, ey = np.histogram2d(xy[:, 0], xy[:, 1], bins=8, range=[[x0, x1], [y0, y1]])
    bx, by = np.unravel_index(int(h.argmax()), h.shape)
    cx, cy = (ex[bx] + ex[bx + 1]) / 2, (ey[by] + ey[by + 1]) / 2
    px = 8 + (cx - x0) / (x1 - x0) * (side - 16)
    py = 8 + (1 - (cy - y0) / (y1 - y0)) * (side - 16)
    page.mouse.move(box["x"] + px, box["y"] + py)
    for _ in range(16):  # one wheel step at a time, until thumbnails are wanted (each step zooms 1.6x)
        page.mouse.wheel(0, -300)
        draw, wanted, _view = lab.wait_stable(page, _DRAWN)
        if draw == "points" and int(wanted) >= 3:
            break
    page.wait_for_function(  # they arrive from Python in batches and are drawn
        "() => { const d = document.querySelector('.ll-map').dataset;"
        " return Number(d.thumbs) >= Number(d.thumbsWanted); }",
        timeout=60_000,
    )
    state = map_state(page)
    assert state["draw"] == "points" and int(state["thumbs"]) >= 3, state
    zoomed = view_of(page)
    assert 0 < int(state["drawn"]) < N_POINTS, state
    assert zoomed[1] - zoomed[0] < 0.1 * (x1 - x0), zoomed
    lab.screenshot(page, "map_million_points", full_page=False)

    # click a point in the zoomed view: the one Python finds nearest renders, the image appears
    zx0, zx1, zy0, zy1 = zoomed
    inside = np.flatnonzero((xy[:, 0] > zx0) & (xy[:, 0] < zx1) & (xy[:, 1] > zy0) & (xy[:, 1] < zy1))
    assert len(inside) > 0
    # only points with no other point within 8 px: the click cannot be taken by a neighbour
    px_per_unit = (side - 16) / (zx1 - zx0)
    m = 10 / px_per_unit
    around = xy[(xy[:, 0] > zx0 - m) & (xy[:, 0] < zx1 + m) & (xy[:, 1] > zy0 - m) & (xy[:, 1] < zy1 + m)]
    gaps, _ = cKDTree(around).query(xy[inside], k=2)  # [itself, its nearest neighbour]
    inside = inside[gaps[:, 1] * px_per_unit > 8]
    assert len(inside) >= 2, "no isolated points in the zoomed view"
    centre = np.array([(zx0 + zx1) / 2, (zy0 + zy1) / 2])
    target = int(inside[np.argmin(((xy[inside] - centre) ** 2).sum(1))])
    tx = 8 + (xy[target, 0] - zx0) / (zx1 - zx0) * (side - 16)
    ty = 8 + (1 - (xy[target, 1] - zy0) / (zy1 - zy0)) * (side - 16)
    overlay.click(position={"x": float(tx), "y": float(ty)})
    page.wait_for_function(  # the image and then the caption arrive (two changes of the widget)
        "() => { const img = document.querySelector('.ll-map-image');"
        " return img.src && img.complete && img.naturalWidth > 0"
        " && document.querySelector('.ll-map-caption').textContent.startsWith('point'); }",
        timeout=30_000,
    )
    first_src = page.locator(".ll-map-image").first.get_attribute("src")
    caption = page.locator(".ll-map-caption").first.text_content() or ""
    assert caption.startswith(f"point {target}"), (caption, target)

    # a second point far from it: the rendered image changes
    far = int(inside[np.argmax(((xy[inside] - xy[target]) ** 2).sum(1))])
    fx = 8 + (xy[far, 0] - zx0) / (zx1 - zx0) * (side - 16)
    fy = 8 + (1 - (xy[far, 1] - zy0) / (zy1 - zy0)) * (side - 16)
    if 10 < fx < side - 10 and 10 < fy < side - 10:
        overlay.click(position={"x": float(fx), "y": float(fy)})
        page.wait_for_function(
            "([old, oldCaption]) => { const img = document.querySelector('.ll-map-image');"
            " return img.src !== old && img.complete && img.naturalWidth > 0"
            " && document.querySelector('.ll-map-caption').textContent !== oldCaption; }",
            arg=[first_src, caption],
            timeout=30_000,
        )
        caption = page.locator(".ll-map-caption").first.text_content() or ""
        assert caption.startswith(f"point {far}"), (caption, far)
    lab.screenshot(page, "map_million_click", full_page=False)

    # pan (Pan mode, drag): the view moves by the drag, keeps its size, and still draws points
    frames = int(map_state(page)["frames"])
    page.locator(".ll-map-pan-mode").first.click()
    page.mouse.move(box["x"] + side / 2, box["y"] + side / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + side / 2 - 100, box["y"] + side / 2 + 60, steps=8)
    page.mouse.up()
    page.wait_for_function(
        "(old) => { const v = document.querySelector('.ll-map').dataset.view.split(',').map(Number);"
        " return Math.abs(v[0] - old[0]) > 1e-9 * (1 + Math.abs(old[0])); }",
        arg=zoomed,
        timeout=10_000,
    )
    panned = view_of(page)
    span = zoomed[1] - zoomed[0]
    assert panned[0] > zoomed[0] and panned[2] > zoomed[2], (zoomed, panned)
    assert abs((panned[0] - zoomed[0]) - 100 / (side - 16) * span) < 0.05 * span
    assert abs((panned[1] - panned[0]) - span) < 1e-3 * span
    assert int(map_state(page)["frames"]) > frames
    # Reset view: back to every point, as a density
    page.locator(".ll-map-reset").first.click()
    page.wait_for_function(
        "(n) => { const d = document.querySelector('.ll-map').dataset;"
        " return d.draw === 'density' && Number(d.drawn) === n; }",
        arg=N_POINTS,
        timeout=10_000,
    )
    # pan while zoomed out: the density follows the drag
    before = view_of(page)
    page.mouse.move(box["x"] + side / 2, box["y"] + side / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + side / 2 + 80, box["y"] + side / 2, steps=6)
    page.mouse.up()
    page.wait_for_function(
        "(old) => Number(document.querySelector('.ll-map').dataset.view.split(',')[0]) < old",
        arg=before[0],
        timeout=10_000,
    )
    assert map_state(page)["draw"] == "density"
    page.close()
