"""Adapter for diffusers' ``AutoencoderKL`` (Stable Diffusion and friends): :func:`from_diffusers_vae`.

The latent space ``"z"`` has shape ``(C, h, w)`` (e.g. ``(4, 64, 64)`` for a 512x512
Stable Diffusion VAE) and holds latents *as diffusion models see them*: the raw
posterior sample ``r`` scaled by the model's config,

* ``z = (r - shift_factor) * scaling_factor``, or
* ``z = (r - latents_mean) * scaling_factor / latents_std`` when the config has per-channel stats,

which gives ``z`` about unit variance, so its prior is a standard normal. Encoding and
decoding apply the same scaling, so ``decode(encode(x))`` round-trips. Images are
``(N, 3, H, W)`` in ``[0, 1]`` (the VAE itself works in ``[-1, 1]``).

Needs the ``[diffusers]`` extra (``pip install "latentlab[diffusers]"``); diffusers is
imported only when you load a model.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn

from .._optional import require
from ..errors import InvalidValueError, UnknownModelError
from ..spaces import LatentSpace
from .base import Generator
from .module import module_device_dtype, register_adapter, to_unit_rgb

__all__ = ["DiffusersVAEGenerator", "from_diffusers_vae", "Posterior"]

Posterior = Literal["mean", "sample"]


class DiffusersVAEGenerator(Generator):
    """A diffusers ``AutoencoderKL`` behind the :class:`Generator` interface (space ``"z"``, ``(C, h, w)``).

    Build it with :func:`from_diffusers_vae`. ``gen.vae`` is the wrapped model;
    ``gen.scaling_factor`` / ``gen.shift_factor`` are the scaling applied to its latents.
    """

    capabilities = frozenset({"encode"})

    def __init__(
        self, vae: nn.Module, name: str, image_size: int | tuple[int, int] | None = None, tiled: bool = False
    ) -> None:
        cfg: Any = vae.config
        factor = 2 ** (len(cfg.block_out_channels) - 1)
        h, w = _pair(image_size if image_size is not None else cfg.sample_size)
        if h % factor or w % factor:
            raise InvalidValueError(
                f"image size {h}x{w} does not fit this VAE",
                expected=f"sides divisible by {factor}",
                got=(h, w),
                fix=f"pass image_size= a multiple of {factor}, e.g. {max(factor, h // factor * factor)}",
            )
        channels = int(cfg.latent_channels)
        space = LatentSpace(
            "z",
            (channels, h // factor, w // factor),
            "normal",
            model=name,
            description="diffusers VAE latent, scaled as diffusion models see it",
        )
        super().__init__([space], (h, w))
        self.name = name
        self.vae = vae.eval().requires_grad_(False)
        self._device, self._dtype = module_device_dtype(vae)
        self.scaling_factor = float(cfg.scaling_factor or 1.0)
        self.shift_factor = float(getattr(cfg, "shift_factor", None) or 0.0)
        self._mean = _channel_stats(getattr(cfg, "latents_mean", None), channels)
        self._std = _channel_stats(getattr(cfg, "latents_std", None), channels)
        self._posterior: Posterior = "mean"
        self._rng: torch.Generator | None = None
        self.tiled = tiled

    @property
    def tiled(self) -> bool:
        """Decode (and encode) large images in overlapping tiles, to save memory."""
        return bool(getattr(self.vae, "use_tiling", False))

    @tiled.setter
    def tiled(self, value: bool) -> None:
        if value:
            self.vae.enable_tiling()  # type: ignore[operator]
        elif hasattr(self.vae, "disable_tiling"):
            self.vae.disable_tiling()  # type: ignore[operator]

    def _move(self, device: torch.device) -> None:
        self.vae.to(device)

    # -- scaling between diffusers' raw latents and latentlab's z -------------------
    def to_raw(self, z: torch.Tensor) -> torch.Tensor:
        """latentlab ``z (N, C, h, w)`` -> the raw latents ``vae.decode`` takes."""
        if self._mean is not None and self._std is not None:
            return z * self._std.to(z) / self.scaling_factor + self._mean.to(z)
        return z / self.scaling_factor + self.shift_factor

    def from_raw(self, raw: torch.Tensor) -> torch.Tensor:
        """Raw ``vae.encode`` latents -> latentlab ``z (N, C, h, w)`` (the inverse of :meth:`to_raw`)."""
        if self._mean is not None and self._std is not None:
            return (raw - self._mean.to(raw)) * self.scaling_factor / self._std.to(raw)
        return (raw - self.shift_factor) * self.scaling_factor

    # -- decode / encode -------------------------------------------------------------
    def _decode(self, latents: torch.Tensor, space: LatentSpace) -> torch.Tensor:
        out = self.vae.decode(self.to_raw(latents).to(self._dtype)).sample  # type: ignore[operator]
        if out.dtype != torch.float32 and not bool(torch.isfinite(out).all()):
            raise InvalidValueError(
                f"{self.name!r} produced NaN/inf pixels in {out.dtype}",
                expected="finite pixels",
                got=f"non-finite values decoding in {out.dtype}",
                fix="load with dtype=torch.float32 (some VAEs, like SD-XL's, overflow in float16; "
                "'madebyollin/sdxl-vae-fp16-fix' is a float16-safe one)",
            )
        return to_unit_rgb(out, (-1.0, 1.0), source=f"VAE {self.name!r}")

    def encode(
        self,
        images: Any,
        space: str | LatentSpace | None = None,
        *,
        posterior: Posterior = "mean",
        seed: int | torch.Generator | None = None,
    ) -> torch.Tensor:
        """Encode images ``(N, 3, H, W)`` in ``[0, 1]`` to latents ``(N, C, h, w)``.

        Args:
            images: at ``gen.image_size``; ``(3, H, W)`` for one image.
            space: ``"z"`` (the only space).
            posterior: ``"mean"`` (deterministic) or ``"sample"`` (a draw from the posterior).
            seed: randomness for ``posterior="sample"``.

        Returns:
            ``(N, C, h, w)`` scaled latents (see the module docs).
        """
        if posterior not in ("mean", "sample"):
            raise InvalidValueError(
                "posterior must be 'mean' or 'sample'",
                expected="'mean' or 'sample'",
                got=repr(posterior),
                fix="use posterior='mean' for reproducible latents",
            )
        self._posterior = posterior
        self._rng = None if posterior == "mean" else _device_rng(seed, self.device)
        try:
            return super().encode(images, space)
        finally:
            self._posterior, self._rng = "mean", None

    def _encode(self, images: torch.Tensor, space: LatentSpace) -> torch.Tensor:
        dist = self.vae.encode((images * 2 - 1).to(self._dtype)).latent_dist  # type: ignore[operator]
        raw = dist.mean if self._posterior == "mean" else dist.sample(generator=self._rng)
        return self.from_raw(raw.float())


def _pair(size: Any) -> tuple[int, int]:
    if isinstance(size, (list, tuple)):
        return int(size[0]), int(size[-1])
    return int(size), int(size)


def _channel_stats(values: Any, channels: int) -> torch.Tensor | None:
    if values is None:
        return None
    t = torch.as_tensor(values, dtype=torch.float32).reshape(-1)
    return t.reshape(1, channels, 1, 1) if t.numel() == channels else None


def _device_rng(seed: int | torch.Generator | None, device: torch.device) -> torch.Generator:
    if isinstance(seed, torch.Generator):
        return seed
    rng = torch.Generator(device=device)
    if seed is None:
        rng.seed()
    else:
        rng.manual_seed(int(seed))
    return rng


@contextlib.contextmanager
def quiet_diffusers() -> Iterator[None]:
    """Silence diffusers' info/warning logs (e.g. the 'install accelerate' note) while loading."""
    logging = require("diffusers", purpose="ll.from_diffusers_vae").utils.logging
    level = logging.get_verbosity()
    logging.set_verbosity_error()
    try:
        yield
    finally:
        logging.set_verbosity(level)


def load_kwargs(dtype: torch.dtype | None, extra: dict[str, Any]) -> dict[str, Any]:
    """``from_pretrained`` keyword arguments: ``extra`` plus the dtype under the name diffusers expects."""
    kwargs = dict(extra)
    if dtype is not None:
        kwargs["torch_dtype"] = dtype
    if importlib.util.find_spec("accelerate") is None:
        kwargs.setdefault("low_cpu_mem_usage", False)  # otherwise diffusers warns on every load
    return kwargs


def _check_local_folder(path: Path, subfolder: str | None) -> None:
    folder = path / subfolder if subfolder else path
    if (folder / "config.json").is_file():
        return
    has_vae = not subfolder and (path / "vae" / "config.json").is_file()
    raise UnknownModelError(
        f"{folder} is not a diffusers VAE folder",
        expected="a folder with config.json and diffusion_pytorch_model.safetensors (from save_pretrained)",
        got=f"{folder} without config.json",
        fix="pass subfolder='vae' (this is a whole pipeline folder)"
        if has_vae
        else "point at the folder vae.save_pretrained(...) wrote, or pass subfolder=...",
    )


def from_diffusers_vae(
    path_or_id: str | os.PathLike[str] | nn.Module,
    subfolder: str | None = None,
    *,
    dtype: torch.dtype | None = None,
    device: str | torch.device | None = None,
    name: str | None = None,
    image_size: int | tuple[int, int] | None = None,
    tiled: bool = False,
    **from_pretrained_kwargs: Any,
) -> DiffusersVAEGenerator:
    """Wrap a diffusers ``AutoencoderKL``: a local folder, a hub id, or a model you already built.

    Args:
        path_or_id: folder written by ``save_pretrained``, a hub id such as
            ``"stabilityai/sd-vae-ft-mse"`` (downloads unless cached), or an ``AutoencoderKL``.
        subfolder: e.g. ``"vae"`` inside a whole Stable Diffusion pipeline folder/repo.
        dtype: e.g. ``torch.float16`` (on GPU); the model's own dtype when ``None``.
        device: ``"cuda"``, ``"cpu"``...; CPU when ``None``.
        name: model id (default: the path or hub id).
        image_size: image side (or ``(H, W)``) to work at; default the config's ``sample_size``.
            The latent is ``image_size / 2**(len(block_out_channels) - 1)`` per side.
        tiled: decode/encode in overlapping tiles (for images larger than ``sample_size``).
        **from_pretrained_kwargs: passed on to ``AutoencoderKL.from_pretrained`` (``revision=``...).

    Returns:
        A :class:`DiffusersVAEGenerator`: space ``"z"`` of shape ``(C, h, w)``, images ``(N, 3, H, W)``.

    Example:
        >>> from diffusers import AutoencoderKL
        >>> vae = AutoencoderKL(block_out_channels=(8, 8), down_block_types=("DownEncoderBlock2D",) * 2,
        ...                     up_block_types=("UpDecoderBlock2D",) * 2, norm_num_groups=4, sample_size=16)
        >>> gen = from_diffusers_vae(vae, name="tiny-vae")
        >>> gen.space().shape
        (4, 8, 8)
        >>> gen.decode(gen.sample(2, seed=0)).shape
        torch.Size([2, 3, 16, 16])
    """
    if isinstance(path_or_id, nn.Module):
        vae = path_or_id.to(dtype) if dtype is not None else path_or_id
        name = name or "diffusers-vae"
    else:
        diffusers = require("diffusers", purpose="ll.from_diffusers_vae")
        source = str(path_or_id)
        local = Path(source).expanduser()
        if local.exists():
            _check_local_folder(local, subfolder)
            source = str(local)
        kwargs = load_kwargs(dtype, from_pretrained_kwargs)
        if subfolder:
            kwargs["subfolder"] = subfolder
        try:
            with quiet_diffusers():
                vae = diffusers.AutoencoderKL.from_pretrained(source, **kwargs)
        except OSError as exc:
            raise UnknownModelError(
                f"cannot load a diffusers VAE from {source!r}",
                expected="a local save_pretrained folder, or a hub id reachable from this machine",
                got=str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
                fix="check the path/id (and subfolder='vae' for whole pipelines); offline, download it first",
            ) from exc
        name = name or (f"{source}/{subfolder}" if subfolder else source)
    if not hasattr(vae, "config") or not hasattr(vae.config, "latent_channels") or not hasattr(vae, "decode"):
        raise InvalidValueError(
            "from_diffusers_vae() needs a diffusers AutoencoderKL",
            expected="diffusers.AutoencoderKL",
            got=type(vae).__name__,
            fix="wrap other decoders with ll.from_module(decoder, latent_shape)",
        )
    gen = DiffusersVAEGenerator(vae, name, image_size=image_size, tiled=tiled)
    if device is not None:
        gen.to(device)
    return gen


register_adapter(
    "diffusers-vae",
    "ll.from_diffusers_vae('path/or/hub-id', subfolder='vae')",
    "diffusers AutoencoderKL (Stable Diffusion VAEs)",
    "z (C, h, w)",
)
