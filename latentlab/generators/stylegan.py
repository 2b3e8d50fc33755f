"""Adapter for NVlabs StyleGAN2-ADA / StyleGAN3 networks: :func:`from_stylegan`.

Works with any module that has the NVlabs interface: ``G.mapping(z, c)`` returning
``(N, num_ws, w_dim)``, ``G.mapping.w_avg``, ``G.synthesis(ws, noise_mode=...)`` returning
``(N, C, H, W)`` in about ``[-1, 1]``, and ``z_dim``, ``c_dim``, ``w_dim``, ``num_ws``,
``img_resolution``. Three latent spaces:

* ``"w"`` ``(w_dim,)`` (the default; most editing happens here), sampled by mapping ``z``;
* ``"w+"`` ``(num_ws, w_dim)``: one row per synthesis layer (style mixing, finer edits);
* ``"z"`` ``(z_dim,)`` with a standard normal prior.

``num_ws`` is read from the network: StyleGAN3 has 16 rows where StyleGAN2 has 8 at
the same resolution.

Pickles and trust: NVlabs ``.pkl`` files are Python pickles, and unpickling runs code
from the file. :func:`from_stylegan` refuses a path unless ``trust=True``. The pickles
also need NVlabs' own code (``dnnlib``, ``torch_utils``) to be importable: clone
https://github.com/NVlabs/stylegan3 (or stylegan2-ada-pytorch) and pass its folder as
``code_path=``. While unpickling, latentlab provides a minimal ``pkg_resources``
module with only ``parse_version`` when the real one is missing (setuptools >= 81 no
longer ships it; NVlabs' ``torch_utils`` imports it). StyleGAN3 networks also need
``scipy``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import numbers
import os
import pickle
import sys
import types
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from .._checks import as_batched_latents, shape_str
from .._optional import require
from ..errors import (
    CapabilityError,
    IncompatibleLatentError,
    InvalidValueError,
    MissingDependencyError,
    UntrustedPickleError,
)
from ..spaces import LatentSpace
from ._stylegan_cpu_ops import fast_cpu_upfirdn2d
from .base import Generator
from .module import module_device_dtype, register_adapter, to_unit_rgb

__all__ = ["StyleGANGenerator", "from_stylegan", "load_stylegan_pickle", "NoiseMode"]

NoiseMode = Literal["const", "random", "none"]
_REQUIRED = ("mapping", "synthesis", "z_dim", "w_dim")
_NVLABS_CODE = ("torch_utils", "dnnlib")
#: What NVlabs' code imports besides torch (the [stylegan] extra): dnnlib needs requests, StyleGAN3 scipy.
_STYLEGAN_EXTRA = ("requests", "scipy", "packaging")
_CODE_FIX = (
    "clone the NVlabs code (git clone https://github.com/NVlabs/stylegan3, or stylegan2-ada-pytorch for "
    "its pickles) and pass its folder: ll.from_stylegan(path, trust=True, code_path='path/to/stylegan3')"
)


class StyleGANGenerator(Generator):
    """An NVlabs StyleGAN2/3 generator behind the :class:`Generator` interface.

    Build it with :func:`from_stylegan`. Settings you may change at any time:

    Attributes:
        truncation_psi: pulls ``z -> w`` mappings towards ``w_avg`` (``1`` = off, ``0.7`` typical).
        truncation_cutoff: apply truncation only to the first rows of ``w+`` (``None`` = all).
        noise_mode: per-pixel noise of the synthesis network: ``"const"`` (reproducible),
            ``"random"`` (NVlabs draws it from torch's global generator) or ``"none"``.
        sefa_layers: names of the modulation layers SeFa factorises (``None``: the style
            modulations of the synthesis layers, ``affine_layers(style_only=True)``, as genforce/sefa).
        network: the wrapped NVlabs module.
    """

    capabilities = frozenset({"map", "sefa"})

    def __init__(
        self,
        network: nn.Module,
        name: str = "stylegan",
        *,
        truncation_psi: float = 1.0,
        truncation_cutoff: int | None = None,
        noise_mode: NoiseMode = "const",
        c: int | torch.Tensor | None = None,
        synthesis_kwargs: dict[str, Any] | None = None,
    ) -> None:
        _check_interface(network)
        self.network: Any = network.eval().requires_grad_(False)
        self.z_dim, self.w_dim = int(network.z_dim), int(network.w_dim)  # type: ignore[arg-type]
        self.c_dim = int(getattr(network, "c_dim", 0) or 0)
        self.num_ws = _num_ws(network)
        spaces = [
            LatentSpace("w", (self.w_dim,), "none", model=name, description="StyleGAN W (sampled by mapping z)"),
            LatentSpace("w+", (self.num_ws, self.w_dim), "none", model=name, description="one W row per layer"),
            LatentSpace("z", (self.z_dim,), "normal", model=name, description="StyleGAN input noise"),
        ]
        size = getattr(network, "img_resolution", None)
        super().__init__(spaces, (int(size), int(size)) if size else (1, 1))
        self._device, self._dtype = module_device_dtype(network)
        self.name = name
        self.truncation_psi = float(truncation_psi)
        self.truncation_cutoff = truncation_cutoff
        self.noise_mode: NoiseMode = noise_mode
        self.synthesis_kwargs = dict(synthesis_kwargs or {})
        self.sefa_layers: Sequence[str] | None = None
        self._c: torch.Tensor | None = None
        self.c = c
        if not size:  # no img_resolution attribute: render once to learn the size
            with torch.no_grad():
                first = self._decode(self.w_avg.reshape(1, -1), self.space("w"))
            self.image_size = (int(first.shape[-2]), int(first.shape[-1]))

    # -- settings --------------------------------------------------------------
    @property
    def c(self) -> torch.Tensor | None:
        """Class label for conditional networks: ``(c_dim,)``; set an int for a one-hot class."""
        return self._c

    @c.setter
    def c(self, value: int | torch.Tensor | None) -> None:
        if value is None:
            self._c = None
            return
        value = _class_index(value)
        if isinstance(value, int):
            if not 0 <= value < max(self.c_dim, 1) or self.c_dim == 0:
                raise InvalidValueError(
                    f"class index {value} does not exist in {self.name!r}",
                    expected=f"an int in [0, {self.c_dim})" if self.c_dim else "no class (unconditional network)",
                    got=value,
                    fix="pick a valid class index" if self.c_dim else "leave c=None",
                )
            self._c = torch.nn.functional.one_hot(torch.tensor(value), self.c_dim).float()
            return
        label = torch.as_tensor(value, dtype=torch.float32).reshape(-1)
        if label.numel() != self.c_dim:
            raise InvalidValueError(
                "the class label has the wrong size",
                expected=f"({self.c_dim},)",
                got=shape_str(tuple(torch.as_tensor(value).shape)),
                fix="pass a class index (int) or a label vector of length c_dim",
            )
        self._c = label

    @property
    def w_avg(self) -> torch.Tensor:
        """The network's average ``w``, ``(w_dim,)`` float32 on ``self.device``."""
        return torch.as_tensor(self.network.mapping.w_avg).detach().float().to(self.device)

    def _move(self, device: torch.device) -> None:
        self.network.to(device)

    # -- spaces -----------------------------------------------------------------
    def sample(
        self,
        n: int,
        seed: int | torch.Generator | None = None,
        space: str | LatentSpace | None = None,
        temperature: float = 1.0,
    ) -> torch.Tensor:
        """Draw ``n`` latents: ``z ~ N(0, temperature^2)``, mapped (with truncation) into ``w`` / ``w+``.

        Returns:
            ``(n, *space.shape)`` float32 on ``self.device``.

        Example (``G`` an NVlabs network, ``w_dim=512``, ``num_ws=16``):
            >>> gen = from_stylegan(G)                               # doctest: +SKIP
            >>> gen.sample(2, seed=0).shape, gen.sample(2, seed=0, space="w+").shape  # doctest: +SKIP
            (torch.Size([2, 512]), torch.Size([2, 16, 512]))
        """
        s = self.space(space)
        z = super().sample(n, seed=seed, space="z", temperature=temperature)
        return z if s.name == "z" else self.map(z, "z", s)

    def _map(self, latents: torch.Tensor, src: LatentSpace, dst: LatentSpace) -> torch.Tensor:
        if src.name == dst.name:
            return latents
        if src.name == "z":
            ws = self._mapping(latents)
            return self.truncate(ws[:, 0], space="w") if dst.name == "w" else self.truncate(ws, space="w+")
        if src.name == "w" and dst.name == "w+":
            return latents.unsqueeze(1).repeat(1, self.num_ws, 1)
        raise CapabilityError(
            f"cannot map {src.name!r} latents to {dst.name!r}",
            expected="z -> w, z -> w+ or w -> w+ (the mapping network only runs forwards)",
            got=f"{src.name} -> {dst.name}",
            fix="keep latents in the space you edit in, or find them by optimisation with latentlab.encode",
        )

    def _mapping(self, z: torch.Tensor) -> torch.Tensor:
        if self.c_dim and self._c is None:
            raise InvalidValueError(
                f"{self.name!r} is class-conditional and no class was chosen",
                expected=f"a class label of length c_dim={self.c_dim}",
                got="c=None",
                fix="set gen.c = 3 (a class index) or a label vector, or pass c=... to ll.from_stylegan",
            )
        c = torch.zeros(len(z), 0) if self._c is None else self._c.expand(len(z), -1)
        ws = self.network.mapping(z.to(self._dtype), c.to(self.device, self._dtype))
        return ws.float()

    def truncate(self, latents: torch.Tensor, psi: float | None = None, space: str | LatentSpace = "w") -> torch.Tensor:
        """Pull ``w`` / ``w+`` latents towards ``w_avg``: ``w_avg + psi * (w - w_avg)``.

        Args:
            latents: ``(N, w_dim)`` (``space="w"``) or ``(N, num_ws, w_dim)`` (``space="w+"``).
            psi: ``1`` leaves them, ``0`` gives ``w_avg``; ``None`` uses ``self.truncation_psi``.
            space: ``"w"`` or ``"w+"``; in ``w+`` only the first ``truncation_cutoff`` rows move.

        Returns:
            Latents of the same shape.
        """
        s = self.space(space)
        if s.name not in ("w", "w+"):
            raise IncompatibleLatentError(
                "truncation works in W and W+ only",
                expected="space 'w' or 'w+'",
                got=repr(s.name),
                fix="map z latents first: gen.map(z, 'z', 'w')",
            )
        psi = self.truncation_psi if psi is None else float(psi)
        w, batched = as_batched_latents(latents, s)
        avg = self.w_avg.to(w.device, w.dtype)
        if psi == 1:
            out = w
        elif s.name == "w":
            out = avg.lerp(w, psi)
        else:
            out = w.clone()
            cut = self.num_ws if self.truncation_cutoff is None else int(self.truncation_cutoff)
            out[:, :cut] = avg.lerp(w[:, :cut], psi)
        return out if batched else out[0]

    def mix(
        self,
        a: Any,
        b: Any,
        layers: int | slice | Sequence[int] | range,
        space: str | LatentSpace | None = None,
    ) -> torch.Tensor:
        """Style mixing: ``w+`` latents whose rows in ``layers`` come from ``b``, the rest from ``a``.

        Coarse layers (the first rows) carry pose and shape, fine ones colour and texture.

        Args:
            a, b: latents in ``space`` (``z``, ``w`` or ``w+``), ``(N, ...)`` or one latent;
                a single latent is broadcast against a batch.
            layers: rows taken from ``b``: an index, ``range(4, 8)``, ``slice(8, None)`` or a list.
            space: the space of ``a`` and ``b`` (default ``"w"``).

        Returns:
            ``(N, num_ws, w_dim)`` latents in ``"w+"`` (no batch dim if both inputs had none).

        Example (``G`` an NVlabs network, ``w_dim=512``, ``num_ws=16``):
            >>> gen = from_stylegan(G)                               # doctest: +SKIP
            >>> w = gen.sample(2, seed=0)                            # doctest: +SKIP
            >>> gen.mix(w[0], w[1], layers=range(8, 16)).shape       # doctest: +SKIP
            torch.Size([16, 512])
        """
        s = self.space(space)
        rows = _layer_rows(layers, self.num_ws)
        wa, batched_a = as_batched_latents(a, s, name="a")
        wb, batched_b = as_batched_latents(b, s, name="b")
        if len(wa) != len(wb) and 1 not in (len(wa), len(wb)):
            raise IncompatibleLatentError(
                "mix() needs batches of the same size (or one latent)",
                expected=f"{len(wa)} latents in b, or 1",
                got=len(wb),
                fix="pass batches of the same size, or a single latent for a or b",
            )
        plus_a = self.map(wa.to(self.device), s, "w+")
        plus_b = self.map(wb.to(self.device), s, "w+")
        n = max(len(plus_a), len(plus_b))
        out = plus_a.expand(n, -1, -1).clone()
        out[:, rows] = plus_b.expand(n, -1, -1)[:, rows]
        return out if (batched_a or batched_b) else out[0]

    # -- decode -----------------------------------------------------------------
    def _as_wplus(self, latents: torch.Tensor, space: LatentSpace) -> torch.Tensor:
        if space.name == "w+":
            return latents
        if space.name == "z":
            return self.truncate(self._mapping(latents), space="w+")
        return latents.unsqueeze(1).repeat(1, self.num_ws, 1)

    def _decode(self, latents: torch.Tensor, space: LatentSpace) -> torch.Tensor:
        ws = self._as_wplus(latents, space).to(self._dtype)
        with fast_cpu_upfirdn2d():  # NVlabs' CPU reference upfirdn2d as matrix products (same results, faster)
            out = self.network.synthesis(ws, noise_mode=self.noise_mode, **self.synthesis_kwargs)
        return to_unit_rgb(out, (-1.0, 1.0), source=f"synthesis network of {self.name!r}")

    # -- SeFa -------------------------------------------------------------------
    def affine_layers(self, style_only: bool = False) -> list[str]:
        """Names of the ``*.affine`` layers that read ``w``, in network order.

        Args:
            style_only: only the style modulations of synthesis layers, the ones SeFa factorises
                by default (genforce/sefa): no ToRGB affine, no StyleGAN3 input (Fourier feature) affine.
        """
        return [name for name, _ in self._affines(style_only)]

    def _affines(self, style_only: bool = False) -> list[tuple[str, Any]]:
        found = []
        synthesis = self.network.synthesis
        for name, module in synthesis.named_modules():
            weight = getattr(module, "weight", None)
            if (
                name.split(".")[-1] == "affine"
                and isinstance(weight, torch.Tensor)
                and weight.ndim == 2
                and weight.shape[1] == self.w_dim
            ):
                if style_only and not _is_style_affine(synthesis, name):
                    continue
                found.append((name, module))
        return found

    def sefa_weight(self, space: LatentSpace) -> torch.Tensor:
        """Stacked modulation weights ``(sum of style sizes, w_dim)`` that SeFa factorises (space ``"w"``).

        By default the style modulations of the synthesis layers, as the reference SeFa
        (genforce/sefa) does: ToRGB affines and StyleGAN3's input affine are left out. Set
        ``gen.sefa_layers`` to names from :meth:`affine_layers` to choose others.
        """
        if self.space(space).name != "w":
            raise CapabilityError(
                "SeFa directions of StyleGAN live in W",
                expected="space 'w'",
                got=repr(self.space(space).name),
                fix="find them with space='w'; they apply to w+ rows too",
            )
        chosen = (
            self._affines(style_only=True)
            if self.sefa_layers is None
            else [(n, m) for n, m in self._affines() if n in self.sefa_layers]
        )
        if not chosen:
            raise CapabilityError(
                f"no modulation layers found in {self.name!r}",
                expected=f"layers named '*.affine' with weight (out, {self.w_dim})",
                got=f"sefa_layers={self.sefa_layers!r}; available {self.affine_layers()}",
                fix="leave gen.sefa_layers = None, or pick names from gen.affine_layers()",
            )
        return torch.cat([m.weight.detach().float() * float(getattr(m, "weight_gain", 1.0)) for _, m in chosen])


def _class_index(value: Any) -> Any:
    """A class label given as an index (int, numpy integer, 0-d integer tensor/array) -> ``int``; bools refused."""
    if isinstance(value, (bool, np.bool_)) or (
        isinstance(value, (torch.Tensor, np.ndarray)) and value.dtype in (torch.bool, np.bool_)
    ):
        raise InvalidValueError(
            "a class label cannot be True or False",
            expected="a class index or a label vector",
            got=repr(value),
            fix="pass the class index, e.g. c=1",
        )
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, (torch.Tensor, np.ndarray)) and value.ndim == 0:
        is_int = not value.is_floating_point() if isinstance(value, torch.Tensor) else value.dtype.kind in "iu"
        if is_int:
            return int(value.item())
    return value


def _is_style_affine(synthesis: nn.Module, name: str) -> bool:
    """Whether the affine ``name`` modulates a synthesis layer's convolution (not ToRGB, not SG3's input)."""
    parent_name = name.rsplit(".", 1)[0] if "." in name else ""
    parent = synthesis.get_submodule(parent_name) if parent_name else synthesis
    parts = parent_name.split(".")
    return not ("torgb" in parts or "input" in parts or bool(getattr(parent, "is_torgb", False)))


def _check_interface(network: Any) -> None:
    missing = [a for a in _REQUIRED if not hasattr(network, a)]
    if not missing and not hasattr(network.mapping, "w_avg"):
        missing.append("mapping.w_avg")
    if missing:
        raise InvalidValueError(
            "this network does not have the NVlabs StyleGAN interface",
            expected="G.mapping(z, c), G.mapping.w_avg, G.synthesis(ws), G.z_dim, G.w_dim, G.num_ws",
            got=f"{type(network).__name__} without {', '.join(missing)}",
            fix="pass the 'G_ema' network of an NVlabs StyleGAN2-ADA/StyleGAN3 pickle, or wrap other decoders "
            "with ll.from_module(decoder, latent_shape)",
        )


def _num_ws(network: Any) -> int:
    for owner in (network, network.synthesis, network.mapping):
        value = getattr(owner, "num_ws", None)
        if value:
            return int(value)
    raise InvalidValueError(
        "cannot tell how many W rows the synthesis network takes",
        expected="G.num_ws (or G.synthesis.num_ws)",
        got="neither attribute",
        fix="set G.num_ws = <number of style inputs> before wrapping it",
    )


def _layer_rows(layers: int | slice | Sequence[int] | range, num_ws: int) -> list[int]:
    if isinstance(layers, slice):
        rows = list(range(num_ws))[layers]
    else:
        rows = [int(layers)] if isinstance(layers, int) else [int(i) for i in layers]
    if not rows or any(not -num_ws <= i < num_ws for i in rows):
        raise InvalidValueError(
            "style-mixing layers are out of range",
            expected=f"layer indices in [0, {num_ws})",
            got=repr(layers),
            fix=f"pick rows of w+, e.g. range(0, 4) (coarse) or range(4, {num_ws}) (fine)",
        )
    return [i % num_ws for i in rows]


# -- pickles -------------------------------------------------------------------------
def _parse_version(version: str) -> Any:
    """``packaging.version.parse``, imported on first use (only StyleGAN3's torch_utils calls it)."""
    return require("packaging.version", purpose="NVlabs StyleGAN3 pickles (pkg_resources.parse_version)").parse(version)


def _parse_version_shim() -> types.ModuleType:
    """A ``pkg_resources`` stand-in with only ``parse_version``; it imports nothing until called."""
    shim = types.ModuleType("pkg_resources")
    shim.__doc__ = "latentlab shim: only parse_version, for NVlabs torch_utils (setuptools >= 81 has no pkg_resources)"
    shim.parse_version = _parse_version  # type: ignore[attr-defined]
    return shim


def _forget_other_checkouts(folder: Path) -> None:
    """Drop ``torch_utils`` / ``dnnlib`` imported from another folder, so that ``folder``'s own are imported.

    Networks already loaded keep working: their classes hold their own modules.
    """
    for name in [m for m in sys.modules if m.split(".")[0] in _NVLABS_CODE]:
        file = getattr(sys.modules[name], "__file__", None)
        if file is None or not Path(file).resolve().is_relative_to(folder):
            del sys.modules[name]


@contextlib.contextmanager
def _nvlabs_compat(code_path: str | os.PathLike[str] | None) -> Iterator[None]:
    """While unpickling: NVlabs code on ``sys.path`` and a ``pkg_resources.parse_version`` shim if needed."""
    added_path = None
    if code_path is not None:
        folder = Path(code_path).expanduser().resolve()
        if not (folder / "torch_utils").is_dir():
            raise InvalidValueError(
                "code_path is not a NVlabs StyleGAN checkout",
                expected="a folder containing torch_utils/ and dnnlib/",
                got=str(folder),
                fix=_CODE_FIX,
            )
        _forget_other_checkouts(folder)
        if str(folder) not in sys.path:
            added_path = str(folder)
            sys.path.insert(0, added_path)
    shimmed = importlib.util.find_spec("pkg_resources") is None
    if shimmed:
        sys.modules["pkg_resources"] = _parse_version_shim()
    try:
        yield
    finally:
        if added_path is not None and added_path in sys.path:
            sys.path.remove(added_path)
        if shimmed:
            sys.modules.pop("pkg_resources", None)


def load_stylegan_pickle(
    path: str | os.PathLike[str],
    *,
    trust: bool = False,
    key: str = "G_ema",
    code_path: str | os.PathLike[str] | None = None,
) -> nn.Module:
    """Unpickle the generator network of an NVlabs StyleGAN2-ADA/StyleGAN3 ``.pkl`` (only with ``trust=True``).

    Args:
        path: the ``.pkl`` file.
        trust: you trust the file's source; unpickling runs code from it.
        key: which network of the pickle's dict (``"G_ema"``, ``"G"``).
        code_path: folder of the NVlabs code (with ``torch_utils/``, ``dnnlib/``), if not importable.

    Returns:
        The network (``nn.Module``) on the CPU.
    """
    path = Path(path).expanduser()
    if not trust:
        raise UntrustedPickleError(
            f"refusing to unpickle {path.name}: loading a pickle runs code stored in the file",
            expected="trust=True, given only for files from a source you trust (e.g. NVlabs' own downloads)",
            got="trust=False",
            fix=f"ll.from_stylegan({str(path)!r}, trust=True) if you trust where the file came from",
        )
    if not path.is_file():
        raise InvalidValueError(
            "no such StyleGAN pickle",
            expected="an existing .pkl file",
            got=str(path),
            fix="check the path (NVlabs pickles end in .pkl)",
        )
    try:
        with _nvlabs_compat(code_path), open(path, "rb") as f:
            data = pickle.load(f)  # explicitly trusted by the caller (trust=True)
    except ModuleNotFoundError as exc:
        raise _missing_module_error(exc, path) from exc
    if isinstance(data, dict):
        if key not in data:
            raise InvalidValueError(
                f"{path.name} has no network {key!r}",
                expected=repr(key),
                got=f"keys {sorted(map(str, data))}",
                fix="pass key='G' (or one of the keys)",
            )
        data = data[key]
    if not isinstance(data, nn.Module):
        raise InvalidValueError(
            f"{path.name} does not hold a PyTorch network",
            expected="an nn.Module",
            got=type(data).__name__,
            fix="TensorFlow StyleGAN pickles must be converted first with NVlabs' legacy.py",
        )
    return data


def _missing_module_error(exc: ModuleNotFoundError, path: Path) -> MissingDependencyError:
    name = (exc.name or "").split(".")[0]
    if name in _NVLABS_CODE:
        return MissingDependencyError(
            f"{path.name} needs NVlabs' own code ({name!r}) to unpickle; it is not a pip package",
            expected="importable torch_utils and dnnlib (from the NVlabs StyleGAN repository)",
            got=f"ModuleNotFoundError: {exc}",
            fix=_CODE_FIX,
        )
    hint = 'pip install "latentlab[stylegan]"' if name in _STYLEGAN_EXTRA else f"pip install {name}"
    return MissingDependencyError(
        f"unpickling {path.name} needs the package {name!r}",
        expected=f"an importable {name!r}",
        got=f"ModuleNotFoundError: {exc}",
        fix=hint,
    )


def from_stylegan(
    network_or_pkl: nn.Module | str | os.PathLike[str],
    trust: bool = False,
    *,
    name: str | None = None,
    key: str = "G_ema",
    code_path: str | os.PathLike[str] | None = None,
    truncation_psi: float = 1.0,
    truncation_cutoff: int | None = None,
    noise_mode: NoiseMode = "const",
    c: int | torch.Tensor | None = None,
    device: str | torch.device | None = None,
) -> StyleGANGenerator:
    """Wrap an NVlabs StyleGAN2-ADA / StyleGAN3 generator (a network, or a ``.pkl`` with ``trust=True``).

    Args:
        network_or_pkl: the generator module (``G_ema``), or the path of an NVlabs pickle.
        trust: required to load a pickle, which runs code from the file.
        name: model id (default: the file name, or ``"stylegan"``).
        key: which network of the pickle (``"G_ema"`` by default).
        code_path: folder of the NVlabs code, if ``torch_utils``/``dnnlib`` are not importable.
        truncation_psi, truncation_cutoff, noise_mode, c: see :class:`StyleGANGenerator`.
        device: where to run it (``"cuda"``...); by default where the network is.

    Returns:
        A :class:`StyleGANGenerator` with spaces ``w`` (default), ``w+`` and ``z``;
        images ``(N, 3, img_resolution, img_resolution)`` in ``[0, 1]``.

    Example:
        >>> from_stylegan("ffhq.pkl")                    # pickles run code: refused without trust=True
        Traceback (most recent call last):
        ...
        latentlab.errors.UntrustedPickleError: refusing to unpickle ffhq.pkl: loading a pickle runs code ...
        >>> gen = from_stylegan("ffhq.pkl", trust=True, code_path="stylegan3")  # doctest: +SKIP
        >>> gen.decode(gen.sample(3, seed=0)).shape              # doctest: +SKIP
        torch.Size([3, 3, 1024, 1024])
    """
    if isinstance(network_or_pkl, (str, os.PathLike)):
        network = load_stylegan_pickle(network_or_pkl, trust=trust, key=key, code_path=code_path)
        name = name or Path(network_or_pkl).stem
    else:
        network = network_or_pkl
    gen = StyleGANGenerator(
        network,
        name or "stylegan",
        truncation_psi=truncation_psi,
        truncation_cutoff=truncation_cutoff,
        noise_mode=noise_mode,
        c=c,
    )
    if device is not None:
        gen.to(device)
    return gen


register_adapter(
    "stylegan", "ll.from_stylegan('network.pkl', trust=True)", "NVlabs StyleGAN2-ADA / StyleGAN3", "w, w+, z"
)
