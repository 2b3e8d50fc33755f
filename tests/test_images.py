"""load_images / fit_images: every input kind, compositing, fit policies and every error."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

import latentlab as ll
from latentlab.errors import InputImageError, InvalidValueError
from latentlab.images import fit_images, load_images

from ._helpers import raises as _raises


def _ink_square(h: int = 12, w: int = 12) -> np.ndarray:
    """White uint8 gray image with a black square in the middle."""
    a = np.full((h, w), 255, np.uint8)
    a[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4] = 0
    return a


# -- every input kind gives the same pixels ----------------------------------------------------------


def test_every_input_kind_gives_the_same_tensor(tmp_path):
    gray = _ink_square()
    expected = torch.from_numpy(gray).float().div(255).expand(3, -1, -1)[None]
    Image.fromarray(gray).save(tmp_path / "a.png")
    sources = {
        "str path": str(tmp_path / "a.png"),
        "Path": tmp_path / "a.png",
        "PIL L": Image.fromarray(gray),
        "PIL RGB": Image.fromarray(gray).convert("RGB"),
        "PIL RGBA opaque": Image.fromarray(gray).convert("RGBA"),
        "PIL P": Image.fromarray(gray).convert("P"),
        "numpy HxW uint8": gray,
        "numpy HxWx1": gray[..., None],
        "numpy HxWx3": np.repeat(gray[..., None], 3, -1),
        "numpy HxWx4": np.concatenate([np.repeat(gray[..., None], 3, -1), np.full((12, 12, 1), 255, np.uint8)], -1),
        "numpy NxHxWxC": np.repeat(gray[None, ..., None], 3, -1),
        "numpy float": gray.astype(np.float64) / 255,
        "tensor HxW": torch.from_numpy(gray).float() / 255,
        "tensor CxHxW uint8": torch.from_numpy(gray)[None].repeat(3, 1, 1),
        "tensor NxCxHxW": expected.clone(),
        "tensor gray+alpha": torch.stack([torch.from_numpy(gray).float() / 255, torch.ones(12, 12)]),
        "list of one": [gray],
    }
    for name, src in sources.items():
        out = load_images(src)
        assert out.dtype == torch.float32 and tuple(out.shape) == (1, 3, 12, 12), name
        torch.testing.assert_close(out, expected, atol=1 / 255, rtol=0, msg=name)


def test_16_bit_png_is_scaled_to_unit_range(tmp_path):
    arr = np.full((4, 4), 65535, np.uint16)
    arr[0, 0] = 0
    Image.fromarray(arr).save(tmp_path / "deep.png")
    out = load_images(tmp_path / "deep.png")
    assert float(out.max()) == pytest.approx(1.0) and float(out[0, 0, 0, 0]) == 0.0


def test_a_list_mixes_kinds_and_a_folder_is_read_sorted(tmp_path):
    black, white = np.zeros((8, 8), np.uint8), np.full((8, 8), 255, np.uint8)
    out = load_images([black, Image.fromarray(white), torch.zeros(2, 1, 8, 8)])
    assert tuple(out.shape) == (4, 3, 8, 8)
    assert out.flatten(1).mean(1).tolist() == [0.0, 1.0, 0.0, 0.0]
    Image.fromarray(white).save(tmp_path / "b.png")
    Image.fromarray(black).save(tmp_path / "a.png")
    (tmp_path / "notes.txt").write_text("not an image")
    folder = load_images(tmp_path)
    assert folder.flatten(1).mean(1).tolist() == [0.0, 1.0]


def test_rgb_stays_rgb():
    rgb = np.zeros((4, 4, 3), np.uint8)
    rgb[..., 0] = 255
    out = load_images(rgb)
    assert out[0, :, 0, 0].tolist() == [1.0, 0.0, 0.0]


# -- alpha compositing ---------------------------------------------------------------------------


def test_alpha_is_composited_on_the_background():
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 0] = 255  # red ...
    rgba[:, :2, 3] = 0  # ... fully transparent on the left
    rgba[:, 2:, 3] = 255  # ... opaque on the right
    rgba[0, 3, 3] = 128  # ... half transparent in one pixel
    out = load_images(rgba)  # white paper by default
    assert out[0, :, 0, 0].tolist() == [1.0, 1.0, 1.0]
    assert out[0, :, 1, 3].tolist() == [1.0, 0.0, 0.0]
    torch.testing.assert_close(out[0, :, 0, 3], torch.tensor([1.0, 127 / 255, 127 / 255]), atol=2e-3, rtol=0)
    dark = load_images(rgba, background=0.0)
    assert dark[0, :, 0, 0].tolist() == [0.0, 0.0, 0.0]
    tinted = load_images(Image.fromarray(rgba, "RGBA"), background=(0.0, 0.5, 1.0))
    assert tinted[0, :, 0, 0].tolist() == [0.0, 0.5, 1.0]


def test_alpha_is_composited_before_resizing():
    """A transparent black surround must not darken the edges of the resized image."""
    rgba = np.zeros((64, 64, 4), np.uint8)  # black, transparent ...
    rgba[16:48, 16:48] = 255  # ... except an opaque white square
    out = load_images(rgba, size=8)
    assert float(out.min()) > 0.99


# -- fit policies ---------------------------------------------------------------------------------


def test_contain_pads_with_paper_and_keeps_the_aspect_ratio():
    ink = np.zeros((32, 16), np.uint8)  # a tall black bar
    out = load_images(ink, size=(16, 16), fit="contain")
    assert tuple(out.shape) == (1, 3, 16, 16)
    column_means = out[0, 0].mean(0)
    assert column_means[:4].tolist() == [1.0] * 4 and column_means[-4:].tolist() == [1.0] * 4
    assert column_means[4:12].tolist() == [0.0] * 8


def test_cover_crops_and_stretch_squashes():
    img = np.full((16, 32), 255, np.uint8)
    img[:, :8] = 0  # ink on the left quarter only
    cover = load_images(img, size=16, fit="cover")
    assert float(cover.mean()) == pytest.approx(1.0)  # the left quarter was cropped away
    stretch = load_images(img, size=16, fit="stretch")
    assert float(stretch[0, 0, :, :3].max()) < 0.01 and float(stretch[0, 0, :, -4:].min()) > 0.99


def test_contain_padding_uses_the_background_colour():
    out = load_images(np.zeros((8, 4, 3), np.uint8), size=8, background=(0.2, 0.4, 0.6))
    torch.testing.assert_close(out[0, :, 0, 0], torch.tensor([0.2, 0.4, 0.6]))


@settings(max_examples=40, deadline=None)
@given(
    h=st.integers(1, 40),
    w=st.integers(1, 40),
    th=st.integers(1, 24),
    tw=st.integers(1, 24),
    fit=st.sampled_from(["contain", "cover", "stretch"]),
    value=st.floats(0, 1),
)
def test_fit_images_shape_range_and_constants(h, w, th, tw, fit, value):
    x = torch.full((2, 3, h, w), value)
    out = fit_images(x, (th, tw), fit, background=value)
    assert tuple(out.shape) == (2, 3, th, tw)
    torch.testing.assert_close(out, torch.full_like(out, value), atol=1e-5, rtol=0)


def test_tensor_source_keeps_its_values_when_already_sized():
    x = torch.rand(3, 3, 8, 8)
    torch.testing.assert_close(load_images(x, size=8), x)


def test_a_ready_float_batch_is_returned_as_is_and_equals_the_general_path():
    x = torch.rand(4, 3, 8, 8)
    out = load_images(x, size=8)
    assert out is x  # no copy, no RGBA round-trip
    leaf = x.clone().requires_grad_(True)
    assert load_images(leaf).data_ptr() == leaf.data_ptr() and not load_images(leaf).requires_grad
    general = load_images(list(x), size=8)  # a list takes the RGBA -> composite path
    assert general.data_ptr() != x.data_ptr()
    assert torch.equal(out, general)
    # slightly out of range, non-contiguous or float64: not "ready", so the general path copies and clamps
    edge = x.clone()
    edge[0, 0, 0, 0] = 1.0005
    clamped = load_images(edge, size=8)
    assert clamped is not edge and float(clamped.max()) == 1.0
    assert load_images(x.transpose(2, 3), size=8).is_contiguous()
    assert load_images(x.double(), size=8).dtype == torch.float32
    # another size is resized, not passed through
    assert tuple(load_images(x, size=4).shape) == (4, 3, 4, 4)


def test_ready_fast_path_still_rejects_bad_values():
    x = torch.rand(2, 3, 16, 16)
    x[1, 2, 5, 5] = float("nan")
    _raises(InvalidValueError, "1 NaN", load_images, x, size=16)
    x[1, 2, 5, 5] = float("inf")
    _raises(InvalidValueError, "1 inf", load_images, x, size=16)
    x[1, 2, 5, 5] = 1.5
    _raises(InvalidValueError, "[0, 1]", load_images, x, size=16)


def test_check_finite_counts_non_finite_values_and_passes_huge_finite_ones():
    from latentlab._checks import check_finite

    t = torch.zeros(1000)
    t[[3, 7]] = float("nan")
    t[9] = -float("inf")
    _raises(InvalidValueError, "2 NaN and 1 inf", check_finite, t)
    huge = torch.full((10,), 3e38)  # the sum overflows to inf, yet every value is finite
    assert check_finite(huge) is huge


# -- errors ----------------------------------------------------------------------------------------


def test_missing_and_unreadable_files(tmp_path):
    _raises(InputImageError, "does not exist", load_images, tmp_path / "nope.png")
    (tmp_path / "bad.png").write_bytes(b"this is not a png")
    _raises(InputImageError, "cannot read", load_images, tmp_path / "bad.png")
    (tmp_path / "empty").mkdir()
    _raises(InputImageError, "holds no images", load_images, tmp_path / "empty")


def test_empty_inputs():
    _raises(InputImageError, "no images", load_images, [])
    _raises(InputImageError, "empty", load_images, np.zeros((0, 5), np.uint8))
    _raises(InputImageError, "empty", load_images, torch.zeros(0, 3, 4, 4))


def test_wrong_channel_counts_name_the_layout():
    text = _raises(InputImageError, "(4, 4, 5)", load_images, np.zeros((4, 4, 5), np.uint8))
    assert "channel-last" in text
    text = _raises(InputImageError, "(5, 4, 4)", load_images, torch.zeros(5, 4, 4))
    assert "channel-first" in text
    _raises(InputImageError, "cannot read", load_images, torch.zeros(1, 1, 1, 4, 4))


def test_bad_values_and_types():
    _raises(InvalidValueError, "NaN", load_images, torch.full((3, 4, 4), float("nan")))
    _raises(InvalidValueError, "[0, 1]", load_images, torch.full((3, 4, 4), 2.0))
    _raises(InputImageError, "int32", load_images, np.zeros((4, 4), np.int32))
    _raises(InputImageError, "dict", load_images, {"image": 1})


def test_bad_options():
    img = np.zeros((4, 4), np.uint8)
    _raises(InvalidValueError, "'squash'", load_images, img, size=8, fit="squash")
    _raises(InvalidValueError, "paper colour", load_images, img, background=2.0)
    _raises(InvalidValueError, "paper colour", load_images, img, background=(1.0, 1.0))
    _raises(InvalidValueError, "(H, W)", load_images, img, size=0)
    _raises(InputImageError, "4x4, 8x8", load_images, [img, np.zeros((8, 8), np.uint8)])


def test_exported_from_the_package():
    assert ll.load_images is load_images


def test_phone_photo_rotation_is_applied(tmp_path):
    img = Image.new("RGB", (20, 10), "white")  # stored landscape ...
    exif = Image.Exif()
    exif[0x0112] = 6  # ... shown rotated 90 degrees (EXIF orientation 6)
    img.save(tmp_path / "phone.jpg", exif=exif)
    assert tuple(load_images(tmp_path / "phone.jpg").shape) == (1, 3, 20, 10)
