"""Rendering helpers: sizes, resizing, captions, contact sheets, and the existing tensor -> pixels functions."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from latentlab.errors import InvalidValueError, ShapeError
from latentlab.render import (
    contact_sheet,
    draw_caption,
    fit_size,
    grid,
    jpeg_bytes,
    png_bytes,
    resize,
    to_pil,
    to_uint8,
)

sides = st.integers(1, 600)


@given(h=sides, w=sides)
def test_fit_size_default_enlarges_small_images_by_a_whole_factor(h: int, w: int) -> None:
    oh, ow = fit_size((h, w), None)
    k = oh // h
    assert (oh, ow) == (h * k, w * k) and k >= 1
    assert max(oh, ow) <= max(256, max(h, w))
    if max(h, w) <= 128:
        assert max(oh, ow) > 128


@given(h=sides, w=sides, long=st.integers(1, 2000), even=st.booleans())
def test_fit_size_int_sets_the_long_side(h: int, w: int, long: int, even: bool) -> None:
    oh, ow = fit_size((h, w), long, even=even)
    assert oh >= 1 and ow >= 1
    if even:
        assert oh % 2 == 0 and ow % 2 == 0
        assert max(oh, ow) in (long, long + 1)
    else:
        assert max(oh, ow) == long
        assert abs(oh / ow - h / w) <= (h / w) * (1 / ow + 1 / oh) + 1e-9 or min(oh, ow) == 1


@pytest.mark.parametrize("bad", [0, -3, (10, 0), (10,), "big", 2.5, True])
def test_fit_size_rejects_bad_sizes(bad: object) -> None:
    with pytest.raises(InvalidValueError) as err:
        fit_size((32, 32), bad)  # type: ignore[arg-type]
    assert "expected:" in str(err.value) and "size=256" in str(err.value)


def test_resize_shapes_range_and_identity() -> None:
    x = torch.rand(2, 3, 16, 16)
    assert torch.equal(resize(x, (16, 16)), x)
    up = resize(x, (64, 48))
    assert up.shape == (2, 3, 64, 48) and float(up.min()) >= 0 and float(up.max()) <= 1
    down = resize(torch.ones(3, 64, 64), (8, 8))
    assert down.shape == (3, 8, 8) and torch.allclose(down, torch.ones(3, 8, 8))


def test_resize_keeps_a_flat_colour() -> None:
    x = torch.full((1, 3, 8, 8), 0.25)
    assert torch.allclose(resize(x, (40, 40)), torch.full((1, 3, 40, 40), 0.25), atol=1e-5)


def test_draw_caption_changes_only_the_bottom_band() -> None:
    frame = np.full((96, 128, 3), 255, np.uint8)
    out = draw_caption(frame, "frame 3 / 10")
    assert out.shape == frame.shape and out.dtype == np.uint8
    changed = np.argwhere((out != frame).any(axis=2))
    assert changed.size and changed[:, 0].min() > 96 // 2
    assert (out[-1].astype(int) < 200).all()  # dark band right to the edge
    assert (frame == 255).all()  # input untouched
    assert np.array_equal(draw_caption(frame, ""), frame)


def test_contact_sheet_layout_and_labels() -> None:
    images = torch.zeros(5, 3, 16, 16)
    plain = contact_sheet(images, nrow=5, scale=4, padding=4)
    labelled = contact_sheet(images, labels=["a", "b", "c", "d", "e"], nrow=5, scale=4, padding=4)
    assert plain.size == labelled.size == (5 * (64 + 4) + 4, plain.height)
    arr = np.asarray(labelled)
    label_strip = arr[4 + 64 + 1 : 4 + 64 + 14]
    assert (label_strip < 128).any()  # text is drawn below the tiles
    assert (arr[4 : 4 + 64, 4 : 4 + 64] == 0).all()  # the tile itself is untouched
    assert not np.array_equal(np.asarray(plain), arr)


def test_contact_sheet_needs_one_label_per_image() -> None:
    with pytest.raises(InvalidValueError) as err:
        contact_sheet(torch.zeros(3, 3, 8, 8), labels=["only one"])
    assert "3 labels" in str(err.value) and "1 labels" in str(err.value)


def test_contact_sheet_shortens_long_labels() -> None:
    sheet = contact_sheet(torch.zeros(1, 3, 16, 16), labels=["a very long label " * 5], scale=2, padding=0)
    assert sheet.width == 32


def test_existing_functions() -> None:
    x = torch.rand(4, 3, 8, 8)
    arr = to_uint8(x)
    assert arr.shape == (4, 8, 8, 3) and arr.dtype == np.uint8
    assert len(to_pil(x)) == 4  # type: ignore[arg-type]
    assert grid(x, nrow=2, padding=1).shape == (3, 19, 19)
    assert Image.open(io.BytesIO(png_bytes(x[0]))).size == (8, 8)
    assert Image.open(io.BytesIO(jpeg_bytes(x[0]))).format == "JPEG"
    with pytest.raises(ShapeError):
        to_uint8(torch.rand(8, 8))
