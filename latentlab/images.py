"""Anything a user has -> ``float (N, 3, H, W)`` images in ``[0, 1]``: :func:`load_images`.

Accepted sources, alone or in a list (mixed freely):

* file paths (``str`` / ``pathlib.Path``; a folder means every image in it, sorted by name);
* PIL images (any mode; EXIF rotation of phone photos is applied);
* numpy arrays, **channel-last** as numpy code writes them: ``(H, W)``, ``(H, W, C)`` or
  ``(N, H, W, C)``, ``uint8`` in ``[0, 255]`` or floats in ``[0, 1]``;
* torch tensors, **channel-first** as torch code writes them: ``(H, W)``, ``(C, H, W)`` or
  ``(N, C, H, W)``, floats in ``[0, 1]`` or ``uint8``.

``C`` may be 1 (gray), 2 (gray + alpha), 3 (RGB) or 4 (RGBA). Gray is repeated to RGB;
alpha is composited onto ``background`` (the model's paper: white for the bundled models)
*before* resizing, so transparent pixels never bleed into the result.

Resizing to ``size`` follows one stated policy, ``fit``:

* ``"contain"`` (default): scale to fit inside ``size`` keeping the aspect ratio, and pad
  the rest with ``background`` (nothing is cut off);
* ``"cover"``: scale to cover ``size`` keeping the aspect ratio, and crop the centre;
* ``"stretch"``: resize to exactly ``size`` (the aspect ratio changes).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

from ._checks import check_finite, shape_str
from .errors import InputImageError, InvalidValueError
from .resample import resize

__all__ = ["load_images", "fit_images", "Fit", "FITS", "IMAGE_SUFFIXES"]

Fit = Literal["contain", "cover", "stretch"]
FITS: tuple[str, ...] = ("contain", "cover", "stretch")
#: File name endings a folder source is scanned for.
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp"})

Background = float | tuple[float, float, float]


def load_images(
    source: Any,
    size: int | tuple[int, int] | None = None,
    fit: Fit = "contain",
    background: Background = 1.0,
) -> torch.Tensor:
    """Turn paths, PIL images, numpy arrays or tensors into ``(N, 3, H, W)`` floats in ``[0, 1]``.

    Args:
        source: one image or a list of images (see the module docstring for every accepted
            kind and layout). A batch array/tensor counts as its ``N`` images.
        size: ``(H, W)`` (or one int for a square) to resize every image to, e.g.
            ``gen.image_size``. ``None`` keeps the sizes, which must then all agree.
        fit: ``"contain"`` (pad), ``"cover"`` (crop) or ``"stretch"``; see the module docstring.
        background: paper colour in ``[0, 1]`` (one gray value or an RGB triple) used for
            alpha compositing and ``"contain"`` padding. ``1.0`` is white paper.

    Returns:
        ``float32 (N, 3, H, W)`` in ``[0, 1]``; on the device of a single tensor source,
        otherwise on the CPU. A single contiguous ``float32 (N, 3, H, W)`` tensor already in
        ``[0, 1]`` and at ``size`` is checked and returned as it is (not copied).

    Example:
        >>> import numpy as np
        >>> ink = np.zeros((20, 10), dtype=np.uint8)          # a black 20x10 gray image
        >>> x = load_images(ink, size=32, fit="contain")      # padded with white paper
        >>> tuple(x.shape), float(x[0, 0, 16, 0]), float(x[0, 0, 16, 16])
        ((1, 3, 32, 32), 1.0, 0.0)
    """
    if fit not in FITS:
        raise InvalidValueError(
            "unknown fit policy",
            expected=" or ".join(repr(f) for f in FITS),
            got=repr(fit),
            fix="use fit='contain' to pad, 'cover' to crop or 'stretch' to squash",
        )
    bg = _background_rgb(background)
    target = _as_size(size)
    ready = _ready_tensor(source, target)
    if ready is not None:
        return ready
    batches = [_to_rgba_batch(item, label) for item, label in _items(source)]
    device = batches[0].device if len(batches) == 1 else torch.device("cpu")
    rgb = [fit_images(_composite(b, bg), target, fit, bg) if target else _composite(b, bg) for b in batches]
    sizes = {tuple(b.shape[-2:]) for b in rgb}
    if len(sizes) > 1:
        raise InputImageError(
            "images of different sizes cannot be stacked without a target size",
            expected="images of one size, or size=(H, W)",
            got="sizes " + ", ".join(f"{h}x{w}" for h, w in sorted(sizes)),
            fix="pass size=gen.image_size (latentlab.encode does this for you)",
        )
    return torch.cat([b.to(device) for b in rgb]).contiguous()


def fit_images(
    images: torch.Tensor, size: tuple[int, int], fit: Fit = "contain", background: Background = 1.0
) -> torch.Tensor:
    """Resize ``(N, C, h, w)`` float images to ``(N, C, *size)`` with the ``fit`` policy.

    Downscaling is antialiased; padding (``"contain"``) uses ``background`` (a gray value,
    or an RGB triple when ``C == 3``). Masks resize with the same call, so they stay aligned.

    Example:
        >>> fit_images(torch.zeros(2, 1, 10, 20), (8, 8), "contain").shape
        torch.Size([2, 1, 8, 8])
    """
    h, w = images.shape[-2:]
    th, tw = size
    if (h, w) == (th, tw):
        return images
    if fit == "stretch":
        return resize(images, (th, tw), mode="bilinear")
    scale = min(th / h, tw / w) if fit == "contain" else max(th / h, tw / w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    if fit == "cover":
        nh, nw = max(nh, th), max(nw, tw)
    resized = resize(images, (nh, nw), mode="bilinear")
    if fit == "cover":
        top, left = (nh - th) // 2, (nw - tw) // 2
        return resized[..., top : top + th, left : left + tw]
    fill = _fill(images, background)
    out = fill.expand(images.shape[0], -1, th, tw).clone()
    top, left = (th - nh) // 2, (tw - nw) // 2
    out[..., top : top + nh, left : left + nw] = resized
    return out


# -- sources -> RGBA batches ----------------------------------------------------------------------


def _items(source: Any) -> list[tuple[Any, str]]:
    """Flatten ``source`` into ``(item, label)`` pairs; a folder becomes its image files."""
    if isinstance(source, (str, Path)) and Path(source).is_dir():
        files = sorted(p for p in Path(source).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise InputImageError(
                f"folder {source} holds no images",
                expected=f"files ending in {sorted(IMAGE_SUFFIXES)}",
                got="none",
                fix="point at the image files or another folder",
            )
        return [(f, str(f)) for f in files]
    if isinstance(source, (list, tuple)):
        if not source:
            raise InputImageError(
                "no images were given",
                expected="at least one image",
                got="an empty list",
                fix="pass a path, a PIL image, an array or a tensor",
            )
        return [(item, f"images[{i}]") for i, item in enumerate(source)]
    return [(source, "images")]


def _to_rgba_batch(item: Any, label: str) -> torch.Tensor:
    """One source item -> ``float32 (N, 4, H, W)`` straight (not premultiplied) RGBA in [0, 1]."""
    if isinstance(item, (str, Path)):
        return _from_pil(_open(Path(item)), str(item))
    if isinstance(item, Image.Image):
        return _from_pil(item, label)
    if isinstance(item, np.ndarray):
        return _from_array(item, label)
    if isinstance(item, torch.Tensor):
        return _from_tensor(item, label)
    raise InputImageError(
        f"{label} is not an image latentlab can read",
        expected="a file path, a PIL image, a numpy array (H, W[, C]) or a tensor ([N, ]C, H, W)",
        got=type(item).__name__,
        fix="open it first (e.g. PIL.Image.open(path)) or pass its path",
    )


def _open(path: Path) -> Image.Image:
    try:
        with Image.open(path) as img:
            img.load()
            return ImageOps.exif_transpose(img) or img
    except FileNotFoundError as exc:
        raise InputImageError(
            f"image file {path} does not exist",
            expected="an existing image file",
            got=str(path),
            fix="check the path (relative paths start at the current folder)",
        ) from exc
    except (UnidentifiedImageError, OSError) as exc:
        raise InputImageError(
            f"cannot read {path} as an image",
            expected="a PNG, JPEG, GIF, BMP, TIFF or WebP file",
            got=f"{type(exc).__name__}: {exc}",
            fix="open the file in an image viewer, or re-save it as PNG",
        ) from exc


def _ready_tensor(source: Any, target: tuple[int, int] | None) -> torch.Tensor | None:
    """``source`` itself when it is already the result: one contiguous float32 ``(N, 3, H, W)``
    tensor at ``target`` with values in [0, 1] (after the same checks); else ``None``.

    The general path would rebuild it bit for bit (opaque alpha composites to the same RGB)
    through an RGBA copy; this checks finiteness and range in one ``aminmax`` pass instead.
    """
    if not (
        isinstance(source, torch.Tensor)
        and source.dtype == torch.float32
        and source.ndim == 4
        and source.shape[1] == 3
        and source.numel() > 0
        and source.is_contiguous()
        and (target is None or tuple(source.shape[-2:]) == target)
    ):
        return None
    lo, hi = (float(v) for v in torch.aminmax(source.detach()))
    if not (lo >= 0.0 and hi <= 1.0):  # NaN, inf, out of range, or within the clamp tolerance
        return None  # the general path raises its errors or clamps
    return source.detach() if source.requires_grad else source


def _from_pil(img: Image.Image, label: str) -> torch.Tensor:
    if img.width == 0 or img.height == 0:
        raise _empty(label, f"a {img.width}x{img.height} PIL image")
    if img.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        arr = np.asarray(img, dtype=np.float32)
        arr = arr / 65535.0 if img.mode != "F" else arr  # 16-bit gray; "F" is taken as [0, 1] already
        return _from_array(arr, label)
    if img.mode == "P" or img.mode not in ("L", "LA", "RGB", "RGBA"):
        has_alpha = "transparency" in img.info or img.mode in ("PA", "La", "RGBa")
        img = img.convert("RGBA" if has_alpha else "RGB")
    return _from_array(np.array(img), label)  # a writable copy: torch warns on read-only buffers


def _from_array(arr: np.ndarray, label: str) -> torch.Tensor:
    """Channel-last numpy ``(H, W)``, ``(H, W, C)`` or ``(N, H, W, C)`` -> RGBA ``(N, 4, H, W)``."""
    if arr.ndim == 2:
        arr = arr[None, :, :, None]
    elif arr.ndim == 3 and arr.shape[-1] in (1, 2, 3, 4):
        arr = arr[None]
    elif not (arr.ndim == 4 and arr.shape[-1] in (1, 2, 3, 4)):
        raise InputImageError(
            f"{label} has a shape latentlab cannot read as images",
            expected="numpy (H, W), (H, W, C) or (N, H, W, C) with C in 1, 2, 3, 4 (channel-last)",
            got=shape_str(arr.shape),
            fix="for channel-first data use a torch tensor (torch.from_numpy(a)), or move channels last "
            "with a.transpose(1, 2, 0)",
        )
    arr = np.ascontiguousarray(arr) if arr.flags.writeable else arr.copy()
    return _to_rgba(torch.from_numpy(arr).permute(0, 3, 1, 2), label)


def _from_tensor(t: torch.Tensor, label: str) -> torch.Tensor:
    """Channel-first tensor ``(H, W)``, ``(C, H, W)`` or ``(N, C, H, W)`` -> RGBA ``(N, 4, H, W)``."""
    original = tuple(t.shape)
    t = t.detach()
    if t.ndim == 2:
        t = t[None, None]
    elif t.ndim == 3:
        t = t[None]
    if t.ndim != 4 or t.shape[1] not in (1, 2, 3, 4):
        raise InputImageError(
            f"{label} has a shape latentlab cannot read as images",
            expected="tensor (H, W), (C, H, W) or (N, C, H, W) with C in 1, 2, 3, 4 (channel-first)",
            got=shape_str(original),
            fix="for channel-last data permute first (t.permute(2, 0, 1)) or pass it as a numpy array",
        )
    return _to_rgba(t, label)


def _to_rgba(t: torch.Tensor, label: str) -> torch.Tensor:
    """``(N, C, H, W)`` of any numeric dtype -> float32 RGBA in [0, 1], checked."""
    if t.numel() == 0:
        raise _empty(label, shape_str(tuple(t.shape)))
    if t.dtype == torch.uint8:
        x = t.float() / 255.0
    elif t.dtype == torch.bool:
        x = t.float()
    elif t.is_floating_point():
        x = check_finite(t.float(), name=label)
        lo, hi = float(x.min()), float(x.max())
        if lo < -1e-3 or hi > 1 + 1e-3:
            raise InvalidValueError(
                f"{label} must hold values in [0, 1]",
                expected="floats in [0, 1] or uint8 in [0, 255]",
                got=f"values in [{lo:.3g}, {hi:.3g}]",
                fix="divide 8-bit pixel values by 255, or map [-1, 1] images with (x + 1) / 2",
            )
        x = x.clamp(0, 1)
    else:
        raise InputImageError(
            f"{label} has an integer type other than uint8",
            expected="uint8 or float images",
            got=str(t.dtype).replace("torch.", ""),
            fix="convert with .astype(np.uint8) or .float() / max_value",
        )
    c = x.shape[1]
    rgb = x[:, :1].expand(-1, 3, -1, -1) if c in (1, 2) else x[:, :3]
    alpha = x[:, -1:] if c in (2, 4) else torch.ones_like(x[:, :1])
    return torch.cat([rgb, alpha], 1)


def _empty(label: str, got: str) -> InputImageError:
    return InputImageError(
        f"{label} is empty",
        expected="an image at least 1x1 pixel",
        got=got,
        fix="check the file or the crop that produced it",
    )


# -- compositing and resizing ----------------------------------------------------------------------


def _composite(rgba: torch.Tensor, background: tuple[float, float, float]) -> torch.Tensor:
    """Straight RGBA ``(N, 4, H, W)`` over an opaque ``background`` -> RGB ``(N, 3, H, W)``."""
    rgb, alpha = rgba[:, :3], rgba[:, 3:]
    bg = torch.tensor(background, dtype=rgba.dtype, device=rgba.device).view(1, 3, 1, 1)
    return rgb * alpha + bg * (1 - alpha)


def _fill(images: torch.Tensor, background: Background) -> torch.Tensor:
    c = images.shape[1]
    values = list(_background_rgb(background)) if c == 3 else [_gray(background)] * c
    return torch.tensor(values, dtype=images.dtype, device=images.device).view(1, c, 1, 1)


def _gray(background: Background) -> float:
    return float(background) if isinstance(background, (int, float)) else float(np.mean(background))


def _background_rgb(background: Background) -> tuple[float, float, float]:
    values = [float(background)] * 3 if isinstance(background, (int, float)) else [float(v) for v in background]
    if len(values) != 3 or not all(0.0 <= v <= 1.0 for v in values):
        raise InvalidValueError(
            "background must be a paper colour in [0, 1]",
            expected="one gray value or an (r, g, b) triple in [0, 1]",
            got=repr(background),
            fix="use 1.0 for white paper, 0.0 for black, or e.g. (1.0, 0.95, 0.9)",
        )
    return values[0], values[1], values[2]


def _as_size(size: int | Sequence[int] | None) -> tuple[int, int] | None:
    if size is None:
        return None
    pair = (size, size) if isinstance(size, (int, np.integer)) else tuple(size)
    if len(pair) != 2 or not all(isinstance(s, (int, np.integer)) and s >= 1 for s in pair):
        raise InvalidValueError(
            "size must be a positive (H, W)",
            expected="an int or (H, W), e.g. gen.image_size",
            got=repr(size),
            fix="pass size=gen.image_size",
        )
    return int(pair[0]), int(pair[1])
