"""Text-to-image diffusion pipelines (diffusers) as generators: :func:`from_diffusers`.

A :class:`DiffusionGenerator` wraps the *components* of a diffusers pipeline (UNet, VAE,
text encoders, tokenizers, the scheduler's config); it never subclasses or calls the
pipeline, so a new pipeline class made of the same components works unchanged. Supported:

* text-to-image pipelines on a ``UNet2DConditionModel`` with an ``AutoencoderKL``:
  Stable Diffusion 1.x / 2.x (and the few-step "turbo" checkpoints) and SDXL (two text
  encoders, a pooled embedding, time ids);
* unconditional pixel pipelines on a ``UNet2DModel`` (``DDPMPipeline``, ``DDIMPipeline``):
  a ``noise`` space only.

Spaces (design: ``docs/ARCHITECTURE.md``, "joint latents"):

* ``noise`` (default): the sampler's initial latents ``(4, H/8, W/8)`` (pixels ``(3, H, W)`` for
  unconditional pipelines), normal prior;
* ``prompt``: the text-encoder output ``(L, D)``; for SDXL a flat space with the parts
  ``prompt (L, D)`` and ``pooled (P,)``;
* ``joint``: noise and prompt side by side in one flat vector (parts ``noise``, ``prompt``
  [, ``pooled``]), so every tool that takes ``(N, D)`` latents takes an image's whole recipe.

Decoding runs its own deterministic sampler loop (DDIM with ``eta = 0`` by default) with
classifier-free guidance, batched, one prompt per latent; for the same noise, prompt
embeddings, steps, guidance and scheduler it gives the pipeline's own
``pipe(latents=..., prompt_embeds=..., negative_prompt_embeds=..., output_type="pt")`` image
(tested to 1e-4). :meth:`DiffusionGenerator.encode` inverts images to noise (VAE encoding,
then inverse DDIM).

Needs the ``[diffusers]`` extra (``pip install "latentlab[diffusers]"``: diffusers and
transformers); diffusers is imported only when a pipeline is loaded.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import inspect
import json
import math
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .._checks import as_batched_latents
from .._optional import require
from ..errors import CapabilityError, InvalidValueError, RenderCancelledError, ShapeError, UnknownModelError
from ..spaces import LatentPart, LatentSpace, joint_space
from .base import Generator, as_prompt_list
from .diffusers_vae import DiffusersVAEGenerator, load_kwargs, quiet_diffusers
from .module import module_device_dtype, register_adapter

__all__ = ["DiffusionGenerator", "from_diffusers", "SUPPORTED", "HEdit"]

#: What :func:`from_diffusers` opens (listed in its errors).
SUPPORTED = (
    "StableDiffusionPipeline (SD 1.x / 2.x, sd-turbo)",
    "StableDiffusionXLPipeline (SDXL, sdxl-turbo)",
    "DDPMPipeline / DDIMPipeline (unconditional, pixel space)",
    "any pipeline made of the same components (a UNet2DConditionModel + AutoencoderKL + CLIP text "
    "encoder(s) and tokenizer(s), or a lone UNet2DModel)",
)
_SUPPORTED_TEXT = "; ".join(SUPPORTED)

#: An h-space edit: ``(direction (C, h, w) tensor or Direction, strength)``.
HEdit = tuple[Any, float]

_CACHE_SIZE = 512  # texts kept in the embedding cache


@dataclass(frozen=True)
class _Cond:
    """Conditioning of a batch: token embeddings ``(N, L, D)`` and, for SDXL, pooled ``(N, P)``."""

    tokens: torch.Tensor
    pooled: torch.Tensor | None = None

    def expand(self, n: int) -> _Cond:
        pooled = None if self.pooled is None else self.pooled.expand(n, -1)
        return _Cond(self.tokens.expand(n, -1, -1), pooled)

    def rows(self, sl: slice) -> _Cond:
        return _Cond(self.tokens[sl], None if self.pooled is None else self.pooled[sl])


class DiffusionGenerator(Generator):
    """A diffusers text-to-image (or unconditional) pipeline behind the :class:`Generator` interface.

    Build it with :func:`from_diffusers`. Settable attributes: ``steps`` (sampler steps),
    ``guidance`` (classifier-free guidance scale; ``<= 1`` turns it off), ``prompt`` (the
    default text), ``negative_prompt`` (``None``: the empty text, or zeros where the pipeline
    says so, as SDXL does), ``seed`` (the noise of ``space="prompt"`` decodes),
    ``preview_steps`` (steps of :meth:`preview`), ``batch_size`` (latents per UNet batch).

    The wrapped components are ``gen.unet``, ``gen.vae``, ``gen.text_encoders``,
    ``gen.tokenizers`` and ``gen.scheduler_config``.
    """

    #: Frames take seconds: morphs resume by default, widgets preview while dragging and cancel stale renders.
    slow = True

    def __init__(
        self,
        *,
        unet: nn.Module,
        scheduler_config: Any,
        vae: nn.Module | None = None,
        text_encoders: Sequence[nn.Module] = (),
        tokenizers: Sequence[Any] = (),
        name: str = "diffusion",
        steps: int = 25,
        guidance: float = 7.5,
        height: int | None = None,
        width: int | None = None,
        scheduler: str | Any = "ddim",
        force_zeros_for_empty_prompt: bool = False,
        prompt: str | None = "a photograph",
        negative_prompt: str | None = None,
        seed: int = 0,
    ) -> None:
        self.name = name
        self.unet: Any = unet.eval().requires_grad_(False)
        self.vae: Any = vae.eval().requires_grad_(False) if vae is not None else None
        self.text_encoders: tuple[Any, ...] = tuple(t.eval().requires_grad_(False) for t in text_encoders)
        self.tokenizers = tuple(tokenizers)
        self.scheduler_config = scheduler_config
        self._scheduler_choice: Any = scheduler
        self.force_zeros_for_empty_prompt = bool(force_zeros_for_empty_prompt)
        self.is_xl = len(self.text_encoders) == 2
        self._device, self._dtype = module_device_dtype(unet)
        ucfg: Any = unet.config
        vae_cfg: Any = None if vae is None else vae.config
        factor = 1 if vae_cfg is None else 2 ** (len(vae_cfg.block_out_channels) - 1)
        channels = int(ucfg.in_channels)
        side = ucfg.sample_size
        default_h, default_w = (side, side) if isinstance(side, int) else (int(side[0]), int(side[1]))
        h = int(height) if height is not None else default_h * factor
        w = int(width) if width is not None else default_w * factor
        if h % factor or w % factor or h < factor or w < factor:
            example = max(factor, h // factor * factor)
            raise InvalidValueError(
                f"image size {h}x{w} does not fit this pipeline",
                expected=f"sides multiples of {factor}",
                got=(h, w),
                fix=f"pass height= and width= multiples of {factor}, e.g. {example}",
            )
        self.vae_scale_factor = factor
        self._vae_gen = DiffusersVAEGenerator(self.vae, name, image_size=(h, w)) if self.vae is not None else None
        spaces = [
            LatentSpace(
                "noise",
                (channels, h // factor, w // factor),
                "normal",
                model=name,
                description="initial latents of the sampler",
            )
        ]
        if self.text_encoders:
            spaces += self._text_spaces(spaces[0])
        super().__init__(spaces, (h, w))
        self.capabilities = frozenset({"encode", "preview", *({"prompt"} if self.text_encoders else set())})
        self.steps = int(steps)
        self.guidance = float(guidance)
        self.prompt = prompt
        self.negative_prompt = negative_prompt
        self.seed = int(seed)
        self.preview_steps = max(1, self.steps // 4)
        self.batch_size = 8
        self._cache: collections.OrderedDict[str, _Cond] = collections.OrderedDict()
        self.texts_encoded = 0  #: texts run through the text encoder(s) so far (the cache saves the rest)

    def render_settings(self) -> dict[str, Any]:
        """Everything besides the latents that fixes the pixels (resumable morphs key their frames on it)."""
        negative = self.negative_prompt
        return {
            "steps": self.steps,
            "guidance": self.guidance,
            "negative_prompt": negative,
            "scheduler": self._scheduler_choice
            if isinstance(self._scheduler_choice, str)
            else type(self._scheduler_choice).__name__,
            "prompt": self.prompt,
            "seed": self.seed,
            "dtype": str(self._dtype),
        }

    # -- spaces ---------------------------------------------------------------------
    def _text_spaces(self, noise: LatentSpace) -> list[LatentSpace]:
        length = int(self.tokenizers[0].model_max_length)
        dim = sum(int(t.config.hidden_size) for t in self.text_encoders)
        parts = [LatentPart("prompt", (length, dim), "none")]
        if self.is_xl:
            parts.append(LatentPart("pooled", (int(self.text_encoders[1].config.projection_dim),), "none"))
            prompt = joint_space("prompt", parts, model=self.name, description="text-encoder output + pooled")
        else:
            prompt = LatentSpace("prompt", (length, dim), "none", model=self.name, description="text-encoder output")
        joint = joint_space(
            "joint",
            [LatentPart("noise", noise.shape), *parts],
            model=self.name,
            description="noise and prompt of one image",
        )
        return [prompt, joint]

    def _prompt_parts(self, prompt: torch.Tensor) -> dict[str, torch.Tensor]:
        if self.is_xl:
            return self.space("prompt").split(prompt)
        return {"prompt": prompt}

    def _sample(self, n: int, space: LatentSpace, rng: torch.Generator, temperature: float) -> torch.Tensor:
        if space.name == "joint":  # the temperature scales the noise part; the prompt is the current one
            noise = torch.randn((n, *self.space("noise").shape), generator=rng) * temperature
            return self.compose(noise=noise.to(self.device)).cpu()
        return super()._sample(n, space, rng, temperature)

    def _move(self, device: torch.device) -> None:
        for module in (self.unet, self.vae, *self.text_encoders):
            if module is not None:
                module.to(device)
        if self._vae_gen is not None:
            self._vae_gen._device = device
        self._cache.clear()

    @property
    def dtype(self) -> torch.dtype:
        """Floating dtype of the UNet's weights (``torch.float16`` for half-precision pipelines)."""
        return self._dtype

    # -- text -----------------------------------------------------------------------
    def _embed(self, texts: list[str]) -> torch.Tensor:
        cond = self._encode_texts(texts)
        return self._cond_to_latents(cond)

    def _encode_texts(self, texts: list[str]) -> _Cond:
        """Token (and pooled) embeddings of ``texts``, each text encoded once and cached."""
        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            fresh = self._run_text_encoders(missing)
            for i, text in enumerate(missing):
                self._cache[text] = fresh.rows(slice(i, i + 1))
            self.texts_encoded += len(missing)
        for text in texts:
            self._cache.move_to_end(text)
        while len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        rows = [self._cache[t] for t in texts]
        pooled = None if rows[0].pooled is None else torch.cat([r.pooled for r in rows])  # type: ignore[misc]
        return _Cond(torch.cat([r.tokens for r in rows]), pooled)

    def _run_text_encoders(self, texts: list[str]) -> _Cond:
        """What the pipelines' ``encode_prompt`` computes (no LoRA scale, no clip skip)."""
        with torch.no_grad():
            if not self.is_xl:
                ids = self._token_ids(self.tokenizers[0], texts)
                tokens = self.text_encoders[0](ids.to(self.device))[0]
                return _Cond(tokens.float())
            hidden, pooled = [], None
            for tokenizer, encoder in zip(self.tokenizers, self.text_encoders):
                out = encoder(self._token_ids(tokenizer, texts).to(self.device), output_hidden_states=True)
                if pooled is None and out[0].ndim == 2:
                    pooled = out[0]
                hidden.append(out.hidden_states[-2])
            assert pooled is not None, "the second SDXL text encoder returns the pooled embedding"
            return _Cond(torch.cat(hidden, dim=-1).float(), pooled.float())

    @staticmethod
    def _token_ids(tokenizer: Any, texts: list[str]) -> torch.Tensor:
        return tokenizer(
            texts, padding="max_length", max_length=tokenizer.model_max_length, truncation=True, return_tensors="pt"
        ).input_ids

    def _negative(self, negative_prompt: Any, n: int) -> _Cond:
        """Negative conditioning for ``n`` latents: a text, prompt latents, or ``None`` (the default)."""
        if negative_prompt is None:
            negative_prompt = self.negative_prompt
        if negative_prompt is None and self.force_zeros_for_empty_prompt:
            shape = self.space("prompt").shape
            zeros = self._latents_to_cond(torch.zeros((1, *shape), device=self.device))
            return zeros.expand(n)
        if negative_prompt is None or isinstance(negative_prompt, str):
            return self._encode_texts([negative_prompt or ""]).expand(n)
        return self._prompt_cond(negative_prompt, n, what="negative_prompt")

    def _cond_to_latents(self, cond: _Cond) -> torch.Tensor:
        if cond.pooled is None:
            return cond.tokens.clone()
        return self.space("prompt").join({"prompt": cond.tokens, "pooled": cond.pooled})

    def _latents_to_cond(self, latents: torch.Tensor) -> _Cond:
        if not self.is_xl:
            return _Cond(latents)
        parts = self.space("prompt").split(latents)
        return _Cond(parts["prompt"], parts["pooled"])

    def _prompt_cond(self, prompt: Any, n: int, *, what: str = "prompt") -> _Cond:
        """Conditioning for ``n`` latents from a text, a list of texts (1 or ``n``) or prompt latents."""
        if prompt is None:
            prompt = self.prompt
            if prompt is None:
                raise InvalidValueError(
                    "no prompt given and gen.prompt is None",
                    expected="a text or prompt latents",
                    got="None",
                    fix="pass prompt='...' or set gen.prompt = '...'",
                )
        if isinstance(prompt, str) or (isinstance(prompt, Sequence) and not isinstance(prompt, torch.Tensor)):
            texts = as_prompt_list(prompt) if what == "prompt" else [str(t) for t in prompt]
            cond = self._encode_texts(texts)
        else:
            latents, _ = as_batched_latents(prompt, self.space("prompt"), name=f"{what} latents")
            cond = self._latents_to_cond(latents.to(self.device, torch.float32))
        count = cond.tokens.shape[0]
        if count == 1:
            return cond.expand(n)
        if count != n:
            raise ShapeError(
                f"{count} {what}s for {n} latents",
                expected=f"one {what} for all, or {n}",
                got=count,
                fix=f"pass one {what} per latent (a list of {n}) or a single one",
            )
        return cond

    # -- decode ---------------------------------------------------------------------
    def decode(
        self,
        latents: Any,
        space: str | LatentSpace | None = None,
        *,
        prompt: Any = None,
        negative_prompt: Any = None,
        noise: Any = None,
        seed: int | None = None,
        steps: int | None = None,
        guidance: float | None = None,
        h_edit: Sequence[HEdit] | None = None,
        h_steps: slice | Sequence[int] | None = None,
        progress: Callable[[int, int], None] | None = None,
        cancel: Callable[[], bool] | None = None,
    ) -> torch.Tensor:
        """Run the sampler from latents and return images.

        Args:
            latents: in ``space``: ``noise`` ``(N, *noise.shape)``, ``prompt`` latents, or ``joint``
                latents ``(N, D)`` (which carry both; no ``prompt``/``noise`` then).
            space: ``"noise"`` (default), ``"prompt"`` or ``"joint"``.
            prompt: for noise latents: a text, a list of texts (one per latent, or one for all) or
                prompt latents ``(N, *prompt.shape)``; ``None`` uses ``gen.prompt``.
            negative_prompt: the text (or prompt latents) that guidance steers away from;
                ``None`` uses ``gen.negative_prompt``.
            noise: for prompt latents: the noise ``(1 or N, *noise.shape)``; default drawn from ``seed``.
            seed: seed of that noise (default ``gen.seed``).
            steps: sampler steps (default ``gen.steps``).
            guidance: classifier-free guidance scale (default ``gen.guidance``; ``<= 1``: none).
            h_edit: h-space edits ``[(direction, strength), ...]``: each direction ``(C, h, w)`` (the
                UNet mid-block's output shape, see :meth:`h_shape`) is added, times its strength, to
                the output of ``unet.mid_block`` (for every row, guided and unguided alike) during the
                steps ``h_steps``. A zero direction gives exactly the plain image.
            h_steps: the step indices (``0`` is the noisiest) where ``h_edit`` acts: a slice or a list;
                default all steps.
            progress: called as ``progress(done, total)`` after each denoising step.
            cancel: called before each denoising step; when it returns ``True`` the render stops with
                :class:`~latentlab.errors.RenderCancelledError` (live widgets drop stale renders this way).

        Returns:
            ``(N, 3, H, W)`` (or ``(3, H, W)`` for one latent) in ``[0, 1]``.

        Example:
            >>> import latentlab as ll                                    # doctest: +SKIP
            >>> gen = ll.from_diffusers("stabilityai/sd-turbo")           # doctest: +SKIP
            >>> gen.decode(gen.sample(2, seed=0), prompt=["a red fox", "a blue bird"]).shape  # doctest: +SKIP
            torch.Size([2, 3, 512, 512])
        """
        options = _Options(prompt, negative_prompt, noise, seed, steps, guidance, h_edit, h_steps, progress, cancel)
        return self._run_decoder(functools.partial(self._decode_with, options=options), latents, space)

    def preview(self, latents: Any, space: str | LatentSpace | None = None, **options: Any) -> torch.Tensor:
        """:meth:`decode` with ``gen.preview_steps`` sampler steps: cheaper, for dragging sliders in widgets."""
        options.setdefault("steps", self.preview_steps)
        return self.decode(latents, space, **options)

    def _decode(self, latents: torch.Tensor, space: LatentSpace) -> torch.Tensor:
        return self._decode_with(latents, space, options=_Options())

    def _decode_with(self, latents: torch.Tensor, space: LatentSpace, *, options: _Options) -> torch.Tensor:
        noise, cond = self._noise_and_cond(latents, space, options)
        n = noise.shape[0]
        neg = self._negative(options.negative_prompt, n) if self.text_encoders else None
        steps = self._steps(options.steps)
        guidance = self.guidance if options.guidance is None else float(options.guidance)
        out = []
        total = math.ceil(n / self.batch_size) * steps
        for start in range(0, n, self.batch_size):
            sl = slice(start, start + self.batch_size)
            tracker = _Progress(options.progress, total, offset=start // self.batch_size * steps)
            x = self._sample_loop(
                noise[sl],
                None if cond is None else cond.rows(sl),
                None if neg is None else neg.rows(sl),
                steps,
                guidance,
                options,
                tracker,
            )
            out.append(self._to_images(x))
        return torch.cat(out)

    def _noise_and_cond(
        self, latents: torch.Tensor, space: LatentSpace, options: _Options
    ) -> tuple[torch.Tensor, _Cond | None]:
        n = latents.shape[0]
        if space.name == "noise":
            return latents, (self._prompt_cond(options.prompt, n) if self.text_encoders else None)
        if space.name == "prompt":
            noise = self._fixed_noise(options.noise, options.seed, n)
            return noise, self._latents_to_cond(latents)
        if options.prompt is not None or options.noise is not None:
            raise InvalidValueError(
                "joint latents already hold the noise and the prompt",
                expected="no prompt= / noise= with space='joint'",
                got="prompt=" if options.prompt is not None else "noise=",
                fix="decode noise latents with prompt=..., or compose new joint latents",
            )
        parts = space.split(latents)
        prompt = (
            self.space("prompt").join({k: v for k, v in parts.items() if k != "noise"})
            if self.is_xl
            else parts["prompt"]
        )
        return parts["noise"].contiguous(), self._latents_to_cond(prompt)

    def _fixed_noise(self, noise: Any, seed: int | None, n: int) -> torch.Tensor:
        if noise is None:
            z = self.sample(1, seed=self.seed if seed is None else seed, space="noise")
        else:
            z, _ = as_batched_latents(noise, self.space("noise"), name="noise")
            z = z.to(self.device, torch.float32)
        if z.shape[0] not in (1, n):
            raise ShapeError(
                f"{z.shape[0]} noises for {n} prompt latents",
                expected=f"1 or {n}",
                got=z.shape[0],
                fix="pass one noise for all prompts, or one per prompt",
            )
        return z.expand(n, *z.shape[1:])

    def _steps(self, steps: int | None) -> int:
        value = self.steps if steps is None else steps
        if int(value) < 1:
            raise InvalidValueError(
                "steps must be at least 1",
                expected="steps >= 1",
                got=value,
                fix="use 25-50 for DDIM, 1-4 for turbo models",
            )
        return int(value)

    # -- the sampler loop -------------------------------------------------------------
    def make_scheduler(self, steps: int, *, inverse: bool = False) -> Any:
        """A fresh scheduler set to ``steps`` steps (DDIM by default; ``inverse=True``: ``DDIMInverseScheduler``)."""
        diffusers = require("diffusers", purpose="ll.from_diffusers")
        cfg = dict(self.scheduler_config)
        with quiet_diffusers():
            if inverse:
                if cfg.get("timestep_spacing") not in ("leading", "trailing"):
                    cfg["timestep_spacing"] = "leading"
                sched = diffusers.DDIMInverseScheduler.from_config(cfg)
            elif self._scheduler_choice == "ddim":
                sched = diffusers.DDIMScheduler.from_config(cfg)
            elif self._scheduler_choice == "pipeline":
                sched = getattr(diffusers, cfg["_class_name"]).from_config(cfg)
            else:
                sched = type(self._scheduler_choice).from_config(self._scheduler_choice.config)
        sched.set_timesteps(steps, device=self.device)
        return sched

    def _sample_loop(
        self,
        noise: torch.Tensor,
        cond: _Cond | None,
        neg: _Cond | None,
        steps: int,
        guidance: float,
        options: _Options,
        tracker: _Progress,
    ) -> torch.Tensor:
        sched = self.make_scheduler(steps)
        step_kwargs = _step_kwargs(sched, self.device)
        x = noise.to(self._dtype) * sched.init_noise_sigma
        guided = cond is not None and guidance > 1 and self.unet.config.time_cond_proj_dim is None
        unet_kwargs = self._unet_kwargs(cond, neg, guided, guidance, x.shape[0])
        active = _active_steps(options.h_steps, len(sched.timesteps))
        with self._h_hook(options.h_edit, active) as hook:
            for i, t in enumerate(sched.timesteps):
                if options.cancel is not None and options.cancel():
                    raise RenderCancelledError(f"render cancelled before step {i + 1} of {len(sched.timesteps)}")
                hook.step = i
                eps = self._predict(sched.scale_model_input(torch.cat([x, x]) if guided else x, t), t, unet_kwargs)
                if guided:
                    uncond, text = eps.chunk(2)
                    eps = uncond + guidance * (text - uncond)
                x = sched.step(eps, t, x, **step_kwargs, return_dict=False)[0]
                tracker.update(i + 1)
        return x

    def _predict(self, x: torch.Tensor, t: torch.Tensor, unet_kwargs: dict[str, Any]) -> torch.Tensor:
        if not self.text_encoders:
            return self.unet(x, t, return_dict=False)[0]
        return self.unet(x, t, return_dict=False, **unet_kwargs)[0]

    def _unet_kwargs(
        self, cond: _Cond | None, neg: _Cond | None, guided: bool, guidance: float, n: int
    ) -> dict[str, Any]:
        if cond is None:
            return {}
        both = (
            _Cond(
                torch.cat([neg.tokens, cond.tokens]),  # type: ignore[union-attr]
                None if cond.pooled is None else torch.cat([neg.pooled, cond.pooled]),  # type: ignore[union-attr, list-item]
            )
            if guided
            else cond
        )
        kwargs: dict[str, Any] = {"encoder_hidden_states": both.tokens.to(self._dtype)}
        if self.is_xl:
            h, w = self.image_size
            time_ids = torch.tensor([[h, w, 0, 0, h, w]], dtype=self._dtype, device=self.device)
            kwargs["added_cond_kwargs"] = {
                "text_embeds": both.pooled.to(self._dtype),  # type: ignore[union-attr]
                "time_ids": time_ids.repeat(both.tokens.shape[0], 1),
            }
        proj = self.unet.config.time_cond_proj_dim
        if proj is not None:
            w_embed = _guidance_embedding(torch.full((n,), guidance - 1), int(proj))
            kwargs["timestep_cond"] = w_embed.to(self.device, self._dtype)
        return kwargs

    def _to_images(self, x: torch.Tensor) -> torch.Tensor:
        if self._vae_gen is None:
            return (x.float() / 2 + 0.5).clamp(0, 1)
        return self._vae_gen._decode(x.float(), self._vae_gen.default_space)

    # -- h-space ----------------------------------------------------------------------
    def h_shape(self) -> tuple[int, int, int]:
        """Shape ``(C, h, w)`` of one image's UNet mid-block output (the h-space of Kwon et al. 2022)."""
        mid = self.unet.mid_block
        seen: list[tuple[int, ...]] = []
        handle = mid.register_forward_hook(lambda _m, _i, out: seen.append(tuple(out.shape)))
        try:
            with torch.no_grad():
                noise = torch.zeros((1, *self.space("noise").shape), device=self.device)
                cond = self._negative(None, 1) if self.text_encoders else None
                sched = self.make_scheduler(1)
                kwargs = self._unet_kwargs(cond, None, False, 1.0, 1)
                self._predict(noise.to(self._dtype), sched.timesteps[0], kwargs)
        finally:
            handle.remove()
        return seen[0][1], seen[0][2], seen[0][3]

    def h_activations(
        self, noise: Any, *, prompt: Any = None, step: int = 0, steps: int | None = None, guidance: float | None = None
    ) -> torch.Tensor:
        """UNet mid-block outputs ``(N, C, h, w)`` at denoising step ``step`` (0: the noisiest) for ``noise``.

        With guidance on, the rows of the text-conditioned half. This is the h-space where
        ``decode(..., h_edit=...)`` acts; :func:`latentlab.directions.h_space` runs PCA on it.
        """
        z, _ = as_batched_latents(noise, self.space("noise"), name="noise")
        z = z.to(self.device, torch.float32)
        n, total = z.shape[0], self._steps(steps)
        if not 0 <= int(step) < total:
            raise InvalidValueError(
                "step is outside the sampler's steps",
                expected=f"0 <= step < {total}",
                got=step,
                fix="pass step=0 (the noisiest) or a smaller step",
            )
        cond = self._prompt_cond(prompt, n) if self.text_encoders else None
        neg = self._negative(None, n) if self.text_encoders else None
        guidance = self.guidance if guidance is None else float(guidance)
        out = []
        for start in range(0, n, self.batch_size):
            sl = slice(start, start + self.batch_size)
            out.append(
                self._h_batch(
                    z[sl],
                    None if cond is None else cond.rows(sl),
                    None if neg is None else neg.rows(sl),
                    total,
                    guidance,
                    int(step),
                )
            )
        return torch.cat(out)

    def _h_batch(
        self, z: torch.Tensor, cond: _Cond | None, neg: _Cond | None, steps: int, guidance: float, step: int
    ) -> torch.Tensor:
        seen: list[torch.Tensor] = []
        handle = self.unet.mid_block.register_forward_hook(lambda _m, _i, o: seen.append(o.detach().float()))
        try:
            with torch.no_grad():
                self._sample_loop(
                    z, cond, neg, steps, guidance, _Options(cancel=lambda: len(seen) > step), _Progress(None, 1, 0)
                )
        except RenderCancelledError:
            pass  # stopped right after the step we wanted
        finally:
            handle.remove()
        h = seen[step]
        return h[h.shape[0] // 2 :] if h.shape[0] == 2 * z.shape[0] else h

    @contextlib.contextmanager
    def _h_hook(self, edits: Sequence[HEdit] | None, active: set[int]) -> Iterator[_HookState]:
        state = _HookState()
        if not edits:
            yield state
            return
        shift = self._h_shift(edits)

        def add(_module: nn.Module, _inputs: Any, output: torch.Tensor) -> torch.Tensor:
            return output + shift.to(output.dtype) if state.step in active else output

        handle = self.unet.mid_block.register_forward_hook(add)
        try:
            yield state
        finally:
            handle.remove()

    def _h_shift(self, edits: Sequence[HEdit]) -> torch.Tensor:
        shape = self.h_shape()
        total = torch.zeros(shape, device=self.device)
        for direction, strength in edits:
            vector = getattr(direction, "vector", direction)
            v = torch.as_tensor(vector, dtype=torch.float32).to(self.device)
            if v.numel() != math.prod(shape):
                raise ShapeError(
                    "h-space direction has the wrong size",
                    expected=f"{shape} (gen.h_shape())",
                    got=tuple(v.shape),
                    fix="find h-space directions with ll.directions.h_space(gen)",
                )
            total = total + float(strength) * v.reshape(shape)
        return total

    # -- encode (inversion) ------------------------------------------------------------
    def encode(
        self,
        images: Any,
        space: str | LatentSpace | None = None,
        *,
        prompt: Any = None,
        steps: int | None = None,
        guidance: float = 1.0,
    ) -> torch.Tensor:
        """Invert images to the noise that decodes back to them: VAE encoding, then inverse DDIM.

        For unconditional pixel pipelines the inverse DDIM runs on the pixels. Re-decoding with the
        same ``prompt`` and ``steps`` (and ``guidance=1``, i.e. ``gen.decode(z, guidance=1)``)
        comes closest to the input; more steps invert more exactly.

        Args:
            images: ``(N, 3, H, W)`` or ``(3, H, W)`` in ``[0, 1]`` at ``gen.image_size``.
            space: ``"noise"`` (default) or ``"joint"`` (the noise with the prompt).
            prompt: the text (or prompt latents) the images are described by; default ``gen.prompt``.
            steps: inverse DDIM steps (default ``gen.steps``).
            guidance: guidance during inversion (1: none, the well-posed default).

        Returns:
            ``(N, *noise.shape)`` noise (or ``(N, D)`` joint latents).
        """
        s = self.space(space)
        if s.name not in ("noise", "joint"):
            raise InvalidValueError(
                "encode() inverts images to noise",
                expected="space='noise' or 'joint'",
                got=repr(s.name),
                fix="use space='noise' (default) or 'joint'",
            )
        self._inversion = (prompt, steps, guidance)
        try:
            return super().encode(images, s)
        finally:
            del self._inversion

    def _encode(self, images: torch.Tensor, space: LatentSpace) -> torch.Tensor:
        prompt, steps, guidance = getattr(self, "_inversion", (None, None, 1.0))
        n = images.shape[0]
        x = images * 2 - 1 if self._vae_gen is None else self._vae_gen._encode(images, self._vae_gen.default_space)
        cond = self._prompt_cond(prompt, n) if self.text_encoders else None
        neg = self._negative(None, n) if self.text_encoders else None
        noise = self._invert(x, cond, neg, self._steps(steps), float(guidance))
        if space.name == "joint":
            assert cond is not None
            return self.space("joint").join({"noise": noise, **self._prompt_parts(self._cond_to_latents(cond))})
        return noise

    def decode_differentiable(self, latents: torch.Tensor, space: str | LatentSpace | None = None) -> torch.Tensor:
        """Not offered: backpropagating through every sampler step costs more memory than a GPU has.

        ``ll.encode(gen, images)`` therefore inverts with :meth:`encode` (inverse DDIM).
        """
        raise CapabilityError(
            f"{self.name!r} does not decode differentiably (gradients through the whole sampler loop)",
            expected="method='encoder' (inverse DDIM) for diffusion pipelines",
            got="a gradient-based method",
            fix="use ll.encode(gen, images) or gen.encode(images, prompt=...)",
        )

    # -- the sampler on its own latents ---------------------------------------------
    def denoise(
        self,
        noise: Any,
        *,
        prompt: Any = None,
        negative_prompt: Any = None,
        steps: int | None = None,
        guidance: float | None = None,
    ) -> torch.Tensor:
        """Run the sampler only: noise ``(N, *noise.shape)`` -> its final latents, not decoded.

        For latent pipelines these are VAE latents as the UNet sees them (scaled); for pixel
        pipelines, pixels in ``[-1, 1]``. :meth:`invert` goes back.

        Returns:
            ``(N, *noise.shape)`` float32.
        """
        z, _ = as_batched_latents(noise, self.space("noise"), name="noise")
        z = z.to(self.device, torch.float32)
        n = z.shape[0]
        cond = self._prompt_cond(prompt, n) if self.text_encoders else None
        neg = self._negative(negative_prompt, n) if self.text_encoders else None
        guidance = self.guidance if guidance is None else float(guidance)
        steps_ = self._steps(steps)
        out = []
        with torch.no_grad():
            for start in range(0, n, self.batch_size):
                sl = slice(start, start + self.batch_size)
                out.append(
                    self._sample_loop(
                        z[sl],
                        None if cond is None else cond.rows(sl),
                        None if neg is None else neg.rows(sl),
                        steps_,
                        guidance,
                        _Options(),
                        _Progress(None, 1, 0),
                    ).float()
                )
        return torch.cat(out)

    def invert(
        self, latents: Any, *, prompt: Any = None, steps: int | None = None, guidance: float = 1.0
    ) -> torch.Tensor:
        """Inverse DDIM (``DDIMInverseScheduler``): the sampler's final latents -> the noise that gives them.

        The inverse of :meth:`denoise` for the same prompt and steps, up to the discretisation
        error of DDIM (which shrinks as ``steps`` grows).

        Returns:
            ``(N, *noise.shape)`` float32 noise.
        """
        x, _ = as_batched_latents(latents, self.space("noise"), name="latents")
        x = x.to(self.device, torch.float32)
        n = x.shape[0]
        cond = self._prompt_cond(prompt, n) if self.text_encoders else None
        neg = self._negative(None, n) if self.text_encoders else None
        with torch.no_grad():
            return self._invert(x, cond, neg, self._steps(steps), float(guidance))

    def _invert(
        self, x: torch.Tensor, cond: _Cond | None, neg: _Cond | None, steps: int, guidance: float
    ) -> torch.Tensor:
        out = []
        for start in range(0, x.shape[0], self.batch_size):
            sl = slice(start, start + self.batch_size)
            sched = self.make_scheduler(steps, inverse=True)
            c = None if cond is None else cond.rows(sl)
            guided = c is not None and guidance > 1
            kwargs = self._unet_kwargs(c, None if neg is None else neg.rows(sl), guided, guidance, x[sl].shape[0])
            z = x[sl].to(self._dtype)
            for t in sched.timesteps:
                eps = self._predict(sched.scale_model_input(torch.cat([z, z]) if guided else z, t), t, kwargs)
                if guided:
                    uncond, text = eps.chunk(2)
                    eps = uncond + guidance * (text - uncond)
                z = sched.step(eps, t, z, return_dict=False)[0]
            out.append(z.float())
        return torch.cat(out)


@dataclass(frozen=True)
class _Options:
    prompt: Any = None
    negative_prompt: Any = None
    noise: Any = None
    seed: int | None = None
    steps: int | None = None
    guidance: float | None = None
    h_edit: Sequence[HEdit] | None = None
    h_steps: slice | Sequence[int] | None = None
    progress: Callable[[int, int], None] | None = None
    cancel: Callable[[], bool] | None = None


class _HookState:
    step = -1


class _Progress:
    def __init__(self, callback: Callable[[int, int], None] | None, total: int, offset: int) -> None:
        self.callback, self.total, self.offset = callback, total, offset

    def update(self, done: int) -> None:
        if self.callback is not None:
            self.callback(self.offset + done, self.total)


def _active_steps(h_steps: slice | Sequence[int] | None, total: int) -> set[int]:
    indices = range(total)
    if h_steps is None:
        return set(indices)
    if isinstance(h_steps, slice):
        return set(indices[h_steps])
    return {int(i) % total for i in h_steps}


def _step_kwargs(scheduler: Any, device: torch.device) -> dict[str, Any]:
    """``eta=0`` for DDIM; a fixed private generator for samplers that draw noise (never the global RNG)."""
    params = inspect.signature(scheduler.step).parameters
    kwargs: dict[str, Any] = {}
    if "eta" in params:
        kwargs["eta"] = 0.0
    if "generator" in params:
        kwargs["generator"] = torch.Generator(device=device).manual_seed(0)
    return kwargs


def _guidance_embedding(w: torch.Tensor, dim: int) -> torch.Tensor:
    """The guidance-scale embedding of guidance-distilled UNets (``time_cond_proj_dim``), as diffusers computes it."""
    w = w * 1000.0
    half = dim // 2
    freq = torch.exp(torch.arange(half, dtype=torch.float32) * -(math.log(10000.0) / (half - 1)))
    emb = w.float()[:, None] * freq[None, :]
    emb = torch.cat([torch.sin(emb), torch.cos(emb)], dim=1)
    return torch.nn.functional.pad(emb, (0, 1)) if dim % 2 == 1 else emb


# ---------------------------------------------------------------------------------- loading
_COMPONENTS = ("unet", "vae", "text_encoder", "text_encoder_2", "tokenizer", "tokenizer_2", "scheduler")


def _unsupported(what: str, got: Any, fix: str) -> UnknownModelError:
    return UnknownModelError(what, expected=f"one of: {_SUPPORTED_TEXT}", got=got, fix=fix)


def _components_of(pipe: Any) -> dict[str, Any]:
    components = getattr(pipe, "components", None)
    if not isinstance(components, dict) or "unet" not in components or "scheduler" not in components:
        raise InvalidValueError(
            "from_diffusers() needs a diffusers pipeline (or its folder / hub id)",
            expected=f"one of: {_SUPPORTED_TEXT}",
            got=type(pipe).__name__,
            fix="pass e.g. StableDiffusionPipeline.from_pretrained(...), a save_pretrained folder, or a hub id; "
            "a lone VAE goes to ll.from_diffusers_vae",
        )
    return {k: components.get(k) for k in _COMPONENTS}


def _check_components(c: dict[str, Any], source: str) -> str:
    """``"text"`` or ``"pixel"``; a clear error for anything else."""
    unet_cls = type(c["unet"]).__name__
    if unet_cls == "UNet2DModel":
        if c["vae"] is not None or c["text_encoder"] is not None:
            raise _unsupported(
                f"{source}: a UNet2DModel with a VAE or text encoder is not supported",
                unet_cls,
                "unconditional pixel pipelines (DDPMPipeline/DDIMPipeline) work",
            )
        return "pixel"
    if unet_cls != "UNet2DConditionModel":
        raise _unsupported(
            f"{source}: its denoiser {unet_cls} is not supported",
            unet_cls,
            "use a Stable Diffusion 1.x/2.x or SDXL checkpoint (or a DDPM/DDIM one)",
        )
    if c["vae"] is None or c["text_encoder"] is None or c["tokenizer"] is None:
        missing = [k for k in ("vae", "text_encoder", "tokenizer") if c[k] is None]
        raise _unsupported(
            f"{source}: the pipeline has no {', '.join(missing)}",
            f"missing {missing}",
            "refiner-only or image-conditioned pipelines are not supported; use a text-to-image one",
        )
    ucfg = c["unet"].config
    latent_channels = int(c["vae"].config.latent_channels)
    if int(ucfg.in_channels) != latent_channels:
        raise _unsupported(
            f"{source}: its UNet takes {ucfg.in_channels} channels, not the VAE's {latent_channels}",
            f"in_channels={ucfg.in_channels}",
            "inpainting / depth pipelines are not supported; load the text-to-image checkpoint of the family",
        )
    two = c["text_encoder_2"] is not None
    xl = getattr(ucfg, "addition_embed_type", None) == "text_time"
    if two != xl or getattr(ucfg, "encoder_hid_dim_type", None) is not None:
        raise _unsupported(
            f"{source}: this text conditioning is not supported",
            f"addition_embed_type={getattr(ucfg, 'addition_embed_type', None)!r}, second text encoder: {two}",
            "use an SD 1.x/2.x or SDXL text-to-image checkpoint",
        )
    return "text"


def _pipeline_defaults(kind: str, xl: bool, name: str) -> tuple[int, float]:
    if "turbo" in name.lower():
        return 1, 0.0
    if kind == "pixel":
        return 50, 1.0
    return 25, 5.0 if xl else 7.5


def _load_pipeline(source: str, dtype: torch.dtype | None, kwargs: dict[str, Any]) -> Any:
    diffusers = require("diffusers", purpose="ll.from_diffusers")
    local = Path(source).expanduser()
    if local.exists():
        _check_pipeline_folder(local)
        source = str(local)
    try:
        with quiet_diffusers():
            index = diffusers.DiffusionPipeline.load_config(source, **_hub_kwargs(kwargs))
    except OSError as exc:
        raise UnknownModelError(
            f"cannot read a diffusers pipeline from {source!r}",
            expected="a local save_pretrained folder (with model_index.json), or a hub id reachable from here",
            got=str(exc).splitlines()[0] if str(exc) else type(exc).__name__,
            fix="check the path / id; offline, download it first (huggingface-cli download ...)",
        ) from exc
    _check_index(index, source)
    load = load_kwargs(dtype, kwargs)
    for optional in ("safety_checker", "feature_extractor", "image_encoder"):
        if optional in index:
            load.setdefault(optional, None)
    if "safety_checker" in index:
        load.setdefault("requires_safety_checker", False)
    with quiet_diffusers():
        return diffusers.DiffusionPipeline.from_pretrained(source, **load)


def _hub_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    keys = ("revision", "cache_dir", "token", "local_files_only", "subfolder")
    return {k: v for k, v in kwargs.items() if k in keys}


def _check_pipeline_folder(folder: Path) -> None:
    if (folder / "model_index.json").is_file():
        return
    config = folder / "config.json"
    cls = json.loads(config.read_text()).get("_class_name") if config.is_file() else None
    fix = (
        "this is a lone AutoencoderKL: open it with ll.from_diffusers_vae(path)"
        if cls == "AutoencoderKL"
        else "point at the folder pipe.save_pretrained(...) wrote (it has model_index.json)"
    )
    raise UnknownModelError(
        f"{folder} is not a diffusers pipeline folder",
        expected="a folder with model_index.json and unet/ scheduler/ ... subfolders",
        got=f"{folder} without model_index.json" + (f" (a {cls} config)" if cls else ""),
        fix=fix,
    )


def _check_index(index: dict[str, Any], source: str) -> None:
    unet = index.get("unet")
    unet_cls = unet[1] if isinstance(unet, (list, tuple)) and len(unet) == 2 else None
    if unet_cls not in ("UNet2DConditionModel", "UNet2DModel"):
        raise _unsupported(
            f"{source}: {index.get('_class_name', 'this pipeline')} is not supported",
            f"{index.get('_class_name')} with denoiser {unet_cls or 'none (no unet)'}",
            "diffusion transformers (SD3, Flux, PixArt) have no UNet; use an SD 1.x/2.x, SDXL or DDPM checkpoint",
        )


def from_diffusers(
    pipeline: Any,
    *,
    steps: int | None = None,
    guidance: float | None = None,
    height: int | None = None,
    width: int | None = None,
    device: str | torch.device | None = None,
    dtype: torch.dtype | None = None,
    scheduler: str | Any = "ddim",
    prompt: str | None = "a photograph",
    negative_prompt: str | None = None,
    seed: int = 0,
    name: str | None = None,
    **from_pretrained_kwargs: Any,
) -> DiffusionGenerator:
    """Wrap a diffusers text-to-image (or unconditional) pipeline as a :class:`DiffusionGenerator`.

    Args:
        pipeline: a pipeline object, a folder written by ``pipe.save_pretrained``, or a hub id such as
            ``"stabilityai/sd-turbo"`` (loaded with ``DiffusionPipeline.from_pretrained``, as you would).
        steps: sampler steps (default 25; 1 for "turbo" checkpoints; 50 for pixel DDPMs).
        guidance: classifier-free guidance (default 7.5, SDXL 5.0, turbo 0 = off).
        height, width: image size (default: the UNet's ``sample_size`` times the VAE's factor).
        device: ``"cuda"``, ``"cpu"`` ...; the pipeline's own device when ``None``.
        dtype: e.g. ``torch.float16`` on GPU (loading), or a cast of a given pipeline.
        scheduler: ``"ddim"`` (deterministic DDIM, eta 0, from the pipeline's scheduler config),
            ``"pipeline"`` (the pipeline's own scheduler class) or a diffusers scheduler object.
        prompt: the default text (``gen.prompt``); negative_prompt: the default negative text.
        seed: default seed of the noise when decoding prompt latents.
        name: model id (default: the path or hub id).
        **from_pretrained_kwargs: passed to ``from_pretrained`` (``revision=``, ``variant="fp16"`` ...).

    Returns:
        A :class:`DiffusionGenerator` (spaces ``noise``, and for text pipelines ``prompt`` and ``joint``).

    Raises:
        UnknownModelError: a folder that is not a pipeline, or a pipeline class it does not support
            (the message lists what it supports).

    Example:
        A tiny unconditional pipeline built on the spot (random weights: noise images):

        >>> from diffusers import DDPMPipeline, DDPMScheduler, UNet2DModel
        >>> unet = UNet2DModel(sample_size=8, block_out_channels=(8, 16), layers_per_block=1, norm_num_groups=4,
        ...                    down_block_types=("DownBlock2D",) * 2, up_block_types=("UpBlock2D",) * 2)
        >>> gen = from_diffusers(DDPMPipeline(unet=unet, scheduler=DDPMScheduler()), steps=2, name="tiny-ddpm")
        >>> gen.space().shape, gen.decode(gen.sample(2, seed=0)).shape
        ((3, 8, 8), torch.Size([2, 3, 8, 8]))

        A real text-to-image model (downloads it once):

        >>> import latentlab as ll                                        # doctest: +SKIP
        >>> gen = ll.from_diffusers("stabilityai/sd-turbo", device="cuda", dtype=torch.float16)  # doctest: +SKIP
        >>> keys = gen.keyframes([("a red fox", 1), ("a blue bird", 7)])  # doctest: +SKIP
        >>> ll.save_morph(gen, keys, "fox_to_bird.mp4", space="joint")   # doctest: +SKIP
    """
    if isinstance(pipeline, (str, os.PathLike)):
        source = str(pipeline)
        pipe = _load_pipeline(source, dtype, from_pretrained_kwargs)
        name = name or source
    else:
        pipe, name = pipeline, name or type(pipeline).__name__
    c = _components_of(pipe)
    kind = _check_components(c, name)
    if dtype is not None and not isinstance(pipeline, (str, os.PathLike)):
        for key in ("unet", "vae", "text_encoder", "text_encoder_2"):
            if c[key] is not None:
                c[key].to(dtype)
    vae = c["vae"]
    if vae is not None and module_device_dtype(vae)[1] == torch.float16 and getattr(vae.config, "force_upcast", False):
        vae.to(torch.float32)  # SDXL's VAE overflows in float16; the pipeline upcasts it the same way
    text_encoders = [t for t in (c["text_encoder"], c["text_encoder_2"]) if t is not None] if kind == "text" else []
    tokenizers = [t for t in (c["tokenizer"], c["tokenizer_2"]) if t is not None] if kind == "text" else []
    default_steps, default_guidance = _pipeline_defaults(kind, len(text_encoders) == 2, name)
    config = getattr(pipe, "config", {})
    gen = DiffusionGenerator(
        unet=c["unet"],
        scheduler_config=c["scheduler"].config,
        vae=vae if kind == "text" else None,
        text_encoders=text_encoders,
        tokenizers=tokenizers,
        name=name,
        steps=default_steps if steps is None else steps,
        guidance=default_guidance if guidance is None else guidance,
        height=height,
        width=width,
        scheduler=scheduler,
        force_zeros_for_empty_prompt=bool(dict(config).get("force_zeros_for_empty_prompt", False)),
        prompt=prompt if kind == "text" else None,
        negative_prompt=negative_prompt,
        seed=seed,
    )
    if scheduler not in ("ddim", "pipeline") and not hasattr(scheduler, "config"):
        raise InvalidValueError(
            "unknown scheduler",
            expected="'ddim', 'pipeline' or a diffusers scheduler object",
            got=repr(scheduler),
            fix="use scheduler='ddim' (deterministic, invertible)",
        )
    if device is not None:
        gen.to(device)
    return gen


register_adapter(
    "diffusers",
    "ll.from_diffusers('path/or/hub-id')",
    "diffusers text-to-image pipelines (SD 1.x/2.x, SDXL, turbo) and DDPM/DDIM",
    "noise (4, H/8, W/8), prompt (L, D), joint",
)
