"""Real browser: the maps notebook in JupyterLab; click a point and the rendered image changes."""

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


def _image_src(page: Any) -> str:
    return str(page.locator(".ll-map-image").first.get_attribute("src") or "")


def _wait_for_new_image(page: Any, old: str, timeout_ms: int = 30_000) -> str:
    page.wait_for_function(
        """(old) => { const img = document.querySelector('.ll-map-image');
                      return img && img.src && img.src !== old && img.complete && img.naturalWidth > 0; }""",
        arg=old, timeout=timeout_ms,
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
