"""Image measures on synthetic drawings of known geometry (PIL strokes of known width and slant)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw
from scipy.stats import spearmanr

from latentlab import measures
from latentlab.errors import InvalidValueError

SIZE = 64


def _to_images(pil_images: list[Image.Image]) -> torch.Tensor:
    """Grayscale PIL images (ink = black on white) -> (N, 3, H, W) in [0, 1]."""
    arr = np.stack([np.asarray(im, dtype=np.float32) / 255.0 for im in pil_images])
    return torch.from_numpy(arr)[:, None].repeat(1, 3, 1, 1)


def _stroke(width: int, shear: float = 0.0, length: int = 44, size: int = SIZE, dx: int = 0) -> Image.Image:
    """A vertical stroke of ``width`` px and ``length`` px, sheared so that x = x0 + shear * height."""
    im = Image.new("L", (size, size), 255)
    draw = ImageDraw.Draw(im)
    top, bottom = (size - length) // 2, (size + length) // 2
    cx = size / 2 + dx
    half = length / 2
    # top edge moves right by shear*half, bottom edge left (y points up in the measure)
    pts = [
        (cx - width / 2 + shear * half, top),
        (cx + width / 2 + shear * half, top),
        (cx + width / 2 - shear * half, bottom),
        (cx - width / 2 - shear * half, bottom),
    ]
    draw.polygon(pts, fill=0)
    return im


def test_blank_and_black_pages() -> None:
    white, black = torch.ones(3, 8, 8), torch.zeros(3, 8, 8)
    assert float(measures.brightness(white)) == pytest.approx(1.0)
    assert float(measures.ink_coverage(black)) == pytest.approx(1.0)
    assert float(measures.contrast(white)) == pytest.approx(0.0)
    half = torch.ones(3, 8, 8)
    half[:, :, :4] = 0
    assert float(measures.contrast(half)) == pytest.approx(0.5)


def test_single_image_gives_a_scalar_and_batches_give_vectors() -> None:
    images = _to_images([_stroke(4), _stroke(8)])
    for name, fn in measures.MEASURES.items():
        batch = fn(images)
        assert batch.shape == (2,), name
        assert fn(images[0]).shape == (), name
        assert torch.allclose(fn(images[0]), batch[0]), name


def test_centroid_of_a_dot() -> None:
    img = torch.ones(1, 3, 20, 40)
    img[:, :, 4:6, 30:32] = 0.0  # rows 4-5, cols 30-31
    assert float(measures.centroid_x(img)[0]) == pytest.approx(31 / 40)
    assert float(measures.centroid_y(img)[0]) == pytest.approx(5 / 20)


def test_width_and_height_of_rectangles_are_exact() -> None:
    img = torch.ones(1, 3, 32, 32)
    img[:, :, 3:27, 10:17] = 0.0  # 24 high, 7 wide
    assert float(measures.width(img)[0]) == pytest.approx(7 / 32, abs=1e-5)
    assert float(measures.height(img)[0]) == pytest.approx(24 / 32, abs=1e-5)


@pytest.mark.parametrize("shear", [-0.4, -0.2, 0.0, 0.25, 0.5])
def test_slant_recovers_the_shear_of_a_drawn_stroke(shear: float) -> None:
    value = float(measures.slant(_to_images([_stroke(6, shear=shear)]))[0])
    assert value == pytest.approx(shear, abs=0.03)


def test_slant_sign_is_italic_positive() -> None:
    right, left = _to_images([_stroke(6, shear=0.3), _stroke(6, shear=-0.3)])
    assert measures.slant(right) > 0 > measures.slant(left)


def test_stroke_weight_measures_the_drawn_width() -> None:
    widths = [2, 3, 4, 6, 8, 10]
    values = measures.stroke_weight(_to_images([_stroke(w) for w in widths])).numpy() * SIZE
    # PIL fills polygon edges inclusively: a stroke drawn w px wide and 44 px long inks (w + 1) x 45 pixels
    inked = _to_images([_stroke(w) for w in widths])[:, 0] < 0.5
    assert [int(inked[i].any(0).sum()) for i in range(len(widths))] == [w + 1 for w in widths]
    expected = np.array([(w + 1) * 45 / (45 + w + 1) for w in widths])  # end caps shorten the estimate
    assert np.allclose(values, expected, rtol=0.03), (values, expected)
    assert spearmanr(widths, values).statistic == pytest.approx(1.0)


def test_stroke_weight_ignores_slant() -> None:
    upright, slanted = measures.stroke_weight(_to_images([_stroke(6), _stroke(6, shear=0.3)]))
    # a sheared stroke of the same horizontal width is thinner perpendicular to its axis (cos 16.7 deg)
    assert float(slanted / upright) == pytest.approx(np.cos(np.arctan(0.3)), abs=0.06)


@settings(max_examples=25, deadline=None)
@given(width=st.integers(2, 10), shear=st.floats(-0.4, 0.4), dx=st.integers(-8, 8))
def test_shape_measures_do_not_depend_on_position(width: int, shear: float, dx: int) -> None:
    centred, moved = _to_images([_stroke(width, shear), _stroke(width, shear, dx=dx)])
    for fn in (measures.slant, measures.width, measures.stroke_weight, measures.ink_coverage):
        assert float(fn(moved)) == pytest.approx(float(fn(centred)), abs=2e-3), fn.__name__


def test_measures_reject_bad_images_and_names() -> None:
    with pytest.raises(InvalidValueError) as err:
        measures.get_measure("boldness")
    assert "stroke_weight" in str(err.value) and "fix" in str(err.value)
    with pytest.raises(ValueError, match="expected"):
        measures.slant(torch.ones(8, 8))
