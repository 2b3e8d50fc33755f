"""Interpolation in latent spaces: lerp, slerp, multi-way blends and analogies.

Two geometries, one word each everywhere (:data:`latentlab.spaces.GEOMETRIES`): ``"linear"``
(:func:`lerp`, straight lines) and ``"spherical"`` (:func:`slerp`, great circles). They name the
``method`` of :func:`interpolate` and :func:`blend` and the ``geometry`` of a path.

Keyframe paths are :class:`latentlab.paths.LatentPath`.

Everything here is batched, differentiable and follows the input's device and dtype.
Shapes use ``(*shape)`` for one latent (``space.shape``, e.g. ``(16,)`` or ``(18, 512)``)
and ``(N, *shape)`` for a batch.

Shape rule for interpolation parameters ``t`` (``lerp``, ``slerp``):

* ``t`` a scalar -> the output has the shape of the inputs, ``(*shape)`` or ``(N, *shape)``;
* ``t`` 1-D of length ``T`` (or ``steps=T``) -> a path, ``(T, *input.shape)``: ``(T, *shape)``
  for one latent and ``(T, N, *shape)`` for a batch (time first, then batch).

``t = 0`` gives ``a`` and ``t = 1`` gives ``b`` exactly (bit for bit).

Why slerp: latents drawn from a standard Gaussian in ``D`` dims have norms close to
``sqrt(D)``. The straight line between two of them passes through norms near
``sqrt(D / 2)`` where the prior has almost no mass, which shows up as washed-out,
average-looking frames in the middle of a morph. slerp walks along the shell instead.

Example:
    >>> import torch
    >>> a, b = torch.randn(4, 16), torch.randn(4, 16)
    >>> slerp(a, b, steps=10).shape            # (T, N, D)
    torch.Size([10, 4, 16])
    >>> torch.equal(slerp(a, b, 1.0), b)
    True
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Literal, cast

import numpy as np
import torch

from ._checks import check_finite, check_int, shape_str, to_tensor
from .errors import InvalidValueError, ShapeError
from .generators.base import Generator
from .spaces import GEOMETRIES, OLD_METHODS, LatentPart, LatentSpace, check_word, map_parts, warn_renamed

__all__ = [
    "EASINGS",
    "METHODS",
    "analogy",
    "blend",
    "ease",
    "interpolate",
    "lerp",
    "slerp",
]

Easing = str | Callable[[torch.Tensor], torch.Tensor]
SlerpNorm = Literal["classic", "linear"]

#: Below this angle (radians) slerp falls back to lerp (the two agree to ~1e-14 there).
PARALLEL_EPS = 1e-7
#: Within this angle of pi, slerp picks the plane of rotation deterministically (see :func:`slerp`).
ANTIPARALLEL_EPS = 1e-7


# --------------------------------------------------------------------------- easing
def _ease_in_out_cubic(t: torch.Tensor) -> torch.Tensor:
    return torch.where(t < 0.5, 4 * t**3, 1 - (2 - 2 * t) ** 3 / 2)


#: Easing functions by name: each maps ``t`` in ``[0, 1]`` to ``[0, 1]`` with ``f(0) = 0``, ``f(1) = 1``.
EASINGS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "linear": lambda t: t,
    "ease-in": lambda t: t * t,
    "ease-out": lambda t: 1 - (1 - t) ** 2,
    "ease-in-out": lambda t: 0.5 - 0.5 * torch.cos(math.pi * t),
    "cubic": _ease_in_out_cubic,
    "smoothstep": lambda t: t * t * (3 - 2 * t),
    "smootherstep": lambda t: t**3 * (t * (6 * t - 15) + 10),
}


def ease(t: Any, easing: Easing = "linear") -> torch.Tensor:
    """Apply an easing function to ``t`` in ``[0, 1]``.

    Args:
        t: scalar or tensor of any shape, values in ``[0, 1]``.
        easing: a name from :data:`EASINGS` (``"linear"``, ``"ease-in"``, ``"ease-out"``,
            ``"ease-in-out"``, ``"cubic"``, ``"smoothstep"``, ``"smootherstep"``) or a callable
            mapping a tensor to a tensor of the same shape with ``f(0) = 0`` and ``f(1) = 1``.

    Returns:
        Tensor of the shape of ``t``; ``0`` and ``1`` are kept exactly.

    Example:
        >>> ease(torch.tensor([0.0, 0.25, 0.5, 1.0]), "ease-in-out")
        tensor([0.0000, 0.1464, 0.5000, 1.0000])
    """
    fn = easing_fn(easing)
    tt = to_tensor(t, name="t")
    if not tt.is_floating_point():
        tt = tt.float()
    out = fn(tt)
    if not isinstance(out, torch.Tensor) or out.shape != tt.shape:
        raise InvalidValueError(
            "a custom easing function must return a tensor of the shape it was given",
            expected=f"a tensor of shape {shape_str(tt.shape)}",
            got=type(out).__name__ if not isinstance(out, torch.Tensor) else shape_str(out.shape),
            fix="write it with torch operations, e.g. easing=lambda t: t ** 2",
        )
    return torch.where(tt == 0, tt, torch.where(tt == 1, tt, out))


def easing_fn(easing: Easing) -> Callable[[torch.Tensor], torch.Tensor]:
    """The easing function for a name of :data:`EASINGS` or a callable (checked to map 0 -> 0 and 1 -> 1)."""
    if callable(easing):
        ends = easing(torch.tensor([0.0, 1.0], dtype=torch.float64))
        if not isinstance(ends, torch.Tensor) or not torch.allclose(ends.double(), _ENDS, atol=1e-6):
            raise InvalidValueError(
                "a custom easing function must map 0 to 0 and 1 to 1",
                expected="f(0) = 0 and f(1) = 1",
                got=f"f([0, 1]) = {ends.tolist() if isinstance(ends, torch.Tensor) else ends!r}",
                fix="rescale it, e.g. lambda t: (g(t) - g(0)) / (g(1) - g(0))",
            )
        return easing
    if easing not in EASINGS:
        raise InvalidValueError(
            f"unknown easing {easing!r}",
            expected=" or ".join(repr(k) for k in EASINGS) + ", or a callable",
            got=repr(easing),
            fix='pass easing="ease-in-out" for the usual slow-in, slow-out morph',
        )
    return EASINGS[easing]


_ENDS = torch.tensor([0.0, 1.0], dtype=torch.float64)


# --------------------------------------------------------------------------- input checks
def _pair(a: Any, b: Any, *, finite_check: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Two latents of the same (or batched vs unbatched) shape, promoted to a common float dtype.

    ``finite_check=False`` skips the NaN/inf pass for callers that detect it themselves (slerp's norms).
    """
    ta, tb = to_tensor(a, name="a"), to_tensor(b, name="b")
    if ta.device != tb.device:
        raise InvalidValueError(
            "a and b are on different devices",
            expected="both on the same device",
            got=f"a on {ta.device}, b on {tb.device}",
            fix="move one of them, e.g. b = b.to(a.device)",
        )
    sa, sb = tuple(ta.shape), tuple(tb.shape)
    if sa != sb and sa != sb[1:] and sb != sa[1:]:
        raise ShapeError(
            "a and b must be latents of the same shape",
            expected=f"b of shape {shape_str(sa)} (or one of them with an extra leading batch dim)",
            got=f"a {shape_str(sa)} and b {shape_str(sb)}",
            fix="decode/sample both from the same space; index a batch with z[i] for one latent",
        )
    if ta.ndim == 0:
        raise ShapeError(
            "a and b must be latent vectors, not scalars",
            expected="(*shape) or (N, *shape)",
            got="()",
            fix="pass tensors such as gen.sample(2)[0]",
        )
    dtype = float_dtype(ta, tb)
    ta, tb = ta.to(dtype), tb.to(dtype)
    if finite_check:
        _check_finite_fast(ta, "a")
        _check_finite_fast(tb, "b")
    if sa != sb:
        shape = torch.broadcast_shapes(ta.shape, tb.shape)
        ta, tb = ta.expand(shape), tb.expand(shape)
    return ta, tb


def _check_finite_fast(t: torch.Tensor, name: str) -> None:
    """NaN/inf check in one cheap pass: any NaN/inf makes the sum non-finite; only then the full check runs."""
    if not bool(torch.isfinite(t.sum())):
        check_finite(t, name=name)


def float_dtype(*tensors: torch.Tensor) -> torch.dtype:
    """The floating dtype to compute in for ``tensors`` (the widest float among them, float32 if none)."""
    floats = [t.dtype for t in tensors if t.is_floating_point()]
    if not floats:
        return torch.float32
    dtype = floats[0]
    for d in floats[1:]:
        dtype = torch.promote_types(dtype, d)
    return dtype


def _resolve_t(t: Any, steps: int | None, device: torch.device) -> tuple[torch.Tensor, bool]:
    """``(t as float64 tensor, is_path)``: 0-d for a scalar, 1-D ``(T,)`` for a path."""
    if (t is None) == (steps is None):
        raise InvalidValueError(
            "give exactly one of t and steps",
            expected="t=0.5 (one point), t=torch.linspace(0, 1, T) or steps=T (a path)",
            got=f"t={'None' if t is None else 'given'}, steps={steps!r}",
            fix="pass steps=60 for a 60-frame path including both endpoints",
        )
    if steps is not None:
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise InvalidValueError(
                "steps must be a positive integer",
                expected="steps >= 2 (1 gives just a)",
                got=repr(steps),
                fix="pass steps=60",
            )
        tt = torch.linspace(0, 1, steps, dtype=torch.float64, device=device)
        if steps > 1:
            tt[-1] = 1.0
        return tt, True
    if isinstance(t, torch.Tensor | np.ndarray):
        tt = to_tensor(t, name="t").to(device=device, dtype=torch.float64)
    else:
        try:
            tt = torch.as_tensor(np.asarray(t, dtype=np.float64), device=device)
        except (TypeError, ValueError) as exc:
            raise InvalidValueError(
                "t must be a number or a 1-D sequence of numbers",
                expected="t=0.5 or t=[0, 0.5, 1]",
                got=type(t).__name__,
                fix="pass steps=T for an evenly spaced path",
            ) from exc
    if tt.ndim > 1:
        raise ShapeError(
            "t must be a scalar or a 1-D tensor of interpolation times",
            expected="() or (T,)",
            got=shape_str(tt.shape),
            fix="flatten it; for per-sample t interpolate one pair at a time or use blend()",
        )
    check_finite(tt, name="t")
    return tt, tt.ndim == 1


def _time_view(tt: torch.Tensor, is_path: bool, ndim: int) -> torch.Tensor:
    """Reshape ``(T,)`` to ``(T, 1, ..., 1)`` so it broadcasts against ``(1, *input.shape)``."""
    return tt.reshape(-1, *([1] * ndim)) if is_path else tt


def _with_exact_endpoints(
    out: torch.Tensor, a: torch.Tensor, b: torch.Tensor, tt: torch.Tensor, is_path: bool
) -> torch.Tensor:
    """Put ``a`` where ``t == 0`` and ``b`` where ``t == 1``, bit for bit."""
    if not is_path:
        return a.clone() if bool(tt == 0) else b.clone() if bool(tt == 1) else out
    at0, at1 = tt == 0, tt == 1
    if bool(at0.any()) or bool(at1.any()):
        out[at0] = a.to(out.dtype)
        out[at1] = b.to(out.dtype)
    return out


# --------------------------------------------------------------------------- lerp / slerp
def lerp(a: Any, b: Any, t: Any = None, *, steps: int | None = None) -> torch.Tensor:
    """Linear interpolation ``a + t (b - a)``, batched, with exact endpoints.

    Right for spaces without a Gaussian prior (StyleGAN ``w``, encoder outputs).
    For Gaussian ``z`` latents prefer :func:`slerp` (see the module docstring).

    Args:
        a: ``(*shape)`` or ``(N, *shape)``; tensor, numpy array or nested list.
        b: same shape as ``a`` (one of the two may lack the batch dim; it is broadcast).
        t: scalar, or 1-D ``(T,)`` of times (values outside ``[0, 1]`` extrapolate).
        steps: instead of ``t``: ``T`` evenly spaced times from 0 to 1, both included.

    Returns:
        Scalar ``t``: the shape of the inputs. 1-D ``t`` or ``steps=T``: ``(T, *input.shape)``,
        i.e. ``(T, *shape)`` or ``(T, N, *shape)``. Input dtype (promoted) and device.

    Example:
        >>> lerp(torch.zeros(3), torch.ones(3), steps=3)
        tensor([[0.0000, 0.0000, 0.0000],
                [0.5000, 0.5000, 0.5000],
                [1.0000, 1.0000, 1.0000]])
    """
    ta, tb = _pair(a, b)
    tt, is_path = _resolve_t(t, steps, ta.device)
    work = torch.promote_types(ta.dtype, torch.float32)
    tv = _time_view(tt, is_path, ta.ndim).to(work)
    x, y = ta.to(work), tb.to(work)
    out = torch.lerp(x, y, tv) if tv.ndim == 0 else x + tv * (y - x)
    return _with_exact_endpoints(out.to(ta.dtype), ta, tb, tt, is_path)


def slerp(
    a: Any,
    b: Any,
    t: Any = None,
    *,
    steps: int | None = None,
    per_row: bool = True,
    norm: SlerpNorm = "classic",
    space: LatentSpace | None = None,
) -> torch.Tensor:
    """Spherical linear interpolation, per sample (or per row), robust and batched.

    One angle per row of the last dim (``per_row=True``: per sample of ``(N, D)`` latents and
    per row of ``(N, L, D)`` W+ codes) or per whole sample (``per_row=False``); never one angle
    for the whole batch.

    Precision: the dot products are summed in the working precision (float32, or float64 for
    float64 inputs) in cache-sized chunks; angles and weights are computed in float64 as
    ``theta = 2 atan2(|u_a - u_b|, |u_a + u_b|)``; the result is formed in the working precision.
    Pairs within 0.25 rad of anti-parallel, where ``w0 a + w1 b`` cancels, are recomputed entirely
    in float64. Float32 results agree with a float64 reference to about 1e-6 relative.

    Edge cases:
        * nearly parallel inputs (angle < 1e-7 rad) fall back to lerp;
        * anti-parallel inputs (angle within 1e-7 of pi) have no unique great circle; the
          plane is picked deterministically: it contains ``a`` and the unit coordinate axis
          ``e_i`` on which ``|a_i|`` is smallest (first such ``i``), orthogonalised against ``a``.
          ``slerp(a, b, t)`` and ``slerp(b, a, 1 - t)`` take the same route;
        * a zero vector or NaN/inf raises :class:`~latentlab.errors.InvalidValueError`.

    Args:
        a: ``(*shape)`` or ``(N, *shape)``.
        b: same shape as ``a`` (one of them may lack the batch dim).
        t: scalar or 1-D ``(T,)``; see :func:`lerp`.
        steps: instead of ``t``: ``T`` evenly spaced times including both endpoints.
        per_row: angle over the last dim (default) or over each whole sample.
        norm: ``"classic"``: Shoemake's ``sin((1-t)θ)/sinθ a + sin(tθ)/sinθ b`` (keeps the norm
            for equal-norm inputs); ``"linear"``: the direction moves on the great circle and the
            norm goes linearly from ``|a|`` to ``|b|`` (norm-aware, for Gaussian priors).
        space: with ``per_row=False``, the space whose ``shape`` tells sample dims from batch
            dims. Without it, inputs of 2 or more dims are read as ``(N, *shape)``. A space made
            of parts (``joint`` noise + prompt latents) gets one angle per part.

    Returns:
        Same shape rule as :func:`lerp`: the input shape for scalar ``t``, ``(T, *input.shape)``
        for a path. Input dtype (promoted; float16/bfloat16 are computed in float32) and device.

    Example:
        >>> a, b = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
        >>> slerp(a, b, 0.5)
        tensor([0.7071, 0.7071])
        >>> slerp(torch.randn(5, 18, 8), torch.randn(5, 18, 8), steps=4).shape   # W+ codes
        torch.Size([4, 5, 18, 8])
    """
    ta, tb = _pair(a, b, finite_check=False)  # NaN/inf surface in the norms of _slerp_geometry
    if norm not in ("classic", "linear"):
        raise InvalidValueError(
            f"unknown slerp norm mode {norm!r}",
            expected="'classic' or 'linear'",
            got=repr(norm),
            fix="use norm='linear' to interpolate the norm linearly",
        )
    tt, is_path = _resolve_t(t, steps, ta.device)
    if space is not None and space.parts:  # one angle per part: never one across noise and prompt
        return map_parts(space, lambda _, x, y: slerp(x, y, tt, norm=norm), ta, tb)
    dims = _sample_dims(ta, per_row, space)
    tv = _time_view(tt, is_path, ta.ndim)
    out = slerp_core(ta, tb, tv, dims, norm)
    return _with_exact_endpoints(out.to(ta.dtype), ta, tb, tt, is_path)


def _sample_dims(x: torch.Tensor, per_row: bool, space: LatentSpace | None) -> tuple[int, ...]:
    """The dims one angle / norm is computed over (negative indices)."""
    if per_row:
        return (-1,)
    if space is not None:
        space.check(x, fix="pass latents from this space, or leave space out")
        return tuple(range(-len(space.shape), 0))
    k = x.ndim - 1 if x.ndim >= 2 else 1
    return tuple(range(-k, 0))


def vector_norm(x: torch.Tensor, dims: tuple[int, ...]) -> torch.Tensor:
    """Euclidean norm of ``x`` over ``dims`` (the sample dims), kept for broadcasting."""
    return torch.linalg.vector_norm(x, dim=dims, keepdim=True)


def check_nonzero(n: torch.Tensor, name: str) -> None:
    """Raise :class:`~latentlab.errors.InvalidValueError` if any norm in ``n`` is zero (slerp has no direction)."""
    zero = ~(n > 0)
    if bool(zero.any()):
        raise InvalidValueError(
            f"slerp needs non-zero vectors but {name} has {int(zero.sum())} zero vector(s)",
            expected="latents with a non-zero norm (a direction to rotate)",
            got=f"{int(zero.sum())} of {zero.numel()} rows with norm 0",
            fix="use lerp() for paths through the origin, or drop the zero latents",
        )


#: Pairs closer than this to anti-parallel (radians) are recomputed entirely in float64: there
#: ``w0 a + w1 b`` cancels terms of size ``1 / sin(theta)`` and working precision is not enough.
#: (Random high-dimensional latents are practically never this close, so this costs nothing there.)
_HARD_EPS = 0.25


#: Elements per chunk of rows when reducing (fits in cache, so ``a`` and ``b`` are read once).
_CHUNK_ELEMENTS = 1 << 16


def _dot_products(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``(rows, 3)``: ``|x|^2``, ``|y|^2`` and ``x . y`` per row."""
    return torch.stack([torch.linalg.vecdot(x, x), torch.linalg.vecdot(y, y), torch.linalg.vecdot(x, y)], dim=-1)


def _slerp_geometry(
    a: torch.Tensor, b: torch.Tensor, dims: tuple[int, ...]
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Float64 norms of ``a`` and ``b`` and the angle between them, shaped like ``a`` with ``dims`` kept as 1.

    The three dot products per row are accumulated in the working precision (float32 or float64,
    SIMD-blocked sums: about 3e-8 error in the cosine for float32); the angle is then computed in
    float64. NaN/inf in the inputs shows up in the norms and raises :class:`InvalidValueError` here.
    """
    work = torch.promote_types(a.dtype, torch.float32)
    start = a.ndim - len(dims)
    x, y = a.to(work).reshape(-1, math.prod(a.shape[start:])), b.to(work).reshape(-1, math.prod(a.shape[start:]))
    step = max(1, _CHUNK_ELEMENTS // max(1, x.shape[1]))  # cache-sized chunks: one read of a and b
    sums = torch.cat([_dot_products(x[i : i + step], y[i : i + step]) for i in range(0, x.shape[0], step)])
    keep = (*a.shape[:start], *([1] * len(dims)))
    na2, nb2, dot = (sums[:, k].double().reshape(keep) for k in range(3))
    if not bool(torch.isfinite(na2).all() and torch.isfinite(nb2).all()):
        check_finite(a, name="a")
        check_finite(b, name="b")
        raise InvalidValueError(
            "latents are too large: their squared norms overflow",
            expected=f"norms below about 1e19 in {work}",
            got="an infinite squared norm",
            fix="pass float64 tensors (a.double()), or rescale the latents",
        )
    na, nb = na2.sqrt(), nb2.sqrt()
    check_nonzero(na, "a")
    check_nonzero(nb, "b")
    cos = dot / (na * nb)
    # theta = 2 atan2(|ua - ub|, |ua + ub|) with |ua -+ ub|^2 = 2 -+ 2 cos; + tiny keeps gradients finite at 0
    theta = 2 * torch.atan2(((1 - cos).clamp_min(0) + 1e-300).sqrt(), ((1 + cos).clamp_min(0) + 1e-300).sqrt())
    return na, nb, theta


def _precise_geometry(
    a: torch.Tensor, b: torch.Tensor, dims: tuple[int, ...]
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Like :func:`_slerp_geometry` for float64 inputs, with the angle from ``|ua - ub|`` and ``|ua + ub|``
    directly (accurate to float64 precision next to anti-parallel)."""
    na, nb = vector_norm(a, dims), vector_norm(b, dims)
    ua, ub = a / na, b / nb
    diff, both = ua - ub, ua + ub
    theta = 2 * torch.atan2(
        ((diff * diff).sum(dims, keepdim=True) + 1e-300).sqrt(), ((both * both).sum(dims, keepdim=True) + 1e-300).sqrt()
    )
    return na, nb, theta


def _perpendicular(u: torch.Tensor, dims: tuple[int, ...]) -> torch.Tensor:
    """A unit vector orthogonal to unit ``u`` (over ``dims``), chosen deterministically.

    Takes the coordinate axis on which ``|u|`` is smallest; ``-u`` gives the same vector, which
    makes anti-parallel slerp symmetric.
    """
    lead = u.shape[: u.ndim - len(dims)]
    flat = u.reshape(*lead, -1)
    idx = flat.abs().argmin(dim=-1, keepdim=True)
    axis = torch.zeros_like(flat).scatter_(-1, idx, 1.0)
    p = axis - (flat * axis).sum(-1, keepdim=True) * flat
    if flat.shape[-1] == 1:  # 1-D latents have no perpendicular; the path goes through the origin
        p = torch.zeros_like(flat)
    p = p / p.norm(dim=-1, keepdim=True).clamp_min(1e-300)
    return p.reshape(u.shape)


def _slerp_weights(
    t: torch.Tensor, na: torch.Tensor, nb: torch.Tensor, theta: torch.Tensor, norm: SlerpNorm
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Float64 ``(w0, w1, radius, anti)`` so that regular rows are ``w0 a + w1 b``."""
    parallel = theta < PARALLEL_EPS
    anti = theta > math.pi - ANTIPARALLEL_EPS
    sin_theta = torch.where(parallel | anti, torch.ones_like(theta), torch.sin(theta))
    w0 = torch.where(parallel, 1 - t, torch.sin((1 - t) * theta) / sin_theta)
    w1 = torch.where(parallel, t, torch.sin(t * theta) / sin_theta)
    radius = (1 - t) * na + t * nb
    if norm == "linear":  # radius * (w0 ua + w1 ub)
        w0, w1 = radius * w0 / na, radius * w1 / nb
    return w0, w1, radius, anti


def slerp_core(
    a: torch.Tensor, b: torch.Tensor, t: torch.Tensor, dims: tuple[int, ...], norm: SlerpNorm
) -> torch.Tensor:
    """slerp of same-shape ``a``, ``b`` at float64 times ``t`` (broadcastable, e.g. ``(T, 1, ..., 1)``).

    Angles and weights are float64; the output ``w0 a + w1 b`` is formed in the working dtype
    (float32 for float16/bfloat16/float32 inputs, float64 for float64). Pairs within 0.25 rad of
    anti-parallel, where that sum cancels, are recomputed entirely in float64.
    """
    work = torch.promote_types(a.dtype, torch.float32)
    na, nb, theta = _slerp_geometry(a, b, dims)
    hard = theta > math.pi - _HARD_EPS
    w0, w1, _, _ = _slerp_weights(t, na, nb, theta, norm)
    out = torch.mul(a.to(work), w0.to(work)).addcmul_(b.to(work), w1.to(work))  # one full-size allocation
    if bool(hard.any()):
        out = torch.where(hard, _slerp_precise(a.double(), b.double(), t, dims, norm).to(work), out)
    return out


def _slerp_precise(
    a: torch.Tensor, b: torch.Tensor, t: torch.Tensor, dims: tuple[int, ...], norm: SlerpNorm
) -> torch.Tensor:
    """All-float64 slerp, with the deterministic route for exactly anti-parallel pairs."""
    na, nb, theta = _precise_geometry(a, b, dims)
    w0, w1, radius, anti = _slerp_weights(t, na, nb, theta, norm)
    out = w0 * a + w1 * b
    if bool(anti.any()):
        ua = a / na
        around = torch.cos(t * math.pi) * ua + torch.sin(t * math.pi) * _perpendicular(ua, dims)
        out = torch.where(anti, radius * around, out)
    return out


# --------------------------------------------------------------------------- interpolate
#: Interpolation methods: a geometry of :data:`~latentlab.spaces.GEOMETRIES`, ``"spherical-norm"``
#: (great-circle direction, norm going linearly from ``|a|`` to ``|b|``), or ``"auto"``.
Method = Literal["auto", "linear", "spherical", "spherical-norm"]
METHODS: tuple[str, ...] = ("auto", *GEOMETRIES, "spherical-norm")


def interpolate(
    a: Any,
    b: Any,
    steps: int,
    method: Method = "auto",
    space: LatentSpace | Generator | None = None,
    *,
    easing: Easing = "linear",
) -> torch.Tensor:
    """A ``steps``-frame path from ``a`` to ``b`` (both included), picking the geometry for the space.

    ``method="auto"`` chooses:

    * ``"spherical"`` (:func:`slerp`) when the space has a ``"normal"`` prior (``z`` of GANs, VAE
      latents) or no space is given: Gaussian latents concentrate on a shell of radius about
      ``sqrt(D)``, and the straight line cuts through the low-probability middle (washed-out
      frames); a great circle stays on the shell;
    * ``"linear"`` (:func:`lerp`) when the prior is ``"none"`` (StyleGAN ``w``/``w+``, encoder
      outputs): those spaces are not spherical, and their generators are trained on linear mixes.

    The old method names ``"lerp"``, ``"slerp"`` and ``"slerp-norm"`` still work and warn
    (:data:`~latentlab.spaces.OLD_METHODS`).

    Args:
        a: ``(*shape)`` or ``(N, *shape)``.
        b: same shape as ``a``.
        steps: number of frames, ``>= 2``.
        method: ``"auto"``, ``"linear"``, ``"spherical"`` (classic slerp) or ``"spherical-norm"``
            (great-circle direction with a linearly interpolated norm: norm-aware for Gaussian priors).
        space: a :class:`~latentlab.LatentSpace` or a generator (its default space), used by
            ``"auto"`` and to check shapes. For a space made of parts (a text-conditioned
            generator's ``joint`` space) each part is interpolated on its own: ``"auto"`` follows
            each part's geometry (spherical noise, linear prompt embedding); another method applies
            to every part.
        easing: easing of the times (see :func:`ease`); ``"ease-in-out"`` slows down at both ends.

    Returns:
        ``(steps, *shape)`` for one latent, ``(steps, N, *shape)`` for a batch.

    Example:
        >>> import latentlab as ll
        >>> gen = ll.load("digits")
        >>> z = gen.sample(2, seed=0)
        >>> interpolate(z[0], z[1], 8, space=gen).shape
        torch.Size([8, 16])
        >>> torch.equal(interpolate(z[0], z[1], 8, "spherical"), ll.slerp(z[0], z[1], steps=8))
        True
    """
    s = space.default_space if isinstance(space, Generator) else space
    check_int(
        steps,
        "steps",
        2,
        fix="pass steps=60 (both endpoints are included)",
        message="interpolate() needs at least 2 steps",
    )
    word = method_word(method)
    t = ease(torch.linspace(0, 1, steps, dtype=torch.float64), easing)
    t[-1] = 1.0
    if s is not None:
        s.check(to_tensor(a, name="a"), "a")
    if s is not None and s.parts:  # each part on its own curve (noise: spherical, prompt: linear)
        ta, tb = _pair(a, b)
        return map_parts(s, lambda part, x, y: _interpolate_path(x, y, t, _part_method(word, part)), ta, tb)
    return _interpolate_path(a, b, t, _choose_method(word, s))


def _interpolate_path(a: Any, b: Any, t: torch.Tensor, chosen: str) -> torch.Tensor:
    if chosen == "linear":
        return lerp(a, b, t)
    return slerp(a, b, t, norm="linear" if chosen == "spherical-norm" else "classic")


def _part_method(method: str, part: LatentPart) -> str:
    """``method`` for one part of a joint latent: ``"auto"`` follows the part's geometry."""
    return cast(str, part.geometry) if method == "auto" else method


def _choose_method(method: str, space: LatentSpace | None) -> str:
    if method == "auto":
        return "linear" if space is not None and space.prior == "none" else "spherical"
    return method


def method_word(method: str) -> str:
    """The interpolation method ``method`` in today's words (old spellings warn), checked.

    Example:
        >>> method_word("spherical")
        'spherical'
    """
    if method in OLD_METHODS:
        warn_renamed(f"method={method!r}", f"method={OLD_METHODS[method]!r}", stacklevel=4)
        return OLD_METHODS[method]
    return check_word(
        method, METHODS, "interpolation method", fix="leave method='auto' to choose from the space's prior"
    )


# --------------------------------------------------------------------------- blends and analogies
def blend(
    latents: Any,
    weights: Any,
    *,
    method: Literal["spherical", "linear", "norm"] = "spherical",
    per_row: bool = True,
    normalize: bool = True,
    iters: int = 50,
) -> torch.Tensor:
    """Weighted blend of ``K >= 2`` latents ("blend several concepts").

    Methods:
        * ``"spherical"``: the weighted spherical (Karcher) mean of the directions, found by a
          few Riemannian Newton steps, scaled to the weighted mean of the norms. For two latents
          it equals ``slerp(z0, z1, w1, norm="linear")``. Best for Gaussian priors.
        * ``"linear"``: ``sum_k w_k z_k`` (barycentric; right for ``w`` spaces).
        * ``"norm"``: the linear blend rescaled to the weighted mean norm of the inputs (linear
          mixes of Gaussian latents are too short, which looks washed out).

    Args:
        latents: ``(K, *shape)``.
        weights: ``(K,)`` for one blend or ``(M, K)`` for ``M`` blends.
        method: ``"spherical"``, ``"linear"`` or ``"norm"``.
        per_row: norms and angles over the last dim (per row of W+ codes), or the whole latent.
        normalize: divide the weights by their sum (so ``[1, 1, 2]`` means ``[.25, .25, .5]``).
        iters: most Newton steps for ``"spherical"`` (it usually converges in under 10).

    Returns:
        ``(*shape)`` for 1-D weights, ``(M, *shape)`` for 2-D weights. A one-hot weight row
        returns that latent exactly.

    Example:
        >>> z = torch.eye(3)
        >>> blend(z, torch.tensor([1.0, 1.0, 1.0]))
        tensor([0.5774, 0.5774, 0.5774])
        >>> blend(z, torch.tensor([[1.0, 0, 0], [0.5, 0.5, 0]])).shape
        torch.Size([2, 3])
    """
    z = to_tensor(latents, name="latents")
    dtype = float_dtype(z)
    z = check_finite(z.to(dtype), name="latents")
    w = check_finite(to_tensor(weights, name="weights").to(z.device, torch.float64), name="weights")
    single = w.ndim == 1
    w2 = _check_blend_shapes(z, w)
    if normalize:
        w2 = _normalized_weights(w2)
    out = _blend64(z.double(), w2, method, per_row, iters)
    out = _exact_vertices(out.to(dtype), z, w2)
    return out[0] if single else out


def _check_blend_shapes(z: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    if z.ndim < 2 or z.shape[0] < 2:
        raise ShapeError(
            "blend() needs a stack of at least 2 latents",
            expected="latents of shape (K, *shape) with K >= 2",
            got=shape_str(z.shape),
            fix="stack them: torch.stack([z_a, z_b, z_c])",
        )
    k = z.shape[0]
    if w.ndim not in (1, 2) or w.shape[-1] != k:
        raise ShapeError(
            "weights do not match the number of latents",
            expected=f"({k},) or (M, {k}) for latents {shape_str(z.shape)}",
            got=shape_str(w.shape),
            fix="give one weight per latent",
        )
    return w.reshape(-1, k)


def _normalized_weights(w: torch.Tensor) -> torch.Tensor:
    total = w.sum(-1, keepdim=True)
    if bool((total.abs() < 1e-12).any()):
        raise InvalidValueError(
            "blend weights sum to zero, so they cannot be normalised",
            expected="weights with a non-zero sum (barycentric weights sum to 1)",
            got=f"row sums {total.flatten().tolist()}",
            fix="use non-negative weights, or pass normalize=False for a plain weighted sum",
        )
    return w / total


def _blend64(z: torch.Tensor, w: torch.Tensor, method: str, per_row: bool, iters: int) -> torch.Tensor:
    k, shape = z.shape[0], z.shape[1:]
    rows = z.reshape(k, -1, shape[-1]) if per_row else z.reshape(k, 1, -1)  # (K, R, D)
    linear = torch.einsum("mk,krd->mrd", w, rows)
    if method == "linear":
        out = linear
    elif method in ("norm", "spherical"):
        norms = rows.norm(dim=-1)  # (K, R)
        target = torch.einsum("mk,kr->mr", w, norms).unsqueeze(-1)
        if method == "norm":
            out = linear * target / linear.norm(dim=-1, keepdim=True).clamp_min(1e-300)
        else:
            check_nonzero(norms, "latents")
            out = target * _karcher_mean(rows / norms.unsqueeze(-1), w, iters)
    else:
        raise InvalidValueError(
            f"unknown blend method {method!r}",
            expected="'spherical', 'linear' or 'norm'",
            got=repr(method),
            fix="use 'spherical' for Gaussian latents, 'linear' for w spaces",
        )
    return out.reshape(-1, *shape)


def _karcher_mean(u: torch.Tensor, w: torch.Tensor, iters: int) -> torch.Tensor:
    """Weighted spherical mean of unit vectors ``u (K, R, D)`` for each row of ``w (M, K)`` -> ``(M, R, D)``."""
    q = torch.einsum("mk,krd->mrd", w, u)
    qn = q.norm(dim=-1, keepdim=True)
    fallback = u[w.argmax(-1)]  # antipodal sets: start from the heaviest latent
    q = torch.where(qn > 1e-9, q / qn.clamp_min(1e-300), fallback)
    for _ in range(iters):
        cos = torch.einsum("mrd,krd->mkr", q, u).clamp(-1, 1)
        theta = torch.arccos(cos)
        tangent = u.unsqueeze(0) - cos.unsqueeze(-1) * q.unsqueeze(1)  # (M, K, R, D)
        scale = torch.where(theta > 1e-12, theta / torch.sin(theta).clamp_min(1e-300), torch.ones_like(theta))
        step = torch.einsum("mk,mkrd->mrd", w, scale.unsqueeze(-1) * tangent)
        size = step.norm(dim=-1, keepdim=True)
        direction = step / size.clamp_min(1e-300)
        q = torch.cos(size) * q + torch.sin(size) * direction
        q = q / q.norm(dim=-1, keepdim=True)
        if float(size.max()) < 1e-12:
            break
    return q


def _exact_vertices(out: torch.Tensor, z: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    onehot = ((w == 1).sum(-1) == 1) & ((w == 0).sum(-1) == w.shape[-1] - 1)
    if not bool(onehot.any()):
        return out
    idx = w.argmax(-1)
    mask = onehot.reshape(-1, *([1] * (z.ndim - 1)))
    return torch.where(mask, z[idx], out)


def analogy(a: Any, b: Any, c: Any, *, norm_correct: bool = True, per_row: bool = True) -> torch.Tensor:
    """The analogy ``a - b + c`` ("a is to b as ? is to c"; plat's J-diagram corner).

    The sum of three independent Gaussian latents has norm about ``sqrt(3)`` times too large,
    which renders as an over-saturated, off-manifold image. With ``norm_correct`` the result is
    rescaled to the mean norm of ``a``, ``b`` and ``c``.

    Args:
        a: ``(*shape)`` or ``(N, *shape)``.
        b: same shape (or broadcastable against ``a``).
        c: same shape (or broadcastable against ``a``).
        norm_correct: rescale to the mean input norm.
        per_row: norms over the last dim (per sample of ``(N, D)``, per row of W+), or whole latents.

    Returns:
        The broadcast shape of the inputs, in their (promoted) dtype.

    Example:
        >>> a, b, c = torch.tensor([2.0, 0]), torch.tensor([0, 2.0]), torch.tensor([0, 2.0])
        >>> analogy(a, b, c)
        tensor([2., 0.])
    """
    ta, tb, tc = (to_tensor(x, name=n) for x, n in ((a, "a"), (b, "b"), (c, "c")))
    dtype = float_dtype(ta, tb, tc)
    ta, tb, tc = (check_finite(x.to(dtype), name=n) for x, n in ((ta, "a"), (tb, "b"), (tc, "c")))
    try:
        shape = torch.broadcast_shapes(ta.shape, tb.shape, tc.shape)
    except RuntimeError as exc:
        raise ShapeError(
            "analogy() needs latents of the same shape",
            expected="a, b and c of one shape (*shape) or (N, *shape)",
            got=f"a {shape_str(ta.shape)}, b {shape_str(tb.shape)}, c {shape_str(tc.shape)}",
            fix="take all three from the same space",
        ) from exc
    out = ta - tb + tc
    if not norm_correct:
        return out
    dims = _sample_dims(out, per_row, None)
    target = sum(vector_norm(x.double().expand(shape), dims) for x in (ta, tb, tc)) / 3
    current = vector_norm(out.double(), dims)
    return (out.double() * target / current.clamp_min(1e-300)).to(dtype)
