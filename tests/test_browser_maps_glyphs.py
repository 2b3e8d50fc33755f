"""Real browser: the map widget shows wide glyph specimens whole (hover tip and clicked image keep their shape),
keeps its hover tip inside the map, and draws a walk as a line that stands out over any point colour."""

from __future__ import annotations

from typing import Any

import nbformat
import pytest

from .conftest import Lab

pytestmark = pytest.mark.browser

_CELL = """
import latentlab as ll
gen = ll.load("glyphs")            # specimen "Hamburg": images 64 x 364, far from square
latent_map = ll.LatentMap(method="pca").fit(gen.codes()[:300], labels={"category": gen.labels()["category"][:300]})
widget = latent_map.widget(gen)
widget.show_path(ll.lerp(gen.codes()[0], gen.codes()[-1], steps=12))   # a walk between two fonts
widget
"""

# the centre of the first ink pixel of the points canvas, in CSS pixels, or null
_FIND_POINT = """(canvas) => {
  const { width, height } = canvas, dpr = width / canvas.clientWidth;
  const data = canvas.getContext('2d').getImageData(0, 0, width, height).data;
  for (let y = 12; y < height - 12; y += 2) for (let x = 12; x < width - 12; x += 2) {
    const i = 4 * (y * width + x);
    if (data[i] + data[i + 1] + data[i + 2] < 600) return [x / dpr + 1, y / dpr + 1];
  }
  return null;
}"""

# the centre of the rightmost ink pixel of the points canvas, in CSS pixels, or null
_FIND_RIGHTMOST = """(canvas) => {
  const { width, height } = canvas, dpr = width / canvas.clientWidth;
  const data = canvas.getContext('2d').getImageData(0, 0, width, height).data;
  for (let x = width - 4; x >= 4; x -= 1) for (let y = 4; y < height - 4; y += 1) {
    const i = 4 * (y * width + x);
    if (data[i] + data[i + 1] + data[i + 2] < 600) return [x / dpr - 2, y / dpr];
  }
  return null;
}"""

# the hover tip's and the map's boxes, once the tip shows
_TIP_AND_STAGE = """() => {
  const t = document.querySelector('.ll-map-tip'), s = document.querySelector('.ll-map-stage');
  if (!t || t.offsetParent === null || !t.clientWidth) return null;
  const a = t.getBoundingClientRect(), b = s.getBoundingClientRect();
  return [a.left, a.right, b.left, b.right]; }"""

# how many overlay pixels have the walk's light line colour (#ffd23f)
_PATH_PIXELS = """(canvas) => { const d = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i] > 230 && d[i + 1] > 190 && d[i + 2] < 110 && d[i + 3] > 200) n++;
  return n; }"""

# an <img>'s drawn and natural sizes once it shows a decoded image
_SIZES = """(sel) => { const img = document.querySelector(sel);
  if (!img || !img.complete || !img.naturalWidth || img.offsetParent === null) return null;
  return [img.clientWidth, img.clientHeight, img.naturalWidth, img.naturalHeight]; }"""


def _wait_sizes(lab: Lab, page: Any, selector: str) -> list[float]:
    """The image's sizes once it is loaded and its load handler has sized it (steady for a few frames)."""
    return [float(t) for t in lab.wait_stable(page, _SIZES, selector)]


def test_wide_specimens_are_not_squashed(lab: Lab) -> None:
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(_CELL.strip())],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    )
    nbformat.write(nb, lab.root / "notebooks" / "_map_glyphs_wide.ipynb")
    page = lab.open("notebooks/_map_glyphs_wide.ipynb")
    lab.run_all(page, timeout_s=200)
    page.locator(".ll-map-stage").first.wait_for(timeout=60_000)
    point = page.locator(".ll-map-points").first.evaluate(_FIND_POINT)
    assert point is not None, "no points drawn"
    overlay = page.locator(".ll-map-overlay").first
    assert overlay.evaluate(_PATH_PIXELS) > 20, "the walk is not drawn in its casing colours"

    # hover: the tip shows the specimen line at its own aspect ratio
    overlay.hover(position={"x": point[0], "y": point[1]})
    w, h, nw, nh = _wait_sizes(lab, page, ".ll-map-tip")
    assert nw / nh > 4, (nw, nh)  # the specimen line arrived
    assert abs(w / h - nw / nh) < 0.05 * nw / nh, f"hover tip drawn {w}x{h} for a {nw}x{nh} image"

    # click: the side image shows it whole and legible, not squashed into a square
    overlay.click(position={"x": point[0], "y": point[1]})
    w, h, nw, nh = _wait_sizes(lab, page, ".ll-map-image")
    assert abs(w / h - nw / nh) < 0.05 * nw / nh, f"side image drawn {w}x{h} for a {nw}x{nh} image"
    assert h >= 40, f"side image only {h} px high"
    side = page.locator(".ll-map-side").first.bounding_box()
    assert side is not None and side["width"] >= w

    # near the right edge the wide tip flips to the cursor's left instead of running off the map
    right = page.locator(".ll-map-points").first.evaluate(_FIND_RIGHTMOST)
    assert right is not None
    overlay.hover(position={"x": right[0], "y": right[1]})
    tip_left, tip_right, stage_left, stage_right = lab.wait_stable(page, _TIP_AND_STAGE)
    assert stage_left - 1 <= tip_left and tip_right <= stage_right + 1, (tip_left, tip_right, stage_left, stage_right)
    lab.screenshot(page, "maps_glyphs_wide", full_page=False)
    page.close()
