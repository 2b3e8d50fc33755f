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
from PIL import Image

from ._checks import as_batched_images

__all__ = ["to_uint8", "to_pil", "grid", "png_bytes", "jpeg_bytes", "show"]


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
    out = torch.full((3, ncol_rows * (h + padding) + padding, nrow * (w + padding) + padding), float(pad_value),
                     dtype=x.dtype, device=x.device)
    for i in range(n):
        r, c = divmod(i, nrow)
        top, left = padding + r * (h + padding), padding + c * (w + padding)
        out[:, top:top + h, left:left + w] = x[i]
    return out


def png_bytes(image: Any, compress_level: int = 1) -> bytes:
    """One ``(3, H, W)`` image -> PNG bytes. ``compress_level=1`` is fast enough for live widgets."""
    img = to_pil(image)
    assert isinstance(img, Image.Image)
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=compress_level)
    return buf.getvalue()


def jpeg_bytes(image: Any, quality: int = 90) -> bytes:
    """One ``(3, H, W)`` image -> JPEG bytes (fastest transport for live previews)."""
    img = to_pil(image)
    assert isinstance(img, Image.Image)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def show(images: Any, nrow: int | None = None, scale: float | None = None, padding: int = 2) -> Image.Image:
    """Show images inline in Jupyter (as a grid) and return the PIL image.

    Outside Jupyter nothing is displayed; the returned PIL image can be saved.

    Args:
        images: ``(N, 3, H, W)`` or ``(3, H, W)`` in [0, 1].
        nrow: images per row.
        scale: display scale; by default small images are enlarged to about 96 px per tile.

    Example:
        >>> show(torch.rand(4, 3, 32, 32), nrow=4, scale=1).size
        (138, 36)
    """
    x, _ = as_batched_images(images)
    if scale is None:
        scale = max(1.0, 96 / max(x.shape[-2:]))
    img = to_pil(grid(x, nrow=nrow, padding=padding), scale=scale)
    assert isinstance(img, Image.Image)
    _display(img)
    return img


def _display(obj: Any) -> None:
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return
    if get_ipython() is not None:
        display(obj)
