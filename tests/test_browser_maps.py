"""Real browser: the maps notebook in JupyterLab; click a point and the rendered image changes, zoomed too."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import Lab

pytestmark = pytest.mark.browser

# the first few ink pixels of the points canvas, in CSS pixels relative to the canvas
_FIND_POINTS = """(canvas) => {
  const ctx = canvas.getContext('2d');
  const { width, height } = canvas;
  const data = ctx.getImageData(0, 0, width, height).data;
  const dpr = width / canvas.clientWidth;
  const found = [];
  for (let y = 10; y < height - 10 && found.length < 400; y += 3) {
    for (let x = 10; x < width - 10; x += 3) {
      const i = 4 * (y * width + x);
      if (data[i] + data[i + 1] + data[i + 2] < 600) { found.push([x / dpr, y / dpr]); x += 40; }
    }
  }
  return found;
}"""


# a spot of the points canvas with no ink within 10 CSS pixels, near the middle, or null
_FIND_EMPTY = """(canvas) => {
  const ctx = canvas.getContext('2d');
  const { width, height } = canvas;
  const data = ctx.getImageData(0, 0, width, height).data;
  const dpr = width / canvas.clientWidth, r = Math.ceil(10 * dpr);
  const ink = (x, y) => { const i = 4 * (y * width + x); return data[i] + data[i + 1] + data[i + 2] < 740; };
  const spots = [];
  for (let y = r + 20; y < height - r - 20; y += 7) for (let x = r + 20; x < width - r - 20; x += 7) {
    let clear = true;
    for (let dy = -r; dy <= r && clear; dy += 2) {
      for (let dx = -r; dx <= r; dx += 2) if (ink(x + dx, y + dy)) { clear = false; break; }
    }
    if (clear) spots.push([x / dpr, y / dpr]);
  }
  const c = canvas.clientWidth / 2;
  spots.sort((a, b) => Math.hypot(a[0] - c, a[1] - c) - Math.hypot(b[0] - c, b[1] - c));
  return spots[0] || null;
}"""


def _view(page: Any) -> list[float]:
    """The view the map is drawn in, ``[x0, x1, y0, y1]`` in map coordinates (what it syncs to ``widget.view``)."""
    return [float(t) for t in (page.locator(".ll-map").first.get_attribute("data-view") or "").split(",")]


_NEW_VIEW = """(old) => { const root = document.querySelector('.ll-map');
  const v = root.dataset.view.split(',').map(Number);
  return v.some((t, k) => Math.abs(t - old[k]) > 1e-9 * (1 + Math.abs(old[k]))) ? [v, root.dataset.drawn] : null; }"""


def _wait_for_view_change(lab: Lab, page: Any, old: list[float]) -> list[float]:
    """The new view, once it differs from ``old`` and it and the drawn points stayed put for a few frames."""
    view, _drawn = lab.wait_stable(page, _NEW_VIEW, old, timeout_s=10)
    return [float(t) for t in view]


def _wait_for_new_caption(page: Any, old: str) -> None:
    page.wait_for_function(
        "(old) => document.querySelector('.ll-map-caption').textContent !== old",
        arg=old,
        timeout=10_000,
    )


def _image_src(page: Any) -> str:
    return str(page.locator(".ll-map-image").first.get_attribute("src") or "")


def _wait_for_new_image(page: Any, old: str, timeout_ms: int = 30_000) -> str:
    page.wait_for_function(
        """(old) => { const img = document.querySelector('.ll-map-image');
                      return img && img.src && img.src !== old && img.complete && img.naturalWidth > 0; }""",
        arg=old,
        timeout=timeout_ms,
    )
    return _image_src(page)


def test_click_a_point_renders_it(lab: Lab) -> None:
    page = lab.open("notebooks/07_maps.ipynb")
    lab.run_all(page, timeout_s=400)
    stage = page.locator(".ll-map-stage").first
    stage.wait_for(timeout=60_000)
    stage.scroll_into_view_if_needed()
    n_points = int(page.locator(".ll-map").first.get_attribute("data-points") or 0)
    assert n_points >= 100, f"the map drew {n_points} points"
    points = page.locator(".ll-map-points").first.evaluate(_FIND_POINTS)
    assert len(points) >= 10, "no points visible on the map canvas"
    overlay = page.locator(".ll-map-overlay").first
    box = overlay.bounding_box()
    assert box is not None

    # click one point: the side image appears and the caption names the point
    x0, y0 = points[0]
    overlay.click(position={"x": x0, "y": y0})
    first = _wait_for_new_image(page, "")
    caption = page.locator(".ll-map-caption").first.text_content() or ""
    assert "point" in caption, caption

    # click a point far away: the image changes
    far = max(points, key=lambda p: (p[0] - x0) ** 2 + (p[1] - y0) ** 2)
    overlay.click(position={"x": far[0], "y": far[1]})
    second = _wait_for_new_image(page, first)
    assert second != first
    lab.screenshot(page, "maps_click", full_page=False)

    # zoom: the mouse wheel over the middle of the map zooms in about the cursor
    full = _view(page)
    side, pad = box["width"], 8
    page.mouse.move(box["x"] + side / 2, box["y"] + side / 2)
    for _ in range(3):  # each wheel event zooms by the same factor, however the frames fall
        page.mouse.wheel(0, -300)
    zoomed = _wait_for_view_change(lab, page, full)
    assert zoomed[1] - zoomed[0] < 0.5 * (full[1] - full[0]), (full, zoomed)
    mid = [(full[0] + full[1]) / 2, (full[2] + full[3]) / 2]  # it zoomed about the cursor
    assert zoomed[0] < mid[0] < zoomed[1] and zoomed[2] < mid[1] < zoomed[3], (mid, zoomed)
    assert "zoom" in (page.locator(".ll-map-zoom").first.text_content() or "")
    drawn = int(page.locator(".ll-map").first.get_attribute("data-drawn") or 0)
    assert 0 < drawn < n_points, f"zoomed in, {drawn} of {n_points} points are still drawn"
    moved = page.locator(".ll-map-points").first.evaluate(_FIND_POINTS)
    assert len(moved) >= 3 and moved != points, "the drawn points did not move"

    # a point drawn in the zoomed view is hit: it renders (the image and the caption change)
    near = min(moved, key=lambda p: (p[0] - side / 2) ** 2 + (p[1] - side / 2) ** 2)
    old_caption = page.locator(".ll-map-caption").first.text_content() or ""
    overlay.click(position={"x": near[0], "y": near[1]})
    third = _wait_for_new_image(page, second)
    _wait_for_new_caption(page, old_caption)
    caption = page.locator(".ll-map-caption").first.text_content() or ""
    assert caption.startswith("point"), caption

    # empty space in the zoomed view renders the latent at that place of the zoomed view
    empty = page.locator(".ll-map-points").first.evaluate(_FIND_EMPTY)
    assert empty is not None, "no empty space on the zoomed map"
    overlay.click(position={"x": empty[0], "y": empty[1]})
    _wait_for_new_image(page, third)
    _wait_for_new_caption(page, caption)
    caption = page.locator(".ll-map-caption").first.text_content() or ""
    assert caption.startswith("between points"), caption
    x, y = (float(t) for t in caption[caption.index("(") + 1 : caption.index(")")].split(","))
    want_x = zoomed[0] + (empty[0] - pad) / (side - 2 * pad) * (zoomed[1] - zoomed[0])
    want_y = zoomed[2] + (1 - (empty[1] - pad) / (side - 2 * pad)) * (zoomed[3] - zoomed[2])
    tol = 0.02 * (zoomed[1] - zoomed[0]) + 0.01
    assert abs(x - want_x) < tol and abs(y - want_y) < tol, (caption, want_x, want_y)
    lab.screenshot(page, "maps_zoom", full_page=False)

    # pan: the toolbar's Pan mode, then drag; nothing gets selected
    page.locator(".ll-map-pan-mode").first.click()
    page.mouse.move(box["x"] + side / 2, box["y"] + side / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + side / 2 - 80, box["y"] + side / 2 + 50, steps=5)
    page.mouse.up()
    panned = _wait_for_view_change(lab, page, zoomed)
    assert panned[0] > zoomed[0] and panned[2] > zoomed[2], (zoomed, panned)  # dragged left/down: see right/up
    assert abs((panned[1] - panned[0]) - (zoomed[1] - zoomed[0])) < 1e-3 * (full[1] - full[0])
    assert "selected" not in (page.locator(".ll-map-caption").first.text_content() or "")
    # the middle button pans in Select mode too
    page.locator(".ll-map-select-mode").first.click()
    page.mouse.move(box["x"] + side / 2, box["y"] + side / 2)
    page.mouse.down(button="middle")
    page.mouse.move(box["x"] + side / 2 + 60, box["y"] + side / 2, steps=5)
    page.mouse.up(button="middle")
    assert _wait_for_view_change(lab, page, panned)[0] < panned[0]
    lab.screenshot(page, "maps_pan", full_page=False)

    # Reset view shows every point again
    page.locator(".ll-map-reset").first.click()
    page.wait_for_function(
        "() => { const d = document.querySelector('.ll-map').dataset; return d.drawn === d.points; }",
        timeout=10_000,
    )
    assert _view(page) == full

    # shift-drag a box over the whole map: every point is selected
    page.keyboard.down("Shift")
    page.mouse.move(box["x"] + 2, box["y"] + 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=5)
    page.mouse.move(box["x"] + box["width"] - 2, box["y"] + box["height"] - 2, steps=5)
    page.mouse.up()
    page.keyboard.up("Shift")
    page.wait_for_function(
        "() => /\\d+ points selected/.test(document.querySelector('.ll-map-caption').textContent)",
        timeout=30_000,
    )
    caption = page.locator(".ll-map-caption").first.text_content() or ""
    assert int(caption.split()[0]) >= 0.9 * n_points, caption
    lab.screenshot(page, "maps_select", full_page=False)
    page.close()
