"""The ``glyphs-text`` model: words -> fonts, a text-conditioned diffusion prior over the glyphs style latent.

The chain is the one of text-to-image models, small enough to watch on a laptop CPU:

1. a sentence encoder (all-MiniLM-L6-v2, :mod:`latentlab.text`) turns the words into a
   384-d unit vector, the **prompt** latent (the shipped model reads a prompt in the caption
   templates, "a {} font", "{} lettering", ..., and averages: prompt ensembling);
2. a small denoiser (:class:`TextPriorNet`, residual MLP blocks modulated by the timestep and
   the text) runs DDIM steps (diffusers' scheduler) from a Gaussian **noise** latent ``(64,)``
   to a style latent of the ``glyphs`` model, steered by classifier-free guidance; each step's
   predicted clean latent is kept inside the training codes' per-dimension quantile box;
3. the ``glyphs`` decoder renders that font.

The generator has three spaces (the design every text-conditioned generator follows):
``noise (64,)`` (default; normal prior), ``prompt (384,)`` (the embedding, no prior) and
``joint (448,)`` (noise and prompt side by side: interpolation slerps the noise and lerps the
prompt). Sampling is deterministic (DDIM, eta 0): the same noise and prompt give the same font.

Example (needs the ``text`` extra):

    >>> import latentlab as ll
    >>> prior = ll.load("glyphs-text")
    >>> prior.space("joint").describe()
    'joint (noise (64,) + prompt (384,))'
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import nn

from .._checks import as_batched_latents
from ..errors import InvalidValueError, ShapeError
from ..spaces import LatentPart, LatentSpace, joint_space
from ..text import TextEncoder, check_texts, default_encoder
from ._weights import load_weights, save_weights, write_manifest
from .base import Generator

if TYPE_CHECKING:
    from .glyphs import GlyphsGenerator

__all__ = ["TextPriorConfig", "TextPriorNet", "GlyphsTextGenerator", "load_bundled", "save_bundle", "make_scheduler"]

WEIGHTS_NAME = "weights.safetensors"
BUNDLE_DIR = Path(__file__).resolve().parent.parent / "models" / "glyphs-text"


@dataclass(frozen=True)
class TextPriorConfig:
    """Sizes and diffusion settings of :class:`TextPriorNet`.

    Args:
        latent_dim: the glyphs style latent width.
        embed_dim: the text embedding width.
        hidden: width of the residual MLP.
        cond_dim: width of the conditioning vector (text + timestep).
        blocks: residual blocks.
        train_timesteps: DDPM timesteps of training.
        beta_schedule: diffusers beta schedule.
        center: condition on the embedding minus the mean caption embedding, renormalised
            (removes what every caption shares, "a ... font", so the descriptive words weigh more).
        sample_steps: DDIM steps of sampling by default.
        anchors: how many caption embeddings the net keeps as anchors (0: none).
        snap_tau: with anchors, a prompt embedding is replaced by the softmax-weighted mean of the
            anchors (temperature ``snap_tau`` on the cosine similarity), renormalised: words the
            captions never used are read as the captions that MiniLM finds closest to them.
        snap_mix: with anchors, how much of the snapped embedding the denoiser reads: the unit-length
            ``(1 - snap_mix) * embedding + snap_mix * snapped`` (1: the snapped embedding alone).
        snap_gate: with anchors, snap only prompts unlike every caption: ``(lo, hi)`` on the largest cosine
            similarity ``s`` of the prompt to the anchors; the snapped share is ``snap_mix`` for ``s <= lo``,
            0 for ``s >= hi`` (the embedding is then read as it is) and linear in between. Caption-like
            prompts (``s`` of 0.88-0.98 for the shipped captions' words) keep their detail; words no caption
            uses (``s`` of 0.53-0.79) are read through the captions closest to them. Empty: every prompt.
        clip_sample: the sampler clips each step's predicted clean latent to +- this (standardised units).
        guidance_rescale: rescaled classifier-free guidance (Lin et al. 2023, "Common Diffusion Noise
            Schedules and Sample Steps are Flawed", eq. 15-16): the guided noise prediction is rescaled
            to the per-sample std of the text-conditioned one, blended with weight ``guidance_rescale``
            (0: plain guidance).
        code_box: projection of each step's predicted clean latent (and of the result) into the box of
            the training codes' per-dimension ``[code_box, 1 - code_box]`` quantiles (0: off); the box
            is held in the ``code_lo`` / ``code_hi`` buffers (:meth:`TextPriorNet.fit_code_stats`).
        code_radius: the same projection onto the ball of Mahalanobis radius ``code_radius`` around the
            training codes' mean (whitened by their covariance, the ``code_whiten`` buffer; 0: off).
        project_steps: project every step's clean prediction (``True``) or only the result.
        prompt_templates: prompt ensembling (as CLIP's zero-shot templates): a text is embedded in
            each template (``{}`` is the text without a leading article) and the unit mean is its
            prompt latent; empty: the text alone.
    """

    latent_dim: int = 64
    embed_dim: int = 384
    hidden: int = 256
    cond_dim: int = 256
    blocks: int = 4
    train_timesteps: int = 1000
    beta_schedule: str = "squaredcos_cap_v2"
    center: bool = True
    sample_steps: int = 25
    anchors: int = 0
    snap_tau: float = 0.05
    snap_mix: float = 1.0
    snap_gate: tuple[float, ...] = ()
    clip_sample: float = 4.0
    guidance_rescale: float = 0.0
    code_box: float = 0.0
    code_radius: float = 0.0
    project_steps: bool = True
    prompt_templates: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "prompt_templates", tuple(self.prompt_templates))  # a list from JSON
        object.__setattr__(self, "snap_gate", tuple(float(x) for x in self.snap_gate))
        if self.snap_gate and not (len(self.snap_gate) == 2 and self.snap_gate[0] < self.snap_gate[1]):
            raise InvalidValueError(
                "snap_gate must be two cosine similarities, the lower first",
                expected="(lo, hi) with lo < hi, e.g. (0.75, 0.85), or () for no gate",
                got=repr(self.snap_gate),
                fix="pass snap_gate=(0.75, 0.85)",
            )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def training_dict(self) -> dict[str, Any]:
        """The settings a training run depends on (not the sampler's or the prompt reader's)."""
        return {k: v for k, v in self.to_dict().items() if k not in SAMPLER_SETTINGS}


#: config fields that only the sampler or the prompt reader use: a checkpoint resumes across them
SAMPLER_SETTINGS = (
    "sample_steps",
    "anchors",
    "snap_tau",
    "snap_mix",
    "snap_gate",
    "clip_sample",
    "guidance_rescale",
    "code_box",
    "code_radius",
    "project_steps",
    "prompt_templates",
)


def strip_article(text: str) -> str:
    """``"a bold serif"`` -> ``"bold serif"`` (what a prompt template is filled with).

    Example:
        >>> strip_article("An italic serif"), strip_article("typewriter")
        ('italic serif', 'typewriter')
    """
    words = text.split(maxsplit=1)
    return words[1] if len(words) == 2 and words[0].lower() in ("a", "an", "the") else text


def ensemble_texts(text: str, templates: Sequence[str]) -> list[str]:
    """The texts a prompt is embedded as under prompt ensembling (the text itself first).

    Example:
        >>> ensemble_texts("a bold serif", ["a {} font", "{} lettering"])
        ['a bold serif', 'a bold serif font', 'bold serif lettering']
    """
    core = strip_article(text)
    out = [text]
    for tpl in templates:
        t = tpl.format(core)
        if t not in out:
            out.append(t)
    return out


def timestep_features(t: torch.Tensor, dim: int = 128) -> torch.Tensor:
    """Sinusoidal features of integer timesteps ``(N,)`` -> ``(N, dim)``."""
    half = dim // 2
    freqs = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([args.sin(), args.cos()], dim=1)


class _Block(nn.Module):
    """Pre-norm residual MLP block, FiLM-modulated by the conditioning vector."""

    def __init__(self, hidden: int, cond: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(hidden, elementwise_affine=False)
        self.film = nn.Linear(cond, 2 * hidden)
        self.mlp = nn.Sequential(nn.Linear(hidden, 2 * hidden), nn.SiLU(), nn.Linear(2 * hidden, hidden))
        nn.init.zeros_(self.film.weight)
        nn.init.zeros_(self.film.bias)

    def forward(self, h: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        scale, shift = self.film(c).chunk(2, dim=1)
        return h + self.mlp(self.norm(h) * (1 + scale) + shift)


class TextPriorNet(nn.Module):
    """The denoiser: predicts the noise in a (standardised) style latent from the timestep and the text.

    Buffers hold the training codes' per-dimension mean and std (the net works on standardised
    codes) and the mean caption embedding (for ``config.center``).

    Example:
        >>> net = TextPriorNet(TextPriorConfig(hidden=32, cond_dim=16, blocks=1))
        >>> c = net.condition(torch.nn.functional.normalize(torch.randn(3, 384), dim=1))
        >>> net(torch.randn(3, 64), torch.tensor([0, 10, 999]), c).shape
        torch.Size([3, 64])
    """

    code_mean: torch.Tensor
    code_std: torch.Tensor
    code_lo: torch.Tensor
    code_hi: torch.Tensor
    code_whiten: torch.Tensor
    emb_center: torch.Tensor
    anchors: torch.Tensor

    def __init__(self, config: TextPriorConfig) -> None:
        super().__init__()
        self.config = config
        d, e, h, c = config.latent_dim, config.embed_dim, config.hidden, config.cond_dim
        self.register_buffer("code_mean", torch.zeros(d))
        self.register_buffer("code_std", torch.ones(d))
        self.register_buffer("code_lo", torch.full((d,), -float(config.clip_sample)))
        self.register_buffer("code_hi", torch.full((d,), float(config.clip_sample)))
        self.register_buffer("code_whiten", torch.eye(d))
        self.register_buffer("emb_center", torch.zeros(e))
        self.register_buffer("anchors", torch.zeros(config.anchors, e))
        self.text = nn.Sequential(nn.Linear(e, c), nn.SiLU(), nn.Linear(c, c))
        self.null = nn.Parameter(torch.zeros(c))
        self.time = nn.Sequential(nn.Linear(128, c), nn.SiLU(), nn.Linear(c, c))
        self.inp = nn.Linear(d, h)
        self.blocks = nn.ModuleList(_Block(h, c) for _ in range(config.blocks))
        last = nn.Linear(h, d)
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)
        self.out = nn.Sequential(nn.LayerNorm(h), last)

    def text_features(self, emb: torch.Tensor) -> torch.Tensor:
        """What the text branch reads: the embedding snapped onto the anchors (when it has them), then
        centred and renormalised (when ``config.center``)."""
        if self.config.anchors and self.config.snap_tau > 0:
            emb = self.snap(emb)
        if self.config.center:
            emb = F.normalize(emb - self.emb_center, dim=-1)
        return emb

    def snap_share(self, emb: torch.Tensor) -> torch.Tensor:
        """How much of its snapped version each embedding ``(N, 384)`` is read as, ``(N, 1)`` in ``[0, 1]``
        (``config.snap_mix``, lowered by ``config.snap_gate`` for prompts close to an anchor)."""
        share = torch.full((emb.shape[0], 1), float(self.config.snap_mix), dtype=emb.dtype, device=emb.device)
        if self.config.snap_gate:
            lo, hi = self.config.snap_gate
            closest = (emb @ self.anchors.T).max(dim=-1, keepdim=True).values
            share = share * ((hi - closest) / (hi - lo)).clamp(0.0, 1.0)
        return share

    def snap(self, emb: torch.Tensor) -> torch.Tensor:
        """Unit embeddings ``(N, 384)`` -> the same moved toward the softmax-weighted mean of the anchors (by
        :meth:`snap_share`); an embedding whose share is 0 is returned as it is.

        Example:
            >>> cfg = TextPriorConfig(hidden=32, cond_dim=16, blocks=1, anchors=2, snap_tau=0.01)
            >>> net = TextPriorNet(cfg)
            >>> net.anchors.copy_(torch.eye(2, 384))  # doctest: +ELLIPSIS
            tensor(...)
            >>> e = torch.nn.functional.normalize(torch.tensor([[0.9, 0.3] + [0.0] * 382]), dim=1)
            >>> net.snap(e)[0, :2].round(decimals=3)  # onto the nearer anchor
            tensor([1., 0.])
        """
        weights = torch.softmax(emb @ self.anchors.T / self.config.snap_tau, dim=-1)
        snapped = F.normalize(weights @ self.anchors, dim=-1)
        share = self.snap_share(emb)
        mixed = F.normalize((1 - share) * emb + share * snapped, dim=-1)
        return torch.where(share > 0, mixed, emb)

    def condition(self, emb: torch.Tensor | None, n: int = 1) -> torch.Tensor:
        """Text embeddings ``(N, 384)`` -> conditioning ``(N, cond_dim)``; ``None`` -> the null (unconditional) one."""
        if emb is None:
            return self.null[None].expand(n, -1)
        return self.text(self.text_features(emb))

    def forward(self, x: torch.Tensor, t: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        c = cond + self.time(timestep_features(t.reshape(-1).expand(x.shape[0]) if t.numel() == 1 else t))
        c = F.silu(c)
        h = self.inp(x)
        for block in self.blocks:
            h = block(h, c)
        return self.out(h)

    def standardise(self, codes: torch.Tensor) -> torch.Tensor:
        return (codes - self.code_mean) / self.code_std

    @torch.no_grad()
    def fit_code_stats(self, codes: torch.Tensor) -> None:
        """Set the code buffers from the training codes ``(N, 64)``: mean and std, the per-dimension
        quantile box of ``config.code_box`` and the whitening matrix of the standardised codes."""
        codes = codes.float().to(self.code_mean.device)
        self.code_mean.copy_(codes.mean(0))
        self.code_std.copy_(codes.std(0))
        x = self.standardise(codes)
        q = self.config.code_box
        if q > 0:
            self.code_lo.copy_(x.quantile(q, dim=0))
            self.code_hi.copy_(x.quantile(1 - q, dim=0))
        chol = torch.linalg.cholesky(torch.cov(x.T) + 1e-5 * torch.eye(x.shape[1], device=x.device))
        self.code_whiten.copy_(torch.linalg.inv(chol))

    def project(self, x0: torch.Tensor) -> torch.Tensor:
        """Standardised clean latents ``(N, 64)`` moved into the training codes' region (``code_radius``,
        then ``code_box``; the identity when both are 0)."""
        r = self.config.code_radius
        if r > 0:
            radius = (x0 @ self.code_whiten.T).norm(dim=1, keepdim=True)
            x0 = x0 * torch.clamp(r / radius.clamp_min(1e-8), max=1.0)
        if self.config.code_box > 0:
            x0 = torch.maximum(torch.minimum(x0, self.code_hi), self.code_lo)
        return x0

    def unstandardise(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.code_std + self.code_mean


def make_scheduler(config: TextPriorConfig, kind: str = "ddim") -> Any:
    """The diffusers scheduler of training (``"ddpm"``) or sampling (``"ddim"``, eta 0).

    DDIM steps are spaced ``"leading"`` (the first step is at t = 961 of 1000 for 25 steps) and the
    predicted clean latent is clipped to +-4 (standardised units): at t = 999 the cosine schedule
    keeps ``alpha_bar = 2e-9`` of the signal, and dividing by its square root there turned a
    small error of the predicted noise into latents 1,000 times too large.
    """
    from .._optional import require

    diffusers = require("diffusers", purpose="the glyphs-text diffusion sampler")
    common = {
        "num_train_timesteps": config.train_timesteps,
        "beta_schedule": config.beta_schedule,
        "prediction_type": "epsilon",
        "clip_sample": False,
    }
    if kind == "ddpm":
        return diffusers.DDPMScheduler(**common)
    return diffusers.DDIMScheduler(
        **{**common, "clip_sample": config.clip_sample > 0},
        clip_sample_range=float(config.clip_sample) or 1.0,
        timestep_spacing="leading",
        steps_offset=1,
        set_alpha_to_one=False,
    )


@torch.no_grad()
def denoise(
    net: TextPriorNet,
    scheduler: Any,
    noise: torch.Tensor,
    emb: torch.Tensor,
    guidance: float,
    steps: int,
    on_step: Callable[[int, torch.Tensor], None] | None = None,
) -> torch.Tensor:
    """DDIM from ``noise (N, 64)`` (standardised space) to style codes ``(N, 64)``, guided by ``emb (N, 384)``.

    ``on_step(i, x0)`` (optional) sees the predicted clean style codes after each step.
    Guidance 0 uses the null condition only (the prompt is ignored); guidance 1 the text only.
    With ``config.guidance_rescale`` the guided prediction is rescaled (Lin et al. 2023); with
    ``config.code_box`` / ``code_radius`` each step's clean prediction and the result are
    projected into the training codes' region (:meth:`TextPriorNet.project`): the DDIM step keeps
    its noise direction and moves by ``sqrt(alpha_bar_prev)`` times the projection's shift.
    """
    cfg = net.config
    scheduler.set_timesteps(int(steps))
    x = noise
    n = x.shape[0]
    projecting = cfg.code_box > 0 or cfg.code_radius > 0
    cond = torch.cat([net.condition(emb), net.condition(None, n)]) if guidance != 0 else net.condition(None, n)
    for i, t in enumerate(scheduler.timesteps):
        tt = torch.full((cond.shape[0],), int(t), dtype=torch.long, device=x.device)
        xin = torch.cat([x, x]) if guidance != 0 else x
        eps = net(xin, tt, cond)
        if guidance != 0:
            eps_c, eps_u = eps.chunk(2)
            eps = eps_u + guidance * (eps_c - eps_u)
            if cfg.guidance_rescale > 0:
                rescaled = eps * (eps_c.std(dim=1, keepdim=True) / eps.std(dim=1, keepdim=True).clamp_min(1e-8))
                eps = cfg.guidance_rescale * rescaled + (1 - cfg.guidance_rescale) * eps
        out = scheduler.step(eps, t, x)
        x, x0 = out.prev_sample, out.pred_original_sample
        if projecting and cfg.project_steps:
            moved = net.project(x0)
            x = x + _alpha_bar_prev(scheduler, int(t)).sqrt() * (moved - x0)
            x0 = moved
        if on_step is not None:
            on_step(i, net.unstandardise(x0))
    if projecting:
        x = net.project(x)
    return net.unstandardise(x)


def _alpha_bar_prev(scheduler: Any, t: int) -> torch.Tensor:
    """``alpha_bar`` of the DDIM step after timestep ``t`` (as diffusers' ``DDIMScheduler.step`` computes it)."""
    prev = t - scheduler.config.num_train_timesteps // scheduler.num_inference_steps
    return scheduler.alphas_cumprod[prev] if prev >= 0 else scheduler.final_alpha_cumprod


class GlyphsTextGenerator(Generator):
    """Words -> fonts: the text-conditioned prior, rendering through the ``glyphs`` decoder.

    Args:
        net: the trained :class:`TextPriorNet`.
        glyphs: the glyphs generator that renders the style latents (``None``: ``ll.load("glyphs")``
            on first use).
        card: the model card as a dict.
        prompt: the current prompt (what ``decode`` of noise latents uses when no prompt is given).
        guidance: classifier-free guidance scale (0 ignores the words).
        steps: DDIM steps.
        seed: the noise seed of ``decode(..., space="prompt")`` when no noise is given.
        encoder: the text encoder (default: the shared packaged MiniLM).

    Example (needs the ``text`` extra):

        >>> import latentlab as ll
        >>> prior = ll.load("glyphs-text")
        >>> prior.decode(prior.sample(2, seed=0), prompt="a bold serif").shape
        torch.Size([2, 3, 64, 364])
    """

    capabilities = frozenset({"prompt", "preview"})

    def __init__(
        self,
        net: TextPriorNet,
        glyphs: GlyphsGenerator | None = None,
        card: dict[str, Any] | None = None,
        prompt: str = "a regular sans-serif",
        guidance: float = 3.0,
        steps: int | None = None,
        seed: int = 0,
        encoder: TextEncoder | None = None,
        name: str = "glyphs-text",
    ) -> None:
        self.net = net.eval()
        self.config = net.config
        self.name = name
        self.card = card or {}
        self.folder: Path | None = None
        self._glyphs = glyphs
        self._encoder = encoder
        self._scheduler: Any = None
        self.guidance = float(guidance)
        self.steps = int(steps or net.config.sample_steps)
        self.seed = int(seed)
        self._prompt = check_texts(prompt)[0]
        d, e = net.config.latent_dim, net.config.embed_dim
        noise = LatentSpace("noise", (d,), "normal", model=name, description="initial latent of the DDIM sampler")
        prompt_space = LatentSpace(
            "prompt", (e,), "none", model=name, description="MiniLM sentence embedding (unit length) of the prompt"
        )
        joint = joint_space(
            "joint",
            [LatentPart("noise", (d,)), LatentPart("prompt", (e,), "none")],
            model=name,
            description="noise and prompt side by side",
        )
        size = glyphs.image_size if glyphs is not None else tuple(self.card.get("image_size", (64, 364)))
        super().__init__([noise, prompt_space, joint], (int(size[0]), int(size[1])))

    # -- parts it is made of ----------------------------------------------------------
    @property
    def glyphs(self) -> GlyphsGenerator:
        """The glyphs generator that renders the fonts (loaded on first use)."""
        if self._glyphs is None:
            from .registry import load

            g = load("glyphs")
            self._glyphs = g.to(self.device)  # type: ignore[assignment]
        assert self._glyphs is not None
        return self._glyphs

    @property
    def encoder(self) -> TextEncoder:
        if self._encoder is None:
            self._encoder = default_encoder()
        return self._encoder

    @property
    def prompt(self) -> str:
        """The current prompt: what ``decode`` of noise (and ``sample(space="joint")``) uses."""
        return self._prompt

    @prompt.setter
    def prompt(self, value: str) -> None:
        self._prompt = check_texts(value)[0]

    @property
    def text(self) -> str:
        """The specimen text of the glyphs renderer."""
        return self.glyphs.text

    @text.setter
    def text(self, value: str) -> None:
        self.glyphs.text = value
        self.image_size = self.glyphs.image_size

    def _move(self, device: torch.device) -> None:
        self.net.to(device)
        if self._glyphs is not None:
            self._glyphs.to(device)

    # -- prompts ------------------------------------------------------------------------
    def _embed(self, texts: list[str]) -> torch.Tensor:
        texts = check_texts(texts)
        templates = self.config.prompt_templates
        if not templates:
            return self.encoder.encode(texts).to(self.device)
        groups = [ensemble_texts(t, templates) for t in texts]
        emb = self.encoder.encode([t for g in groups for t in g])
        sizes = [len(g) for g in groups]
        means = torch.stack([part.mean(0) for part in emb.split(sizes)])
        return F.normalize(means, dim=1).to(self.device)

    def _prompt_for(self, prompt: Any, n: int) -> torch.Tensor:
        """A text, texts (1 or ``n``), or prompt latents (1 or ``n``) -> ``(n, 384)`` on the device."""
        emb = self._prompt_latents(self._prompt if prompt is None else prompt).to(self.device, torch.float32)
        if emb.shape[0] not in (1, n):
            raise ShapeError(
                "one prompt per latent, or one for all",
                expected=f"1 or {n} prompts",
                got=f"{emb.shape[0]} prompts",
                fix="pass a single text, or a list as long as the latents",
            )
        return emb.expand(n, -1)

    def _noise_for(self, noise: Any, seed: int | None, n: int) -> torch.Tensor:
        if noise is None:
            z = self.sample(1, seed=self.seed if seed is None else seed, space="noise")
        else:
            z, _ = as_batched_latents(noise, self.space("noise"), name="noise")
        if z.shape[0] not in (1, n):
            raise ShapeError(
                "one noise per prompt latent, or one for all",
                expected=f"1 or {n}",
                got=f"{z.shape[0]} noises",
                fix="pass noise of shape (64,) or (N, 64)",
            )
        return z.to(self.device, torch.float32).expand(n, -1)

    def _split(
        self, z: torch.Tensor, space: LatentSpace, prompt: Any, seed: int | None, noise: Any
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Latents of any space -> ``(noise (N, 64), prompt embeddings (N, 384))``."""
        if space.name == "joint":
            if prompt is not None or noise is not None:
                raise InvalidValueError(
                    "joint latents already hold the noise and the prompt",
                    expected="no prompt= or noise= with space='joint'",
                    got="extra arguments",
                    fix="compose new joint latents with gen.compose(noise=..., prompt=...)",
                )
            parts = space.split(z)
            return parts["noise"], parts["prompt"]
        if space.name == "prompt":
            return self._noise_for(noise, seed, z.shape[0]), z
        return z, self._prompt_for(prompt, z.shape[0])

    # -- words -> style latents -----------------------------------------------------------
    def styles(
        self,
        latents: Any,
        space: str | LatentSpace | None = None,
        *,
        prompt: Any = None,
        seed: int | None = None,
        noise: Any = None,
        guidance: float | None = None,
        steps: int | None = None,
    ) -> torch.Tensor:
        """The glyphs style latents ``(N, 64)`` that the sampler reaches from ``latents``.

        Args:
            latents: ``(N, 64)`` noise (default space), ``(N, 384)`` prompt latents
                (``space="prompt"``) or ``(N, 448)`` joint latents.
            prompt: for noise latents: a text, a list of texts, or prompt latents (``None``:
                :attr:`prompt`).
            seed, noise: for prompt latents: the fixed noise (default: :attr:`seed`).
            guidance: classifier-free guidance (default :attr:`guidance`; 0 ignores the words).
            steps: DDIM steps (default :attr:`steps`).

        Returns:
            ``(N, 64)`` style latents of the ``glyphs`` model (or ``(64,)`` for one latent).
        """
        s = self.space(space)
        z, batched = as_batched_latents(latents, s)
        z = z.to(self.device, torch.float32)
        x, emb = self._split(z, s, prompt, seed, noise)
        out = self._denoise(x, emb, guidance, steps)
        return out if batched else out[0]

    def _denoise(
        self,
        noise: torch.Tensor,
        emb: torch.Tensor,
        guidance: float | None,
        steps: int | None,
        on_step: Callable[[int, torch.Tensor], None] | None = None,
    ) -> torch.Tensor:
        g = self.guidance if guidance is None else guidance
        k = self.steps if steps is None else steps
        if not isinstance(g, (int, float)) or not math.isfinite(g) or g < 0:
            raise InvalidValueError(
                "guidance must be a number >= 0",
                expected="e.g. 3.0 (0 ignores the words)",
                got=repr(g),
                fix="pass guidance=3.0",
            )
        if not isinstance(k, int) or k < 1 or k > self.config.train_timesteps:
            raise InvalidValueError(
                "steps must be a whole number of DDIM steps",
                expected=f"1 .. {self.config.train_timesteps}",
                got=repr(k),
                fix="pass steps=25",
            )
        if self._scheduler is None:
            self._scheduler = make_scheduler(self.config)
        return denoise(self.net, self._scheduler, noise, emb.to(noise.device), float(g), k, on_step)

    def denoising_steps(
        self, noise: Any, prompt: Any = None, guidance: float | None = None, steps: int | None = None
    ) -> torch.Tensor:
        """The sampler's predicted clean style latent after every step: ``(steps, N, 64)``.

        Decode each row to watch a font appear out of noise (the last row is the result).
        """
        z, _ = as_batched_latents(noise, self.space("noise"), name="noise")
        z = z.to(self.device, torch.float32)
        seen: list[torch.Tensor] = []
        out = self._denoise(z, self._prompt_for(prompt, z.shape[0]), guidance, steps, lambda i, x0: seen.append(x0))
        seen[-1] = out  # the last step's sample, not its prediction: exactly what styles() returns
        return torch.stack(seen)

    # -- rendering ---------------------------------------------------------------------------
    def decode(
        self,
        latents: Any,
        space: str | LatentSpace | None = None,
        *,
        prompt: Any = None,
        seed: int | None = None,
        noise: Any = None,
        guidance: float | None = None,
        steps: int | None = None,
    ) -> torch.Tensor:
        """Render fonts: ``(N, 3, 64, 52 * len(text))`` specimens of :meth:`styles` (see there for the arguments)."""

        def run(z: torch.Tensor, s: LatentSpace) -> torch.Tensor:
            x, emb = self._split(z, s, prompt, seed, noise)
            return self.glyphs._decode(self._denoise(x, emb, guidance, steps), self.glyphs.default_space)

        return self._run_decoder(run, latents, space)

    def _decode(self, latents: torch.Tensor, space: LatentSpace) -> torch.Tensor:
        x, emb = self._split(latents, space, None, None, None)
        return self.glyphs._decode(self._denoise(x, emb, None, None), self.glyphs.default_space)

    def preview(self, latents: Any, space: str | LatentSpace | None = None) -> torch.Tensor:
        """The glyphs half-resolution preview of the fonts (for live widgets)."""

        def run(z: torch.Tensor, s: LatentSpace) -> torch.Tensor:
            x, emb = self._split(z, s, None, None, None)
            return self.glyphs._decode_half(self._denoise(x, emb, None, None), self.glyphs.default_space)

        return self._run_decoder(run, latents, space)

    def measure_views(self, latents: torch.Tensor, space: str | LatentSpace | None = None) -> tuple[torch.Tensor, int]:
        """Each glyph of the specimen text on its own (as the glyphs model measures fonts)."""
        return self.glyphs.measure_views(self.styles(latents, space))

    # -- sampling ---------------------------------------------------------------------------
    def _sample(self, n: int, space: LatentSpace, rng: torch.Generator, temperature: float) -> torch.Tensor:
        """Noise latents (default), or joint latents: noise (scaled by ``temperature``) beside the current prompt."""
        if space.name == "joint":
            noise = torch.randn((n, self.config.latent_dim), generator=rng) * temperature
            return space.join({"noise": noise, "prompt": self.embed(self._prompt).cpu()})
        return super()._sample(n, space, rng, temperature)


# -- bundles on disk ------------------------------------------------------------------------
def save_bundle(folder: str | Path, net: TextPriorNet, card: dict[str, Any], extra: Sequence[str] = ()) -> Path:
    """Write a glyphs-text folder: ``weights.safetensors`` (fp16), ``card.json``, ``MANIFEST.sha256``.

    ``extra`` names further files already written into the folder that the manifest must cover.
    """
    from .._atomic import atomic_path

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    state = {
        k: v.half() if v.is_floating_point() and not k.startswith(("code_", "emb_")) else v
        for k, v in net.state_dict().items()
    }
    save_weights(out, WEIGHTS_NAME, state, {"config": net.config.to_dict()})
    card = {**card, "config": net.config.to_dict(), "module": "glyphs_text"}
    with atomic_path(out / "card.json") as tmp:
        tmp.write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
    write_manifest(out, [WEIGHTS_NAME, *extra])
    return out


def load_net(folder: str | Path, restore_hint: str = "reinstall latentlab") -> tuple[TextPriorNet, dict[str, Any]]:
    """The trained net and card of a glyphs-text folder (sha256-verified)."""
    folder = Path(folder)
    card = json.loads((folder / "card.json").read_text())
    net = TextPriorNet(TextPriorConfig(**card["config"]))
    state = load_weights(folder, WEIGHTS_NAME, restore_hint)
    net.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    return net.eval(), card


def load_bundled(
    folder: str | Path, restore_hint: str = "reinstall latentlab", glyphs: GlyphsGenerator | None = None
) -> GlyphsTextGenerator:
    """Open a glyphs-text folder; the registry calls this for ``ll.load("glyphs-text")``."""
    net, card = load_net(folder, restore_hint)
    gen = GlyphsTextGenerator(
        net,
        glyphs=glyphs,
        card=card,
        prompt=card.get("prompt", "a regular sans-serif"),
        guidance=card.get("guidance", 3.0),
        steps=card.get("steps"),
        name=Path(folder).name,
    )
    gen.folder = Path(folder)
    return gen
