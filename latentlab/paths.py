"""Keyframe paths through latent space: :class:`LatentPath` (timing, easing, smooth curves, loops).

Example:
    >>> import torch
    >>> from latentlab.paths import LatentPath
    >>> keys = torch.randn(3, 16, generator=torch.Generator().manual_seed(0))
    >>> LatentPath(keys, curve="smooth", geometry="spherical").sample(10).shape
    torch.Size([10, 16])

A path has a ``curve`` (:data:`~latentlab.spaces.CURVES`: ``"piecewise"`` or ``"smooth"``) and a
``geometry`` (:data:`~latentlab.spaces.GEOMETRIES`: ``"linear"`` or ``"spherical"``); the old
single-word curves map onto the pair (:data:`~latentlab.spaces.OLD_CURVES`) and warn.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Literal, cast

import torch

from ._checks import check_finite, check_int, shape_str, to_tensor
from .errors import InvalidValueError, ShapeError
from .generators.base import Generator, as_generator
from .interpolation import Easing, check_nonzero, ease, easing_fn, float_dtype, slerp_core, vector_norm
from .spaces import (
    CURVES,
    GEOMETRIES,
    OLD_CURVES,
    Curve,
    Geometry,
    LatentPart,
    LatentSpace,
    check_word,
    map_parts,
    warn_renamed,
)

__all__ = ["LatentPath"]

#: ``"auto"``: from the space (each part its own; spherical for a normal prior; else linear).
GeometryChoice = Literal["linear", "spherical", "auto"]


class LatentPath:
    """A path through keyframe latents with timing, easing, smooth curves and loops.

    Args:
        keyframes: ``(K, *shape)`` latents, ``K >= 2``.
        durations: relative duration of each segment: ``(K - 1,)`` for an open path, ``(K,)``
            for a loop (the last segment returns to the first keyframe). Default: all equal.
        easing: per-segment easing (name or callable, see :func:`ease`); ``"ease-in-out"``
            lingers at each keyframe.
        curve: ``"piecewise"`` (one segment per pair of keyframes) or ``"smooth"`` (a C1
            Catmull-Rom spline through the keyframes, Barry-Goldman form, so it stays C1 in time
            for unequal durations). Old spellings warn and map onto ``curve`` and ``geometry``:
            ``"linear"`` (piecewise, linear), ``"slerp"`` (piecewise, spherical),
            ``"catmull-rom"`` (smooth, linear), ``"spherical"`` (smooth, spherical).
        loop: close the path; the last frame leads into the first with the same spacing.
        space: optional :class:`~latentlab.LatentSpace` the keyframes live in (shape check;
            used to decode for ``constant_speed="image"`` and by ``geometry="auto"``).
        geometry: ``"linear"`` (straight segments; a smooth path is the classic Catmull-Rom),
            ``"spherical"`` (great-circle segments; a smooth path moves the directions on a
            spline of slerps and the norms on a spline of log-norms, so it stays on the shell
            where a Gaussian prior lives) or ``"auto"``: from ``space``, spherical for a normal
            prior, linear otherwise or without a space; in a space made of parts (joint noise +
            prompt latents) each part in its own geometry (spherical noise, linear prompt).

    Attributes:
        keyframes: ``(K, *shape)`` tensor.
        durations: ``(S,)`` float64 segment durations, ``S = K - 1`` (``K`` for loops).
        times: ``(K + 1,)`` or ``(K,)`` float64 start time of each keyframe (cumulative durations).

    Example:
        >>> keys = torch.randn(4, 16, generator=torch.Generator().manual_seed(0))
        >>> path = LatentPath(keys, curve="smooth", geometry="spherical", easing="ease-in-out", loop=True)
        >>> path.sample(30).shape
        torch.Size([30, 16])
        >>> path
        LatentPath(4 keyframes (16,), curve='smooth', geometry='spherical', easing='ease-in-out', loop, duration=4)
        >>> torch.equal(LatentPath(keys).sample(4)[-1], keys[-1])
        True
    """

    def __init__(
        self,
        keyframes: Any,
        durations: Sequence[float] | torch.Tensor | None = None,
        easing: Easing = "linear",
        curve: Curve = "piecewise",
        loop: bool = False,
        space: LatentSpace | None = None,
        *,
        geometry: GeometryChoice = "auto",
    ) -> None:
        keys = to_tensor(keyframes, name="keyframes")
        keys = check_finite(keys.to(float_dtype(keys)), name="keyframes")
        if keys.ndim < 2 or keys.shape[0] < 2:
            raise ShapeError(
                "a LatentPath needs at least 2 keyframes stacked along dim 0",
                expected="(K, *shape) with K >= 2",
                got=shape_str(keys.shape),
                fix="stack them: torch.stack([z0, z1, z2]) or gen.sample(4, seed=0)",
            )
        if space is not None:
            space.check(keys, "keyframes", batch="required", n="K")
        easing_fn(easing)  # validate now, not at sample time
        self.keyframes = keys
        self.easing = easing
        self.curve, self.geometry = path_words(curve, geometry, space)
        self.loop = bool(loop)
        self.space = space
        self.durations = self._check_durations(durations)
        self.times = torch.cat([torch.zeros(1, dtype=torch.float64), torch.cumsum(self.durations, 0)])

    def _check_durations(self, durations: Sequence[float] | torch.Tensor | None) -> torch.Tensor:
        n_seg = self.n_segments
        if durations is None:
            return torch.ones(n_seg, dtype=torch.float64)
        d = to_tensor(durations, name="durations").double().flatten().cpu()
        if d.numel() != n_seg or not bool((d > 0).all()) or not bool(torch.isfinite(d).all()):
            raise InvalidValueError(
                "durations must give one positive length per segment",
                expected=f"{n_seg} positive numbers ({'K for a loop' if self.loop else 'K - 1 for an open path'})",
                got=f"{d.numel()} values {d.tolist()}",
                fix="leave durations=None for equal segments",
            )
        return d

    @property
    def n_segments(self) -> int:
        """Number of segments: ``K - 1`` for an open path, ``K`` for a loop."""
        k = int(self.keyframes.shape[0])
        return k if self.loop else k - 1

    @property
    def duration(self) -> float:
        """Total duration (sum of segment durations)."""
        return float(self.times[-1])

    def __repr__(self) -> str:
        k = int(self.keyframes.shape[0])
        kind = "loop" if self.loop else "open"
        return (
            f"LatentPath({k} keyframes {shape_str(self.keyframes.shape[1:])}, curve={self.curve!r}, "
            f"geometry={self.geometry!r}, easing={self.easing!r}, {kind}, duration={self.duration:g})"
        )

    # -- evaluation -------------------------------------------------------------
    def at(self, times: Any, *, eased: bool = True) -> torch.Tensor:
        """Evaluate the path at absolute times.

        Args:
            times: ``(T,)`` times in ``[0, path.duration]`` (loops wrap around).
            eased: apply the per-segment easing (``False`` gives the raw curve parameter).

        Returns:
            ``(T, *shape)`` in the keyframes' dtype and device; keyframe times give the keyframes exactly.
        """
        tt = to_tensor(times, name="times").double().flatten().cpu()
        if self.loop:
            tt = torch.remainder(tt, self.duration)
        seg = torch.searchsorted(self.times[1:-1].contiguous(), tt, right=True).clamp(0, self.n_segments - 1)
        local = ((tt - self.times[seg]) / self.durations[seg]).clamp(0, 1)
        if eased:
            local = ease(local, self.easing)
        return self._evaluate(seg, local)

    def _evaluate(self, seg: torch.Tensor, local: torch.Tensor) -> torch.Tensor:
        """Curve points for segment indices ``seg (T,)`` at local parameters ``local (T,)``: ``(T, *shape)``."""
        keys = self.keyframes
        k = keys.shape[0]
        p1, p2 = keys[seg], keys[(seg + 1) % k]
        u = local.to(keys.device)
        out = self._curve_points(seg, u).to(keys.dtype)
        view = u.reshape(-1, *([1] * (keys.ndim - 1)))
        return torch.where(view == 0, p1, torch.where(view == 1, p2, out))

    def _curve_points(self, seg: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        keys = self.keyframes.double()
        if self.geometry == "auto":  # a space made of parts: each part of a joint latent in its own geometry
            assert self.space is not None
            return map_parts(self.space, lambda part, k: self._curve_of(k, _part_geometry(part), seg, u), keys)
        return self._curve_of(keys, cast(Geometry, self.geometry), seg, u)

    def _curve_of(self, keys: torch.Tensor, geometry: Geometry, seg: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        """Points of the path's curve in ``geometry`` through float64 keyframes ``keys (K, ...)`` at segments
        ``seg`` and local times ``u``."""
        k = keys.shape[0]
        if self.curve == "piecewise":
            mix = _mix_linear if geometry == "linear" else _mix_sphere
            return mix(keys[seg], keys[(seg + 1) % k], u)
        if geometry == "linear":
            return _barry_goldman(self._quad(keys, seg, _reflect_linear), u, self._knots(seg), _mix_linear)
        # smooth spherical: directions by a Catmull-Rom of slerps on the unit sphere, norms by a Catmull-Rom
        # of log-norms (so they stay positive), each C1 through the keyframes
        norms = vector_norm(keys, (-1,))
        check_nonzero(norms, "keyframes")
        knots = self._knots(seg)
        dirs = _barry_goldman(self._quad(keys / norms, seg, _reflect_sphere), u, knots, _mix_sphere)
        radius = _barry_goldman(self._quad(norms.log(), seg, _reflect_linear), u, knots, _mix_linear).exp()
        return dirs * radius

    def _knots(self, seg: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Durations of the segment before, of, and after each segment (open ends repeat their own)."""
        d, n = self.durations.to(seg.device), self.n_segments
        if self.loop:
            return d[(seg - 1) % n], d[seg], d[(seg + 1) % n]
        return d[(seg - 1).clamp_min(0)], d[seg], d[(seg + 1).clamp_max(n - 1)]

    def _quad(
        self, values: torch.Tensor, seg: torch.Tensor, reflect: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """The four control values around each segment (wrapped for loops, reflected at open ends)."""
        k = values.shape[0]
        if self.loop:
            return values[(seg - 1) % k], values[seg], values[(seg + 1) % k], values[(seg + 2) % k]
        first, last = reflect(values[1], values[0]), reflect(values[-2], values[-1])
        ext = torch.cat([first[None], values, last[None]])  # index shifted by one
        return ext[seg], ext[seg + 1], ext[seg + 2], ext[seg + 3]

    # -- sampling ---------------------------------------------------------------
    def sample(
        self,
        n_frames: int,
        constant_speed: Literal["latent", "image"] | None = None,
        gen: Generator | None = None,
        *,
        oversample: int = 8,
    ) -> torch.Tensor:
        """``n_frames`` frames along the path.

        Open paths include both ends; loops leave out the end (it equals the start) so that
        playing the frames on repeat joins seamlessly.

        Args:
            n_frames: number of frames.
            constant_speed: ``None``: frames evenly spaced in time (durations and easing apply);
                ``"latent"``: consecutive frames equally far apart in latent space (arc length);
                ``"image"``: equally far apart in image space, measured by decoding with ``gen``
                (no pauses and no jumps in the morph). Both ignore durations and easing: they
                keep the curve's shape and only change its timing.
            gen: the generator, needed for ``constant_speed="image"``.
            oversample: dense samples per output frame used to measure arc length.

        Returns:
            ``(n_frames, *shape)`` in the keyframes' dtype and device.
        """
        n_frames = check_int(
            n_frames,
            "n_frames",
            1 if self.loop else 2,
            fix="pass n_frames=60",
            message="n_frames must be an integer of at least 2 (1 for a loop)",
        )
        times = self._frame_times(n_frames)
        if constant_speed is None:
            return self.at(times)
        if constant_speed not in ("latent", "image"):
            raise InvalidValueError(
                f"unknown constant_speed {constant_speed!r}",
                expected="None, 'latent' or 'image'",
                got=repr(constant_speed),
                fix="use 'latent' (cheap) or 'image' with gen=",
            )
        if constant_speed == "image" and gen is None:
            raise InvalidValueError(
                "constant_speed='image' measures change in the decoded images and needs the generator",
                expected="gen=<Generator>",
                got="gen=None",
                fix="call path.sample(n, constant_speed='image', gen=gen)",
            )
        dense_t = torch.cat([self._frame_times(max(oversample * n_frames, 64), closed=True), self.times])
        dense_t = torch.unique(dense_t)  # sorted; keyframe times included so kinks fall on table entries
        dense = self.at(dense_t, eased=False)
        steps = self._step_lengths(dense, constant_speed, gen)
        arc = torch.cat([torch.zeros(1, dtype=torch.float64), torch.cumsum(steps, 0)])
        if float(arc[-1]) <= 0:
            return self.at(times, eased=False)
        target = self._frame_times(n_frames) / self.duration * arc[-1]
        return self.at(_invert_monotone(arc, dense_t, target), eased=False)

    def _frame_times(self, n: int, closed: bool = False) -> torch.Tensor:
        """``n`` evenly spaced times; loops leave out the end unless ``closed``."""
        if self.loop and not closed:
            return torch.arange(n, dtype=torch.float64) * (self.duration / n)
        out = torch.linspace(0, self.duration, n, dtype=torch.float64)
        out[-1] = self.duration
        return out

    def _step_lengths(self, dense: torch.Tensor, mode: str, gen: Generator | None) -> torch.Tensor:
        """Distances between consecutive dense points, ``(P - 1,)`` float64."""
        if mode == "latent":
            pts = dense.double().flatten(1)
        else:
            assert gen is not None
            space = self.space if self.space is not None and self.space in gen.spaces else None
            with torch.no_grad():
                pts = torch.cat([gen.decode(chunk, space=space).double().flatten(1) for chunk in dense.split(256)])
        return (pts[1:] - pts[:-1]).norm(dim=-1).cpu()

    # -- construction -------------------------------------------------------------
    @classmethod
    def random_walk(
        cls,
        shape_or_space: int | Sequence[int] | LatentSpace | Generator,
        n_keyframes: int,
        seed: int | torch.Generator | None = None,
        loop: bool = True,
        *,
        step: float = 1.0,
        curve: Curve = "smooth",
        easing: Easing = "linear",
        geometry: GeometryChoice | None = None,
    ) -> LatentPath:
        """A smooth random tour or walk through a Gaussian latent space, reproducible from ``seed``.

        Keyframes follow ``z_{k+1} = sqrt(1 - step^2) z_k + step * eps_k`` with ``z_0, eps_k ~ N(0, I)``,
        so each keyframe is a prior sample: ``step=1`` gives independent keyframes (a tour), smaller
        steps a walk that stays in one region.

        Args:
            shape_or_space: latent shape (``16`` or ``(18, 512)``), a :class:`~latentlab.LatentSpace`
                or a generator (its default space).
            n_keyframes: number of keyframes, ``>= 2`` (``>= 3`` recommended for loops).
            seed: int or ``torch.Generator``; the same seed gives the same path.
            loop: close the path so it plays seamlessly on repeat.
            step: size of each step relative to the prior, in ``(0, 1]``.
            curve: ``"smooth"`` (default) or ``"piecewise"``; old spellings as in :class:`LatentPath`.
            easing: per-segment easing.
            geometry: ``"spherical"`` (the default: norm-aware, on the prior's shell; in a space made
                of parts, each part in its own), ``"linear"`` or ``"auto"`` (see :class:`LatentPath`).

        Returns:
            A :class:`LatentPath` with keyframes ``(n_keyframes, *shape)`` (float32, CPU; move with
            ``path.sample(...).to(device)``).

        Example:
            >>> walk = LatentPath.random_walk(16, 5, seed=0)
            >>> walk.sample(40).shape
            torch.Size([40, 16])
        """
        space, shape = _space_and_shape(shape_or_space)
        if isinstance(n_keyframes, bool) or not isinstance(n_keyframes, int) or n_keyframes < 2:
            raise InvalidValueError(
                "a random walk needs at least 2 keyframes",
                expected="n_keyframes >= 2",
                got=repr(n_keyframes),
                fix="pass n_keyframes=6",
            )
        if not 0 < step <= 1:
            raise InvalidValueError(
                "step must be in (0, 1]",
                expected="0 < step <= 1 (1 = independent keyframes)",
                got=step,
                fix="use step=0.5 for a walk that stays nearby",
            )
        if space is not None and space.prior != "normal":
            raise InvalidValueError(
                f"space {space.name!r} has no Gaussian prior to walk in",
                expected="a space with prior 'normal'",
                got=f"prior {space.prior!r}",
                fix="build LatentPath(keyframes) from sampled-and-mapped or encoded latents instead",
            )
        rng = as_generator(seed)
        keys = [torch.randn(shape, generator=rng)]
        keep = math.sqrt(1 - step * step)
        for _ in range(n_keyframes - 1):
            keys.append(keep * keys[-1] + step * torch.randn(shape, generator=rng))
        if geometry is None:  # an old curve says its own geometry
            geometry = "auto" if curve in OLD_CURVES or (space is not None and space.parts) else "spherical"
        return cls(torch.stack(keys), easing=easing, curve=curve, loop=loop, space=space, geometry=geometry)


def _mix_linear(a: torch.Tensor, b: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """Row-wise lerp of ``a[i]`` to ``b[i]`` at ``u[i]`` (``u`` of shape ``(T,)``)."""
    view = u.reshape(-1, *([1] * (a.ndim - 1)))
    return a + view * (b - a)


def _mix_sphere(a: torch.Tensor, b: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """Row-wise classic slerp of ``a[i]`` to ``b[i]`` at ``u[i]`` (float64, per last-dim row)."""
    return slerp_core(a, b, u.reshape(-1, *([1] * (a.ndim - 1))), (-1,), "classic")


def _reflect_linear(inner: torch.Tensor, end: torch.Tensor) -> torch.Tensor:
    """Phantom point beyond ``end``, mirroring ``inner``."""
    return 2 * end - inner


def _reflect_sphere(inner: torch.Tensor, end: torch.Tensor) -> torch.Tensor:
    """Phantom direction beyond ``end`` on the great circle from ``inner``."""
    return slerp_core(inner, end, torch.tensor(2.0, dtype=torch.float64, device=end.device), (-1,), "classic")


def _barry_goldman(
    quad: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor],
    u: torch.Tensor,
    knots: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    mix: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor],
) -> torch.Tensor:
    """Catmull-Rom between ``p1`` and ``p2`` as a pyramid of ``mix`` steps (Barry & Goldman 1988).

    ``knots`` are the durations ``(d0, d1, d2)`` of the segments before, of and after this one, so
    the spline is C1 in *time* even when durations differ. With ``mix`` = lerp this is the classic
    Catmull-Rom spline; with slerp it is its spherical analogue.
    """
    p0, p1, p2, p3 = quad
    d0, d1, d2 = (k.to(u) for k in knots)
    t = u * d1  # time since p1; knots at -d0, 0, d1, d1 + d2
    a1, a2, a3 = mix(p0, p1, (t + d0) / d0), mix(p1, p2, u), mix(p2, p3, (t - d1) / d2)
    b1, b2 = mix(a1, a2, (t + d0) / (d0 + d1)), mix(a2, a3, t / (d1 + d2))
    return mix(b1, b2, u)


def _space_and_shape(x: int | Sequence[int] | LatentSpace | Generator) -> tuple[LatentSpace | None, tuple[int, ...]]:
    if isinstance(x, Generator):
        return x.default_space, x.default_space.shape
    if isinstance(x, LatentSpace):
        return x, x.shape
    if isinstance(x, int) and not isinstance(x, bool):
        return None, (int(x),)
    try:
        shape = tuple(int(s) for s in cast(Sequence[int], x))
    except TypeError as exc:
        raise InvalidValueError(
            "random_walk() needs a latent shape or a space",
            expected="an int, a shape tuple, a LatentSpace or a Generator",
            got=type(x).__name__,
            fix="pass gen.default_space or (16,)",
        ) from exc
    return None, shape


def _invert_monotone(y: torch.Tensor, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Piecewise-linear inverse of the non-decreasing table ``y(x)`` at ``target``: the ``x`` values."""
    idx = torch.searchsorted(y, target, right=True).clamp(1, len(y) - 1)
    y0, y1 = y[idx - 1], y[idx]
    x0, x1 = x[idx - 1], x[idx]
    frac = torch.where(y1 > y0, (target - y0) / (y1 - y0).clamp_min(1e-300), torch.zeros_like(target))
    return x0 + frac.clamp(0, 1) * (x1 - x0)


def _part_geometry(part: LatentPart) -> Geometry:
    """The geometry of one part of a joint latent (great circles for noise, straight lines for prompts)."""
    return cast(Geometry, part.geometry)


def path_words(curve: str, geometry: str, space: LatentSpace | None) -> tuple[Curve, str]:
    """``(curve, geometry)`` of a path in today's words; old single-word curves warn and map onto both.

    The geometry is resolved: ``"auto"`` stays only for a space made of parts (each part its own).

    Example:
        >>> path_words("smooth", "auto", None)
        ('smooth', 'linear')
    """
    if curve in OLD_CURVES:
        new_curve, old_geometry = OLD_CURVES[curve]
        if geometry != "auto":
            raise InvalidValueError(
                f"the old path curve {curve!r} already says its geometry, so geometry= cannot be given too",
                expected=f"curve={new_curve!r}, geometry={geometry!r}",
                got=f"curve={curve!r}, geometry={geometry!r}",
                fix=f"write curve={new_curve!r}, geometry={geometry!r}",
            )
        warn_renamed(f"curve={curve!r}", f"curve={new_curve!r}, geometry={old_geometry!r}", stacklevel=4)
        # the old curves always put each part of a joint latent in its own geometry
        curve, geometry = new_curve, "auto" if space is not None and space.parts else old_geometry
    check_word(
        curve,
        CURVES,
        "path curve",
        fix="use curve='smooth' for a spline through the keyframes, 'piecewise' for segments",
    )
    check_word(
        geometry, (*GEOMETRIES, "auto"), "path geometry", fix="use 'spherical' for Gaussian latents, 'linear' otherwise"
    )
    if geometry == "auto" and not (space is not None and space.parts):
        geometry = "spherical" if space is not None and space.prior == "normal" else "linear"
    return cast(Curve, curve), geometry
