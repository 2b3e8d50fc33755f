"""Image measures: one number per image, for response curves and entanglement tables.

Every measure takes images ``(N, 3, H, W)`` (or one ``(3, H, W)``) float in ``[0, 1]`` and
returns a float tensor ``(N,)`` (a 0-d tensor for one image). Images are read as
*dark ink on light paper* (the convention of ``digits`` and ``glyphs``): the ink of a
pixel is ``1 - luminance``. All measures are smooth in the pixel values (no
thresholds), so they change gradually along a direction.

General measures: :func:`brightness`, :func:`contrast`, :func:`ink_coverage`,
:func:`centroid_x`, :func:`centroid_y`. Shape measures (written for glyphs, valid for
any ink drawing): :func:`slant`, :func:`width`, :func:`height`, :func:`stroke_weight`.

Example:
    >>> import torch
    >>> from latentlab import measures
    >>> paper = torch.ones(2, 3, 16, 16)
    >>> paper[1, :, 4:12, 6:10] = 0.0            # a black 8x4 bar on the second image
    >>> measures.ink_coverage(paper)
    tensor([0.0000, 0.1250])
    >>> round(float(measures.width(paper[1])), 3)  # 4 px of 16
    0.25
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from ._checks import as_batched_images
from .errors import InvalidValueError

__all__ = [
    "Measure",
    "MEASURES",
    "get_measure",
    "luminance",
    "ink",
    "brightness",
    "contrast",
    "ink_coverage",
    "centroid_x",
    "centroid_y",
    "slant",
    "width",
    "height",
    "stroke_weight",
]

#: A measure: images ``(N, 3, H, W)`` -> values ``(N,)``.
Measure = Callable[[Any], torch.Tensor]

_EPS = 1e-8
_PIXEL_VAR = 1.0 / 12.0  # variance of a uniform square pixel: makes width/height exact for rectangles


def luminance(images: Any) -> torch.Tensor:
    """Rec. 601 luma of images ``(N, 3, H, W)`` -> ``(N, H, W)`` in ``[0, 1]`` (``(H, W)`` for one image)."""
    x, batched = as_batched_images(images)
    weights = torch.tensor([0.299, 0.587, 0.114], dtype=x.dtype, device=x.device)
    lum = (x * weights.view(1, 3, 1, 1)).sum(1)
    return lum if batched else lum[0]


def ink(images: Any) -> torch.Tensor:
    """Ink per pixel, ``1 - luminance``: ``(N, 3, H, W)`` -> ``(N, H, W)`` (dark ink on light paper)."""
    return 1.0 - luminance(images)


def _per_image(images: Any, fn: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
    """Apply ``fn`` to the ``(N, H, W)`` ink of ``images``; drop the batch dim for one image."""
    x, batched = as_batched_images(images)
    values = fn(ink(x))
    return values if batched else values[0]


def brightness(images: Any) -> torch.Tensor:
    """Mean luminance of each image, ``(N,)`` in ``[0, 1]``."""
    return _per_image(images, lambda k: 1.0 - k.mean((1, 2)))


def contrast(images: Any) -> torch.Tensor:
    """RMS contrast: standard deviation of the luminance of each image, ``(N,)``."""
    return _per_image(images, lambda k: k.flatten(1).std(1, unbiased=False))


def ink_coverage(images: Any) -> torch.Tensor:
    """Mean ink of each image, ``(N,)`` in ``[0, 1]``: the inked fraction of the page (soft, no threshold)."""
    return _per_image(images, lambda k: k.mean((1, 2)))


def _coords(k: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Pixel-centre coordinates ``(x, y)`` in pixels for ``(N, H, W)`` ink; ``y`` points up."""
    h, w = k.shape[-2:]
    ys = -(torch.arange(h, dtype=k.dtype, device=k.device) + 0.5)
    xs = torch.arange(w, dtype=k.dtype, device=k.device) + 0.5
    return xs.view(1, 1, w), ys.view(1, h, 1)


def _moments(k: torch.Tensor) -> dict[str, torch.Tensor]:
    """Ink-weighted means and (co)variances of pixel coordinates, each ``(N,)``."""
    xs, ys = _coords(k)
    mass = k.sum((1, 2)) + _EPS
    mx = (k * xs).sum((1, 2)) / mass
    my = (k * ys).sum((1, 2)) / mass
    dx = xs - mx.view(-1, 1, 1)
    dy = ys - my.view(-1, 1, 1)
    return {
        "mx": mx,
        "my": my,
        "vxx": (k * dx * dx).sum((1, 2)) / mass,
        "vyy": (k * dy * dy).sum((1, 2)) / mass,
        "vxy": (k * dx * dy).sum((1, 2)) / mass,
    }


def centroid_x(images: Any) -> torch.Tensor:
    """Ink-weighted horizontal centre, ``(N,)`` in ``[0, 1]`` of the width (0 = left edge)."""
    return _per_image(images, lambda k: _moments(k)["mx"] / k.shape[-1])


def centroid_y(images: Any) -> torch.Tensor:
    """Ink-weighted vertical centre, ``(N,)`` in ``[0, 1]`` of the height (0 = top edge)."""
    return _per_image(images, lambda k: -_moments(k)["my"] / k.shape[-2])


def slant(images: Any) -> torch.Tensor:
    """Shear of the ink: ``cov(x, y) / var(y)``, ``(N,)``; the tangent of the lean from vertical.

    Positive when the top of the drawing leans right (italic), negative when it leans
    left, 0 for upright or symmetric shapes. A stroke ``x = x0 + s * y`` measures ``s``.
    """

    def shear(k: torch.Tensor) -> torch.Tensor:
        m = _moments(k)
        return m["vxy"] / (m["vyy"] + _EPS)

    return _per_image(images, shear)


def width(images: Any) -> torch.Tensor:
    """Horizontal extent of the ink, ``sqrt(12) * std(x)``, as a fraction of the image width, ``(N,)``.

    Exactly the width of a uniformly inked rectangle; smooth for any drawing.
    """
    return _per_image(images, lambda k: (12.0 * (_moments(k)["vxx"] + _PIXEL_VAR)).sqrt() / k.shape[-1])


def height(images: Any) -> torch.Tensor:
    """Vertical extent of the ink, ``sqrt(12) * std(y)``, as a fraction of the image height, ``(N,)``."""
    return _per_image(images, lambda k: (12.0 * (_moments(k)["vyy"] + _PIXEL_VAR)).sqrt() / k.shape[-2])


def stroke_weight(images: Any) -> torch.Tensor:
    """Mean stroke thickness, ``2 * ink area / ink outline length``, as a fraction of the image height, ``(N,)``.

    For a stroke of width ``w`` and length ``L`` the area is ``w L`` and the outline
    ``2 (L + w)``, so this is ``w`` up to the end caps (``w L / (L + w)``). The outline
    length is the total variation of the ink image (isotropic finite differences).
    """

    def weight(k: torch.Tensor) -> torch.Tensor:
        dx = k[:, :-1, 1:] - k[:, :-1, :-1]
        dy = k[:, 1:, :-1] - k[:, :-1, :-1]
        outline = (dx * dx + dy * dy + _EPS).sqrt().sum((1, 2))
        return 2.0 * k.sum((1, 2)) / (outline + _EPS) / k.shape[-2]

    return _per_image(images, weight)


#: Measures by name (for ``response(..., measure="stroke_weight")``).
MEASURES: dict[str, Measure] = {
    "brightness": brightness,
    "contrast": contrast,
    "ink_coverage": ink_coverage,
    "centroid_x": centroid_x,
    "centroid_y": centroid_y,
    "slant": slant,
    "width": width,
    "height": height,
    "stroke_weight": stroke_weight,
}


def get_measure(measure: str | Measure) -> tuple[str, Measure]:
    """Resolve a measure name (a key of :data:`MEASURES`) or callable to ``(name, function)``.

    Example:
        >>> get_measure("slant")[0]
        'slant'
    """
    if callable(measure):
        return getattr(measure, "__name__", "measure"), measure
    if isinstance(measure, str) and measure in MEASURES:
        return measure, MEASURES[measure]
    raise InvalidValueError(
        f"unknown measure {measure!r}",
        expected=f"one of {sorted(MEASURES)} or a function images (N, 3, H, W) -> (N,)",
        got=repr(measure),
        fix="pass a measure name such as 'ink_coverage', or your own function",
    )
