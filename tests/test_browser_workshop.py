"""Real browser: the workshop's slider part repaints after a key press; the gallery page shows every image.

Uses the ``lab`` fixture of ``tests/conftest.py`` (recipe: docs/recipes/BROWSER_TESTING.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import latentlab as ll
from latentlab.workshop import Gallery

from .conftest import Lab

pytestmark = pytest.mark.browser

WAIT_MS = 20_000


def test_workshop_sliders_repaint_after_a_key_press(lab: Lab) -> None:
    from playwright.sync_api import expect

    page = lab.open("notebooks/workshop/3_directions_and_sliders.ipynb")
    try:
        lab.run_all(page)
        explorer = page.locator(".latentlab-explorer").first
        explorer.scroll_into_view_if_needed()
        img = explorer.locator("img.latentlab-image").first
        width = int(img.get_attribute("width") or 0)
        expect(img).to_have_js_property("naturalWidth", width, timeout=WAIT_MS)
        labels = [t.strip() for t in explorer.locator(".widget-slider .widget-label").all_text_contents()]
        assert labels[:2] == ["bold", "italic"], labels
        before = str(img.get_attribute("src"))
        handle = explorer.locator(".widget-slider .noUi-handle").first
        handle.focus()
        handle.press("ArrowRight")
        page.wait_for_function(
            "([el, old]) => el.src !== old && el.complete && el.naturalWidth > 0",
            arg=[img.element_handle(), before],
            timeout=WAIT_MS,
        )
        assert str(img.get_attribute("src")).startswith("blob:")
        expect(img).to_have_js_property("naturalWidth", width, timeout=WAIT_MS)  # the full render after previews
        page.wait_for_function("(el) => el.complete", arg=img.element_handle(), timeout=WAIT_MS)
        explorer.screenshot(
            path=str(lab.screenshot(page, "workshop-sliders-page", full_page=False).with_name("workshop-sliders.png"))
        )
    finally:
        page.close()


def test_the_gallery_page_shows_every_bookmark_image(lab: Lab, tmp_path: Path) -> None:
    digits, fonts = ll.load("digits"), ll.load("glyphs")
    fonts.text = "Hello World"
    g = Gallery("Workshop gallery", author="a participant")
    for seed in (0, 1):
        g.add(digits, digits.sample(1, seed=seed)[0], seed=seed, note=f"digit, seed {seed}")
    z = fonts.sample(2, seed=3)
    g.add(fonts, z[0], seed=3, directions={"bold": 2.0}, note="a bold font")
    anim = ll.save_morph(fonts, z, tmp_path / "morph.gif", fps=6, seconds=1, progress=False)
    g.add_animation(anim, model="glyphs", note="my morph")
    path = g.save(tmp_path / "gallery.html")
    page = lab.context.new_page()
    try:
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        sizes = page.evaluate("[...document.images].map(i => i.complete ? i.naturalWidth : 0)")
        assert len(sizes) == len(g) == 4 and all(w > 0 for w in sizes), sizes
        assert sizes == [32, 32, fonts.image_size[1], fonts.image_size[1]]
        text = page.locator("body").inner_text()
        seed_row = page.locator("#bookmark-3 tr", has_text="seed").inner_text().split()
        assert seed_row == ["seed", "3"], seed_row
        assert "bold +2" in text and "Hello World" in text and "a participant" in text
        shot = lab.screenshot(page, "workshop-gallery")
        assert shot.stat().st_size > 10_000
    finally:
        page.close()
    assert torch.equal(torch.tensor(Gallery.load(path)[2].latent), torch.tensor(g[2].latent))
