"""The diffusion notebook's Explorer in a real JupyterLab + Chromium: a slider key press repaints the
image, the progress bar is there, and Enter in the prompt box re-renders.

Uses the ``lab`` fixture of ``tests/conftest.py``.
"""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser

NOTEBOOK = "notebooks/10_diffusion.ipynb"
WAIT_MS = 60_000


@pytest.fixture(scope="module")
def page(lab: Any) -> Any:
    page = lab.open(NOTEBOOK)
    lab.run_all(page, timeout_s=400)
    yield page
    page.close()


def _new_src(page: Any, img: Any, old_src: str) -> str:
    page.wait_for_function(
        "([el, old]) => el.src !== old && el.complete && el.naturalWidth > 0",
        arg=[img.element_handle(), old_src],
        timeout=WAIT_MS,
    )
    return str(img.get_attribute("src"))


def test_diffusion_explorer_repaints_on_a_key_press_and_on_enter(page: Any, lab: Any) -> None:
    explorer = page.locator(".latentlab-explorer").first
    explorer.scroll_into_view_if_needed()
    img = explorer.locator("img.latentlab-image").first
    from playwright.sync_api import expect

    expect(explorer.locator(".latentlab-progress")).to_be_visible()
    page.wait_for_function("(el) => el.complete && el.naturalWidth > 0", arg=img.element_handle(), timeout=WAIT_MS)
    before = str(img.get_attribute("src"))
    handle = explorer.locator(".widget-slider .noUi-handle").first
    handle.focus()
    handle.press("ArrowRight")
    after = _new_src(page, img, before)
    assert after != before
    box = explorer.locator("input[type='text']").first
    box.fill("a blue bird")
    box.press("Enter")
    _new_src(page, img, after)
    explorer.screenshot(
        path=str(lab.screenshot(page, "diffusion-page", full_page=False).with_name("diffusion-explorer.png"))
    )
