"""Input checks and conversions shared by every module (a leaf: imports only errors/spaces)."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import torch

from .errors import InvalidValueError, ShapeError, shape_str
from .spaces import LatentSpace

__all__ = ["to_tensor", "check_finite", "as_batched_latents", "as_batched_images", "shape_str"]


def to_tensor(x: Any, *, name: str = "input") -> torch.Tensor:
    """Return ``x`` as a torch tensor (numpy arrays and sequences are converted, not copied when possible)."""
    if isinstance(x, torch.Tensor):
        return x
    if isinstance(x, np.ndarray):
        if x.dtype == np.float64:
            return torch.from_numpy(np.ascontiguousarray(x)).float()
        return torch.from_numpy(np.ascontiguousarray(x))
    try:
        return torch.as_tensor(np.asarray(x, dtype=np.float32))
    except (TypeError, ValueError) as exc:
        raise InvalidValueError(
            f"{name} cannot be turned into a tensor",
            expected="a torch.Tensor, a numpy array or a nested list of numbers",
            got=type(x).__name__,
            fix="pass a tensor such as gen.sample(4)",
        ) from exc


def check_finite(t: torch.Tensor, *, name: str = "input") -> torch.Tensor:
    """Raise :class:`InvalidValueError` if ``t`` holds NaN or inf; return ``t``."""
    # A finite sum proves every value finite (NaN/inf propagate) in one pass without a bool
    # tensor (~20x faster than isfinite().all()); only a non-finite sum (or overflow) looks closer.
    if t.is_floating_point() and not _finite_sum(t) and not bool(torch.isfinite(t).all()):
        n_nan = int(torch.isnan(t).sum())
        n_inf = int(torch.isinf(t).sum())
        raise InvalidValueError(
            f"{name} contains non-finite values",
            expected="finite numbers",
            got=f"{n_nan} NaN and {n_inf} inf of {t.numel()} values",
            fix="check the code that produced it (a division by zero or an exploding optimisation?)",
        )
    return t


def _finite_sum(t: torch.Tensor) -> bool:
    return bool(torch.isfinite(t.detach().sum()))


def as_batched_latents(x: Any, space: LatentSpace, *, name: str = "latents") -> tuple[torch.Tensor, bool]:
    """Check latents against ``space`` and return ``(tensor (N, *space.shape), was_batched)``.

    A single latent of shape ``space.shape`` gets a batch dim of 1 and ``was_batched``
    is ``False``, so callers can drop the batch dim again on output.
    """
    t = to_tensor(x, name=name)
    if not t.is_floating_point():
        t = t.float()
    batched = tuple(space.check(t, name).shape) != space.shape
    return check_finite(t if batched else t.unsqueeze(0), name=name), batched


def as_batched_images(
    x: Any, size: tuple[int, int] | None = None, *, name: str = "images"
) -> tuple[torch.Tensor, bool]:
    """Check images and return ``(float tensor (N, 3, H, W) in [0, 1], was_batched)``.

    Accepts ``(3, H, W)`` / ``(N, 3, H, W)`` floats in ``[0, 1]`` and ``uint8`` arrays
    (which are scaled by 1/255). Grayscale ``(N, 1, H, W)`` is repeated to RGB.
    """
    t = to_tensor(x, name=name)
    if t.dtype == torch.uint8:
        t = t.float() / 255.0
    elif not t.is_floating_point():
        t = t.float()
    batched = t.ndim == 4
    if t.ndim == 3:
        t = t.unsqueeze(0)
    if t.ndim != 4 or t.shape[1] not in (1, 3):
        raise ShapeError(
            f"{name} must be channel-first image tensors",
            expected="(N, 3, H, W) or (3, H, W) (or 1 channel for grayscale)",
            got=shape_str(tuple(x.shape) if hasattr(x, "shape") else tuple(t.shape)),
            fix="convert with latentlab.load_images(...) or permute HWC arrays to CHW",
        )
    if t.shape[1] == 1:
        t = t.expand(-1, 3, -1, -1)
    check_finite(t, name=name)
    if size is not None and tuple(t.shape[-2:]) != tuple(size):
        raise ShapeError(
            f"{name} have the wrong size for this model",
            expected=f"(N, 3, {size[0]}, {size[1]})",
            got=shape_str(tuple(t.shape)),
            fix="resize first, or use latentlab.encode(gen, images, fit='contain') which resizes for you",
        )
    lo, hi = (float(v) for v in torch.aminmax(t))
    if lo < -1e-3 or hi > 1 + 1e-3:
        raise InvalidValueError(
            f"{name} must be in [0, 1]",
            expected="floats in [0, 1] (or uint8 in [0, 255])",
            got=f"values in [{lo:.3g}, {hi:.3g}]",
            fix="divide uint8 pixel values by 255, or map [-1, 1] images with (x + 1) / 2",
        )
    return t, batched


def check_int(value: Any, name: str, at_least: int, *, fix: str, message: str | None = None) -> int:
    """``value`` as an ``int`` if it is a whole number ``>= at_least`` (not a bool), else InvalidValueError.

    The one check behind every count, size and step argument (``n``, ``steps``, ``batch_size`` ...).

    Example:
        >>> check_int(3, "steps", 2, fix="pass steps=60")
        3
        >>> check_int(1, "steps", 2, fix="pass steps=60")
        Traceback (most recent call last):
        ...
        latentlab.errors.InvalidValueError: steps must be a whole number >= 2
          expected: steps >= 2
          got:      1
          fix:      pass steps=60
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < at_least:
        raise InvalidValueError(
            message or f"{name} must be a whole number >= {at_least}",
            expected=f"{name} >= {at_least}",
            got=repr(value),
            fix=fix,
        )
    return int(value)
