"""The live widgets in a real JupyterLab + Chromium: what a person sees when they press a key or click.

Uses the ``lab`` fixture of ``tests/conftest.py`` (recipe: docs/recipes/BROWSER_TESTING.md).
Screenshots land in ``artifacts/`` (look at them: the layout must read well at 1280 px).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

pytestmark = pytest.mark.browser

NOTEBOOK = "notebooks/06_explorer.ipynb"
WAIT_MS = 20_000


@pytest.fixture(scope="module")
def page(lab: Any) -> Any:
    page = lab.open(NOTEBOOK)
    lab.run_all(page)
    yield page
    page.close()


def _loaded_src_change(page: Any, img: Any, old_src: str) -> str:
    """Wait until ``img`` shows a new, fully decoded image; return its new src."""
    handle = img.element_handle()
    page.wait_for_function(
        "([el, old]) => el.src !== old && el.complete && el.naturalWidth > 0",
        arg=[handle, old_src],
        timeout=WAIT_MS,
    )
    return str(img.get_attribute("src"))


_RECORD_LOADS = """(el) => { window.__widths = [];
    el.addEventListener('load', () => window.__widths.push(el.naturalWidth)); }"""


def test_explorer_arrow_key_repaints_the_image(page: Any, lab: Any) -> None:
    from playwright.sync_api import expect

    explorer = page.locator(".latentlab-explorer").first
    explorer.scroll_into_view_if_needed()
    img = explorer.locator("img.latentlab-image").first
    full = int(img.get_attribute("width") or 0)  # the display width; the full render is encoded at it
    assert full > 100
    expect(img).to_have_js_property("naturalWidth", full, timeout=WAIT_MS)
    # the glyphs explorer has bold / italic / serif sliders
    labels = [t.strip() for t in explorer.locator(".widget-slider .widget-label").all_text_contents()]
    assert labels[:3] == ["bold", "italic", "serif"], labels
    before = str(img.get_attribute("src"))
    img.evaluate(_RECORD_LOADS)
    handle = explorer.locator(".widget-slider .noUi-handle").first
    handle.focus()
    for _ in range(3):
        handle.press("ArrowRight")
    after = _loaded_src_change(page, img, before)
    assert after != before and after.startswith("blob:")
    # previews (half width) while keys arrive, then the full render once they stop
    expect(img).to_have_js_property("naturalWidth", full, timeout=WAIT_MS)
    page.wait_for_function("(el) => el.complete", arg=img.element_handle(), timeout=WAIT_MS)
    widths = page.evaluate("window.__widths")
    assert widths and widths[-1] == full and full // 2 in widths and set(widths) <= {full, full // 2}, widths
    # the slider moved: its readout is no longer 0
    readout = explorer.locator(".widget-readout").first
    assert readout.text_content().strip() not in ("0.00", "-0.00")
    explorer.screenshot(path=str(lab.screenshot(page, "explorer-page", full_page=False).with_name("explorer.png")))


def test_explorer_buttons_bookmark_into_the_gallery(page: Any) -> None:
    explorer = page.locator(".latentlab-explorer").first
    gallery = explorer.locator(".latentlab-gallery")
    before = gallery.locator("img").count()
    explorer.get_by_role("button", name="bookmark").click()
    page.wait_for_function(
        "([g, n]) => g.querySelectorAll('img').length > n", arg=[gallery.element_handle(), before], timeout=WAIT_MS
    )


def test_scrubber_slider_moves_the_morph(page: Any, lab: Any) -> None:
    scrubber = page.locator(".latentlab-scrubber").first
    scrubber.scroll_into_view_if_needed()
    img = scrubber.locator("img.latentlab-image").first
    before = str(img.get_attribute("src"))
    handle = scrubber.locator(".widget-slider .noUi-handle").first
    handle.focus()
    handle.press("End")
    _loaded_src_change(page, img, before)
    assert scrubber.locator(".widget-readout").first.text_content().strip() == "23"
    scrubber.screenshot(path=str(lab.screenshot(page, "scrubber-page", full_page=False).with_name("scrubber.png")))


def test_blendpad_click_blends(page: Any, lab: Any) -> None:
    pad_widget = page.locator(".latentlab-blendpad").first
    pad_widget.scroll_into_view_if_needed()
    img = pad_widget.locator("img.latentlab-image").first
    before = str(img.get_attribute("src"))
    pad = pad_widget.locator(".latentlab-pad").first
    box = pad.bounding_box()
    assert box is not None and box["width"] > 100
    pad.click(position={"x": box["width"] * 0.9, "y": box["height"] * 0.1})  # near the 2nd corner
    _loaded_src_change(page, img, before)
    assert "2: " in pad_widget.text_content()
    before = str(img.get_attribute("src"))
    pad.press("ArrowDown")
    _loaded_src_change(page, img, before)
    pad_widget.screenshot(path=str(lab.screenshot(page, "blendpad-page", full_page=False).with_name("blendpad.png")))


_READOUTS = """() => { const r = [...document.querySelectorAll('.latentlab-explorer .widget-readout')];
  return r.length >= 3 ? r.slice(0, 3).map(t => t.textContent.replace('\u2212', '-')) : null; }"""

_SET_AFTER_DISPLAY = [
    "import latentlab as ll\ngen = ll.load('glyphs')\n"
    "ex = ll.Explorer(gen, n_components=3, seed=3, strength_range=5)\nex",
    "ex.strengths = [1.5, -1.0, 2.5]   # set from Python while the sliders are still being drawn",
]


def test_values_set_right_after_display_stay_set(lab: Any) -> None:
    """Run All: the sliders show the values the next cell set (they used to snap back to 0)."""
    import nbformat

    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(c) for c in _SET_AFTER_DISPLAY],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    )
    nbformat.write(nb, lab.root / "notebooks" / "_explorer_set_after_display.ipynb")
    page = lab.open("notebooks/_explorer_set_after_display.ipynb")
    lab.run_all(page, timeout_s=200)
    want = ["1.50", "-1.00", "2.50"]
    as_js = json.dumps(want, separators=(",", ":"))  # what JSON.stringify writes
    # wait (a condition, not a time) until the sliders show the values set from Python ...
    page.wait_for_function(f"() => JSON.stringify(({_READOUTS})()) === {json.dumps(as_js)}", timeout=WAIT_MS)
    # ... then watch them: an echo from the browser that undid them would change a readout. Under load a
    # late echo could only make this pass wrongly, never fail wrongly.
    page.evaluate(
        """([read, want]) => { window.__llReadoutsChanged = false; const f = (0, eval)(read);
        const seen = new MutationObserver(() => {
          if (JSON.stringify(f()) !== want) window.__llReadoutsChanged = true; });
        document.querySelectorAll('.latentlab-explorer .widget-readout').forEach(
          (r) => seen.observe(r, {subtree: true, childList: true, characterData: true})); }""",
        [_READOUTS, as_js],
    )
    lab.wait_idle(page)
    assert lab.wait_stable(page, _READOUTS, frames=30) == want
    assert not page.evaluate("() => window.__llReadoutsChanged"), "a readout changed after showing the values"
    page.close()
