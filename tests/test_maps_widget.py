"""MapWidget in-process: browser messages -> latents, renders, selections, Explorer link."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
import traitlets

import latentlab as ll
from latentlab.errors import InvalidValueError, ShapeError
from latentlab.maps import LatentMap
from latentlab.widgets import MapWidget


@pytest.fixture(scope="module")
def gen() -> ll.Generator:
    return ll.load("digits")


@pytest.fixture(scope="module")
def fitted(gen: ll.Generator) -> LatentMap:
    z = gen.sample(200, seed=0)
    return LatentMap(method="pca").fit(z, labels={"side": (z[:, 0] > 0).long()})


class StandIn(traitlets.HasTraits):
    """The smallest Explorer-like object: a ``latent`` trait and ``observe``."""

    latent = traitlets.Any(None)


def _jpeg(data: bytes) -> bool:
    return data[:3] == b"\xff\xd8\xff"


def _pixels(data: bytes) -> torch.Tensor:
    """An encoded JPEG/PNG as ``(3, H, W)`` floats in [0, 1]."""
    import io

    from PIL import Image

    arr = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.float32) / 255
    return torch.from_numpy(arr).permute(2, 0, 1)


def _shows(data: bytes, gen: ll.Generator, z: torch.Tensor, other: torch.Tensor) -> bool:
    """The image is the decode of ``z`` (up to JPEG error) and is nearer to it than to the decode of ``other``."""
    img = _pixels(data)
    want, wrong = gen.decode(z)[0], gen.decode(other)[0]
    if want.shape != img.shape:
        want, wrong = (
            torch.nn.functional.interpolate(t[None], size=img.shape[1:], mode="bilinear")[0] for t in (want, wrong)
        )
    err, err_other = float((img - want).abs().mean()), float((img - wrong).abs().mean())
    return err < 0.03 and err < 0.5 * err_other


def test_widget_sends_points_and_colours(fitted: LatentMap, gen: ll.Generator) -> None:
    w = fitted.widget(gen)
    assert isinstance(w, MapWidget)
    uv = np.frombuffer(w.xy, dtype=np.float32).reshape(-1, 2)
    assert uv.shape == (200, 2) and uv.min() >= 0 and uv.max() <= 1
    np.testing.assert_allclose(w.from_uv(uv), fitted.embedding_, atol=1e-4)
    codes = np.frombuffer(w.colors, dtype=np.uint8)
    assert sorted(set(codes.tolist())) == [0, 1] and w.legend == ["0", "1"] and len(w.palette) == 2


def test_click_message_calls_back_with_the_right_latent(fitted: LatentMap, gen: ll.Generator) -> None:
    w = fitted.widget(gen)
    seen: list[tuple[torch.Tensor, int | None]] = []
    w.on_click(lambda z, i: seen.append((z, i)))
    w.handle_message({"type": "click", "index": 17})
    assert len(seen) == 1 and seen[0][1] == 17
    torch.testing.assert_close(seen[0][0], fitted.latents_[17])
    assert _jpeg(w.image) and "point 17" in w.caption
    assert _shows(w.image, gen, fitted.latents_[17:18], fitted.latents_[18:19])
    assert not _shows(w.image, gen, fitted.latents_[18:19], fitted.latents_[17:18])  # the check can fail
    # the marker sits on the clicked point
    np.testing.assert_allclose(w.from_uv([w.marker])[0], fitted.embedding_[17], atol=1e-4)


def test_click_empty_space_renders_the_inverse_mapped_latent(fitted: LatentMap, gen: ll.Generator) -> None:
    w = fitted.widget(gen)
    seen: list[tuple[torch.Tensor, int | None]] = []
    w.on_click(lambda z, i: seen.append((z, i)))
    w.handle_message({"type": "click_empty", "u": 0.25, "v": 0.75})
    x, y = w.from_uv([[0.25, 0.75]])[0]
    z, index = seen[0]
    assert index is None
    torch.testing.assert_close(z, fitted.inverse_transform(np.array([x, y], dtype=np.float32)))
    assert _jpeg(w.image) and _shows(w.image, gen, z.reshape(1, -1), fitted.latents_[17:18])


def test_selection_message_returns_indices(fitted: LatentMap, gen: ll.Generator) -> None:
    w = fitted.widget(gen)
    got: list[np.ndarray] = []
    w.on_select(got.append)
    box = [[-0.1, -0.1], [0.5, -0.1], [0.5, 1.1], [-0.1, 1.1]]  # left half of the widget
    w.handle_message({"type": "select", "polygon": box})
    left = np.flatnonzero(fitted.embedding_[:, 0] < w.from_uv([[0.5, 0.5]])[0][0])
    assert w.selection.tolist() == left.tolist() == got[0].tolist()
    assert 0 < len(left) < 200 and f"{len(left)} points" in w.caption


def test_hover_sends_a_thumbnail(fitted: LatentMap, gen: ll.Generator) -> None:
    w = fitted.widget(gen)
    w.handle_message({"type": "hover", "index": 5})
    assert w.hover_index == 5 and w.hover_image[:4] == b"\x89PNG"
    assert _shows(w.hover_image, gen, fitted.latents_[5:6], fitted.latents_[6:7])
    w.handle_message({"type": "hover", "index": -1})
    assert w.hover_index == -1


def test_link_with_a_stand_in_explorer(fitted: LatentMap, gen: ll.Generator) -> None:
    ex = StandIn()
    w = fitted.widget(gen, explorer=ex)
    w.click_point(3)
    torch.testing.assert_close(ex.latent, fitted.latents_[3])
    # the explorer moves -> the marker follows
    ex.latent = fitted.latents_[9].clone()
    np.testing.assert_allclose(w.from_uv([w.marker])[0], fitted.embedding_[9], atol=1e-4)


def test_link_with_the_real_explorer(fitted: LatentMap, gen: ll.Generator) -> None:
    ex = ll.widgets.Explorer(gen) if hasattr(ll, "widgets") else None
    if ex is None:
        from latentlab.widgets import Explorer

        ex = Explorer(gen)
    w = fitted.widget(gen, explorer=ex)
    w.click_point(11)
    torch.testing.assert_close(ex.latent, fitted.latents_[11])
    np.testing.assert_allclose(w.from_uv([w.marker])[0], fitted.embedding_[11], atol=1e-3)


def test_path_and_marker(fitted: LatentMap, gen: ll.Generator) -> None:
    w = fitted.widget(gen)
    path = ll.slerp(fitted.latents_[0], fitted.latents_[1], steps=9)
    w.show_path(path)
    assert len(w.path) == 9
    np.testing.assert_allclose(w.from_uv([w.path[0]])[0], fitted.embedding_[0], atol=1e-4)
    w.show_marker(None)
    assert w.marker == []


def test_widget_errors(fitted: LatentMap, gen: ll.Generator) -> None:
    w = fitted.widget(gen)
    with pytest.raises(InvalidValueError) as err:
        w.click_point(200)
    assert "0 <= index < 200" in str(err.value)
    other = LatentMap(method="pca").fit(torch.randn(20, 5))
    with pytest.raises(ShapeError) as err2:
        other.widget(gen)
    assert "(20, 16)" in str(err2.value) and "(20, 5)" in str(err2.value)
    with pytest.raises(InvalidValueError, match="cannot link"):
        w.link(object())


def test_numeric_colours(fitted: LatentMap, gen: ll.Generator) -> None:
    values: Any = np.linspace(0, 1, 200)
    w = MapWidget(fitted, gen, color_by=values)
    codes = np.frombuffer(w.colors, dtype=np.uint8)
    assert codes[0] == 0 and codes[-1] == len(w.palette) - 1


def test_view_can_be_read_set_and_reset(fitted: LatentMap, gen: ll.Generator) -> None:
    w = fitted.widget(gen)
    emb = fitted.embedding_
    full = [emb[:, 0].min(), emb[:, 0].max(), emb[:, 1].min(), emb[:, 1].max()]
    np.testing.assert_allclose(w.extent, full, rtol=1e-5)
    assert w.view == w.extent  # a new widget shows every point
    x0, x1, y0, y1 = w.extent
    quarter = [x0, (x0 + x1) / 2, y0, (y0 + y1) / 2]
    w.view = quarter
    assert w.view == quarter and w.get_state("view")["view"] == quarter  # synced to the browser
    w.set_state({"view": [x0, x1, y0, (y0 + y1) / 2]})  # what a zoom in the browser does
    assert w.view == [x0, x1, y0, (y0 + y1) / 2]
    w.reset_view()
    assert w.view == w.extent
    w.view = (0, 1, 2, 3)  # tuples and ints are fine
    assert w.view == [0.0, 1.0, 2.0, 3.0]
    w.view = []  # empty: every point
    assert w.view == w.extent
    for bad in ([1, 0, 0, 1], [0, 1, 0], [0, 1, 0, float("nan")], ["a", "b", "c", "d"]):
        with pytest.raises(InvalidValueError, match="not a window of the map"):
            w.view = bad
    assert w.view == w.extent  # a refused view leaves the old one


def test_click_empty_space_in_a_zoomed_view(fitted: LatentMap, gen: ll.Generator) -> None:
    w = fitted.widget(gen)
    seen: list[torch.Tensor] = []
    w.on_click(lambda z, _i: seen.append(z))
    x0, x1, y0, y1 = w.extent
    zoomed = [x0 + 0.2 * (x1 - x0), x0 + 0.4 * (x1 - x0), y0 + 0.6 * (y1 - y0), y0 + 0.9 * (y1 - y0)]
    w.view = zoomed
    # the middle of the plot area is the middle of the view, not of the whole map
    w.handle_message({"type": "click_empty", "u": 0.5, "v": 0.5})
    centre = np.array([(zoomed[0] + zoomed[1]) / 2, (zoomed[2] + zoomed[3]) / 2], dtype=np.float32)
    torch.testing.assert_close(seen[-1], fitted.inverse_transform(centre))
    assert f"({centre[0]:.2f}, {centre[1]:.2f})" in w.caption
    # the browser sends the view it drew with the click; that one wins over a stale traitlet
    w.reset_view()
    w.handle_message({"type": "click_empty", "u": 0.0, "v": 1.0, "view": zoomed})
    corner = np.array([zoomed[0], zoomed[3]], dtype=np.float32)
    torch.testing.assert_close(seen[-1], fitted.inverse_transform(corner))
    # from_screen / to_screen are inverses, and the unzoomed view is the u/v of the points
    pts = fitted.embedding_[:5].astype(np.float64)
    np.testing.assert_allclose(w.from_screen(w.to_screen(pts, zoomed), zoomed), pts, atol=1e-9)
    np.testing.assert_allclose(w.to_screen(pts), w.to_uv(pts), atol=1e-9)
    with pytest.raises(InvalidValueError):
        w.from_screen([[0.5, 0.5]], view=[0, 0, 0, 0])


def test_selection_in_a_zoomed_view(fitted: LatentMap, gen: ll.Generator) -> None:
    w = fitted.widget(gen)
    x0, x1, y0, y1 = w.extent
    xm, ym, d = (x0 + x1) / 2, (y0 + y1) / 2, 0.05 * (x1 - x0)
    w.view = [x0 - d, xm, ym, y1 + d]  # the upper-left quarter (and a margin) fills the plot
    whole_plot = [[0, 0], [1, 0], [1, 1], [0, 1]]
    w.handle_message({"type": "select", "polygon": whole_plot})
    emb = fitted.embedding_
    inside = np.flatnonzero((emb[:, 0] <= xm) & (emb[:, 1] >= ym))
    assert w.selection.tolist() == inside.tolist()
    assert 0 < len(inside) < 200
    # a box round the whole plot, drawn in the full view, selects everything
    around = [[-0.01, -0.01], [1.01, -0.01], [1.01, 1.01], [-0.01, 1.01]]
    w.handle_message({"type": "select", "polygon": around, "view": w.extent})
    assert len(w.selection) == 200


def test_caption_names_the_point_with_short_numbers(gen: ll.Generator) -> None:
    z = gen.sample(30, seed=0)
    labels = {
        "family": np.array([f"Font {i}" for i in range(30)]),
        "ink": np.linspace(0, 1, 30) / 7,
        "weight": np.arange(30) * 100,
    }
    m = LatentMap(method="pca").fit(z, labels=labels)
    w = m.widget(gen)
    w.click_point(3)
    assert w.caption.startswith("point 3") and "family Font 3" in w.caption and "weight 300" in w.caption
    assert f"ink {3 / 29 / 7:.3g}" in w.caption and str(3 / 29 / 7) not in w.caption


def test_colours_with_many_categories(gen: ll.Generator) -> None:
    z = gen.sample(300, seed=0)
    names = np.array([f"Font {i}" for i in range(300)])
    m = LatentMap(method="pca").fit(z, labels={"family": names, "side": (z[:, 0] > 0).long()})
    w = m.widget(gen)  # default colour: the first label with few categories, not 300 family names
    assert w.legend == ["0", "1"]
    with pytest.raises(InvalidValueError, match="too many categories") as err:
        m.widget(gen, color_by="family")
    assert "300 distinct values" in str(err.value) and "color_by=" in str(err.value)
    ids = MapWidget(m, gen, color_by=np.arange(300))  # many numbers: a colour ramp
    assert len(ids.palette) == 16
