"""Tiny real diffusers pipelines for tests: SD-style, SDXL-style and pixel DDPM, no downloads.

Every component is a real diffusers / transformers class (``UNet2DConditionModel``,
``AutoencoderKL``, ``CLIPTextModel``, ``CLIPTextModelWithProjection``, ``CLIPTokenizer``,
``UNet2DModel``, ``DDIMScheduler`` ...) with random weights, small enough that a 4-step
decode takes well under a second on one core. The CLIP tokenizer, the one piece diffusers'
own tests fetch from the hub, is written here from a 54-token vocabulary (recipe:
``docs/recipes/DIFFUSION_TESTING.md``).

Builders (``tiny_sd``, ``tiny_sdxl``, ``tiny_ddpm``) return pipelines; the session fixtures
(``sd_folder``, ``sdxl_folder``, ``ddpm_folder``) save them once with ``save_pretrained`` so
tests load them by path, as users do. Import the fixtures into a test module with
``from ._tiny_diffusion import sd_folder, ...`` (pytest finds imported fixtures).

Random weights give abstract images: these pipelines prove mechanics (shapes, parity,
determinism, inversion round trips), never quality.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
import torch

__all__ = [
    "tiny_sd",
    "tiny_sdxl",
    "tiny_ddpm",
    "tiny_tokenizer",
    "sd_folder",
    "sdxl_folder",
    "ddpm_folder",
    "HEIGHT",
    "WIDTH",
    "PIXEL_SIZE",
    "MAX_TOKENS",
    "PROMPTS",
]

HEIGHT = WIDTH = 32  #: image side of the latent pipelines (latents 4 x 16 x 16: the VAE halves once)
PIXEL_SIZE = 16  #: image side of the pixel DDPM pipeline
MAX_TOKENS = 16  #: tokenizer model_max_length (the prompt length L)
PROMPTS = ("a red fox", "a blue bird", "an old tree")

_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def tiny_tokenizer(folder: Path | None = None) -> Any:
    """A real ``CLIPTokenizer`` over single letters (ids below 54), built from files written to ``folder``."""
    from transformers import CLIPTokenizer

    folder = Path(folder) if folder is not None else Path(tempfile.mkdtemp(prefix="tiny-clip-"))
    folder.mkdir(parents=True, exist_ok=True)
    vocab = ["<|startoftext|>", "<|endoftext|>", *_LETTERS, *(c + "</w>" for c in _LETTERS)]
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(vocab)}))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    return CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"), model_max_length=MAX_TOKENS)


def _vocab_size() -> int:
    return 2 + 2 * len(_LETTERS)


def _text_config(hidden: int, projection: int | None = None) -> Any:
    from transformers import CLIPTextConfig

    extra: dict[str, Any] = {} if projection is None else {"projection_dim": projection}
    return CLIPTextConfig(
        hidden_size=hidden,
        intermediate_size=37,
        num_attention_heads=4,
        num_hidden_layers=2,
        vocab_size=_vocab_size(),
        max_position_embeddings=MAX_TOKENS,
        bos_token_id=0,
        eos_token_id=1,
        pad_token_id=1,
        **extra,
    )


def _tiny_vae() -> Any:
    from diffusers import AutoencoderKL

    return AutoencoderKL(
        block_out_channels=(8, 16),
        down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2,
        latent_channels=4,
        norm_num_groups=4,
        layers_per_block=1,
        sample_size=HEIGHT,
    )


def _sd_scheduler() -> Any:
    from diffusers import DDIMScheduler

    return DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
    )


def tiny_sd(seed: int = 0) -> Any:
    """A Stable-Diffusion-1.x-style ``StableDiffusionPipeline``: prompt latents ``(16, 32)``, noise ``(4, 16, 16)``."""
    from diffusers import StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextModel

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        unet = UNet2DConditionModel(
            block_out_channels=(16, 32),
            layers_per_block=1,
            sample_size=HEIGHT // 2,
            in_channels=4,
            out_channels=4,
            down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
            up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
            cross_attention_dim=32,
            attention_head_dim=4,
            norm_num_groups=8,
        )
        vae = _tiny_vae()
        text_encoder = CLIPTextModel(_text_config(32))
    pipe = StableDiffusionPipeline(
        unet=unet.eval(),
        vae=vae.eval(),
        text_encoder=text_encoder.eval(),
        tokenizer=tiny_tokenizer(),
        scheduler=_sd_scheduler(),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.set_progress_bar_config(disable=True)
    return pipe


def tiny_sdxl(seed: int = 0) -> Any:
    """An SDXL-style ``StableDiffusionXLPipeline``: two text encoders (hidden 32 + 32 -> ``(16, 64)``),
    pooled ``(32,)``, time ids; noise ``(4, 16, 16)``."""
    from diffusers import StableDiffusionXLPipeline, UNet2DConditionModel
    from transformers import CLIPTextModel, CLIPTextModelWithProjection

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        unet = UNet2DConditionModel(
            block_out_channels=(16, 32),
            layers_per_block=1,
            sample_size=HEIGHT // 2,
            in_channels=4,
            out_channels=4,
            down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
            up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
            attention_head_dim=4,
            use_linear_projection=True,
            addition_embed_type="text_time",
            addition_time_embed_dim=8,
            projection_class_embeddings_input_dim=6 * 8 + 32,
            cross_attention_dim=64,
            norm_num_groups=8,
        )
        vae = _tiny_vae()
        text_encoder = CLIPTextModel(_text_config(32))
        text_encoder_2 = CLIPTextModelWithProjection(_text_config(32, projection=32))
    pipe = StableDiffusionXLPipeline(
        unet=unet.eval(),
        vae=vae.eval(),
        text_encoder=text_encoder.eval(),
        text_encoder_2=text_encoder_2.eval(),
        tokenizer=tiny_tokenizer(),
        tokenizer_2=tiny_tokenizer(),
        scheduler=_sd_scheduler(),
        force_zeros_for_empty_prompt=True,
    )
    pipe.set_progress_bar_config(disable=True)
    return pipe


def tiny_ddpm(seed: int = 0) -> Any:
    """An unconditional pixel-space ``DDPMPipeline`` (``UNet2DModel``, 3 x 16 x 16) with mild linear betas
    (1e-4 .. 2e-3), under which random-weight DDIM inversion is well posed."""
    from diffusers import DDPMPipeline, DDPMScheduler, UNet2DModel

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        unet = UNet2DModel(
            sample_size=PIXEL_SIZE,
            in_channels=3,
            out_channels=3,
            block_out_channels=(16, 32),
            layers_per_block=1,
            down_block_types=("DownBlock2D", "AttnDownBlock2D"),
            up_block_types=("AttnUpBlock2D", "UpBlock2D"),
            norm_num_groups=8,
        )
    scheduler = DDPMScheduler(
        num_train_timesteps=1000, beta_start=1e-4, beta_end=2e-3, beta_schedule="linear", clip_sample=False
    )
    pipe = DDPMPipeline(unet=unet.eval(), scheduler=scheduler)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def _save(pipe: Any, folder: Path) -> Path:
    pipe.save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="session")
def sd_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny SD-style pipeline saved with ``save_pretrained`` (``model_index.json``, unet/, vae/ ...)."""
    return _save(tiny_sd(), tmp_path_factory.mktemp("diffusion") / "tiny-sd")


@pytest.fixture(scope="session")
def sdxl_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny SDXL-style pipeline saved with ``save_pretrained``."""
    return _save(tiny_sdxl(), tmp_path_factory.mktemp("diffusion") / "tiny-sdxl")


@pytest.fixture(scope="session")
def ddpm_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny unconditional pixel ``DDPMPipeline`` saved with ``save_pretrained``."""
    return _save(tiny_ddpm(), tmp_path_factory.mktemp("diffusion") / "tiny-ddpm")
