"""``ll.workshop``: checkers say right to the solutions and not yet (with why) to the usual mistakes,
blank answers never raise, workshop mode is reversible, the gallery page is self-contained."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import latentlab as ll
from latentlab.errors import ExportError, InvalidValueError, ShapeError
from latentlab.workshop import EXERCISES, Gallery, check, save_gallery, settings, solution, workshop_mode

WRONG = {  # a typical mistake for each exercise (a negative control for each checker)
    "latent-size": lambda: 2,
    "slerp-midpoint": lambda: ll.load("digits").sample(2, seed=0).mean(0),  # the straight-line midpoint
    "bolder": lambda: torch.randn(64, generator=torch.Generator().manual_seed(0)),  # a random direction
    "map-variance": lambda: 0.9,
    "morph-frames": lambda: 12,
}


def _solve(name: str) -> object:
    scope: dict[str, object] = {"ll": ll}
    exec(EXERCISES[name].solution, scope)
    return scope["answer"]


def test_every_exercise_has_a_negative_control() -> None:
    assert set(WRONG) == set(EXERCISES)


@pytest.mark.parametrize("name", list(EXERCISES))
def test_the_solution_is_right(name: str) -> None:
    result = check(name, _solve(name))
    assert result.ok, str(result)
    assert "right" in str(result) and "&#10003; right" in result._repr_html_()


@pytest.mark.parametrize("name", list(EXERCISES))
def test_a_typical_mistake_is_not_yet_with_a_reason(name: str) -> None:
    result = check(name, WRONG[name]())
    assert not result.ok and result.answered and "not yet" in str(result) and len(result.message) > 20


@pytest.mark.parametrize("name", list(EXERCISES))
@pytest.mark.parametrize("blank", [..., None])
def test_a_blank_answer_is_not_answered_and_never_raises(name: str, blank: object) -> None:
    result = check(name, blank)
    assert not result.ok and not result.answered and "solution" in result.message


@pytest.mark.parametrize("name", list(EXERCISES))
def test_odd_answers_never_raise(name: str) -> None:
    for odd in ("sixteen", [1, 2, 3], torch.zeros(3), float("nan"), True):
        assert not check(name, odd).ok


def test_specific_feedback() -> None:
    assert "flip its sign" in check("bolder", -_solve("bolder").vectors).message  # type: ignore[attr-defined]
    assert "straight-line midpoint" in check("slerp-midpoint", WRONG["slerp-midpoint"]()).message
    assert "percentage" in check("map-variance", 100 * _solve("map-variance")).message  # type: ignore[operator]


def test_unknown_exercise_names_the_close_one() -> None:
    with pytest.raises(InvalidValueError, match="slerp-midpoint"):
        check("slerp-midpont", 1)


def test_solution_shows_code_and_why() -> None:
    s = solution("slerp-midpoint")
    assert "ll.slerp" in str(s) and "sqrt" in str(s) and "```python" in s._repr_markdown_()


def test_workshop_mode_is_reversible_and_reaches_the_widgets() -> None:
    from latentlab.widgets._image import LiveImage

    gen = ll.load("digits")
    before_threads, before_size = torch.get_num_threads(), LiveImage(gen, gen.default_space).size
    mode = workshop_mode(threads=1, display_size=96)
    try:
        assert torch.get_num_threads() == 1 and settings().on and "1 torch thread" in repr(mode)
        live = LiveImage(gen, gen.default_space)
        assert max(live.size) == 96 and live.previews
        assert max(LiveImage(gen, gen.default_space, size=200).size) == 200  # an explicit size still wins
        workshop_mode(threads=1)  # switching on twice keeps the first saved state
    finally:
        workshop_mode(False)
    assert torch.get_num_threads() == before_threads and not settings().on
    assert LiveImage(gen, gen.default_space).size == before_size
    with workshop_mode(threads=1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before_threads


def test_workshop_mode_refuses_bad_threads() -> None:
    with pytest.raises(InvalidValueError):
        workshop_mode(threads=0)
    assert not settings().on


# ---------------------------------------------------------------------------- gallery
def _images_in(page: str) -> list[Image.Image]:
    uris = re.findall(r"<img[^>]* src='data:image/(?:png|gif);base64,([A-Za-z0-9+/=]+)'", page)
    return [Image.open(io.BytesIO(base64.b64decode(u))) for u in uris]


def test_gallery_page_is_self_contained_with_provenance(tmp_path: Path) -> None:
    gen = ll.load("digits")
    g = Gallery("Ada's digits", author="Ada")
    for seed in (1, 2, 3):
        g.add(gen, gen.sample(1, seed=seed)[0], seed=seed, directions={"thick": 1.5}, note=f"seed {seed} <b>")
    path = g.save(tmp_path / "gallery.html")
    page = path.read_text()
    images = _images_in(page)
    assert len(images) == 3 and all(im.size == (32, 32) for im in images)
    assert "src='http" not in page and "href=" not in page  # nothing to fetch
    assert "seed 1 &lt;b&gt;" in page and "thick +1.5" in page and "Ada" in page
    data = json.loads(re.search(r'id="latentlab-gallery">(.*?)</script>', page, re.S).group(1))  # type: ignore[union-attr]
    assert [b["seed"] for b in data["bookmarks"]] == [1, 2, 3] and data["bookmarks"][0]["model"] == "digits"
    assert not list(tmp_path.glob("*.partial*"))


def test_a_bookmarks_latent_decodes_to_its_image_again(tmp_path: Path) -> None:
    gen = ll.load("digits")
    g = Gallery()
    z = gen.sample(1, seed=7)[0]
    g.add(gen, z, seed=7)
    back = Gallery.load(g.save(tmp_path / "g.html"))
    again = gen.decode(torch.tensor(back[0].latent)[None])[0]
    stored = np.asarray(Image.open(io.BytesIO(back[0].png)).convert("RGB")).astype(float)
    fresh = again.permute(1, 2, 0).numpy() * 255
    assert np.abs(stored - fresh).max() <= 1.0
    assert back.title == g.title and back[0].seed == 7


def test_gallery_errors(tmp_path: Path) -> None:
    gen = ll.load("digits")
    g = Gallery()
    with pytest.raises(ShapeError):
        g.add(gen, gen.sample(2, seed=0))
    g.add(gen, gen.sample(1, seed=0))
    with pytest.raises(InvalidValueError, match="HTML"):
        g.save(tmp_path / "gallery.png")
    with pytest.raises(ExportError):
        g.save(tmp_path / "no" / "such" / "gallery.html")
    (tmp_path / "x.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42")
    with pytest.raises(InvalidValueError, match="not a GIF"):
        g.add_animation(tmp_path / "x.mp4")
    with pytest.raises(InvalidValueError, match="not a latentlab gallery"):
        Gallery.load(tmp_path / "x.mp4")


def test_gallery_embeds_a_morph_gif(tmp_path: Path) -> None:
    gen = ll.load("digits")
    anim = ll.save_morph(gen, gen.sample(2, seed=0), tmp_path / "m.gif", fps=4, seconds=1, progress=False)
    g = Gallery()
    g.add_animation(anim, model="digits", note="my morph")
    page = g.save(tmp_path / "g.html").read_text()
    (gif,) = _images_in(page)
    assert gif.format == "GIF" and gif.n_frames == 4


def test_gallery_follows_an_explorer(tmp_path: Path) -> None:
    gen = ll.load("digits")
    ex = ll.Explorer(gen, directions=[ll.Direction(torch.eye(16)[0], gen, name="d0")], seed=4)
    try:
        ex.bookmark()  # made before following, and the sliders moved since: latent and seed only
        ex.strengths = [1.0]
        ex.wait()
        g = Gallery().follow(ex)
        assert len(g) == 1 and g[0].directions is None and g[0].seed == 4
        ex.strengths = [2.0]
        ex.wait()
        ex.bookmark()
        assert len(g) == 2 and g[1].directions == {"d0": 2.0} and g[1].seed == 4
        assert torch.allclose(torch.tensor(g[1].latent), ex.bookmarks[1], atol=1e-4)
    finally:
        ex.close()
    assert len(_images_in(save_gallery(g, tmp_path / "g.html").read_text())) == 2


def test_gallery_open_adds_to_the_same_page(tmp_path: Path) -> None:
    gen = ll.load("digits")
    page = tmp_path / "mine.html"
    g = Gallery.open(page, title="mine")
    assert len(g) == 0
    with pytest.raises(InvalidValueError):
        Gallery().save()
    g.add(gen, gen.sample(1, seed=1)[0], seed=1)
    assert g.save() == page
    again = Gallery.open(page)
    again.add(gen, gen.sample(1, seed=2)[0], seed=2)
    again.save()
    assert [b.seed for b in Gallery.load(page)] == [1, 2] and Gallery.load(page).title == "mine"
