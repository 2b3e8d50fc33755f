"""The one image resize of latentlab: ``(N, C, H, W)`` in ``[0, 1]`` to a new size, antialiased when shrinking.

A leaf module (torch only). :func:`latentlab.render.resize` (frames, bicubic) and image loading
(:func:`latentlab.images.fit_images`, bilinear, as the models were trained) both call it.

Example:
    >>> import torch
    >>> resize(torch.rand(2, 3, 32, 32), (16, 8)).shape
    torch.Size([2, 3, 16, 8])
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F

__all__ = ["Mode", "resize"]

Mode = Literal["bicubic", "bilinear"]


def resize(images: torch.Tensor, size: tuple[int, int], mode: Mode = "bicubic") -> torch.Tensor:
    """Resize a batch ``(N, C, H, W)`` in ``[0, 1]`` to ``(N, C, *size)``, in its dtype, clamped to ``[0, 1]``.

    Shrinking is antialiased (no aliasing of thin strokes); an image already at ``size`` is
    returned unchanged.
    """
    size = (int(size[0]), int(size[1]))
    if tuple(images.shape[-2:]) == size:
        return images
    shrink = size[0] < images.shape[-2] or size[1] < images.shape[-1]
    out = F.interpolate(images.float(), size=size, mode=mode, align_corners=False, antialias=shrink)
    return out.clamp_(0, 1).to(images.dtype)
