"""Tensors -> pixels: PIL images, PNG/JPEG bytes, grids, and ``show`` for notebooks.

Images everywhere in latentlab are ``float (N, 3, H, W)`` (or ``(3, H, W)``) in ``[0, 1]``.
This module is the only place that turns them into pixels.
"""

from __future__ import annotations

import io
import math
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from . import resample
from ._checks import as_batched_images
from .errors import InvalidValueError
from .notebook import display, in_notebook

__all__ = [
    "to_uint8",
    "to_pil",
    "grid",
    "png_bytes",
    "jpeg_bytes",
    "show",
    "resize",
    "fit_size",
    "draw_caption",
    "contact_sheet",
]


def to_uint8(images: Any) -> np.ndarray:
    """``(N, 3, H, W)`` floats in [0, 1] -> ``uint8 (N, H, W, 3)`` (``(H, W, 3)`` for one image).

    Example:
        >>> to_uint8(torch.ones(3, 2, 2)).shape
        (2, 2, 3)
    """
    x, batched = as_batched_images(images)
    arr = (x.detach().float().clamp(0, 1) * 255 + 0.5).to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
    return arr if batched else arr[0]


def to_pil(images: Any, scale: float = 1.0) -> Image.Image | list[Image.Image]:
    """One image -> a PIL image; a batch -> a list of PIL images. ``scale`` resizes smoothly.

    Example:
        >>> to_pil(torch.zeros(3, 8, 8), scale=2).size
        (16, 16)
    """
    arr = to_uint8(images)
    if arr.ndim == 3:
        return _scaled(Image.fromarray(arr), scale)
    return [_scaled(Image.fromarray(a), scale) for a in arr]


def _scaled(img: Image.Image, scale: float) -> Image.Image:
    if scale == 1:
        return img
    size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    return img.resize(size, Image.Resampling.LANCZOS if scale > 1 else Image.Resampling.BOX)


def grid(images: Any, nrow: int | None = None, padding: int = 2, pad_value: float = 1.0) -> torch.Tensor:
    """Tile ``(N, 3, H, W)`` images into one ``(3, H', W')`` image, ``nrow`` images per row.

    Args:
        images: ``(N, 3, H, W)`` in [0, 1].
        nrow: images per row (default: close to square).
        padding: pixels between tiles.
        pad_value: colour of the padding (1.0 = white paper).

    Example:
        >>> grid(torch.zeros(6, 3, 4, 4), nrow=3, padding=1).shape
        torch.Size([3, 11, 16])
    """
    x, _ = as_batched_images(images)
    n, _, h, w = x.shape
    nrow = nrow or math.ceil(math.sqrt(n))
    ncol_rows = math.ceil(n / nrow)
    out = torch.full(
        (3, ncol_rows * (h + padding) + padding, nrow * (w + padding) + padding),
        float(pad_value),
        dtype=x.dtype,
        device=x.device,
    )
    for i in range(n):
        r, c = divmod(i, nrow)
        top, left = padding + r * (h + padding), padding + c * (w + padding)
        out[:, top : top + h, left : left + w] = x[i]
    return out


def png_bytes(image: Any, compress_level: int = 1, *, size: tuple[int, int] | None = None) -> bytes:
    """One ``(3, H, W)`` image -> PNG bytes. ``compress_level=1`` is fast enough for live widgets.

    ``size=(H, W)`` resizes (bicubic, on 8-bit pixels: much cheaper than resizing the float tensor).
    """
    img = _pil_at(image, size)
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=compress_level)
    return buf.getvalue()


def jpeg_bytes(image: Any, quality: int = 90, *, size: tuple[int, int] | None = None) -> bytes:
    """One ``(3, H, W)`` image -> JPEG bytes (fastest transport for live previews).

    ``size=(H, W)`` resizes (bicubic, on 8-bit pixels: much cheaper than resizing the float tensor).

    Example:
        >>> jpeg_bytes(torch.rand(3, 32, 32), size=(64, 64))[:2] == b"\\xff\\xd8"
        True
    """
    img = _pil_at(image, size)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def _pil_at(image: Any, size: tuple[int, int] | None) -> Image.Image:
    img = to_pil(image)
    assert isinstance(img, Image.Image)
    if size is not None and (img.height, img.width) != (int(size[0]), int(size[1])):
        img = img.resize((int(size[1]), int(size[0])), Image.Resampling.BICUBIC)
    return img


def show(images: Any, nrow: int | None = None, scale: float | None = None, padding: int = 2) -> Image.Image | None:
    """Show images as a grid: inline in Jupyter, or return a PIL image outside it.

    In a notebook the grid is displayed and ``None`` is returned (so it is not shown twice);
    elsewhere the PIL image is returned, to save or view. Use :func:`grid_image` to always
    get the PIL image.

    Args:
        images: ``(N, 3, H, W)`` or ``(3, H, W)`` in [0, 1].
        nrow: images per row.
        scale: display scale; by default small images are enlarged to about 96 px per tile.

    Example:
        >>> show(torch.rand(4, 3, 32, 32), nrow=4, scale=1).size
        (138, 36)
    """
    img = grid_image(images, nrow=nrow, scale=scale, padding=padding)
    if in_notebook():
        display(img)
        return None
    return img


def grid_image(images: Any, nrow: int | None = None, scale: float | None = None, padding: int = 2) -> Image.Image:
    """The grid :func:`show` displays, as a PIL image (small tiles enlarged to about 96 px).

    Example:
        >>> grid_image(torch.rand(2, 3, 32, 32), scale=2).size
        (140, 72)
    """
    x, _ = as_batched_images(images)
    if scale is None:
        scale = max(1.0, 96 / max(x.shape[-2:]))
    img = to_pil(grid(x, nrow=nrow, padding=padding), scale=scale)
    assert isinstance(img, Image.Image)
    return img


# --------------------------------------------------------------------------- sizes, captions, contact sheets
def fit_size(image_size: tuple[int, int], size: int | tuple[int, int] | None, *, even: bool = False) -> tuple[int, int]:
    """Output ``(H, W)`` for images of ``image_size`` asked to be ``size``.

    Args:
        image_size: ``(H, W)`` of the source images.
        size: ``None`` (small images are enlarged by a whole factor so the long side is about
            256 px; larger ones are kept), an int (the long side, aspect kept) or ``(H, W)``.
        even: round both sides up to even numbers (H.264 video needs this).

    Example:
        >>> fit_size((32, 32), None), fit_size((32, 64), 100), fit_size((30, 30), (51, 51), even=True)
        ((256, 256), (50, 100), (52, 52))
    """
    h, w = int(image_size[0]), int(image_size[1])
    if size is None:
        scale = max(1, 256 // max(h, w))
        out = (h * scale, w * scale)
    elif isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        _check_positive_size(size)
        scale_f = int(size) / max(h, w)
        out = (max(1, round(h * scale_f)), max(1, round(w * scale_f)))
    elif isinstance(size, (tuple, list)) and len(size) == 2:
        _check_positive_size(*size)
        out = (int(size[0]), int(size[1]))
    else:
        raise InvalidValueError(
            "size must be an int or (height, width)",
            expected="None, 256 or (256, 384)",
            got=repr(size),
            fix="pass the long side in pixels, e.g. size=256",
        )
    if even:
        out = (out[0] + out[0] % 2, out[1] + out[1] % 2)
    return out


def _check_positive_size(*sides: Any) -> None:
    if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 1 for s in sides):
        raise InvalidValueError(
            "image sizes must be positive whole numbers of pixels",
            expected="ints >= 1",
            got=repr(sides if len(sides) > 1 else sides[0]),
            fix="pass e.g. size=256",
        )


def resize(images: Any, size: tuple[int, int]) -> torch.Tensor:
    """Resize ``(N, 3, H, W)`` images in [0, 1] to ``(N, 3, *size)`` (bicubic, antialiased when shrinking).

    Example:
        >>> resize(torch.rand(2, 3, 32, 32), (64, 48)).shape
        torch.Size([2, 3, 64, 48])
    """
    x, batched = as_batched_images(images)
    x = resample.resize(x.float(), size, mode="bicubic")
    return x if batched else x[0]


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, ImportError, OSError):  # old Pillow or no FreeType: fixed-size bitmap font
        return ImageFont.load_default()


def draw_caption(frame: np.ndarray, text: str, *, font_size: int | None = None) -> np.ndarray:
    """Write ``text`` on a dark band at the bottom of one ``uint8 (H, W, 3)`` frame; returns a new array.

    Example:
        >>> out = draw_caption(np.full((64, 64, 3), 255, np.uint8), "t=0.5")
        >>> out.shape, bool((out[-4:] < 128).any()), bool((out[:8] == 255).all())
        ((64, 64, 3), True, True)
    """
    img = Image.fromarray(np.ascontiguousarray(frame))
    if not text:
        return np.asarray(img).copy()
    size = font_size or max(8, img.height // 16)
    font = _font(size)
    draw = ImageDraw.Draw(img, "RGBA")
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    band = (bottom - top) + size // 2
    draw.rectangle((0, img.height - band, img.width, img.height), fill=(0, 0, 0, 150))
    x = max(0, (img.width - (right - left)) // 2)
    draw.text((x, img.height - band + (band - (bottom - top)) // 2 - top), text, font=font, fill=(255, 255, 255))
    return np.asarray(img).copy()


def contact_sheet(
    images: Any, labels: Any = None, nrow: int | None = None, scale: float | None = None, padding: int = 4
) -> Image.Image:
    """A grid of ``(N, 3, H, W)`` images with a text label under each tile, as one PIL image.

    Args:
        images: ``(N, 3, H, W)`` in [0, 1].
        labels: ``N`` labels (anything ``str()`` can print), or ``None`` for the tile index.
        nrow: tiles per row (default: close to square).
        scale: tile scale; by default small images are enlarged to about 96 px.
        padding: pixels between tiles.

    Example:
        >>> sheet = contact_sheet(torch.rand(6, 3, 32, 32), labels=list("abcdef"), nrow=3, scale=2)
        >>> sheet.width, sheet.height > 2 * 64
        (208, True)
    """
    x, _ = as_batched_images(images)
    n = x.shape[0]
    texts = [str(i) for i in range(n)] if labels is None else [str(t) for t in labels]
    if len(texts) != n:
        raise InvalidValueError(
            "contact_sheet() needs one label per image",
            expected=f"{n} labels",
            got=f"{len(texts)} labels",
            fix="pass labels=None for numbers, or one per image",
        )
    scale = max(1.0, 96 / max(x.shape[-2:])) if scale is None else scale
    tiles = to_pil(x, scale=scale)
    assert isinstance(tiles, list)
    tw, th = tiles[0].size
    font_size = max(10, min(16, tw // 8))
    font = _font(font_size)
    label_h = font_size + 6
    nrow = nrow or math.ceil(math.sqrt(n))
    rows = math.ceil(n / nrow)
    sheet = Image.new("RGB", (nrow * (tw + padding) + padding, rows * (th + label_h + padding) + padding), "white")
    draw = ImageDraw.Draw(sheet)
    for i, (tile, text) in enumerate(zip(tiles, texts)):
        r, c = divmod(i, nrow)
        left, top = padding + c * (tw + padding), padding + r * (th + label_h + padding)
        sheet.paste(tile, (left, top))
        text = _fit_text(draw, text, font, tw)
        draw.text(
            (left + max(0, (tw - int(draw.textlength(text, font=font))) // 2), top + th + 2),
            text,
            font=font,
            fill="black",
        )
    return sheet


def _fit_text(draw: ImageDraw.ImageDraw, text: str, font: Any, width: int) -> str:
    while len(text) > 1 and draw.textlength(text, font=font) > width:
        text = text[:-2] + "…"
    return text
