"""Helpers shared by the directions submodules: resolving spaces, provenance, strengths, code matrices."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import torch

from .._checks import check_finite, shape_str, to_tensor
from .._version import __version__
from ..errors import InvalidValueError, ShapeError
from ..generators.base import Generator
from ..spaces import LatentSpace

__all__ = [
    "SpaceLike",
    "UNBOUND",
    "as_strengths",
    "base_provenance",
    "codes_matrix",
    "describe_space",
    "resolve_space",
    "unbound_space",
]

SpaceLike = LatentSpace | Generator
UNBOUND = "?"


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def base_provenance(method: str, **extra: Any) -> dict[str, Any]:
    """The provenance every finder records: method, its parameters, created-at and library versions."""
    return {
        "method": method,
        **extra,
        "created_at": _now(),
        "library_version": __version__,
        "torch_version": torch.__version__,
    }


def resolve_space(space: SpaceLike | str | None, gen: Generator | None = None) -> LatentSpace | None:
    """A LatentSpace from a space, a generator (its default space) or a name looked up in ``gen``."""
    if isinstance(space, Generator):
        return space.default_space
    if isinstance(space, LatentSpace) or space is None:
        return gen.space(space) if gen is not None else space
    if isinstance(space, str) and gen is not None:
        return gen.space(space)
    raise InvalidValueError(
        "space= must be a LatentSpace or a generator",
        expected="gen, gen.space('z') or None",
        got=type(space).__name__,
        fix="pass space=gen (its default space) or space=gen.space(name)",
    )


def unbound_space(shape: tuple[int, ...]) -> LatentSpace:
    """A placeholder space of ``shape`` for directions found from raw codes (only the shape is checked)."""
    return LatentSpace(
        UNBOUND,
        shape,
        "none",
        model="",
        description="unbound: found from raw codes without space=; only the shape is checked",
    )


def describe_space(space: LatentSpace) -> str:
    """``"digits:z (16,)"``, or ``"an unbound space of shape (16,)"``, for error messages."""
    if not space.model:
        return f"an unbound space of shape {shape_str(space.shape)}"
    return f"{space.key} {shape_str(space.shape)}"


def as_strengths(strength: Any) -> float | torch.Tensor:
    """A python float for a scalar strength, else a 1-D float64 tensor ``(S,)``."""
    if isinstance(strength, (int, float)) and not isinstance(strength, bool):
        value = float(strength)
        if not math.isfinite(value):
            raise InvalidValueError(
                "strength must be finite", expected="a finite number", got=value, fix="pass a number such as 2.0"
            )
        return value
    t = to_tensor(strength, name="strength").double()
    if t.ndim == 0:
        return as_strengths(float(t))
    if t.ndim != 1 or t.numel() == 0:
        raise ShapeError(
            "strength must be a number or a 1-D sequence of numbers",
            expected="2.0 or [-3, 0, 3]",
            got=f"shape {shape_str(tuple(t.shape))}",
            fix="flatten the strengths into a list",
        )
    return check_finite(t, name="strength")


def codes_matrix(codes: Any, space: LatentSpace | None) -> tuple[torch.Tensor, LatentSpace]:
    """``codes (N, *shape)`` -> float64 ``(N, D)`` and the (possibly unbound) space."""
    t = to_tensor(codes, name="codes").detach().cpu()
    t = t.double() if t.is_floating_point() else t.to(torch.float64)
    check_finite(t, name="codes")
    if space is not None:
        space.check(t, "codes", batch="required", fix="encode or sample the codes with this model, or pass their space")
    elif t.ndim < 2:
        raise ShapeError(
            "codes must be a batch of latents",
            expected="(N, *shape), e.g. (N, 16)",
            got=shape_str(tuple(t.shape)),
            fix="stack the latents into one (N, D) tensor",
        )
    return t.flatten(1), space if space is not None else unbound_space(tuple(t.shape[1:]))
