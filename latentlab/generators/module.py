"""Adapter for any PyTorch decoder: :func:`from_module`.

Wrap your own ``nn.Module`` (or any callable) that turns latents ``(N, *latent_shape)``
into images, and it speaks the :class:`~latentlab.generators.base.Generator` interface:
sampling, decoding, interpolation, directions, widgets. The adapter converts the
decoder's output to latentlab's layout, ``float (N, 3, H, W)`` in ``[0, 1]``
(grayscale is repeated to RGB, the ``output_range`` is mapped to ``[0, 1]``), and says
clearly when the output has the wrong shape.

:func:`to_unit_rgb` is the one conversion the other adapters (diffusers, StyleGAN) reuse.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

import torch
from torch import nn

from .._checks import shape_str
from ..errors import InvalidValueError, ShapeError
from ..spaces import LatentSpace, Prior
from .base import Generator
from .registry import register

__all__ = ["ModuleGenerator", "from_module", "to_unit_rgb", "OutputRange"]

#: ``(low, high)`` of the decoder's pixel values, or ``"logits"`` (a sigmoid is applied).
OutputRange = tuple[float, float] | Literal["logits"]


def to_unit_rgb(images: Any, output_range: OutputRange = (-1.0, 1.0), *, source: str = "decoder") -> torch.Tensor:
    """Convert raw decoder output to latentlab images: ``(N, 3, H, W)`` float32, values in ``[0, 1]``.

    Args:
        images: ``(N, 1, H, W)`` or ``(N, 3, H, W)`` tensor (a tuple/list: its first item).
        output_range: the decoder's value range ``(low, high)``, or ``"logits"``.
        source: who produced ``images``, for error messages.

    Returns:
        ``(N, 3, H, W)`` float32 in ``[0, 1]`` (clamped), on the input's device.

    Example:
        >>> to_unit_rgb(torch.zeros(2, 1, 8, 8), (-1, 1)).shape
        torch.Size([2, 3, 8, 8])
        >>> float(to_unit_rgb(torch.zeros(1, 3, 4, 4), (-1, 1)).max())
        0.5
    """
    if isinstance(images, (tuple, list)) and images:
        images = images[0]
    if not isinstance(images, torch.Tensor):
        raise InvalidValueError(
            f"the {source} did not return a tensor",
            expected="a torch.Tensor of shape (N, 3, H, W) or (N, 1, H, W)",
            got=type(images).__name__,
            fix="make the decoder return the image tensor (e.g. `return out.sample` for diffusers outputs)",
        )
    if images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ShapeError(
            f"the {source} returned images of the wrong shape",
            expected="(N, 3, H, W) or (N, 1, H, W), channels first",
            got=shape_str(tuple(images.shape)),
            fix=_layout_fix(tuple(images.shape)),
        )
    x = images if images.is_floating_point() else images.float()
    if output_range == "logits":
        x = torch.sigmoid(x)
    else:
        lo, hi = _check_range(output_range)
        x = (x - lo) / (hi - lo)  # in the decoder's own precision, before any cast: float64 stays exact
    x = x.float().clamp(0, 1)
    return x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x


def _layout_fix(shape: tuple[int, ...]) -> str:
    if len(shape) == 4 and shape[-1] in (1, 3):
        return "the output looks channels-last (N, H, W, C): wrap the decoder to return out.permute(0, 3, 1, 2)"
    if len(shape) == 3:
        return "the output has no channel dim (N, H, W): wrap the decoder to return out.unsqueeze(1)"
    if len(shape) == 2:
        return "the output is flat (N, H*W*C): wrap the decoder to return out.view(-1, C, H, W)"
    if len(shape) == 4 and shape[1] == 4:
        return "the output has 4 channels (RGBA?): wrap the decoder to return out[:, :3]"
    return "wrap the decoder so that it returns (N, 3, H, W) or (N, 1, H, W) images"


def _check_range(output_range: Any) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in output_range)
    except (TypeError, ValueError):
        lo, hi = float("nan"), float("nan")
    if not lo < hi:
        raise InvalidValueError(
            "output_range must be (low, high) with low < high, or 'logits'",
            expected="(-1, 1) for tanh decoders, (0, 1) for sigmoid decoders, 'logits' for raw logits",
            got=repr(output_range),
            fix="pass output_range=(-1, 1), (0, 1), (0, 255) or 'logits'",
        )
    return lo, hi


def module_device_dtype(module: Any) -> tuple[torch.device, torch.dtype]:
    """Device and floating dtype of a module's first parameter (CPU float32 when it has none)."""
    if isinstance(module, nn.Module):
        for p in module.parameters():
            if p.is_floating_point():
                return p.device, p.dtype
    return torch.device("cpu"), torch.float32


class ModuleGenerator(Generator):
    """Any decoder ``(N, *latent_shape) -> images`` behind the :class:`Generator` interface.

    Build it with :func:`from_module`. ``gen.decoder`` and ``gen.encoder`` are the wrapped modules.
    """

    def __init__(
        self,
        decoder: Callable[[torch.Tensor], Any],
        space: LatentSpace,
        image_size: tuple[int, int],
        output_range: OutputRange,
        encoder: Callable[[torch.Tensor], Any] | None = None,
        output_channels: int = 3,
    ) -> None:
        super().__init__([space], image_size)
        self.name = space.model
        self.decoder = decoder
        self.encoder = encoder
        self.output_range = output_range
        self.output_channels = output_channels
        self._device, self._dtype = module_device_dtype(decoder)
        caps = {"encode"} if encoder is not None else set()
        if self._first_linear() is not None:
            caps.add("sefa")
        self.capabilities = frozenset(caps)

    def _move(self, device: torch.device) -> None:
        for module in (self.decoder, self.encoder):
            if isinstance(module, nn.Module):
                module.to(device)

    def _decode(self, latents: torch.Tensor, space: LatentSpace) -> torch.Tensor:
        out = self.decoder(latents.to(self._dtype))
        images = to_unit_rgb(out, self.output_range, source=f"decoder of {self.name!r}")
        if tuple(images.shape[-2:]) != self.image_size or images.shape[0] != latents.shape[0]:
            raise ShapeError(
                f"the decoder of {self.name!r} changed its output size",
                expected=f"({latents.shape[0]}, 3, {self.image_size[0]}, {self.image_size[1]})",
                got=shape_str(tuple(images.shape)),
                fix="give the decoder one output size (pass image_size=... if it is not the size of the first call)",
            )
        return images

    def _encode(self, images: torch.Tensor, space: LatentSpace) -> torch.Tensor:
        assert self.encoder is not None  # guarded by the "encode" capability
        x = images if self.output_channels == 3 else images.mean(1, keepdim=True)
        if self.output_range == "logits":
            x = x.clamp(1e-4, 1 - 1e-4)
        else:
            lo, hi = _check_range(self.output_range)
            x = x * (hi - lo) + lo
        out = self.encoder(x.to(self._dtype))
        if isinstance(out, (tuple, list)):
            out = out[0]
        mean = out if isinstance(out, torch.Tensor) else getattr(out, "mean", out)  # distributions: their mean
        if not isinstance(mean, torch.Tensor) or tuple(mean.shape) != (len(images), *space.shape):
            raise ShapeError(
                f"the encoder of {self.name!r} returned latents of the wrong shape",
                expected=f"({len(images)}, {', '.join(map(str, space.shape))})",
                got=shape_str(tuple(mean.shape)) if isinstance(mean, torch.Tensor) else type(mean).__name__,
                fix="make the encoder return latents (or (mean, logvar)) of the decoder's latent_shape",
            )
        return mean.float()

    def _first_linear(self) -> nn.Linear | None:
        if not isinstance(self.decoder, nn.Module) or len(self.default_space.shape) != 1:
            return None
        for module in self.decoder.modules():
            if isinstance(module, nn.Linear):
                return module if module.in_features == self.default_space.dim else None
        return None

    def sefa_weight(self, space: LatentSpace) -> torch.Tensor:
        """The decoder's first ``nn.Linear`` weight ``(out, latent_dim)``, which SeFa factorises."""
        layer = self._first_linear()
        self._require("sefa", "SeFa needs a decoder whose first layer is nn.Linear(latent_dim, ...)")
        assert layer is not None
        return layer.weight.detach().float()


def from_module(
    decoder: Callable[[torch.Tensor], Any],
    latent_shape: int | Sequence[int],
    output_range: OutputRange = (-1.0, 1.0),
    encoder: Callable[[torch.Tensor], Any] | None = None,
    name: str = "module",
    *,
    prior: Prior = "normal",
    space_name: str = "z",
    device: str | torch.device | None = None,
) -> ModuleGenerator:
    """Wrap any PyTorch decoder as a latentlab :class:`Generator`.

    The decoder is called once on a zero latent to learn the image size and check the layout.

    Args:
        decoder: ``nn.Module`` (or callable) taking ``(N, *latent_shape)`` latents and returning
            images ``(N, 3, H, W)`` or ``(N, 1, H, W)`` (or a tuple whose first item is that).
        latent_shape: shape of one latent, e.g. ``128`` or ``(4, 8, 8)``.
        output_range: the decoder's value range: ``(-1, 1)`` (tanh), ``(0, 1)`` (sigmoid),
            ``(0, 255)``, or ``"logits"``.
        encoder: optional module mapping images (in the decoder's range and channel count) to
            latents, or to ``(mean, logvar)``; enables ``gen.encode``.
        name: model id (used to tell its latents and directions from other models').
        prior: ``"normal"`` if latents are drawn from a standard Gaussian, else ``"none"``.
        space_name: name of the latent space.
        device: move the modules there; by default they stay where they are.

    Returns:
        A :class:`ModuleGenerator` with images ``(N, 3, H, W)`` in ``[0, 1]``.

    Example:
        >>> import torch
        >>> from torch import nn
        >>> dec = nn.Sequential(nn.Linear(8, 16 * 16), nn.Tanh(), nn.Unflatten(1, (1, 16, 16)))
        >>> gen = from_module(dec, latent_shape=8, output_range=(-1, 1), name="toy")
        >>> gen.decode(gen.sample(4, seed=0)).shape
        torch.Size([4, 3, 16, 16])
    """
    shape = (int(latent_shape),) if isinstance(latent_shape, int) else tuple(int(s) for s in latent_shape)
    if not shape or min(shape) < 1:
        raise InvalidValueError(
            "latent_shape must be positive sizes",
            expected="e.g. 128 or (4, 8, 8)",
            got=repr(latent_shape),
            fix="pass the shape of one latent, without the batch dim",
        )
    if not callable(decoder):
        raise InvalidValueError(
            "from_module() needs a decoder module",
            expected="an nn.Module or callable",
            got=type(decoder).__name__,
            fix="pass your decoder network",
        )
    if output_range != "logits":
        _check_range(output_range)
    if device is not None:
        for module in (decoder, encoder):
            if isinstance(module, nn.Module):
                module.to(device)
    if isinstance(decoder, nn.Module):
        decoder.eval()
    if isinstance(encoder, nn.Module):
        encoder.eval()
    dev, dtype = module_device_dtype(decoder)
    with torch.no_grad():
        probe = decoder(torch.zeros((1, *shape), device=dev, dtype=dtype))
    raw = probe[0] if isinstance(probe, (tuple, list)) and probe else probe
    first = to_unit_rgb(probe, output_range, source=f"decoder of {name!r}")
    space = LatentSpace(space_name, shape, prior, model=name, description="latent of a wrapped nn.Module")
    return ModuleGenerator(
        decoder, space, (first.shape[-2], first.shape[-1]), output_range, encoder, output_channels=int(raw.shape[1])
    )


def _adapter_factory(call: str) -> Callable[[], Generator]:
    def factory() -> Generator:
        raise InvalidValueError(
            "this entry of ll.models() is an adapter: it wraps a model you bring, so it needs arguments",
            expected=f"a call such as {call}",
            got="ll.load() with no model to wrap",
            fix=f"call {call} instead of ll.load(...)",
        )

    return factory


def register_adapter(name: str, call: str, description: str, spaces: str) -> None:
    """List an adapter in ``ll.models()`` (source ``"adapter"``); ``ll.load(name)`` explains how to call it."""
    register(
        name,
        _adapter_factory(call),
        description=f"{description}: {call}",
        spaces=spaces,
        license="the model's own",
        source="adapter",
        overwrite=True,
    )


register_adapter(
    "torch-module",
    "ll.from_module(decoder, latent_shape, output_range=(-1, 1))",
    "any PyTorch decoder",
    "one space of your latent_shape",
)
