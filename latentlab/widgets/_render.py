"""The work behind the widgets, as plain functions tested without a browser.

Widgets only hold state and wire events; everything here turns state into
latents and latents into image bytes:

* :func:`render_bytes` decodes one latent and encodes it for an ``ipywidgets.Image``;
* :func:`combine` adds strength-weighted direction vectors to a base latent;
* :func:`pad_weights` turns a point on the blend pad into blend weights.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import torch

from .._checks import as_batched_latents, to_tensor
from ..directions.model import Direction
from ..errors import InvalidValueError, ShapeError
from ..generators.base import Generator
from ..render import jpeg_bytes, png_bytes
from ..spaces import LatentSpace

__all__ = ["ImageFormat", "decode_one", "render_bytes", "combine", "direction_vectors", "pad_weights", "pad_corners"]

ImageFormat = Literal["jpeg", "png"]


def decode_one(
    gen: Generator, latent: torch.Tensor, space: LatentSpace, *, preview: bool = False, **step_options: Any
) -> torch.Tensor:
    """Decode one latent ``(*space.shape)`` to one image ``(3, H, W)`` in [0, 1].

    With ``preview=True`` a generator that declares the ``"preview"`` capability renders
    with its cheaper ``gen.preview(latents, space=)``; other generators decode as usual.
    ``step_options`` (``progress=``, ``cancel=`` of slow, step-by-step generators such as
    diffusion pipelines) are passed on when given.
    """
    z = latent.unsqueeze(0)
    options = {k: v for k, v in step_options.items() if v is not None}
    if preview and gen.can("preview"):
        images = gen.preview(z, space=space, **options)
    else:
        images = gen.decode(z, space=space, **options)
    return images[0]


def render_bytes(
    gen: Generator,
    latent: torch.Tensor,
    space: LatentSpace,
    *,
    size: tuple[int, int],
    fmt: ImageFormat = "jpeg",
    quality: int = 90,
    preview: bool = False,
    **step_options: Any,
) -> bytes:
    """Decode one latent and encode it at display ``size`` for an ``ipywidgets.Image``.

    Args:
        gen: the generator.
        latent: ``(*space.shape)`` latent.
        space: its space.
        size: ``(H, W)`` of the encoded image (see :func:`latentlab.render.fit_size`); a preview is half that.
        fmt: ``"jpeg"`` (fastest) or ``"png"`` (lossless, ``compress_level=1``).
        quality: JPEG quality (a preview uses at most 75).
        preview: cheaper render while a slider is being dragged.
        **step_options: ``progress=`` / ``cancel=`` for slow generators (see :func:`decode_one`).

    Returns:
        The encoded image bytes.

    Example:
        >>> import latentlab as ll
        >>> gen = ll.load("digits")
        >>> data = render_bytes(gen, gen.sample(1, seed=0)[0], gen.default_space, size=(64, 64))
        >>> data[:2] == b"\\xff\\xd8"   # a JPEG
        True
    """
    image = decode_one(gen, latent, space, preview=preview, **step_options)
    h, w = size
    if preview:
        h, w, quality = max(1, h // 2), max(1, w // 2), min(quality, 75)
    if fmt == "jpeg":
        return jpeg_bytes(image, quality=quality, size=(h, w))
    if fmt == "png":
        return png_bytes(image, compress_level=1, size=(h, w))
    raise InvalidValueError(
        "unknown image format",
        expected="'jpeg' or 'png'",
        got=repr(fmt),
        fix="use fmt='jpeg' for speed or fmt='png' for exact pixels",
    )


def direction_vectors(directions: Sequence[Any], space: LatentSpace) -> torch.Tensor:
    """Check directions against ``space`` and stack their vectors into ``(K, *space.shape)``.

    A direction is a :class:`latentlab.directions.Direction` (its own ``check_compatible``
    decides; its main ``vector`` is used) or a plain tensor of shape ``space.shape``.

    Example:
        >>> from latentlab.spaces import LatentSpace
        >>> s = LatentSpace("z", (4,), model="m")
        >>> direction_vectors([torch.eye(4)[0], torch.eye(4)[1]], s).shape
        torch.Size([2, 4])
    """
    vectors = []
    for i, d in enumerate(directions):
        if isinstance(d, Direction):
            d.check_compatible(space)  # another model or space: a clear error
            d = d.lift(space)  # a direction of one part (e.g. the prompt) of joint latents moves only that part
            v = to_tensor(d.vector, name=f"direction {d.name!r}").float()
        else:
            v = to_tensor(d, name=f"direction {i}").float()
            space.check(
                v, f"direction {i}", batch="none", fix="find directions with this generator (ll.directions.pca(gen))"
            )
        vectors.append(v.detach().cpu())
    if not vectors:
        return torch.zeros((0, *space.shape))
    return torch.stack(vectors)


def combine(base: torch.Tensor, vectors: torch.Tensor, strengths: Sequence[float]) -> torch.Tensor:
    """``base + sum_k strengths[k] * vectors[k]``: one latent edited along K directions.

    Args:
        base: ``(*shape)`` latent.
        vectors: ``(K, *shape)`` direction vectors.
        strengths: ``K`` numbers.

    Returns:
        ``(*shape)`` latent.

    Example:
        >>> combine(torch.zeros(3), torch.eye(3)[:2], [2.0, -1.0])
        tensor([ 2., -1.,  0.])
    """
    if len(strengths) != vectors.shape[0]:
        raise ShapeError(
            "one strength per direction is needed",
            expected=vectors.shape[0],
            got=len(strengths),
            fix="pass as many strengths as directions",
        )
    if vectors.shape[0] == 0:
        return base.clone()
    s = torch.tensor([float(x) for x in strengths], dtype=base.dtype, device=base.device)
    return base + torch.tensordot(s, vectors.to(base.device, base.dtype), dims=1)


def pad_corners(k: int) -> torch.Tensor:
    """Corner positions ``(k, 2)`` in the unit square for a ``k``-way blend pad (3 or 4 corners).

    Three corners make a triangle (top-left, top-right, bottom-centre); four make the square.

    Example:
        >>> pad_corners(4).tolist()
        [[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]
    """
    if k == 3:
        return torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.5, 1.0]])
    if k == 4:
        return torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    raise InvalidValueError(
        "a blend pad blends 3 or 4 latents",
        expected="3 or 4 latents",
        got=k,
        fix="pass latents of shape (3, *space.shape) or (4, *space.shape)",
    )


def pad_weights(x: float, y: float, k: int) -> torch.Tensor:
    """Blend weights ``(k,)`` (non-negative, summing to 1) for the point ``(x, y)`` of the pad.

    ``x`` grows to the right and ``y`` downwards, both in ``[0, 1]`` (clamped). Four corners
    use bilinear weights; three use barycentric weights of the triangle of :func:`pad_corners`
    (a point outside it is projected onto it). At a corner, that corner's weight is 1.

    Example:
        >>> pad_weights(0.0, 0.0, 4).tolist()
        [1.0, 0.0, 0.0, 0.0]
        >>> pad_weights(0.5, 1.0, 3).tolist()
        [0.0, 0.0, 1.0]
    """
    if not (math.isfinite(x) and math.isfinite(y)):
        raise InvalidValueError(
            "pad position must be finite", expected="x, y in [0, 1]", got=(x, y), fix="pass numbers between 0 and 1"
        )
    x, y = min(max(float(x), 0.0), 1.0), min(max(float(y), 0.0), 1.0)
    if k == 4:
        return torch.tensor([(1 - x) * (1 - y), x * (1 - y), (1 - x) * y, x * y])
    corners = pad_corners(k)
    # barycentric coordinates of (x, y) in the triangle, clamped to it
    a, b, c = corners
    v0, v1, p = b - a, c - a, torch.tensor([x, y]) - a
    d00, d01, d11 = v0 @ v0, v0 @ v1, v1 @ v1
    d20, d21 = p @ v0, p @ v1
    denom = d00 * d11 - d01 * d01
    wb = (d11 * d20 - d01 * d21) / denom
    wc = (d00 * d21 - d01 * d20) / denom
    w = torch.stack([1 - wb - wc, wb, wc]).clamp(min=0)
    return w / w.sum()


def check_latents(
    latents: Any, space: LatentSpace, *, count: tuple[int, ...] | None = None, name: str = "latents"
) -> torch.Tensor:
    """Check a batch ``(N, *space.shape)`` of latents (``N`` in ``count`` when given); return it on the CPU."""
    z, _ = as_batched_latents(latents, space, name=name)
    if count is not None and z.shape[0] not in count:
        raise ShapeError(
            f"wrong number of {name}",
            expected=" or ".join(map(str, count)),
            got=z.shape[0],
            fix=f"pass a batch of shape ({count[0]}, {', '.join(map(str, space.shape))})",
        )
    return z.detach().float().cpu()
