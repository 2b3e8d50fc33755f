"""A small convolutional VAE family: the bundled ``digits`` model and ``latentlab.train`` use it.

One architecture, configured by :class:`VAEConfig`: a strided-conv encoder down to
4x4, a Gaussian latent, and an upsampling conv decoder producing logits. Images
are ink-on-paper in ``[0, 1]`` with a Bernoulli (continuous BCE) likelihood.
Decoding can render at a larger ``display_size`` than the model's own resolution:
logits are upsampled bicubically *before* the sigmoid, which gives smooth, crisp
edges instead of blocky or blurry pixels.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .._atomic import atomic_path
from ..errors import ChecksumError, InvalidValueError
from ..spaces import LatentSpace
from ._weights import MANIFEST_NAME, load_weights, save_weights, write_manifest
from .base import Generator

__all__ = ["VAEConfig", "VAE", "VAEGenerator", "vae_loss", "save_vae", "load_vae"]

WEIGHTS_NAME = "weights.safetensors"
CARD_NAME = "card.json"


@dataclass
class VAEConfig:
    """Architecture of a :class:`VAE` (the single source of truth, saved in ``card.json``).

    Args:
        image_size: model resolution (square, a power of two >= 8).
        channels: 1 (grayscale) or 3 (RGB).
        latent_dim: size of the latent ``z``.
        width: channels of the first conv layer (doubled at each downsampling, capped at 8x).
        hidden: size of the fully connected layer between conv features and ``z``.
        display_size: resolution ``decode`` renders at (logits are upsampled before the sigmoid).
        input_offset: subtracted from images before the encoder; :func:`latentlab.train` sets it to
            the training set's mean pixel value, so that the strokes of dark-on-white drawings, not
            their white background, drive the first layer (uncentred, such data trains to one mean image).
    """

    image_size: int
    channels: int = 1
    latent_dim: int = 16
    width: int = 32
    hidden: int = 256
    display_size: int | None = None
    input_offset: float = 0.0

    def __post_init__(self) -> None:
        if self.image_size < 8 or self.image_size & (self.image_size - 1):
            raise InvalidValueError(
                "VAE image_size must be a power of two",
                expected="8, 16, 32, 64, 128 ...",
                got=self.image_size,
                fix="pick size=64 (or 32, 128)",
            )
        if self.channels not in (1, 3):
            raise InvalidValueError(
                "VAE channels must be 1 or 3",
                expected="1 or 3",
                got=self.channels,
                fix="use channels=1 for grayscale, 3 for RGB",
            )

    @property
    def n_down(self) -> int:
        return int(math.log2(self.image_size // 4))

    @property
    def out_size(self) -> int:
        return self.display_size or self.image_size

    def conv_widths(self) -> list[int]:
        return [min(self.width * 2**i, self.width * 8) for i in range(self.n_down + 1)]


class VAE(nn.Module):
    """Convolutional VAE. ``forward(x)`` -> ``(logits, mu, logvar)``; ``x`` is ``(N, C, S, S)`` in [0, 1]."""

    def __init__(self, config: VAEConfig) -> None:
        super().__init__()
        self.config = config
        w = config.conv_widths()
        enc: list[nn.Module] = [nn.Conv2d(config.channels, w[0], 3, padding=1), nn.SiLU()]
        for i in range(config.n_down):
            enc += [
                nn.Conv2d(w[i], w[i + 1], 4, stride=2, padding=1),
                nn.GroupNorm(_groups(w[i + 1]), w[i + 1]),
                nn.SiLU(),
            ]
        self.encoder = nn.Sequential(*enc, nn.Flatten(), nn.Linear(w[-1] * 16, config.hidden), nn.SiLU())
        self.to_mu = nn.Linear(config.hidden, config.latent_dim)
        self.to_logvar = nn.Linear(config.hidden, config.latent_dim)
        self.from_z = nn.Sequential(
            nn.Linear(config.latent_dim, config.hidden), nn.SiLU(), nn.Linear(config.hidden, w[-1] * 16), nn.SiLU()
        )
        dec: list[nn.Module] = []
        for i in reversed(range(config.n_down)):
            dec += [
                nn.Upsample(scale_factor=2, mode="nearest"),
                nn.Conv2d(w[i + 1], w[i], 3, padding=1),
                nn.GroupNorm(_groups(w[i]), w[i]),
                nn.SiLU(),
            ]
        dec += [nn.Conv2d(w[0], w[0], 3, padding=1), nn.SiLU(), nn.Conv2d(w[0], config.channels, 3, padding=1)]
        self.decoder = nn.Sequential(*dec)

    def encode_stats(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x (N, C, S, S)`` -> posterior ``(mu, logvar)``, each ``(N, latent_dim)``."""
        h = self.encoder(x - self.config.input_offset if self.config.input_offset else x)
        return self.to_mu(h), self.to_logvar(h).clamp(-12, 8)

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """``z (N, latent_dim)`` -> logits ``(N, C, S, S)`` at the model resolution."""
        w_top = self.config.conv_widths()[-1]
        return self.decoder(self.from_z(z).view(-1, w_top, 4, 4))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Deterministic reconstruction through the posterior mean: ``(logits, mu, logvar)``."""
        mu, logvar = self.encode_stats(x)
        return self.decode_logits(mu), mu, logvar


def _groups(c: int) -> int:
    return 8 if c % 8 == 0 else 1


def vae_loss(
    model: VAE, x: torch.Tensor, beta: float = 1.0, rng: torch.Generator | None = None, free_bits: float = 0.0
) -> tuple[torch.Tensor, dict[str, float]]:
    """Negative ELBO per image (nats): BCE reconstruction + ``beta`` * KL, averaged over the batch.

    In training mode ``z`` is sampled with noise from ``rng`` (global RNG untouched when given);
    in eval mode ``z`` is the posterior mean. ``free_bits > 0`` floors the batch-mean KL of each
    latent dimension at that many nats (Kingma et al. 2016), which keeps small data sets of thin
    line drawings from collapsing onto one mean image.
    """
    mu, logvar = model.encode_stats(x)
    if model.training:
        noise = torch.randn(mu.shape, generator=rng, device=mu.device if rng is None else rng.device)
        z = mu + noise.to(mu.device) * (0.5 * logvar).exp()
    else:
        z = mu
    logits = model.decode_logits(z)
    rec = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
    kl_dims = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar)
    kl_term = kl_dims.mean(0).clamp(min=free_bits).sum() if free_bits > 0 else kl_dims.sum(1).mean()
    loss = rec.mean() + beta * kl_term
    return loss, {"rec": float(rec.mean().detach()), "kl": float(kl_dims.sum(1).mean().detach())}


class VAEGenerator(Generator):
    """A :class:`VAE` behind the :class:`Generator` interface (space ``"z"``, normal prior, encoder).

    Args:
        model: the trained VAE.
        name: model id.
        card: the model card (data, metrics, training command...), kept as ``gen.card``.
    """

    capabilities = frozenset({"encode", "sefa"})

    def __init__(self, model: VAE, name: str, card: dict[str, Any] | None = None) -> None:
        cfg = model.config
        space = LatentSpace("z", (cfg.latent_dim,), "normal", model=name, description="VAE latent")
        super().__init__([space], (cfg.out_size, cfg.out_size))
        self.name = name
        self.model = model.eval()
        self.config = cfg
        self.card = card or {}

    def _move(self, device: torch.device) -> None:
        self.model.to(device)

    def _decode(self, latents: torch.Tensor, space: LatentSpace) -> torch.Tensor:
        logits = self.model.decode_logits(latents)
        if self.config.out_size != self.config.image_size:
            logits = F.interpolate(logits, size=self.image_size, mode="bicubic", align_corners=False)
        images = torch.sigmoid(logits)
        return images.expand(-1, 3, -1, -1) if self.config.channels == 1 else images

    def _encode(self, images: torch.Tensor, space: LatentSpace) -> torch.Tensor:
        x = images
        if self.config.channels == 1:
            x = x.mean(1, keepdim=True)
        if self.config.out_size != self.config.image_size:
            x = F.interpolate(x, size=(self.config.image_size,) * 2, mode="area")
        return self.model.encode_stats(x)[0]

    def sefa_weight(self, space: LatentSpace) -> torch.Tensor:
        """The first latent-facing weight ``A`` (``(out, latent_dim)``) that SeFa factorises."""
        first = self.model.from_z[0]
        assert isinstance(first, nn.Linear)
        return first.weight.detach()


def save_vae(gen: VAEGenerator, folder: str | Path, card: dict[str, Any] | None = None) -> Path:
    """Save a VAE generator as ``weights.safetensors`` + ``card.json`` + ``MANIFEST.sha256`` in ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    full_card = {**gen.card, **(card or {}), "name": gen.name, "family": "vae", "config": asdict(gen.config)}
    save_weights(folder, WEIGHTS_NAME, gen.model.state_dict())
    with atomic_path(folder / CARD_NAME) as tmp:
        tmp.write_text(json.dumps(full_card, indent=2, sort_keys=True) + "\n")
    write_manifest(folder, [WEIGHTS_NAME, CARD_NAME])
    gen.card = full_card
    return folder


def load_vae(folder: str | Path, name: str | None = None, restore_hint: str | None = None) -> VAEGenerator:
    """Load a VAE generator saved by :func:`save_vae`, verifying the sha256 manifest."""
    folder = Path(folder)
    hint = restore_hint or f"the files in {folder} were changed; save the model again or restore them from a backup"
    from ._weights import read_manifest, verify_file

    manifest = read_manifest(folder)
    if CARD_NAME not in manifest:
        raise ChecksumError(
            f"{CARD_NAME} is not listed in {folder / MANIFEST_NAME}",
            expected=f"an entry for {CARD_NAME}",
            got=sorted(manifest),
            fix=hint,
        )
    verify_file(folder / CARD_NAME, manifest[CARD_NAME], hint)
    card = json.loads((folder / CARD_NAME).read_text())
    model = VAE(VAEConfig(**card["config"]))
    model.load_state_dict(load_weights(folder, WEIGHTS_NAME, hint))
    return VAEGenerator(model, name or card.get("name", folder.name), card)
