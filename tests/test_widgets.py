"""In-process tests of the live widgets: render functions, latest-value-wins loop, Explorer, Scrubber, BlendPad."""

from __future__ import annotations

import io
import threading

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import latentlab as ll
from latentlab.errors import IncompatibleLatentError, InvalidValueError, ShapeError
from latentlab.spaces import LatentSpace
from latentlab.widgets import BlendPad, Explorer, Scrubber
from latentlab.widgets._live import LatestWins
from latentlab.widgets._render import combine, direction_vectors, pad_corners, pad_weights, render_bytes


@pytest.fixture(scope="module")
def gen() -> ll.Generator:
    return ll.load("digits")


@pytest.fixture
def axes() -> list[torch.Tensor]:
    return [torch.eye(16)[i] for i in range(3)]


def _size(data: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(data)).size


def _block_renders(view) -> threading.Event:
    """Make the next background render wait until the returned event is set."""
    release = threading.Event()
    original = view.render

    def slow_render(latent, preview=False):
        release.wait(10)
        return original(latent, preview=preview)

    view.render = slow_render
    return release


# -- plain render functions ----------------------------------------------------
def test_render_bytes_formats_and_preview(gen: ll.Generator) -> None:
    z = gen.sample(1, seed=0)[0]
    jpeg = render_bytes(gen, z, gen.default_space, size=(256, 256))
    png = render_bytes(gen, z, gen.default_space, size=(256, 256), fmt="png")
    preview = render_bytes(gen, z, gen.default_space, size=(256, 256), preview=True)
    assert jpeg[:2] == b"\xff\xd8" and png[:8] == b"\x89PNG\r\n\x1a\n"
    assert _size(jpeg) == _size(png) == (256, 256)
    assert _size(preview) == (128, 128)
    # the image is a digit, not a blank: dark strokes on a light background
    pixels = torch.from_numpy(np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.float32))
    assert pixels.min() < 80 and pixels.max() > 200


def test_render_bytes_unknown_format(gen: ll.Generator) -> None:
    with pytest.raises(InvalidValueError, match="'jpeg' or 'png'"):
        render_bytes(gen, gen.sample(1)[0], gen.default_space, size=(32, 32), fmt="gif")  # type: ignore[arg-type]


@given(st.lists(st.floats(-5, 5), min_size=3, max_size=3), st.floats(-3, 3))
@settings(max_examples=50, deadline=None)
def test_combine_is_linear_in_strengths(strengths: list[float], scale: float) -> None:
    base = torch.arange(4.0)
    vectors = torch.randn(3, 4, generator=torch.Generator().manual_seed(0))
    edited = combine(base, vectors, strengths)
    scaled = combine(base, vectors, [scale * s for s in strengths])
    assert torch.allclose(scaled - base, scale * (edited - base), atol=1e-4)


@given(st.floats(0, 1), st.floats(0, 1), st.sampled_from([3, 4]))
@settings(max_examples=100, deadline=None)
def test_pad_weights_are_a_partition_of_unity(x: float, y: float, k: int) -> None:
    w = pad_weights(x, y, k)
    assert w.shape == (k,)
    assert bool((w >= 0).all())
    assert abs(float(w.sum()) - 1) < 1e-5


@pytest.mark.parametrize("k", [3, 4])
def test_pad_weights_at_corners_are_one_hot(k: int) -> None:
    for i, (x, y) in enumerate(pad_corners(k).tolist()):
        assert torch.allclose(pad_weights(x, y, k), torch.eye(k)[i], atol=1e-6)


def test_pad_weights_errors() -> None:
    with pytest.raises(InvalidValueError, match="3 or 4"):
        pad_weights(0.5, 0.5, 5)
    with pytest.raises(InvalidValueError, match="finite"):
        pad_weights(float("nan"), 0.5, 3)


# -- latest value wins ---------------------------------------------------------------
def test_burst_renders_twice_and_ends_on_the_last_value() -> None:
    started, release, seen = threading.Event(), threading.Event(), []

    def work(state: int, preview: bool) -> None:
        started.set()
        release.wait(10)
        seen.append(state)

    loop: LatestWins[int] = LatestWins(work)
    loop.submit(0)
    assert started.wait(10)  # the first render is under way (and slow)
    for i in range(1, 1000):  # a 1,000-event burst arrives meanwhile
        loop.submit(i)
    release.set()
    assert loop.wait_idle(10)
    assert seen == [0, 999]  # nothing queued: the rendering one, then the newest
    loop.close()


def test_previews_then_one_full_render_when_settled() -> None:
    """A burst arrives while the first preview renders (held by an event, not timed): previews, then one full."""
    seen: list[tuple[int, bool]] = []
    started, release = threading.Event(), threading.Event()

    def work(s: int, preview: bool) -> None:
        seen.append((s, preview))
        started.set()
        assert release.wait(10)

    loop: LatestWins[int] = LatestWins(work, settle_s=0.05)
    loop.submit(0)
    assert started.wait(10)  # the first preview is rendering
    for i in range(1, 5):
        loop.submit(i)  # the burst arrives meanwhile, however slow the machine
    release.set()
    assert loop.wait_idle(10)
    assert seen == [(0, True), (4, True), (4, False)]  # previews, then full quality on the last value only
    loop.close()


def test_render_errors_are_reported_and_the_loop_survives() -> None:
    errors: list[BaseException] = []
    seen: list[int] = []

    def work(state: int, preview: bool) -> None:
        if state < 0:
            raise ValueError("negative")
        seen.append(state)

    loop: LatestWins[int] = LatestWins(work, on_error=errors.append)
    loop.submit(-1)
    assert loop.wait_idle(10)
    loop.submit(3)
    assert loop.wait_idle(10)
    assert [str(e) for e in errors] == ["negative"] and seen == [3]
    loop.close()


# -- Explorer --------------------------------------------------------------------------
def test_explorer_slider_changes_image_and_latent(gen: ll.Generator, axes: list[torch.Tensor]) -> None:
    ex = Explorer(gen, directions=axes, seed=3)
    before = ex.image.value
    assert _size(before) == (256, 256)
    ex.sliders[1].value = 2.0
    assert ex.wait()
    assert ex.image.value != before
    assert torch.allclose(ex.latent, ex.base + 2.0 * axes[1])
    assert ex.image.value == ex.view.render(ex.latent)
    ex.close()


def test_explorer_burst_of_slider_events_is_coalesced(gen: ll.Generator, axes: list[torch.Tensor]) -> None:
    ex = Explorer(gen, directions=axes)
    release = _block_renders(ex.view)
    values = [round(-3 + 6 * i / 999, 4) for i in range(1000)]
    for v in values:
        ex.sliders[0].value = v
    release.set()
    assert ex.wait()
    assert ex.view.renders <= 2
    assert ex.strengths[0] == pytest.approx(values[-1])
    assert ex.image.value == ex.view.render(combine(ex.base, ex.vectors, ex.strengths))
    ex.close()


def test_explorer_sliders_step_on_a_round_grid(gen: ll.Generator, axes: list[torch.Tensor]) -> None:
    ex = Explorer(gen, directions=axes, strength_range=5)
    assert [s.step for s in ex.sliders] == [0.1, 0.1, 0.1]  # not 5 / 30 (see test_browser_widgets)
    ex.strengths = [1.234, -0.77, 2.5]
    assert ex.strengths == [1.2, -0.8, 2.5]  # what the sliders can show is what is drawn
    assert ex.wait()
    assert ex.image.value == ex.view.render(combine(ex.base, ex.vectors, [1.2, -0.8, 2.5]))
    ex.close()


def test_explorer_latent_setter_and_observe(gen: ll.Generator, axes: list[torch.Tensor]) -> None:
    ex = Explorer(gen, directions=axes)
    seen: list[torch.Tensor] = []
    ex.observe(lambda change: seen.append(change["new"]), names="latent")
    ex.sliders[0].value = 1.0
    target = gen.sample(1, seed=42)[0]
    ex.latent = target
    assert ex.wait()
    assert ex.strengths == [0.0, 0.0, 0.0]
    assert torch.allclose(ex.latent, target)
    assert ex.image.value == ex.view.render(target)
    assert len(seen) == 2 and torch.allclose(seen[-1], target)
    with pytest.raises(ShapeError, match="expected"):
        ex.latent = torch.zeros(5)
    ex.close()


def test_explorer_seed_random_temperature_reset(gen: ll.Generator, axes: list[torch.Tensor]) -> None:
    ex = Explorer(gen, directions=axes, seed=0)
    z0 = ex.latent.clone()
    ex.seed_box.value = 7
    assert torch.allclose(ex.latent, gen.sample(1, seed=7)[0])
    ex.random_button.click()
    assert ex.seed_box.value != 7
    ex.temperature.value = 0.5
    assert torch.allclose(ex.latent, 0.5 * gen.sample(1, seed=ex.seed_box.value)[0])
    ex.sliders[2].value = 1.5
    ex.seed_box.value = 0
    ex.reset_button.click()
    assert ex.wait()
    assert torch.allclose(ex.latent, z0) and ex.strengths == [0.0, 0.0, 0.0]
    assert ex.image.value == ex.view.render(z0)
    ex.close()


def test_explorer_bookmarks_and_exports(gen: ll.Generator, axes: list[torch.Tensor], tmp_path) -> None:
    ex = Explorer(gen, directions=axes, export_dir=tmp_path)
    with pytest.raises(InvalidValueError, match="two bookmarks"):
        ex.save_morph()
    ex.bookmark_button.click()
    first = ex.latent.clone()
    ex.sliders[0].value = 2.5
    ex.bookmark()
    assert len(ex.bookmarks) == 2 and len(ex.gallery.children) == 2
    ex.goto(0)
    assert torch.allclose(ex.latent, first)
    ex.save_button.click()
    saved = sorted(tmp_path.glob("explorer-digits-*.png"))
    assert len(saved) == 1 and Image.open(saved[0]).size == (256, 256)
    anim = ex.save_morph(tmp_path / "morph.gif", fps=8, seconds=1)
    gif = Image.open(tmp_path / "morph.gif")
    assert gif.n_frames == 8 and anim.frames == 8
    assert "saved morph.gif" in ex.status.value
    ex.close()


def test_explorer_refuses_a_direction_from_another_model(gen: ll.Generator) -> None:
    from latentlab.directions import Direction

    other = Direction(torch.randn(16), LatentSpace("z", (16,), model="glyphs"), name="bold")
    with pytest.raises(IncompatibleLatentError) as err:
        Explorer(gen, directions=[other])
    assert "glyphs:z" in str(err.value) and "digits" in str(err.value) and "fix:" in str(err.value)
    with pytest.raises(ShapeError, match=r"expected: \(16,\)"):
        Explorer(gen, directions=[torch.randn(2)])
    two_d = ll.load("digits-2d")
    from latentlab.directions import pca

    with pytest.raises(IncompatibleLatentError, match="digits-2d"):
        Explorer(gen, directions=list(pca(two_d, n_samples=200, n_components=1)))


def test_explorer_default_sliders_use_sefa_on_isotropic_priors(gen: ll.Generator) -> None:
    """PCA of isotropic prior samples would be arbitrary on a VAE; SeFa finds what the decoder uses."""
    ex = Explorer(gen, n_components=4)
    assert [s.description for s in ex.sliders] == ["sefa0", "sefa1", "sefa2", "sefa3"]
    assert ex.vectors.shape == (4, 16)
    ex.close()


def test_explorer_default_sliders_fall_back_to_pca(gen: ll.Generator) -> None:
    from latentlab.generators.vae import VAEGenerator

    class NoSefa(VAEGenerator):
        capabilities = frozenset({"encode"})

    ex = Explorer(NoSefa(gen.model, "digits"), n_components=4)  # type: ignore[attr-defined]
    assert [s.description for s in ex.sliders] == ["pc0", "pc1", "pc2", "pc3"]
    ex.close()


def test_direction_vectors_uses_directions_main_vector() -> None:
    from latentlab.directions import Direction

    s = LatentSpace("z", (3,), model="toy")
    d = Direction(torch.tensor([[3.0, 4.0, 0.0], [0.0, 0.0, 1.0]]), s, name="two")
    assert torch.allclose(direction_vectors([d], s), torch.tensor([[0.6, 0.8, 0.0]]))


def test_explorer_shows_render_errors(gen: ll.Generator, axes: list[torch.Tensor]) -> None:
    ex = Explorer(gen, directions=axes)

    def broken(latent, preview=False):
        raise RuntimeError("decoder exploded")

    ex.view.render = broken  # type: ignore[method-assign]
    ex.sliders[0].value = 1.0
    assert ex.wait()
    assert "decoder exploded" in ex.view.error.value
    ex.close()


# -- Scrubber and BlendPad ------------------------------------------------------------
def test_scrubber_frames_and_ends(gen: ll.Generator) -> None:
    a, b = gen.sample(2, seed=1)
    sc = Scrubber(gen, a, b, frames=12)
    first = sc.image.value
    assert sc.latents.shape == (12, 16)
    assert torch.allclose(sc.latents[0], a) and torch.allclose(sc.latents[-1], b)
    sc.frame.value = 11
    assert sc.wait()
    assert sc.image.value != first and sc.image.value == sc.view.render(b)
    sc.close()


def test_scrubber_over_a_path_and_errors(gen: ll.Generator) -> None:
    from latentlab.paths import LatentPath

    keys = gen.sample(3, seed=2)
    sc = Scrubber(gen, LatentPath(keys, curve="smooth", geometry="spherical"), frames=9)
    assert torch.allclose(sc.latents[-1], keys[-1], atol=1e-5)
    sc.close()
    with pytest.raises(InvalidValueError, match="end latent"):
        Scrubber(gen, keys[0])
    with pytest.raises(ShapeError, match="latent b"):
        Scrubber(gen, keys[0], torch.zeros(3))
    with pytest.raises(InvalidValueError, match="frames >= 2"):
        Scrubber(gen, keys[0], keys[1], frames=1)


def test_blendpad_corners_and_moves(gen: ll.Generator) -> None:
    corners = gen.sample(3, seed=4)
    bp = BlendPad(gen, corners)
    centre = bp.image.value
    assert len(bp.pad.thumbnails) == 3 and bp.pad.thumbnails[0].startswith("data:image/png;base64,")
    bp.pad.x, bp.pad.y = 1.0, 0.0
    assert bp.wait()
    assert torch.allclose(bp.weights, torch.tensor([0.0, 1.0, 0.0]))
    assert torch.allclose(bp.latent, corners[1], atol=1e-5)
    assert bp.image.value != centre and bp.image.value == bp.view.render(corners[1])
    assert "2: 100%" in bp.readout.value
    bp.close()


def test_blendpad_needs_three_or_four_latents(gen: ll.Generator) -> None:
    with pytest.raises(ShapeError, match="3 or 4"):
        BlendPad(gen, gen.sample(2, seed=0))
    with pytest.raises(ShapeError, match="digits"):
        BlendPad(gen, torch.zeros(3, 5))


def test_explorer_previews_while_dragging_then_renders_full(gen: ll.Generator, axes: list[torch.Tensor]) -> None:
    calls: list[str] = []

    class PreviewDigits(type(gen)):  # type: ignore[misc]
        capabilities = gen.capabilities | {"preview"}

        def preview(self, latents, space=None):
            calls.append("preview")
            return self.decode(latents, space=space)

    fast = PreviewDigits.__new__(PreviewDigits)
    fast.__dict__.update(gen.__dict__)
    ex = Explorer(fast, directions=axes)
    assert ex.view.previews
    shown: list[tuple[int, int]] = []
    ex.image.observe(lambda change: shown.append(_size(change["new"])), names="value")
    for v in (0.5, 1.0, 1.5):
        ex.sliders[0].value = v
    assert ex.wait()
    assert calls and shown[0] == (128, 128)  # previews first, at half size
    assert shown[-1] == (256, 256)  # then full quality once settled
    assert ex.image.value == ex.view.render(ex.latent)
    ex.close()
    plain = Explorer(gen, directions=axes)
    assert not plain.view.previews  # digits declares no preview: every event full quality
    plain.close()
