"""Directions in latent space, with provenance: find them, apply them, measure what they do.

A :class:`Direction` is one or more unit vectors in one named space of one model
(``d.space.key`` such as ``"digits:z"``), plus a ``provenance`` dict saying how it was
found (method, parameters, number of samples, scores, created-at, library version).
Applying it to latents of another model, space or shape raises
:class:`~latentlab.errors.IncompatibleLatentError` naming both.

Finders:

* supervised, from labelled codes: :func:`from_labels` with ``mean_diff`` (balanced class
  means, plat-style), ``svm`` (linear SVM on the extreme quantiles, InterFaceGAN),
  ``logistic`` and ``ridge`` (continuous labels); each reports a held-out score;
* :func:`conditional`: a primary direction made orthogonal to any number of conditions;
* unsupervised: :func:`pca` (GANSpace), :func:`sefa` (closed-form factorisation of the
  first latent-facing weight), :func:`jacobian` (local image-changing directions).

Evaluation: :func:`preview` (image grids of both extremes), :func:`response` (a measured
image attribute against strength) and :func:`entanglement` (how much each direction moves
every measure). Measures live in :mod:`latentlab.measures`.

Example:
    >>> import torch, latentlab as ll
    >>> gen = ll.load("digits")
    >>> codes = gen.sample(400, seed=0)
    >>> y = codes[:, 3] > 0                      # a planted label along axis 3
    >>> d = ll.directions.from_labels(codes, y, method="mean_diff", space=gen, name="axis3")
    >>> d
    <Direction 'axis3' in digits:z (16,), mean_diff>
    >>> round(float(d.vector[3]), 1)
    1.0
    >>> d.apply(codes[:2], [-2.0, 0.0, 2.0]).shape   # (S, N, *shape)
    torch.Size([3, 2, 16])
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, overload

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from . import measures as _measures
from ._atomic import atomic_path
from ._checks import check_finite, shape_str, to_tensor
from ._optional import require
from .errors import CapabilityError, IncompatibleLatentError, InvalidValueError, ShapeError
from .generators.base import Generator
from .render import grid
from .spaces import LatentSpace

__all__ = [
    "Direction",
    "DirectionSet",
    "Response",
    "EntanglementTable",
    "from_labels",
    "conditional",
    "pca",
    "sefa",
    "jacobian",
    "measure_samples",
    "preview",
    "response",
    "entanglement",
]

Method = Literal["mean_diff", "svm", "logistic", "ridge"]
SpaceLike = LatentSpace | Generator
FORMAT = "latentlab.direction/1"
UNBOUND = "?"
_STREAM_COV_MAX_DIM = 4096  # streaming PCA keeps a D x D covariance up to here, IncrementalPCA above


# --------------------------------------------------------------------------- helpers
def _library_version() -> str:
    import latentlab

    return str(getattr(latentlab, "__version__", "unknown"))


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _base_provenance(method: str, **extra: Any) -> dict[str, Any]:
    return {"method": method, **extra, "created_at": _now(), "library_version": _library_version(),
            "torch_version": torch.__version__}


def _jsonable(x: Any) -> Any:
    """Turn tensors, numpy values, tuples and paths into plain JSON values (recursively)."""
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, torch.Tensor):
        return _jsonable(x.detach().cpu().tolist())
    if isinstance(x, np.ndarray):
        return _jsonable(x.tolist())
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    if x is None or isinstance(x, (bool, int, float, str)):
        return x
    return str(x)


def _resolve_space(space: SpaceLike | str | None, gen: Generator | None = None) -> LatentSpace | None:
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


def _unbound_space(shape: tuple[int, ...]) -> LatentSpace:
    return LatentSpace(UNBOUND, shape, "none", model="",
                       description="unbound: found from raw codes without space=; only the shape is checked")


def _describe(space: LatentSpace) -> str:
    if not space.model:
        return f"an unbound space of shape {shape_str(space.shape)}"
    return f"{space.key} {shape_str(space.shape)}"


def _same_space(a: LatentSpace, b: LatentSpace) -> bool:
    if not a.model or not b.model:
        return a.shape == b.shape
    return a.key == b.key and a.shape == b.shape


def _as_strengths(strength: Any) -> float | torch.Tensor:
    """A python float for a scalar strength, else a 1-D float64 tensor ``(S,)``."""
    if isinstance(strength, (int, float)) and not isinstance(strength, bool):
        value = float(strength)
        if not math.isfinite(value):
            raise InvalidValueError("strength must be finite", expected="a finite number", got=value,
                                    fix="pass a number such as 2.0")
        return value
    t = to_tensor(strength, name="strength").double()
    if t.ndim == 0:
        return _as_strengths(float(t))
    if t.ndim != 1 or t.numel() == 0:
        raise ShapeError("strength must be a number or a 1-D sequence of numbers",
                         expected="2.0 or [-3, 0, 3]", got=f"shape {shape_str(tuple(t.shape))}",
                         fix="flatten the strengths into a list")
    return check_finite(t, name="strength")


# --------------------------------------------------------------------------- Direction
class Direction:
    """Unit vector(s) in one latent space of one model, with provenance.

    Args:
        vectors: ``(K, *space.shape)`` (K directions) or ``(*space.shape)`` (one). Each is
            scaled to unit norm. Without ``space``, a 1-D tensor is one vector and a tensor
            with more dims is ``(K, *shape)``.
        space: the :class:`LatentSpace` (or a generator: its default space). ``None`` makes
            an *unbound* direction whose space is only a shape: it applies to any latents
            of that shape, so bind it with ``space=`` whenever you know the model.
        name: a short name for sliders and tables.
        provenance: how it was found (method, parameters, scores, ...); stored as JSON.

    Attributes:
        vectors: ``(K, *space.shape)`` float32 unit vectors.
        space: the :class:`LatentSpace`; ``space.model`` / ``space.key`` name the model.
        name: the name.
        provenance: a JSON-ready dict.

    Example:
        >>> import torch
        >>> from latentlab import LatentSpace
        >>> s = LatentSpace("z", (4,), model="toy")
        >>> d = Direction(torch.tensor([3.0, 0.0, 4.0, 0.0]), s, name="diag")
        >>> d.vector
        tensor([0.6000, 0.0000, 0.8000, 0.0000])
        >>> d.apply(torch.zeros(4), 5.0)
        tensor([3., 0., 4., 0.])
        >>> (-d).name, d.rename("tilt").name
        ('-diag', 'tilt')
    """

    def __init__(
        self,
        vectors: Any,
        space: SpaceLike | None = None,
        name: str = "direction",
        provenance: dict[str, Any] | None = None,
    ) -> None:
        v = to_tensor(vectors, name="direction vectors").detach().to("cpu", torch.float32)
        resolved = _resolve_space(space)
        if resolved is None:
            v = v.unsqueeze(0) if v.ndim == 1 else v
            resolved = _unbound_space(tuple(v.shape[1:]))
        elif tuple(v.shape) == resolved.shape:
            v = v.unsqueeze(0)
        elif tuple(v.shape[1:]) != resolved.shape:
            raise IncompatibleLatentError(
                f"direction vectors do not fit the space {_describe(resolved)}",
                expected=f"(K, {', '.join(map(str, resolved.shape))}) or {shape_str(resolved.shape)}",
                got=shape_str(tuple(v.shape)),
                fix="find the direction in this space, or pass the space it was found in",
            )
        check_finite(v, name="direction vectors")
        norms = v.flatten(1).double().norm(dim=1)
        if v.shape[0] == 0 or bool((norms < 1e-12).any()):
            raise InvalidValueError(
                "a direction needs non-zero vectors",
                expected="at least one vector with norm > 0",
                got=f"{v.shape[0]} vectors with norms {[round(float(n), 6) for n in norms]}",
                fix="check the labels (are both classes present?) or the conditions (is the primary in their span?)",
            )
        self.vectors = (v.double() / norms.view(-1, *([1] * (v.ndim - 1)))).float().contiguous()
        self.space = resolved
        self.name = str(name)
        self.provenance: dict[str, Any] = _jsonable(dict(provenance or {}))

    # -- basic views ----------------------------------------------------------
    @property
    def vector(self) -> torch.Tensor:
        """The first unit vector, ``(*space.shape)``."""
        return self.vectors[0]

    @property
    def k(self) -> int:
        """Number of vectors ``K``."""
        return int(self.vectors.shape[0])

    @property
    def is_bound(self) -> bool:
        """Whether the direction knows its model and space (``False`` for raw-code directions)."""
        return bool(self.space.model)

    def _flat(self) -> torch.Tensor:
        return self.vectors.flatten(1)

    def __repr__(self) -> str:
        method = self.provenance.get("method", "")
        k = f", K={self.k}" if self.k > 1 else ""
        where = f"{self.space.key} {shape_str(self.space.shape)}" if self.is_bound else (
            f"unbound {shape_str(self.space.shape)}")
        return f"<Direction {self.name!r} in {where}{k}{', ' + method if method else ''}>"

    def _derived(self, vectors: torch.Tensor, name: str, edit: dict[str, Any] | None) -> Direction:
        prov = copy.deepcopy(self.provenance)
        if edit is not None:
            prov.setdefault("edits", []).append(edit)
        return Direction(vectors, self.space, name=name, provenance=prov)

    def rename(self, name: str) -> Direction:
        """A copy with another name (vectors, space and provenance unchanged)."""
        return self._derived(self.vectors, name, None)

    def component(self, i: int) -> Direction:
        """Vector ``i`` of a K-vector direction as its own Direction."""
        if not -self.k <= i < self.k:
            raise InvalidValueError(f"direction {self.name!r} has no component {i}", expected=f"0 <= i < {self.k}",
                                    got=i, fix=f"pick an index below {self.k}")
        return self._derived(self.vectors[i], f"{self.name}[{i % self.k}]", {"op": "component", "index": i % self.k})

    def __neg__(self) -> Direction:
        name = self.name[1:] if self.name.startswith("-") else f"-{self.name}"
        return self._derived(-self.vectors, name, {"op": "negate"})

    def bind(self, space_or_gen: SpaceLike) -> Direction:
        """Attach an unbound (raw-code) direction to a space after checking the shape."""
        target = self.check_compatible(space_or_gen)
        return Direction(self.vectors, target, name=self.name, provenance=self.provenance)

    # -- compatibility --------------------------------------------------------
    def check_compatible(self, space_or_gen: SpaceLike) -> LatentSpace:
        """Raise :class:`IncompatibleLatentError` unless this direction belongs to ``space_or_gen``.

        Args:
            space_or_gen: a :class:`LatentSpace`, or a generator (any of its spaces may match).

        Returns:
            The matching :class:`LatentSpace`.

        Example:
            >>> from latentlab import LatentSpace
            >>> d = Direction([1.0, 0.0], LatentSpace("z", (2,), model="a"), name="x")
            >>> d.check_compatible(LatentSpace("z", (2,), model="b"))
            Traceback (most recent call last):
            ...
            latentlab.errors.IncompatibleLatentError: direction 'x' belongs to a:z (2,), not to b:z (2,)
            ...
        """
        if isinstance(space_or_gen, Generator):
            candidates = list(space_or_gen.spaces)
            other = f"model {space_or_gen.name!r} (spaces {', '.join(_describe(s) for s in candidates)})"
        elif isinstance(space_or_gen, LatentSpace):
            candidates = [space_or_gen]
            other = _describe(space_or_gen)
        else:
            raise InvalidValueError("check_compatible() needs a LatentSpace or a generator",
                                    expected="gen or gen.space('z')", got=type(space_or_gen).__name__,
                                    fix="pass the generator you want to edit with")
        for s in candidates:
            if _same_space(self.space, s):
                return s
        raise IncompatibleLatentError(
            f"direction {self.name!r} belongs to {_describe(self.space)}, not to {other}",
            expected=_describe(self.space),
            got=other,
            fix="use the direction with the model and space it was found in, or find it again on this model",
        )

    def _check_latents(self, t: torch.Tensor) -> bool:
        shape = tuple(t.shape)
        if shape == self.space.shape:
            return False
        if shape[1:] == self.space.shape:
            return True
        raise IncompatibleLatentError(
            f"direction {self.name!r} lives in {_describe(self.space)} and cannot move latents of shape "
            f"{shape_str(shape)}",
            expected=f"(N, {', '.join(map(str, self.space.shape))}) or {shape_str(self.space.shape)}",
            got=shape_str(shape),
            fix="apply it to latents of the model and space it was found in (gen.sample(..., space=d.space.name))",
        )

    def _layer_mask(self, layers: Any, n: int, rest: int) -> torch.Tensor:
        """``(n, 1, ...)`` 0/1 mask over ``n`` layers (``rest`` trailing singleton dims)."""
        if isinstance(layers, int):
            idx = [layers]
        elif isinstance(layers, slice):
            idx = list(range(n))[layers]
        else:
            idx = [int(i) for i in layers]
        if not idx or any(not -n <= i < n for i in idx):
            raise InvalidValueError(f"layers= must pick layers of the {n}-layer latents",
                                    expected=f"indices in [0, {n})", got=repr(layers),
                                    fix=f"pass e.g. layers=range(0, {min(n, 4)})")
        mask = torch.zeros(n)
        mask[idx] = 1.0
        return mask.view(n, *([1] * rest))

    def _delta(self, t: torch.Tensor, component: int, layers: Any, space: SpaceLike | None) -> torch.Tensor:
        """The per-unit-strength edit for latents ``t``, checked against this direction (and ``space``)."""
        if not -self.k <= component < self.k:
            raise InvalidValueError(f"direction {self.name!r} has no component {component}",
                                    expected=f"0 <= component < {self.k}", got=component, fix="use component=0")
        vector = self.vectors[component]
        dim = self.space.shape[0]
        if layers is not None and len(self.space.shape) == 1 and t.ndim in (2, 3) and t.shape[-1] == dim:
            # a W-style direction edits chosen rows of layered (W+) codes (L, D) / (N, L, D)
            if isinstance(space, (LatentSpace, Generator)):
                self._check_same_model(space)
            return self._layer_mask(layers, int(t.shape[-2]), 1) * vector
        if space is not None:
            self.check_compatible(space)
        self._check_latents(t)
        if layers is None:
            return vector
        if len(self.space.shape) < 2:
            raise InvalidValueError(
                f"layers= needs layered latents such as W+ (L, D); got {shape_str(tuple(t.shape))} latents for "
                f"{_describe(self.space)}", expected="latents (L, D) or (N, L, D), or layers=None",
                got=repr(layers), fix="leave layers= out, or pass W+ codes gen.sample(n, space='w+')")
        return self._layer_mask(layers, self.space.shape[0], len(self.space.shape) - 1) * vector

    def _check_same_model(self, space_or_gen: SpaceLike) -> None:
        model = space_or_gen.name if isinstance(space_or_gen, Generator) else space_or_gen.model
        if self.is_bound and model != self.space.model:
            raise IncompatibleLatentError(
                f"direction {self.name!r} belongs to model {self.space.model!r}, not {model!r}",
                expected=_describe(self.space), got=f"model {model!r}",
                fix="use the direction with the model it was found on, or find it again on this model")

    # -- editing --------------------------------------------------------------
    @overload
    def apply(self, z: Any, strength: float = ..., *, layers: Any = ..., component: int = ...,
              space: SpaceLike | None = ...) -> torch.Tensor: ...

    @overload
    def apply(self, z: Any, strength: Sequence[float] | torch.Tensor | np.ndarray, *, layers: Any = ...,
              component: int = ..., space: SpaceLike | None = ...) -> torch.Tensor: ...

    def apply(
        self,
        z: Any,
        strength: Any = 1.0,
        *,
        layers: Any = None,
        component: int = 0,
        space: SpaceLike | None = None,
    ) -> torch.Tensor:
        """Move latents along the direction: ``z + strength * vector``.

        Args:
            z: ``(N, *shape)`` or ``(*shape)`` latents of this direction's space.
            strength: a number (in latent units: the vector has norm 1, so for a normal
                prior 1.0 is one standard deviation), or a sequence of ``S`` numbers.
            layers: the layers to edit (an int, a slice, a range or a list); other layers are
                left unchanged. For a layered space such as W+ ``(L, D)`` these are rows of its
                latents. A direction of a 1-D space (e.g. StyleGAN ``w``) given ``layers=`` treats
                ``z`` as layered codes ``(L, D)`` (one) or ``(N, L, D)`` (a batch) of the same model
                and adds the vector to the chosen rows (style-mixing-like edits in W+).
            component: which of the ``K`` vectors to move along.
            space: a space or generator to check against first (raises if it does not match).

        Returns:
            Scalar strength: the same shape as ``z``. ``S`` strengths: ``(S, *shape)`` for one
            latent, ``(S, N, *shape)`` for a batch. Same device and dtype as ``z``.

        Example:
            >>> from latentlab import LatentSpace
            >>> d = Direction([0.0, 1.0], LatentSpace("z", (2,), model="toy"))
            >>> d.apply(torch.zeros(2), [-1.0, 1.0])
            tensor([[ 0., -1.],
                    [ 0.,  1.]])
        """
        t = to_tensor(z, name="z")
        if not t.is_floating_point():
            t = t.float()
        check_finite(t, name="z")
        delta = self._delta(t, component, layers, space).to(t.device, t.dtype)
        s = _as_strengths(strength)
        if isinstance(s, float):
            return t + s * delta
        steps = s.to(t.device, t.dtype).view(-1, *([1] * t.ndim))
        return t.unsqueeze(0) + steps * delta

    def orthogonalize(self, against: Any, name: str | None = None) -> Direction:
        """Remove from each vector its component in the span of ``against`` (then renormalise).

        Uses least squares against all conditions at once, so any number of (even linearly
        dependent) conditions works. See :func:`conditional`.

        Args:
            against: a Direction, a DirectionSet, a tensor ``(M, *shape)``, or a list of those.
            name: name of the result (default: this name).

        Returns:
            A Direction whose vectors are orthogonal to every vector of ``against``.
        """
        basis, names = self._condition_matrix(against)
        flat = self._flat().double()
        coef = torch.linalg.lstsq(basis.T, flat.T, driver="gelsd").solution  # (M, K)
        residual = flat - (basis.T @ coef).T
        kept = residual.norm(dim=1)
        if bool((kept < 1e-6).any()):
            raise InvalidValueError(
                f"direction {self.name!r} lies in the span of the conditions; nothing is left after removing them",
                expected="a direction not explained by the conditions",
                got=f"remaining norm {[round(float(x), 8) for x in kept]}",
                fix="drop a condition that is (nearly) the same as the primary direction",
            )
        cos_before = (flat @ basis.T) / (basis.norm(dim=1) + 1e-30)
        edit = {"op": "orthogonalize", "against": names, "cosine_before": cos_before.tolist(),
                "norm_kept": kept.tolist()}
        return self._derived(residual.float().view_as(self.vectors), name or self.name, edit)

    def _condition_matrix(self, against: Any) -> tuple[torch.Tensor, list[str]]:
        """Stack condition vectors into ``(M, D)`` float64 after checking their spaces."""
        items = list(against) if isinstance(against, (list, tuple, DirectionSet)) else [against]
        rows, names = [], []
        for item in items:
            if isinstance(item, DirectionSet):
                sub, sub_names = self._condition_matrix(list(item))
                rows.append(sub)
                names += sub_names
            elif isinstance(item, Direction):
                if not _same_space(self.space, item.space):
                    raise IncompatibleLatentError(
                        f"condition {item.name!r} belongs to {_describe(item.space)}, "
                        f"but {self.name!r} to {_describe(self.space)}",
                        expected=_describe(self.space), got=_describe(item.space),
                        fix="find every condition in the same model and space as the primary direction")
                rows.append(item._flat().double())
                names.append(item.name)
            else:
                t = to_tensor(item, name="condition").double()
                t = t.unsqueeze(0) if tuple(t.shape) == self.space.shape else t
                if tuple(t.shape[1:]) != self.space.shape:
                    raise IncompatibleLatentError(
                        "condition vectors do not fit the direction's space",
                        expected=f"(M, {', '.join(map(str, self.space.shape))})", got=shape_str(tuple(t.shape)),
                        fix="pass Directions or tensors of the same latent shape")
                rows.append(t.flatten(1))
                names.append("tensor")
        if not rows:
            raise InvalidValueError("orthogonalize() needs at least one condition", expected="[d1, d2, ...]",
                                    got="nothing", fix="pass against=[other_direction]")
        return torch.cat(rows), names

    def project_out(self, z: Any) -> torch.Tensor:
        """Remove the component of ``z`` along this direction (all ``K`` vectors).

        Args:
            z: ``(N, *shape)`` or ``(*shape)`` latents.

        Returns:
            The same shape, orthogonal to every vector of the direction.

        Example:
            >>> from latentlab import LatentSpace
            >>> d = Direction([1.0, 0.0], LatentSpace("z", (2,), model="toy"))
            >>> d.project_out(torch.tensor([3.0, 4.0]))
            tensor([0., 4.])
        """
        t = to_tensor(z, name="z")
        if not t.is_floating_point():
            t = t.float()
        batched = self._check_latents(t)
        flat = (t if batched else t.unsqueeze(0)).flatten(1)
        q, _ = torch.linalg.qr(self._flat().double().T)  # (D, K) orthonormal
        q = q.to(t.device, t.dtype)
        out = (flat - (flat @ q) @ q.T).view_as(t if batched else t.unsqueeze(0))
        return out if batched else out[0]

    def cosine(self, other: Direction) -> float:
        """Cosine similarity of the first vectors of two directions in the same space."""
        if not _same_space(self.space, other.space):
            raise IncompatibleLatentError(
                f"cannot compare {self.name!r} ({_describe(self.space)}) with {other.name!r} "
                f"({_describe(other.space)})", expected=_describe(self.space), got=_describe(other.space),
                fix="compare directions of the same model and space")
        return float(self._flat()[0].double() @ other._flat()[0].double())

    # -- files ----------------------------------------------------------------
    def _meta(self) -> dict[str, Any]:
        s = self.space
        return {"name": self.name, "k": self.k,
                "space": {"name": s.name, "shape": list(s.shape), "prior": s.prior, "model": s.model,
                          "description": s.description},
                "provenance": self.provenance}

    @classmethod
    def _from_meta(cls, meta: dict[str, Any], vectors: torch.Tensor) -> Direction:
        sp = meta["space"]
        space = LatentSpace(sp["name"], tuple(sp["shape"]), sp["prior"], model=sp["model"],
                            description=sp.get("description", ""))
        d = cls.__new__(cls)
        if tuple(vectors.shape[1:]) != space.shape:
            raise ShapeError("the saved vectors do not match the saved space", expected=shape_str(space.shape),
                             got=shape_str(tuple(vectors.shape)), fix="the file is damaged; save the direction again")
        d.vectors, d.space, d.name, d.provenance = vectors.float().contiguous(), space, meta["name"], meta["provenance"]
        return d

    def save(self, path: str | Path) -> Path:
        """Save as ``<path>.safetensors`` (vectors) + ``<path>.json`` (space, name, provenance), atomically.

        Args:
            path: ``"bold"``, ``"bold.safetensors"`` or ``"bold.json"`` all write the same pair.

        Returns:
            The path of the ``.safetensors`` file.
        """
        return _save({"kind": "Direction", "format": FORMAT, **self._meta()}, {"vectors": self.vectors}, path)

    @classmethod
    def load(cls, path: str | Path) -> Direction:
        """Load a direction written by :meth:`save` (vectors are bit-exact).

        Example:
            >>> import tempfile, pathlib
            >>> from latentlab import LatentSpace
            >>> d = Direction([1.0, 2.0], LatentSpace("z", (2,), model="toy"), name="up")
            >>> p = d.save(pathlib.Path(tempfile.mkdtemp()) / "up")
            >>> e = Direction.load(p)
            >>> e.name, torch.equal(e.vectors, d.vectors), e.space == d.space
            ('up', True, True)
        """
        meta, tensors = _load(path)
        if meta.get("kind") != "Direction":
            raise InvalidValueError(f"{path} holds a {meta.get('kind')}, not a Direction",
                                    expected="a file written by Direction.save", got=meta.get("kind"),
                                    fix="open it with DirectionSet.load")
        return cls._from_meta(meta, tensors["vectors"])


def _paths(path: str | Path) -> tuple[Path, Path]:
    p = Path(path)
    if p.suffix not in (".safetensors", ".json"):
        p = p.with_name(p.name + ".safetensors")
    tensors = p.with_suffix(".safetensors")
    return tensors, tensors.with_suffix(".json")


def _save(meta: dict[str, Any], tensors: dict[str, torch.Tensor], path: str | Path) -> Path:
    tensor_path, json_path = _paths(path)
    text = json.dumps(_jsonable(meta), indent=2, sort_keys=True)
    with atomic_path(tensor_path) as tmp:
        save_file({k: v.contiguous() for k, v in tensors.items()}, str(tmp), metadata={"latentlab": text})
    with atomic_path(json_path) as tmp:
        tmp.write_text(text + "\n")
    return tensor_path


def _load(path: str | Path) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """Read tensors and metadata; the JSON sidecar wins, the copy inside the safetensors is the fallback."""
    tensor_path, json_path = _paths(path)
    if not tensor_path.is_file():
        raise InvalidValueError(f"no direction file at {tensor_path}", expected="a .safetensors file from save()",
                                got="missing file", fix="check the path (save() writes <name>.safetensors + .json)")
    try:
        with safe_open(str(tensor_path), framework="pt") as f:
            tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open is not a dict)
            embedded = (f.metadata() or {}).get("latentlab")
    except (SafetensorError, OSError) as exc:
        raise InvalidValueError(f"cannot read {tensor_path}", expected="a safetensors file written by save()",
                                got=f"{type(exc).__name__}: {exc}", fix="the file is damaged; save it again") from exc
    text = json_path.read_text() if json_path.is_file() else embedded
    if text is None:
        raise InvalidValueError(f"{tensor_path} has no latentlab metadata", expected=f"a sidecar {json_path.name}",
                                got="no metadata", fix="save directions with Direction.save / DirectionSet.save")
    return json.loads(text), tensors


# --------------------------------------------------------------------------- DirectionSet
class DirectionSet(Sequence[Direction]):
    """An ordered, named collection of :class:`Direction` (e.g. PCA components), saved as one file pair.

    Index by position, slice, or name. ``provenance`` describes the whole set (e.g. the
    explained variance of every PCA component).

    Example:
        >>> from latentlab import LatentSpace
        >>> s = LatentSpace("z", (2,), model="toy")
        >>> ds = DirectionSet([Direction([1.0, 0.0], s, "x"), Direction([0.0, 1.0], s, "y")])
        >>> ds.names, ds["y"].vector
        (['x', 'y'], tensor([0., 1.]))
    """

    def __init__(self, directions: Iterable[Direction], name: str = "directions",
                 provenance: dict[str, Any] | None = None) -> None:
        self._items = list(directions)
        for d in self._items:
            if not isinstance(d, Direction):
                raise InvalidValueError("a DirectionSet holds Direction objects", expected="Direction",
                                        got=type(d).__name__, fix="wrap vectors with Direction(v, space)")
        self.name = str(name)
        self.provenance: dict[str, Any] = _jsonable(dict(provenance or {}))

    @overload
    def __getitem__(self, i: int | str) -> Direction: ...

    @overload
    def __getitem__(self, i: slice) -> DirectionSet: ...

    def __getitem__(self, i: int | str | slice) -> Direction | DirectionSet:
        if isinstance(i, slice):
            return DirectionSet(self._items[i], self.name, self.provenance)
        if isinstance(i, str):
            for d in self._items:
                if d.name == i:
                    return d
            raise InvalidValueError(f"no direction named {i!r} in this set", expected=f"one of {self.names}",
                                    got=repr(i), fix="index by position or by one of the names")
        return self._items[i]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Direction]:
        return iter(self._items)

    @property
    def names(self) -> list[str]:
        """Names of the directions, in order."""
        return [d.name for d in self._items]

    def __repr__(self) -> str:
        return f"<DirectionSet {self.name!r}: {len(self)} directions {self.names[:6]}{'...' if len(self) > 6 else ''}>"

    def as_direction(self, name: str | None = None) -> Direction:
        """All first vectors stacked into one K-vector :class:`Direction` (a subspace), same space."""
        if not self._items:
            raise InvalidValueError("the set is empty", expected="at least one direction", got=0,
                                    fix="build the set from directions")
        first = self._items[0]
        for d in self._items[1:]:
            first.cosine(d)  # raises if the spaces differ
        vectors = torch.stack([d.vector for d in self._items])
        return Direction(vectors, first.space, name or self.name, {"method": "stack", "of": self.names,
                                                                   "set_provenance": self.provenance})

    def save(self, path: str | Path) -> Path:
        """Save every direction into one ``.safetensors`` + ``.json`` pair (atomic writes)."""
        meta = {"kind": "DirectionSet", "format": FORMAT, "name": self.name, "provenance": self.provenance,
                "directions": [d._meta() for d in self._items]}
        return _save(meta, {str(i): d.vectors for i, d in enumerate(self._items)}, path)

    @classmethod
    def load(cls, path: str | Path) -> DirectionSet:
        """Load a set written by :meth:`save` (a single saved Direction loads as a set of one)."""
        meta, tensors = _load(path)
        if meta.get("kind") == "Direction":
            return cls([Direction._from_meta(meta, tensors["vectors"])], meta["name"])
        items = [Direction._from_meta(m, tensors[str(i)]) for i, m in enumerate(meta["directions"])]
        return cls(items, meta.get("name", "directions"), meta.get("provenance"))


# --------------------------------------------------------------------------- supervised finders
def _codes_matrix(codes: Any, space: LatentSpace | None) -> tuple[torch.Tensor, LatentSpace]:
    """``codes (N, *shape)`` -> float64 ``(N, D)`` and the (possibly unbound) space."""
    t = to_tensor(codes, name="codes").detach().cpu()
    t = t.double() if t.is_floating_point() else t.to(torch.float64)
    check_finite(t, name="codes")
    if t.ndim < 2:
        raise ShapeError("codes must be a batch of latents", expected="(N, *shape), e.g. (N, 16)",
                         got=shape_str(tuple(t.shape)), fix="stack the latents into one (N, D) tensor")
    if space is None:
        space = _unbound_space(tuple(t.shape[1:]))
    elif tuple(t.shape[1:]) != space.shape:
        raise IncompatibleLatentError(
            f"codes do not fit the space {_describe(space)}",
            expected=f"(N, {', '.join(map(str, space.shape))})", got=shape_str(tuple(t.shape)),
            fix="encode or sample the codes with this model, or pass the space they come from")
    return t.flatten(1), space


def _labels_vector(y: Any, n: int) -> np.ndarray:
    arr = y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else np.asarray(y)
    arr = arr.astype(np.float64).reshape(-1) if arr.size == n else arr
    if arr.shape != (n,):
        raise ShapeError("labels must give one number per code", expected=f"({n},)",
                         got=shape_str(tuple(np.shape(arr))), fix="pass one label per row of codes")
    if not np.isfinite(arr).all():
        raise InvalidValueError("labels contain NaN or inf", expected="finite labels",
                                got=f"{int((~np.isfinite(arr)).sum())} non-finite values",
                                fix="drop the rows whose label is missing (codes[mask], y[mask])")
    return arr


def _binarize(y: np.ndarray, quantile: float) -> tuple[np.ndarray, np.ndarray, str]:
    """``(mask of used rows, 0/1 labels of those rows, kind)``; continuous labels keep their extreme quantiles."""
    values = np.unique(y)
    if len(values) < 2:
        raise InvalidValueError("labels have a single value; a direction needs two groups",
                                expected="at least two distinct labels", got=f"all labels = {values[:1].tolist()}",
                                fix="check the label column or the threshold (e.g. weight > 600)")
    if len(values) == 2:
        return np.ones_like(y, dtype=bool), (y == values[1]).astype(np.int64), "binary"
    if not 0 < quantile <= 0.5:
        raise InvalidValueError("quantile must be in (0, 0.5]", expected="e.g. 0.3 (top and bottom 30%)",
                                got=quantile, fix="pass quantile=0.3")
    lo, hi = np.quantile(y, [quantile, 1 - quantile])
    mask = (y <= lo) | (y >= hi)
    if lo == hi:
        mask = np.ones_like(y, dtype=bool)
    return mask, (y[mask] > np.median(y)).astype(np.int64), f"continuous (top/bottom {quantile:.0%})"


def _split(n: int, y: np.ndarray, test_size: float, seed: int, stratify: bool) -> tuple[np.ndarray, np.ndarray]:
    idx = np.arange(n)
    if test_size <= 0 or n < 10:
        return idx, idx[:0]
    model_selection = require("sklearn.model_selection", purpose="from_labels")
    strat = y if stratify and np.bincount(y.astype(np.int64)).min() >= 2 else None
    tr, te = model_selection.train_test_split(idx, test_size=test_size, random_state=seed, stratify=strat)
    return np.sort(tr), np.sort(te)


def _fit_vector(method: str, x: np.ndarray, y: np.ndarray, c: float, alpha: float, seed: int) -> np.ndarray:
    """Unnormalised direction from training rows (pointing to label 1 / higher labels)."""
    if method == "mean_diff":
        return np.asarray(x[y == 1].mean(0) - x[y == 0].mean(0))
    if method == "svm":
        svm = require("sklearn.svm", purpose="from_labels(method='svm')")
        model = svm.LinearSVC(C=c, dual="auto", max_iter=20_000, random_state=seed).fit(x, y)
    elif method == "logistic":
        lm = require("sklearn.linear_model", purpose="from_labels(method='logistic')")
        model = lm.LogisticRegression(C=c, max_iter=5_000).fit(x, y)
    else:
        lm = require("sklearn.linear_model", purpose="from_labels(method='ridge')")
        model = lm.Ridge(alpha=alpha).fit(x, y)
    return np.asarray(model.coef_, dtype=np.float64).reshape(-1)


def _score(method: str, v: np.ndarray, x_tr: np.ndarray, y_tr: np.ndarray, x_te: np.ndarray,
           y_te: np.ndarray) -> dict[str, float]:
    """Held-out accuracy (classifiers: 1-D threshold on the projection) or R^2 (ridge: 1-D linear fit)."""
    if len(y_te) == 0:
        return {}
    p_tr, p_te = x_tr @ v, x_te @ v
    if method == "ridge":
        slope, icept = np.polyfit(p_tr, y_tr, 1)
        resid = y_te - (slope * p_te + icept)
        r2 = 1.0 - float((resid**2).sum()) / max(float(((y_te - y_te.mean()) ** 2).sum()), 1e-30)
        return {"heldout_r2": r2}
    threshold = 0.5 * (p_tr[y_tr == 1].mean() + p_tr[y_tr == 0].mean())
    return {"heldout_accuracy": float(((p_te > threshold).astype(np.int64) == y_te).mean())}


def from_labels(
    codes: Any,
    y: Any,
    method: Method = "mean_diff",
    space: SpaceLike | None = None,
    name: str | None = None,
    *,
    quantile: float = 0.3,
    test_size: float = 0.2,
    c: float = 1.0,
    alpha: float = 1.0,
    seed: int = 0,
    refit: bool = True,
) -> Direction:
    """Find the direction along which a label grows, from labelled codes.

    Methods:
        * ``"mean_diff"``: mean of the positive codes minus mean of the negative codes; each
          class contributes its own mean, so a rare attribute is not swamped (plat's
          balanced attribute vectors).
        * ``"svm"``: normal of a linear SVM boundary (InterFaceGAN).
        * ``"logistic"``: normal of a logistic-regression boundary.
        * ``"ridge"``: coefficients of a ridge regression of continuous labels.

    Classifiers take binary labels as they are; continuous labels keep only the top and
    bottom ``quantile`` (InterFaceGAN's extreme-sample selection). The direction points
    towards the positive class / larger labels. A held-out split (``test_size``) gives
    ``provenance["scores"]``: accuracy of thresholding the projection, or R^2 for ridge.

    Args:
        codes: ``(N, *shape)`` latents (tensor or numpy).
        y: ``(N,)`` labels: bool, 0/1, two classes, or continuous numbers.
        method: ``"mean_diff"``, ``"svm"``, ``"logistic"`` or ``"ridge"``.
        space: the space of the codes: a :class:`LatentSpace` or a generator (its default
            space). Without it the direction is *unbound*: it records only the shape, applies
            to any latents of that shape, and ``check_compatible`` accepts any space of that
            shape; call ``d.bind(gen)`` to attach it to a model.
        name: the direction's name (default: the label's ``.name`` if it has one, else the method).
        quantile: fraction kept at each end for continuous labels with a classifier.
        test_size: held-out fraction for the score (0 for none).
        c: inverse regularisation of ``svm`` / ``logistic``; alpha: ridge penalty.
        seed: seed of the train/test split (and the SVM).
        refit: after scoring, fit again on all rows for the returned direction.

    Returns:
        A :class:`Direction` (K=1) with provenance (method, parameters, sample counts, scores).
    """
    if method not in ("mean_diff", "svm", "logistic", "ridge"):
        raise InvalidValueError(f"unknown method {method!r}", expected="'mean_diff', 'svm', 'logistic' or 'ridge'",
                                got=repr(method), fix="pick one of the four methods")
    x_all, resolved = _codes_matrix(codes, _resolve_space(space))
    label_name = getattr(y, "name", None)
    y_all = _labels_vector(y, len(x_all))
    x_np = x_all.numpy()
    if method == "ridge":
        mask, target, kind = np.ones(len(y_all), dtype=bool), y_all, "continuous"
    else:
        mask, target_int, kind = _binarize(y_all, quantile)
        target = target_int
    x_used = x_np[mask]
    tr, te = _split(len(x_used), target, test_size, seed, stratify=method != "ridge")
    v = _fit_vector(method, x_used[tr], target[tr], c, alpha, seed)
    scores = _score(method, v, x_used[tr], target[tr], x_used[te], target[te])
    if refit and len(te):
        v = _fit_vector(method, x_used, target, c, alpha, seed)
    params: dict[str, Any] = {"test_size": test_size, "seed": seed, "refit": refit}
    if method in ("svm", "logistic"):
        params["c"] = c
    if method == "ridge":
        params["alpha"] = alpha
    if kind.startswith("continuous") and method != "ridge":
        params["quantile"] = quantile
    counts = {} if method == "ridge" else {"n_positive": int(target.sum()),
                                           "n_negative": int(len(target) - target.sum())}
    prov = _base_provenance(method, params=params, label=label_name, label_kind=kind, n_samples=len(x_used),
                            n_train=len(tr), n_test=len(te), **counts, scores=scores)
    default_name = str(label_name) if label_name is not None else method
    return Direction(torch.from_numpy(v).view(-1, *resolved.shape), resolved, name or default_name, prov)


def conditional(primary: Direction, conditions: Any, name: str | None = None) -> Direction:
    """Conditional editing: ``primary`` with every condition direction removed at once.

    Solves a least-squares problem against all conditions together (works for any number
    of conditions, even linearly dependent ones), instead of InterFaceGAN's two-condition
    formula. The result is orthogonal to every condition, so moving along it leaves the
    conditions' *linear* scores unchanged.

    Args:
        primary: the direction to keep (e.g. ``bold``).
        conditions: a Direction, a DirectionSet or a list of them (e.g. ``[italic, serif]``).
        name: the result's name (default ``"<primary>|<conditions>"``).

    Returns:
        A :class:`Direction` in the primary's space.

    Example:
        >>> from latentlab import LatentSpace
        >>> s = LatentSpace("z", (3,), model="toy")
        >>> bold, italic = Direction([1.0, 1.0, 0.0], s, "bold"), Direction([0.0, 1.0, 0.0], s, "italic")
        >>> pure = conditional(bold, [italic])
        >>> pure.name, pure.vector
        ('bold|italic', tensor([1., 0., 0.]))
    """
    conds = list(conditions) if isinstance(conditions, (list, tuple, DirectionSet)) else [conditions]
    cond_names = [getattr(c, "name", "tensor") for c in conds]
    return primary.orthogonalize(conds, name=name or f"{primary.name}|{','.join(cond_names)}")


# --------------------------------------------------------------------------- unsupervised finders
def _sign_fix(vectors: torch.Tensor) -> torch.Tensor:
    """Flip each row so that its largest-magnitude entry is positive (deterministic signs)."""
    idx = vectors.abs().argmax(dim=1)
    signs = torch.sign(vectors[torch.arange(len(vectors)), idx])
    signs[signs == 0] = 1
    return vectors * signs.unsqueeze(1)


def _sample_space(gen: Generator, space: LatentSpace, n: int, rng: torch.Generator) -> torch.Tensor:
    """``(n, *space.shape)`` samples of ``space``: from its prior, or mapped from the default space."""
    try:
        return gen.sample(n, seed=rng, space=space).detach().cpu()
    except CapabilityError:
        if not gen.can("map") or space == gen.default_space:
            raise CapabilityError(
                f"cannot sample the {space.name!r} space of {gen.name!r} for PCA",
                expected="a space with a normal prior, or a generator that can map into it",
                got=f"prior {space.prior!r}, capabilities {sorted(gen.capabilities)}",
                fix="pass codes=... (e.g. encoded images) to run PCA on them instead",
            ) from None
    z = gen.sample(n, seed=rng)
    return gen.map(z, gen.default_space, space).detach().cpu()


class _CovarianceStream:
    """Streaming mean and covariance in float64 (exact; O(D^2) memory, one pass)."""

    def __init__(self, dim: int) -> None:
        self.n = 0
        self.total = torch.zeros(dim, dtype=torch.float64)
        self.outer = torch.zeros(dim, dim, dtype=torch.float64)
        self.shift: torch.Tensor | None = None

    def update(self, x: torch.Tensor) -> None:
        x = x.double()
        if self.shift is None:  # shift by the first batch's mean for numerical stability
            self.shift = x.mean(0)
        xs = x - self.shift
        self.n += len(x)
        self.total += xs.sum(0)
        self.outer += xs.T @ xs

    def result(self) -> tuple[torch.Tensor, torch.Tensor]:
        assert self.shift is not None
        mean_s = self.total / self.n
        cov = (self.outer - self.n * torch.outer(mean_s, mean_s)) / max(self.n - 1, 1)
        return mean_s + self.shift, cov


def _pca_from_cov(cov: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    evals, evecs = torch.linalg.eigh(cov)
    order = torch.argsort(evals, descending=True)[:k]
    return evals[order].clamp_min(0), evecs[:, order].T


def pca(
    gen: Generator,
    n_samples: int = 10_000,
    n_components: int = 10,
    space: str | LatentSpace | None = None,
    seed: int = 0,
    *,
    codes: Any = None,
    streaming: bool | None = None,
    batch_size: int = 8192,
    name: str = "pc",
) -> DirectionSet:
    """Principal directions of a latent space (GANSpace): sample (and map), then PCA.

    Samples ``n_samples`` latents of ``space`` (from its prior, or by mapping the default
    space when the space has no prior, as GANSpace maps ``z -> w``), or uses ``codes``.
    In memory, the covariance of all samples is factorised with ``eigh``; when streaming
    (default for ``n_samples > 50_000``), samples are drawn in batches and never held
    together: an exact running covariance for ``D <= 4096``, scikit-learn's
    ``IncrementalPCA`` above.

    Args:
        gen: the generator.
        n_samples: number of samples (ignored when ``codes`` is given).
        n_components: number of principal directions.
        space: the space (default space when ``None``).
        seed: seed of the sampling.
        codes: ``(N, *space.shape)`` latents to analyse instead of samples (e.g. encoded
            images: for a VAE, whose prior is isotropic, this is where PCA is informative).
        streaming: force streaming (``True``) or in-memory (``False``) computation.
        batch_size: batch size when streaming.
        name: prefix of the component names (``pc0``, ``pc1``...).

    Returns:
        A :class:`DirectionSet` sorted by explained variance; its provenance holds
        ``explained_variance`` and ``explained_variance_ratio`` lists.
    """
    s = gen.space(space)
    if n_components < 1 or n_components > s.dim:
        raise InvalidValueError("n_components out of range", expected=f"1 <= n_components <= {s.dim}",
                                got=n_components, fix=f"pass n_components={min(10, s.dim)}")
    rng = torch.Generator().manual_seed(int(seed))
    if codes is not None:
        x, _ = _codes_matrix(codes, s)
        streaming, n_samples, source = False, len(x), "codes"
    else:
        streaming = n_samples > 50_000 if streaming is None else streaming
        source = f"samples of {s.name}" + ("" if s.prior == "normal" else f" mapped from {gen.default_space.name}")
    if n_samples < 2:
        raise InvalidValueError("PCA needs at least two samples", expected="n_samples >= 2", got=n_samples,
                                fix="pass n_samples=10_000")
    if streaming:
        batches = (_sample_space(gen, s, min(batch_size, n_samples - i), rng).flatten(1)
                   for i in range(0, n_samples, batch_size))
        if s.dim <= _STREAM_COV_MAX_DIM:
            stream = _CovarianceStream(s.dim)
            for b in batches:
                stream.update(b)
            _, cov = stream.result()
            evals, vecs = _pca_from_cov(cov, n_components)
            total, algo = float(torch.trace(cov)), "streaming covariance + eigh"
        else:
            decomposition = require("sklearn.decomposition", purpose="streaming PCA")
            ipca = decomposition.IncrementalPCA(n_components=n_components)
            for b in batches:
                if len(b) >= n_components:
                    ipca.partial_fit(b.double().numpy())
            evals = torch.from_numpy(ipca.explained_variance_)
            vecs = torch.from_numpy(ipca.components_)
            total, algo = float(evals.sum() / max(float(ipca.explained_variance_ratio_.sum()), 1e-30)), "IncrementalPCA"
    else:
        if codes is None:
            x = _sample_space(gen, s, n_samples, rng).flatten(1)
        held = _CovarianceStream(s.dim)
        for chunk in x.split(batch_size):  # chunked float64 accumulation: no float64 copy of all samples
            held.update(chunk)
        _, cov = held.result()
        evals, vecs = _pca_from_cov(cov, n_components)
        total, algo = float(torch.trace(cov)), "covariance + eigh"
    vecs = _sign_fix(vecs.double())
    ratio = (evals / max(total, 1e-30)).tolist()
    prov = _base_provenance("pca", params={"n_components": n_components, "space": s.name, "seed": seed,
                                           "streaming": bool(streaming), "algorithm": algo, "source": source},
                            n_samples=int(n_samples), explained_variance=evals.tolist(),
                            explained_variance_ratio=ratio)
    items = [Direction(vecs[i].view(s.shape), s, f"{name}{i}",
                       {**prov, "component": i, "scores": {"explained_variance_ratio": ratio[i]}})
             for i in range(len(vecs))]
    return DirectionSet(items, name=f"pca({gen.name}:{s.name})", provenance=prov)


def sefa(
    gen: Generator,
    space: str | LatentSpace | None = None,
    n_components: int | None = None,
    *,
    normalize_rows: bool = False,
    name: str = "sefa",
) -> DirectionSet:
    """Closed-form factorisation (SeFa): eigenvectors of ``A^T A`` of the first latent-facing weight.

    The generator's adapter says which weight ``A`` (``(out, space.dim)``) through
    ``gen.sefa_weight(space)`` and declares the ``"sefa"`` capability. The eigenvectors
    (``eigh``, the matrix is symmetric) are sorted by eigenvalue, largest first: the
    directions that change the first layer's output the most.

    Args:
        gen: a generator with ``gen.can("sefa")``.
        space: the space (default space when ``None``).
        n_components: how many directions (all when ``None``).
        normalize_rows: scale each output unit's weights to norm 1 first, as the SeFa
            reference code does for StyleGAN's style layers.
        name: prefix of the direction names.

    Returns:
        A :class:`DirectionSet`; provenance holds the eigenvalues.
    """
    if not gen.can("sefa") or not hasattr(gen, "sefa_weight"):
        raise CapabilityError(f"model {gen.name!r} does not expose a weight for SeFa",
                              expected="a generator with the 'sefa' capability",
                              got=f"capabilities {sorted(gen.capabilities) or 'none'}",
                              fix="use ll.directions.pca(gen) or jacobian(gen, z, k) instead")
    s = gen.space(space)
    a = to_tensor(gen.sefa_weight(s), name="SeFa weight").detach().cpu().double()
    if a.ndim != 2 or a.shape[1] != s.dim:
        raise ShapeError("the adapter's SeFa weight does not face the latent space",
                         expected=f"(out, {s.dim})", got=shape_str(tuple(a.shape)),
                         fix="the adapter's sefa_weight() must return the weight applied to the latent")
    if normalize_rows:
        a = a / a.norm(dim=1, keepdim=True).clamp_min(1e-12)
    k = s.dim if n_components is None else int(n_components)
    evals, vecs = _pca_from_cov(a.T @ a, k)
    vecs = _sign_fix(vecs)
    prov = _base_provenance("sefa", params={"space": s.name, "normalize_rows": normalize_rows,
                                            "weight_shape": list(a.shape)}, eigenvalues=evals.tolist())
    items = [Direction(vecs[i].view(s.shape), s, f"{name}{i}",
                       {**prov, "component": i, "scores": {"eigenvalue": float(evals[i])}}) for i in range(len(vecs))]
    return DirectionSet(items, name=f"sefa({gen.name}:{s.name})", provenance=prov)


def jacobian(
    gen: Generator,
    z: Any,
    k: int = 5,
    space: str | LatentSpace | None = None,
    *,
    oversample: int = 8,
    n_iter: int = 2,
    seed: int = 0,
    name: str = "jac",
) -> DirectionSet:
    """Top-``k`` local directions that change the image most at ``z`` (decoder Jacobian).

    Right singular vectors of the Jacobian ``J = d decode(z) / dz`` (pixels x latent), found
    with a randomised SVD (Halko et al.) that only needs Jacobian-vector products
    (``torch.func.jvp``) and vector-Jacobian products (``torch.func.vjp``), never the full
    Jacobian.

    Args:
        gen: the generator (``decode_differentiable`` must be differentiable).
        z: one latent ``(*space.shape)`` (or ``(1, *shape)``).
        k: number of directions.
        oversample: extra random probes of the randomised SVD.
        n_iter: power iterations (sharper separation of close singular values).
        seed: seed of the random probes.

    Returns:
        A :class:`DirectionSet`; provenance holds the singular values (image change per
        unit step) and the point ``z``.
    """
    s = gen.space(space)
    t = to_tensor(z, name="z").detach().to(gen.device, torch.float32)
    if tuple(t.shape) == (1, *s.shape):
        t = t[0]
    if tuple(t.shape) != s.shape:
        raise ShapeError("jacobian() needs one latent", expected=shape_str(s.shape), got=shape_str(tuple(t.shape)),
                         fix="pass z[0] rather than a batch")
    d = s.dim
    if not 1 <= k <= d:
        raise InvalidValueError("k out of range", expected=f"1 <= k <= {d}", got=k, fix=f"pass k={min(5, d)}")
    func = torch.func

    def f(flat: torch.Tensor) -> torch.Tensor:
        return gen.decode_differentiable(flat.view(1, *s.shape), s).flatten()

    x0 = t.flatten()
    vjp_fn = func.vjp(f, x0)[1]

    def jvp(v: torch.Tensor) -> torch.Tensor:
        return func.jvp(f, (x0,), (v,))[1]

    def jv_cols(m: torch.Tensor) -> torch.Tensor:  # J @ m, m (D, l) -> (P, l)
        return torch.stack([jvp(c) for c in m.T], 1)

    def jtv_cols(m: torch.Tensor) -> torch.Tensor:  # J^T @ m, m (P, l) -> (D, l)
        return torch.stack([vjp_fn(c)[0] for c in m.T], 1)

    rng = torch.Generator().manual_seed(int(seed))
    width = min(d, k + oversample)
    with torch.enable_grad():
        q, _ = torch.linalg.qr(jv_cols(torch.randn(d, width, generator=rng).to(x0)))
        for _ in range(n_iter):
            q, _ = torch.linalg.qr(jtv_cols(q))
            q, _ = torch.linalg.qr(jv_cols(q))
        bt = jtv_cols(q).detach().double()  # (D, l) = (Q^T J)^T
    _, sv, vh = torch.linalg.svd(bt.T, full_matrices=False)
    vecs = _sign_fix(vh[:k])
    prov = _base_provenance("jacobian", params={"k": k, "oversample": oversample, "n_iter": n_iter, "seed": seed,
                                                "space": s.name}, singular_values=sv[:k].tolist(),
                            point=t.cpu().flatten().tolist() if d <= 1024 else None)
    items = [Direction(vecs[i].view(s.shape), s, f"{name}{i}",
                       {**prov, "component": i, "scores": {"singular_value": float(sv[i])}}) for i in range(k)]
    return DirectionSet(items, name=f"jacobian({gen.name}:{s.name})", provenance=prov)


# --------------------------------------------------------------------------- evaluation
def measure_samples(
    gen: Generator,
    measure: str | _measures.Measure,
    n: int = 2000,
    seed: int = 0,
    space: str | LatentSpace | None = None,
    *,
    batch_size: int = 256,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Label the generator's own samples with a measure (InterFaceGAN's recipe: sample, render, score).

    Args:
        gen: the generator.
        measure: a measure name or function ``images (N, 3, H, W) -> (N,)`` (e.g. a classifier);
            it sees :meth:`~latentlab.Generator.measure_views` (for ``glyphs``: each glyph, averaged).
        n: number of samples.
        seed: sampling seed.
        space: the space to sample (default space when ``None``).

    Returns:
        ``(codes (n, *space.shape), labels (n,))``, ready for :func:`from_labels`.

    Example:
        >>> import latentlab as ll
        >>> gen = ll.load("digits")
        >>> z, y = measure_samples(gen, "slant", n=500)
        >>> d = from_labels(z, y, method="ridge", space=gen, name="slant")
        >>> d.provenance["scores"]["heldout_r2"] > 0.5
        True
    """
    s = gen.space(space)
    _, fn = _measures.get_measure(measure)
    codes = gen.sample(n, seed=seed, space=s)
    return codes, _measure_batched(gen, [fn], codes, s, batch_size)[0].float()


def _decode_batched(gen: Generator, z: torch.Tensor, space: LatentSpace, batch_size: int = 256) -> torch.Tensor:
    return torch.cat([gen.decode(chunk, space=space) for chunk in z.split(batch_size)])


def _measure_batched(gen: Generator, fns: Sequence[_measures.Measure], z: torch.Tensor, space: LatentSpace,
                     batch_size: int = 256) -> list[torch.Tensor]:
    """Each measure of the images of ``z``, ``(N,)`` float64 per measure (averaged over
    :meth:`~latentlab.Generator.measure_views`, e.g. the glyphs of a font)."""
    out: list[list[torch.Tensor]] = [[] for _ in fns]
    for chunk in z.split(batch_size):
        views, k = gen.measure_views(chunk, space=space)
        for values, fn in zip(out, fns):
            values.append(to_tensor(fn(views)).detach().cpu().double().view(len(chunk), k).mean(1))
    return [torch.cat(v) for v in out]


def _start_latents(gen: Generator, space: LatentSpace, z: Any, seeds: int | Sequence[int]) -> torch.Tensor:
    if z is not None:
        t = to_tensor(z, name="z").to(gen.device, torch.float32)
        return t.unsqueeze(0) if tuple(t.shape) == space.shape else t
    seed_list = list(range(seeds)) if isinstance(seeds, int) else [int(x) for x in seeds]
    if not seed_list:
        raise InvalidValueError("no starting latents", expected="seeds=8 or a list of seeds", got=seeds,
                                fix="pass seeds=8")
    return torch.cat([gen.sample(1, seed=sd, space=space) for sd in seed_list])


def preview(
    gen: Generator,
    d: Direction | DirectionSet,
    z: Any = None,
    strengths: Sequence[float] = (-3.0, -1.5, 0.0, 1.5, 3.0),
    *,
    seeds: int | Sequence[int] = 4,
) -> torch.Tensor:
    """Image grid of a direction's effect, to see (and name) what it does.

    For one :class:`Direction`: one row per starting latent, one column per strength.
    For a :class:`DirectionSet`: one row per direction, applied to the first starting latent.

    Args:
        gen: the generator.
        d: a Direction or a DirectionSet (all checked against ``gen``).
        z: starting latents ``(N, *shape)`` or one ``(*shape)``; default: one sample per seed.
        strengths: the columns (include both extremes).
        seeds: seeds of the default starting latents.

    Returns:
        One grid image ``(3, H', W')`` in ``[0, 1]`` (show it with ``ll.show``).

    Example:
        >>> import latentlab as ll
        >>> gen = ll.load("digits")
        >>> d = ll.directions.sefa(gen)[0]
        >>> preview(gen, d, seeds=2, strengths=[-3, 0, 3]).shape   # 2 rows x 3 columns of 32 px
        torch.Size([3, 70, 104])
    """
    items = list(d) if isinstance(d, DirectionSet) else [d]
    if not items:
        raise InvalidValueError("nothing to preview", expected="a Direction or a non-empty DirectionSet",
                                got="an empty set", fix="pass at least one direction")
    space = items[0].check_compatible(gen)
    for item in items[1:]:
        item.check_compatible(gen)
    start = _start_latents(gen, space, z, seeds)
    if isinstance(d, DirectionSet):
        rows = torch.stack([item.apply(start[0], strengths) for item in items])  # (R, S, *shape)
    else:
        rows = d.apply(start, strengths).transpose(0, 1)  # (N, S, *shape)
    n_cols = rows.shape[1]
    images = _decode_batched(gen, rows.reshape(-1, *space.shape), space)
    return grid(images, nrow=n_cols)


@dataclass
class Response:
    """A measured image attribute against strength along a direction.

    Attributes:
        direction: the direction's name.
        measure: the measure's name.
        strengths: ``(S,)`` strengths.
        values: ``(S, N)`` measured values (one column per starting latent).
    """

    direction: str
    measure: str
    strengths: np.ndarray
    values: np.ndarray

    @property
    def mean(self) -> np.ndarray:
        """``(S,)`` mean over starting latents."""
        return np.asarray(self.values.mean(1))

    @property
    def std(self) -> np.ndarray:
        """``(S,)`` standard deviation over starting latents."""
        return np.asarray(self.values.std(1))

    def spearman(self) -> float:
        """Spearman rank correlation between strength and the mean response (1 = rises monotonically)."""
        stats = require("scipy.stats", purpose="Response.spearman")
        return float(stats.spearmanr(self.strengths, self.mean).statistic)

    def slope(self) -> float:
        """Least-squares slope of the mean response per unit strength."""
        return float(np.polyfit(self.strengths, self.mean, 1)[0])

    def plot(self, ax: Any = None, label: str | None = None, band: bool = True) -> Any:
        """Plot the mean (and, with ``band``, mean +- std) against strength with matplotlib; returns the axes."""
        if ax is None:
            plt = require("matplotlib.pyplot", purpose="Response.plot")
            _, ax = plt.subplots(figsize=(4.5, 3))
        line = ax.plot(self.strengths, self.mean, marker="o", label=label or self.direction)[0]
        if band:
            ax.fill_between(self.strengths, self.mean - self.std, self.mean + self.std, alpha=0.2,
                            color=line.get_color())
        ax.set_xlabel(f"strength along {self.direction}")
        ax.set_ylabel(self.measure)
        ax.grid(alpha=0.3)
        return ax

    def __repr__(self) -> str:
        pairs = ", ".join(f"{s:+.2g}: {m:.3g}" for s, m in zip(self.strengths, self.mean))
        return f"<Response {self.measure} along {self.direction!r}: {pairs}>"


def response(
    gen: Generator,
    d: Direction,
    measure: str | _measures.Measure,
    strengths: Sequence[float] = (-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0),
    seeds: int | Sequence[int] = 8,
    *,
    z: Any = None,
) -> Response:
    """Measure an image attribute along a direction, over several starting latents.

    Args:
        gen: the generator (checked against the direction).
        d: the direction.
        measure: a name from :data:`latentlab.measures.MEASURES` or a function
            ``images (N, 3, H, W) -> (N,)``; it sees :meth:`~latentlab.Generator.measure_views`
            (for ``glyphs``: each glyph of ``gen.text``, averaged per font).
        strengths: ``S`` strengths.
        seeds: ``N`` seeds (or a count) of the starting latents, one ``gen.sample(1, seed=...)`` each.
        z: starting latents ``(N, *shape)`` instead of seeds.

    Returns:
        A :class:`Response` with ``values (S, N)``, ``mean``, ``std``, ``spearman()``, ``plot()``.

    Example:
        >>> import latentlab as ll
        >>> gen = ll.load("digits")
        >>> r = response(gen, ll.directions.sefa(gen)[0], "ink_coverage", [-2, 0, 2], seeds=3)
        >>> r.values.shape
        (3, 3)
    """
    space = d.check_compatible(gen)
    measure_name, fn = _measures.get_measure(measure)
    start = _start_latents(gen, space, z, seeds)
    s = np.asarray(_as_strengths(list(strengths)), dtype=np.float64).reshape(-1)
    moved = d.apply(start, s.tolist())  # (S, N, *shape)
    values = _measure_batched(gen, [fn], moved.reshape(-1, *space.shape), space)[0]
    return Response(d.name, measure_name, s, values.view(len(s), len(start)).numpy())


@dataclass
class EntanglementTable:
    """How much each direction moves each measure, in standard deviations per unit strength.

    Attributes:
        rows: direction names.
        columns: measure names.
        values: ``(R, C)`` effects: mean change of the measure per unit strength, divided by
            the measure's spread over the starting images.
        cosines: ``(R, R)`` cosine similarities between the directions (latent entanglement).
    """

    rows: list[str]
    columns: list[str]
    values: np.ndarray
    cosines: np.ndarray = field(repr=False)

    def to_pandas(self) -> Any:
        """The effects as a ``pandas.DataFrame`` (needs pandas)."""
        pd = require("pandas", purpose="EntanglementTable.to_pandas")
        return pd.DataFrame(self.values, index=self.rows, columns=self.columns)

    def __repr__(self) -> str:
        w = max([len(r) for r in self.rows] + [9])
        head = " " * w + "".join(f"{c:>15}" for c in self.columns)
        lines = [head] + [f"{r:<{w}}" + "".join(f"{v:>+15.3f}" for v in row) for r, row in zip(self.rows, self.values)]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        big = float(np.abs(self.values).max()) or 1.0

        def cell(v: float) -> str:
            alpha = min(1.0, abs(v) / big)
            colour = f"rgba(220,80,60,{alpha:.2f})" if v > 0 else f"rgba(60,110,220,{alpha:.2f})"
            return f'<td style="background:{colour};text-align:right">{v:+.2f}</td>'

        head = "<tr><th></th>" + "".join(f"<th>{c}</th>" for c in self.columns) + "</tr>"
        body = "".join(f"<tr><th>{r}</th>" + "".join(cell(float(v)) for v in row) + "</tr>"
                       for r, row in zip(self.rows, self.values))
        return f"<table>{head}{body}</table>"


def entanglement(
    gen: Generator,
    directions: Iterable[Direction],
    measures: Sequence[str | _measures.Measure] = ("ink_coverage", "centroid_x", "centroid_y", "width",
                                                    "slant", "stroke_weight"),
    *,
    strength: float = 2.0,
    seeds: int | Sequence[int] = 8,
    z: Any = None,
) -> EntanglementTable:
    """Entanglement table: the effect of every direction on every measure (and their cosines).

    Each direction moves the starting latents by ``-strength`` and ``+strength``; the effect
    on a measure is ``mean(m(+s) - m(-s)) / (2 s)`` divided by the measure's standard
    deviation over the unedited starting images, so columns are comparable. A clean
    direction moves its own measure strongly and the others little. Any function
    ``images -> (N,)`` works as a measure, including a label classifier.

    Returns:
        An :class:`EntanglementTable` (prints as text, renders as a coloured HTML table).
    """
    items = list(directions)
    if not items:
        raise InvalidValueError("entanglement() needs directions", expected="a list of Directions", got="nothing",
                                fix="pass [bold, italic, ...]")
    space = items[0].check_compatible(gen)
    for d in items[1:]:
        d.check_compatible(gen)
    named = [_measures.get_measure(m) for m in measures]
    fns = [fn for _, fn in named]
    start = _start_latents(gen, space, z, seeds)
    spreads = [float(v.std()) + 1e-8 for v in _measure_batched(gen, fns, start, space)]
    values = np.zeros((len(items), len(named)))
    for i, d in enumerate(items):
        moved = d.apply(start, [-strength, strength])
        for j, m in enumerate(_measure_batched(gen, fns, moved.reshape(-1, *space.shape), space)):
            m = m.view(2, len(start))
            values[i, j] = float((m[1] - m[0]).mean()) / (2 * strength) / spreads[j]
    flat = torch.stack([d.vector.flatten().double() for d in items])
    return EntanglementTable([d.name for d in items], [n for n, _ in named], values, (flat @ flat.T).numpy())
