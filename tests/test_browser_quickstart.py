"""Real browser: JupyterLab opens the quickstart notebook, runs all cells, and the images are visible."""

from __future__ import annotations

import pytest

from .conftest import Lab

pytestmark = pytest.mark.browser


def test_quickstart_renders_images_in_jupyterlab(lab: Lab) -> None:
    page = lab.open("notebooks/00_quickstart.ipynb")
    lab.run_all(page)
    images = page.locator(".jp-OutputArea-output img")
    assert images.count() >= 3
    first = images.first
    first.scroll_into_view_if_needed()
    width = first.evaluate("img => img.complete ? img.naturalWidth : 0")
    assert width > 100, f"the first output image is not loaded (naturalWidth={width})"
    images.nth(1).scroll_into_view_if_needed()
    shot = lab.screenshot(page, "quickstart", full_page=False)
    assert shot.stat().st_size > 10_000
    page.close()
