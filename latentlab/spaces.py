"""Latent spaces: a name, a per-sample shape, a prior and the model they belong to.

A space can be made of **parts** (:class:`LatentPart`): a text-conditioned generator's ``joint``
space holds a ``noise`` part and a ``prompt`` part side by side in one flat vector, so every tool
that takes ``(N, D)`` latents takes it, while interpolation treats each part in its own geometry
(``"spherical"`` for Gaussian noise, ``"linear"`` for prompt embeddings).

This module also holds the **words** of interpolation, the one table every tool reads
(:func:`latentlab.interpolate`, :func:`latentlab.blend`, :class:`latentlab.LatentPath`, the widgets):

* a **geometry** (:data:`GEOMETRIES`): ``"linear"`` (straight lines) or ``"spherical"`` (great
  circles, norm kept: right for Gaussian priors);
* for keyframe paths, a **curve** (:data:`CURVES`): ``"piecewise"`` (one segment per pair of
  keyframes) or ``"smooth"`` (a C1 spline through them).

The spellings used before (``"lerp"``/``"slerp"`` methods, path curves ``"slerp"``,
``"catmull-rom"`` and ``"spherical"`` meaning the smooth spherical spline) still work and warn
with the new spelling (:data:`OLD_METHODS`, :data:`OLD_CURVES`).
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol, TypeVar, cast

from .errors import InvalidValueError, LatentShapeError, ShapeError, shape_str

if TYPE_CHECKING:
    import torch

__all__ = [
    "CURVES",
    "GEOMETRIES",
    "OLD_CURVES",
    "OLD_METHODS",
    "Curve",
    "Geometry",
    "LatentPart",
    "LatentSpace",
    "Prior",
    "joint_space",
    "map_parts",
    "Batch",
    "check_word",
    "warn_renamed",
]

Prior = Literal["normal", "none"]
#: Which leading dims :meth:`LatentSpace.check` accepts before ``space.shape``: ``"optional"`` one
#: latent ``(*shape)`` or a batch ``(N, *shape)``; ``"required"`` a batch; ``"none"`` one latent;
#: ``"any"`` any leading dims ``(..., *shape)`` (paths ``(T, N, *shape)``).
Batch = Literal["optional", "required", "none", "any"]


class _Shaped(Protocol):
    @property
    def shape(self) -> Sequence[int]: ...


ShapedT = TypeVar("ShapedT", bound=_Shaped)

# --------------------------------------------------------------------------- the words of interpolation
#: How interpolation moves between two latents: along a straight line or a great circle.
Geometry = Literal["linear", "spherical"]
#: The geometries, in the order error messages list them.
GEOMETRIES: tuple[Geometry, ...] = ("linear", "spherical")
#: How a keyframe path goes through its keyframes: one segment per pair, or one smooth (C1) spline.
Curve = Literal["piecewise", "smooth"]
#: The path curves.
CURVES: tuple[Curve, ...] = ("piecewise", "smooth")
#: Old interpolation methods (``interpolate``, ``Scrubber``) -> their new spelling.
OLD_METHODS: Mapping[str, str] = {"lerp": "linear", "slerp": "spherical", "slerp-norm": "spherical-norm"}
#: Old ``LatentPath`` curves -> ``(curve, geometry)``: the old ``"spherical"`` was the *smooth* spherical spline.
OLD_CURVES: Mapping[str, tuple[Curve, Geometry]] = {
    "linear": ("piecewise", "linear"),
    "slerp": ("piecewise", "spherical"),
    "catmull-rom": ("smooth", "linear"),
    "spherical": ("smooth", "spherical"),
}


def check_word(word: object, words: Sequence[str], what: str, *, fix: str) -> str:
    """``word`` if it is one of ``words``, else InvalidValueError listing them (the one check of option words).

    Example:
        >>> check_word("smooth", CURVES, "path curve", fix="use 'smooth'")
        'smooth'
    """
    if not isinstance(word, str) or word not in words:
        raise InvalidValueError(
            f"unknown {what} {word!r}", expected=" or ".join(map(repr, words)), got=repr(word), fix=fix
        )
    return word


def warn_renamed(old: str, new: str, *, stacklevel: int = 3) -> None:
    """Warn (DeprecationWarning) that the spelling ``old`` is now ``new``; both give the same result."""
    warnings.warn(f"{old} is an old spelling; write {new} (same result)", DeprecationWarning, stacklevel=stacklevel)


_PART_FIX = "use 'spherical' for Gaussian noise and 'linear' for embeddings"


@dataclass(frozen=True)
class LatentPart:
    """One named part of a space made of parts (e.g. the ``noise`` or ``prompt`` of a joint space).

    Args:
        name: the part's name; where a generator also has a space of this name, a latent of that
            space is exactly this part (so a direction found there applies here).
        shape: shape of the part in one latent, e.g. ``(4, 64, 64)`` or ``(77, 768)``.
        prior: ``"normal"`` for Gaussian noise, ``"none"`` for conditioning such as embeddings.
        geometry: how interpolation moves through this part (:data:`GEOMETRIES`); ``None`` picks
            ``"spherical"`` for a normal prior (noise keeps its norm) and ``"linear"`` otherwise.

    Example:
        >>> LatentPart("noise", (4, 8, 8)).geometry, LatentPart("prompt", (7, 32), "none").geometry
        ('spherical', 'linear')
    """

    name: str
    shape: tuple[int, ...]
    prior: Prior = "normal"
    geometry: Geometry | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", tuple(int(s) for s in self.shape))
        if self.geometry is None:
            object.__setattr__(self, "geometry", "spherical" if self.prior == "normal" else "linear")
        check_word(self.geometry, GEOMETRIES, f"geometry of part {self.name!r}", fix=_PART_FIX)

    @property
    def curve(self) -> Geometry:
        """Old name of :attr:`geometry` (warns)."""
        warn_renamed("LatentPart.curve", "LatentPart.geometry")
        return cast("Geometry", self.geometry)

    @property
    def dim(self) -> int:
        """Number of scalars in one latent's part."""
        return math.prod(self.shape)


@dataclass(frozen=True)
class LatentSpace:
    """One latent space of one generator.

    Latents in this space are tensors of shape ``(N, *shape)``.

    Args:
        name: short name such as ``"z"``, ``"w"``, ``"w+"``, ``"vae"``, ``"noise"`` or ``"joint"``.
        shape: shape of one latent, e.g. ``(16,)`` or ``(18, 512)``; for a space made of parts,
            ``(sum of the parts' dims,)``.
        prior: ``"normal"`` when latents are drawn from a standard Gaussian,
            ``"none"`` when the space has no sampling prior of its own.
        model: id of the model the space belongs to.
        description: one line for people.
        parts: the named parts of a flat latent (see :func:`joint_space`); empty for most spaces.

    Example:
        >>> s = LatentSpace("z", (16,), "normal", model="digits")
        >>> s.dim, s.key
        (16, 'digits:z')
    """

    name: str
    shape: tuple[int, ...]
    prior: Prior = "normal"
    model: str = ""
    description: str = ""
    parts: tuple[LatentPart, ...] = field(default=(), compare=True)

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", tuple(int(s) for s in self.shape))
        object.__setattr__(self, "parts", tuple(self.parts))
        if self.parts:
            total = sum(p.dim for p in self.parts)
            if self.shape != (total,):
                raise ShapeError(
                    f"space {self.name!r} is made of parts but its shape does not hold them",
                    expected=f"shape ({total},), the sum of the parts' sizes",
                    got=str(self.shape),
                    fix="build it with latentlab.spaces.joint_space(name, parts)",
                )
            names = [p.name for p in self.parts]
            if len(set(names)) != len(names):
                raise InvalidValueError(
                    f"space {self.name!r} has parts with the same name",
                    expected="distinct part names",
                    got=names,
                    fix="give each part its own name",
                )

    @property
    def dim(self) -> int:
        """Number of scalars in one latent (the product of ``shape``)."""
        return math.prod(self.shape)

    @property
    def key(self) -> str:
        """``"model:space"``, the identity used to tell spaces of different models apart."""
        return f"{self.model}:{self.name}"

    def describe(self) -> str:
        """One line such as ``"z (16,) normal prior"``."""
        prior = "normal prior" if self.prior == "normal" else "no prior"
        if self.parts:
            inner = " + ".join(f"{p.name} {p.shape}" for p in self.parts)
            return f"{self.name} ({inner})"
        return f"{self.name} {self.shape} {prior}"

    def check(
        self,
        latents: ShapedT,
        what: str = "latents",
        *,
        batch: Batch = "optional",
        n: str = "N",
        fix: str | None = None,
    ) -> ShapedT:
        """``latents`` unchanged if their shape fits this space, else :class:`~latentlab.errors.LatentShapeError`.

        The one "latents fit this space" check of latentlab: every tool that takes latents,
        keyframes, codes or direction vectors for a space calls it, so a wrong shape reads the same
        everywhere (what, expected, got, fix).

        Args:
            latents: a tensor or array (anything with ``.shape``).
            what: what they are, for the message (``"keyframes"``, ``"direction 0"`` ...).
            batch: the leading dims allowed (:data:`Batch`): ``"optional"`` ``(*shape)`` or
                ``(N, *shape)``; ``"required"`` ``(N, *shape)``; ``"none"`` ``(*shape)``; ``"any"``
                ``(..., *shape)``.
            n: the letter of the batch dim in the message (``"K"`` for keyframes).
            fix: the advice; by default it says whether they come from another model or space.

        Returns:
            ``latents`` itself.

        Example:
            >>> import torch
            >>> s = LatentSpace("z", (16,), model="digits")
            >>> s.check(torch.zeros(4, 16)).shape
            torch.Size([4, 16])
            >>> s.check(torch.zeros(4, 8), "keyframes", batch="required", n="K")
            Traceback (most recent call last):
            ...
            latentlab.errors.LatentShapeError: keyframes: shape (4, 8) does not fit the space digits:z (16,)
              expected: (K, 16)
              got:      (4, 8)
              fix:      these come from another model or space (last dim 8, not 16); ...
        """
        shape, k = tuple(int(d) for d in latents.shape), len(self.shape)
        fits = {
            "optional": shape == self.shape or shape[1:] == self.shape,
            "required": shape[1:] == self.shape,
            "none": shape == self.shape,
            "any": len(shape) >= k and shape[len(shape) - k :] == self.shape,
        }
        if fits[check_word(batch, list(fits), "batch rule", fix="use 'optional'")]:
            return latents
        one, many = shape_str(self.shape), shape_str((n, *self.shape))
        expected = {
            "optional": f"{many} or {one}",
            "required": many,
            "none": one,
            "any": shape_str(("...", *self.shape)),
        }
        where = self.key if self.model else repr(self.name)
        raise LatentShapeError(
            f"{what}: shape {shape_str(shape)} does not fit the space {where} {one}",
            expected=expected[batch],
            got=shape_str(shape),
            fix=fix or self._shape_fix(shape),
        )

    def _shape_fix(self, shape: tuple[int, ...]) -> str:
        if shape and shape[-1] != self.shape[-1]:
            return (
                f"these come from another model or space (last dim {shape[-1]}, not {self.shape[-1]}); "
                "sample or encode them with this generator, or pass the space they belong to"
            )
        return f"reshape to {shape_str(('N', *self.shape))} for a batch or {shape_str(self.shape)} for one"

    # -- parts ------------------------------------------------------------------
    def part(self, name: str) -> LatentPart:
        """The part called ``name``.

        Raises:
            UnknownSpaceError: the space has no such part.
        """
        for p in self.parts:
            if p.name == name:
                return p
        from .errors import UnknownSpaceError

        raise UnknownSpaceError(
            f"space {self.name!r} of model {self.model!r} has no part {name!r}",
            expected=" or ".join(repr(p.name) for p in self.parts) or "a space made of parts",
            got=repr(name),
            fix="ask space.parts for the part names",
        )

    def part_slice(self, name: str) -> slice:
        """Where part ``name`` lies in a flat latent of this space.

        Example:
            >>> s = joint_space("joint", [LatentPart("noise", (2,)), LatentPart("prompt", (3,), "none")])
            >>> s.part_slice("prompt")
            slice(2, 5, None)
        """
        part = self.part(name)  # raises with the part names
        start = sum(p.dim for p in self.parts[: self.parts.index(part)])
        return slice(start, start + part.dim)

    def split(self, latents: torch.Tensor) -> dict[str, torch.Tensor]:
        """Cut flat ``(N, D)`` latents (or one ``(D,)``) into ``{part name: (N, *part.shape)}``.

        The results are views of ``latents`` (no copy).

        Example:
            >>> import torch
            >>> s = joint_space("joint", [LatentPart("noise", (2, 2)), LatentPart("prompt", (3,), "none")])
            >>> parts = s.split(torch.arange(14.0).reshape(2, 7))
            >>> tuple(parts["noise"].shape), parts["prompt"][1].tolist()
            ((2, 2, 2), [11.0, 12.0, 13.0])
        """
        self._require_parts("split")
        self.check(latents, fix="compose joint latents with gen.compose(noise=..., prompt=...)")
        batched = latents.ndim == 2
        z = latents if batched else latents.unsqueeze(0)
        out = {p.name: z[:, self.part_slice(p.name)].reshape(z.shape[0], *p.shape) for p in self.parts}
        return out if batched else {k: v[0] for k, v in out.items()}

    def join(self, parts: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Put ``{part name: (N, *part.shape)}`` (or one ``(*part.shape)`` each) together as ``(N, D)``.

        A part given for one latent (batch size 1 or no batch dim) is repeated to the batch size of
        the others, so ``join({"noise": noises, "prompt": one_prompt})`` works.

        Example:
            >>> import torch
            >>> s = joint_space("joint", [LatentPart("noise", (2,)), LatentPart("prompt", (3,), "none")])
            >>> s.join({"noise": torch.zeros(4, 2), "prompt": torch.ones(3)}).shape
            torch.Size([4, 5])
        """
        import torch

        self._require_parts("join")
        missing = [p.name for p in self.parts if p.name not in parts]
        extra = [k for k in parts if k not in {p.name for p in self.parts}]
        if missing or extra:
            raise InvalidValueError(
                f"parts do not match the {self.name!r} space",
                expected=[p.name for p in self.parts],
                got=sorted(parts),
                fix=f"give exactly the parts {[p.name for p in self.parts]}",
            )
        flat: list[torch.Tensor] = []
        for p in self.parts:
            t = parts[p.name]
            if tuple(t.shape) == p.shape:
                t = t.unsqueeze(0)
            if tuple(t.shape[1:]) != p.shape:
                raise ShapeError(
                    f"part {p.name!r} has the wrong shape",
                    expected=f"(N, {', '.join(map(str, p.shape))})",
                    got=str(tuple(t.shape)),
                    fix=f"pass {p.name} latents of this generator",
                )
            flat.append(t.reshape(t.shape[0], -1))
        n = max(t.shape[0] for t in flat)
        for i, t in enumerate(flat):
            if t.shape[0] not in (1, n):
                raise ShapeError(
                    "parts have different batch sizes",
                    expected=f"{n} or 1 for each part",
                    got={p.name: int(f.shape[0]) for p, f in zip(self.parts, flat)},
                    fix="give one latent per image in each part, or one for all",
                )
            flat[i] = t.expand(n, -1)
        dtype = functools.reduce(torch.promote_types, (t.dtype for t in flat))  # result_type takes only two
        return torch.cat([t.to(dtype) for t in flat], dim=1)

    def _require_parts(self, what: str) -> None:
        if not self.parts:
            raise InvalidValueError(
                f"space {self.name!r} is not made of parts, so it cannot {what}",
                expected="a space with parts (such as a text-conditioned generator's 'joint' space)",
                got=self.describe(),
                fix="use gen.space('joint') of a generator that has one",
            )


def joint_space(name: str, parts: Sequence[LatentPart], *, model: str = "", description: str = "") -> LatentSpace:
    """A flat space holding ``parts`` side by side (in order).

    Example:
        >>> s = joint_space("joint", [LatentPart("noise", (4, 8, 8)), LatentPart("prompt", (7, 32), "none")],
        ...                 model="tiny-sd")
        >>> s.shape, s.describe()
        ((480,), 'joint (noise (4, 8, 8) + prompt (7, 32))')
    """
    parts = tuple(parts)
    prior: Prior = "normal" if all(p.prior == "normal" for p in parts) else "none"
    return LatentSpace(name, (sum(p.dim for p in parts),), prior, model=model, description=description, parts=parts)


def map_parts(space: LatentSpace, fn: Callable[..., torch.Tensor], *latents: torch.Tensor) -> torch.Tensor:
    """Apply ``fn(part, *pieces)`` to each part of flat latents and put the results back together.

    Each tensor in ``latents`` has the space's flat size ``D`` as its last dim (any leading dims:
    a batch, a path ``(T, N, D)``); ``fn`` receives the part and each tensor's piece
    ``(..., part.dim)``, flat, and returns ``(..., part.dim)`` (it may add leading dims, the
    same for every part). Interpolation uses it so that noise and prompt each follow their curve.

    Example:
        >>> import torch
        >>> s = joint_space("joint", [LatentPart("noise", (2,)), LatentPart("prompt", (1,), "none")])
        >>> map_parts(s, lambda part, x: x * (10 if part.name == "prompt" else 1), torch.ones(3))
        tensor([ 1.,  1., 10.])
    """
    import torch

    space._require_parts("have its parts mapped")
    for x in latents:
        space.check(x, batch="any", fix="compose joint latents with gen.compose(noise=..., prompt=...)")
    pieces = [fn(p, *(x[..., space.part_slice(p.name)] for x in latents)) for p in space.parts]
    return torch.cat(pieces, dim=-1)
