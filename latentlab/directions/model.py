"""The :class:`Direction` data model and :class:`DirectionSet`, and their safetensors + JSON files."""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, overload

import numpy as np
import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file

from .._atomic import atomic_path
from .._checks import check_finite, shape_str, to_tensor
from ..errors import IncompatibleLatentError, InvalidValueError
from ..generators.base import Generator
from ..spaces import LatentPart, LatentSpace
from ._common import (
    SpaceLike,
    as_strengths,
    describe_space,
    resolve_space,
    unbound_space,
)

__all__ = ["Direction", "DirectionSet", "FORMAT"]

FORMAT = "latentlab.direction/1"
_VECTORS_FIX = "find the direction in this space, or pass the space it was found in"
_LATENTS_FIX = "apply it to latents of the model and space it was found in (gen.sample(..., space=d.space.name))"
_CONDITIONS_FIX = "pass Directions or tensors of the same latent shape"


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


def _same_space(a: LatentSpace, b: LatentSpace) -> bool:
    if not a.model or not b.model:
        return a.shape == b.shape
    return a.key == b.key and a.shape == b.shape


def _matching_part(own: LatentSpace, space: LatentSpace) -> LatentPart | None:
    """The part of ``space`` (a space made of parts) that is the space ``own``: same name, shape, model.

    A space ``own`` that is itself made of parts (SDXL's ``prompt``: token embeddings + pooled) matches
    when ``space`` holds those same parts side by side; the first of them stands for the run.
    """
    if not space.parts or (own.model and space.model and own.model != space.model):
        return None
    whole = next((p for p in space.parts if p.name == own.name and p.shape == own.shape), None)
    if whole is not None or not own.parts:
        return whole
    names = [p.name for p in space.parts]
    first = own.parts[0].name
    if first not in names:
        return None
    start = names.index(first)
    run = space.parts[start : start + len(own.parts)]
    same = len(run) == len(own.parts) and all(a.name == b.name and a.shape == b.shape for a, b in zip(run, own.parts))
    return run[0] if same else None


def _part_run(own: LatentSpace, space: LatentSpace, part: LatentPart) -> slice:
    """Where a direction of ``own`` sits in a flat latent of ``space`` (see :func:`_matching_part`)."""
    start = space.part_slice(part.name).start
    return slice(start, start + own.dim)


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
        resolved = resolve_space(space)
        if resolved is None:
            v = v.unsqueeze(0) if v.ndim == 1 else v
            resolved = unbound_space(tuple(v.shape[1:]))
        elif tuple(resolved.check(v, "direction vectors", n="K", fix=_VECTORS_FIX).shape) == resolved.shape:
            v = v.unsqueeze(0)
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
        where = (
            f"{self.space.key} {shape_str(self.space.shape)}"
            if self.is_bound
            else (f"unbound {shape_str(self.space.shape)}")
        )
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
            raise InvalidValueError(
                f"direction {self.name!r} has no component {i}",
                expected=f"0 <= i < {self.k}",
                got=i,
                fix=f"pick an index below {self.k}",
            )
        return self._derived(self.vectors[i], f"{self.name}[{i % self.k}]", {"op": "component", "index": i % self.k})

    def __neg__(self) -> Direction:
        name = self.name[1:] if self.name.startswith("-") else f"-{self.name}"
        return self._derived(-self.vectors, name, {"op": "negate"})

    def bind(self, space_or_gen: SpaceLike) -> Direction:
        """Attach an unbound (raw-code) direction to a space after checking the shape."""
        target = self.check_compatible(space_or_gen)
        return Direction(self.vectors, target, name=self.name, provenance=self.provenance)

    def lift(self, space: LatentSpace) -> Direction:
        """This direction as one of ``space``, a space made of parts that holds this direction's space.

        A direction found in a text-conditioned generator's ``prompt`` space (or ``noise``
        space) moves only that part of ``joint`` latents: the vector sits in the part's slice and
        is zero elsewhere. :meth:`apply` does this by itself when given ``space=`` a joint space.

        Raises:
            IncompatibleLatentError: ``space`` has no part that is this direction's space.

        Example:
            >>> from latentlab.spaces import LatentPart, LatentSpace, joint_space
            >>> prompt = LatentSpace("prompt", (2,), "none", model="m")
            >>> joint = joint_space("joint", [LatentPart("noise", (3,)), LatentPart("prompt", (2,), "none")], model="m")
            >>> Direction([0.0, 1.0], prompt, name="smile").lift(joint).vector
            tensor([0., 0., 0., 0., 1.])
        """
        if _same_space(self.space, space):
            return self
        part = _matching_part(self.space, space)
        if part is None:
            raise IncompatibleLatentError(
                f"direction {self.name!r} of {describe_space(self.space)} is not a part of {describe_space(space)}",
                expected=f"a space with a part {self.space.name!r} of shape {shape_str(self.space.shape)}",
                got=describe_space(space),
                fix="apply it in the space it was found in, or to joint latents of the same model",
            )
        flat = torch.zeros((self.k, space.dim), dtype=self.vectors.dtype)
        flat[:, _part_run(self.space, space, part)] = self.vectors.reshape(self.k, -1)
        prov = copy.deepcopy(self.provenance)
        prov["part"] = part.name if not self.space.parts or part.name == self.space.name else self.space.name
        return Direction(flat, space, name=self.name, provenance=prov)

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
            other = f"model {space_or_gen.name!r} (spaces {', '.join(describe_space(s) for s in candidates)})"
        elif isinstance(space_or_gen, LatentSpace):
            candidates = [space_or_gen]
            other = describe_space(space_or_gen)
        else:
            raise InvalidValueError(
                "check_compatible() needs a LatentSpace or a generator",
                expected="gen or gen.space('z')",
                got=type(space_or_gen).__name__,
                fix="pass the generator you want to edit with",
            )
        for s in candidates:
            if _same_space(self.space, s) or _matching_part(self.space, s) is not None:
                return s
        raise IncompatibleLatentError(
            f"direction {self.name!r} belongs to {describe_space(self.space)}, not to {other}",
            expected=describe_space(self.space),
            got=other,
            fix="use the direction with the model and space it was found in, or find it again on this model",
        )

    def _check_latents(self, t: torch.Tensor) -> bool:
        """Whether ``t`` is a batch; LatentShapeError unless it fits the direction's space."""
        return tuple(self.space.check(t, f"latents moved by direction {self.name!r}", fix=_LATENTS_FIX).shape) != (
            self.space.shape
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
            raise InvalidValueError(
                f"layers= must pick layers of the {n}-layer latents",
                expected=f"indices in [0, {n})",
                got=repr(layers),
                fix=f"pass e.g. layers=range(0, {min(n, 4)})",
            )
        mask = torch.zeros(n)
        mask[idx] = 1.0
        return mask.view(n, *([1] * rest))

    def _delta(self, t: torch.Tensor, component: int, layers: Any, space: SpaceLike | None) -> torch.Tensor:
        """The per-unit-strength edit for latents ``t``, checked against this direction (and ``space``)."""
        if not -self.k <= component < self.k:
            raise InvalidValueError(
                f"direction {self.name!r} has no component {component}",
                expected=f"0 <= component < {self.k}",
                got=component,
                fix="use component=0",
            )
        if isinstance(space, LatentSpace) and not _same_space(self.space, space) and _matching_part(self.space, space):
            return self.lift(space)._delta(t, component, layers, space)  # a part's direction on joint latents
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
                f"{describe_space(self.space)}",
                expected="latents (L, D) or (N, L, D), or layers=None",
                got=repr(layers),
                fix="leave layers= out, or pass W+ codes gen.sample(n, space='w+')",
            )
        return self._layer_mask(layers, self.space.shape[0], len(self.space.shape) - 1) * vector

    def _check_same_model(self, space_or_gen: SpaceLike) -> None:
        model = space_or_gen.name if isinstance(space_or_gen, Generator) else space_or_gen.model
        if self.is_bound and model != self.space.model:
            raise IncompatibleLatentError(
                f"direction {self.name!r} belongs to model {self.space.model!r}, not {model!r}",
                expected=describe_space(self.space),
                got=f"model {model!r}",
                fix="use the direction with the model it was found on, or find it again on this model",
            )

    # -- editing --------------------------------------------------------------
    @overload
    def apply(
        self, z: Any, strength: float = ..., *, layers: Any = ..., component: int = ..., space: SpaceLike | None = ...
    ) -> torch.Tensor: ...

    @overload
    def apply(
        self,
        z: Any,
        strength: Sequence[float] | torch.Tensor | np.ndarray,
        *,
        layers: Any = ...,
        component: int = ...,
        space: SpaceLike | None = ...,
    ) -> torch.Tensor: ...

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
        s = as_strengths(strength)
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
        edit = {
            "op": "orthogonalize",
            "against": names,
            "cosine_before": cos_before.tolist(),
            "norm_kept": kept.tolist(),
        }
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
                        f"condition {item.name!r} belongs to {describe_space(item.space)}, "
                        f"but {self.name!r} to {describe_space(self.space)}",
                        expected=describe_space(self.space),
                        got=describe_space(item.space),
                        fix="find every condition in the same model and space as the primary direction",
                    )
                rows.append(item._flat().double())
                names.append(item.name)
            else:
                t = to_tensor(item, name="condition").double()
                t = t.unsqueeze(0) if tuple(t.shape) == self.space.shape else t
                self.space.check(t, "condition vectors", batch="required", n="M", fix=_CONDITIONS_FIX)
                rows.append(t.flatten(1))
                names.append("tensor")
        if not rows:
            raise InvalidValueError(
                "orthogonalize() needs at least one condition",
                expected="[d1, d2, ...]",
                got="nothing",
                fix="pass against=[other_direction]",
            )
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
                f"cannot compare {self.name!r} ({describe_space(self.space)}) with {other.name!r} "
                f"({describe_space(other.space)})",
                expected=describe_space(self.space),
                got=describe_space(other.space),
                fix="compare directions of the same model and space",
            )
        return float(self._flat()[0].double() @ other._flat()[0].double())

    # -- files ----------------------------------------------------------------
    def _meta(self) -> dict[str, Any]:
        s = self.space
        return {
            "name": self.name,
            "k": self.k,
            "space": {
                "name": s.name,
                "shape": list(s.shape),
                "prior": s.prior,
                "model": s.model,
                "description": s.description,
            },
            "provenance": self.provenance,
        }

    @classmethod
    def _from_meta(cls, meta: dict[str, Any], vectors: torch.Tensor) -> Direction:
        sp = meta["space"]
        space = LatentSpace(
            sp["name"], tuple(sp["shape"]), sp["prior"], model=sp["model"], description=sp.get("description", "")
        )
        d = cls.__new__(cls)
        space.check(vectors, "the saved vectors", batch="required", n="K", fix="the file is damaged; save it again")
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
            raise InvalidValueError(
                f"{path} holds a {meta.get('kind')}, not a Direction",
                expected="a file written by Direction.save",
                got=meta.get("kind"),
                fix="open it with DirectionSet.load",
            )
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
        raise InvalidValueError(
            f"no direction file at {tensor_path}",
            expected="a .safetensors file from save()",
            got="missing file",
            fix="check the path (save() writes <name>.safetensors + .json)",
        )
    try:
        with safe_open(str(tensor_path), framework="pt") as f:
            tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (safe_open is not a dict)
            embedded = (f.metadata() or {}).get("latentlab")
    except (SafetensorError, OSError) as exc:
        raise InvalidValueError(
            f"cannot read {tensor_path}",
            expected="a safetensors file written by save()",
            got=f"{type(exc).__name__}: {exc}",
            fix="the file is damaged; save it again",
        ) from exc
    text = json_path.read_text() if json_path.is_file() else embedded
    if text is None:
        raise InvalidValueError(
            f"{tensor_path} has no latentlab metadata",
            expected=f"a sidecar {json_path.name}",
            got="no metadata",
            fix="save directions with Direction.save / DirectionSet.save",
        )
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

    def __init__(
        self, directions: Iterable[Direction], name: str = "directions", provenance: dict[str, Any] | None = None
    ) -> None:
        self._items = list(directions)
        for d in self._items:
            if not isinstance(d, Direction):
                raise InvalidValueError(
                    "a DirectionSet holds Direction objects",
                    expected="Direction",
                    got=type(d).__name__,
                    fix="wrap vectors with Direction(v, space)",
                )
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
            raise InvalidValueError(
                f"no direction named {i!r} in this set",
                expected=f"one of {self.names}",
                got=repr(i),
                fix="index by position or by one of the names",
            )
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
            raise InvalidValueError(
                "the set is empty", expected="at least one direction", got=0, fix="build the set from directions"
            )
        first = self._items[0]
        for d in self._items[1:]:
            first.cosine(d)  # raises if the spaces differ
        vectors = torch.stack([d.vector for d in self._items])
        return Direction(
            vectors,
            first.space,
            name or self.name,
            {"method": "stack", "of": self.names, "set_provenance": self.provenance},
        )

    def save(self, path: str | Path) -> Path:
        """Save every direction into one ``.safetensors`` + ``.json`` pair (atomic writes)."""
        meta = {
            "kind": "DirectionSet",
            "format": FORMAT,
            "name": self.name,
            "provenance": self.provenance,
            "directions": [d._meta() for d in self._items],
        }
        return _save(meta, {str(i): d.vectors for i, d in enumerate(self._items)}, path)

    @classmethod
    def load(cls, path: str | Path) -> DirectionSet:
        """Load a set written by :meth:`save` (a single saved Direction loads as a set of one)."""
        meta, tensors = _load(path)
        if meta.get("kind") == "Direction":
            return cls([Direction._from_meta(meta, tensors["vectors"])], meta["name"])
        items = [Direction._from_meta(m, tensors[str(i)]) for i, m in enumerate(meta["directions"])]
        return cls(items, meta.get("name", "directions"), meta.get("provenance"))
