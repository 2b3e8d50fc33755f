"""``ll.from_diffusers`` on tiny real SD-style, SDXL-style and pixel DDPM pipelines (tests/_tiny_diffusion.py).

Random weights: these tests prove mechanics (parity with the pipeline's own ``__call__``,
determinism, batching, caching, errors), not image quality.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import diffusers
import pytest
import torch

import latentlab as ll
from latentlab.errors import CapabilityError, InvalidValueError, ShapeError, UnknownModelError
from latentlab.generators.diffusion import DiffusionGenerator

from ._tiny_diffusion import HEIGHT, MAX_TOKENS, PIXEL_SIZE, PROMPTS, ddpm_folder, sd_folder, sdxl_folder, tiny_sd

__all__ = ["ddpm_folder", "sd_folder", "sdxl_folder"]  # fixtures used here

STEPS = 4


@pytest.fixture(scope="module")
def sd(sd_folder: Path) -> DiffusionGenerator:
    return ll.from_diffusers(sd_folder, steps=STEPS, guidance=3.0)


@pytest.fixture(scope="module")
def sdxl(sdxl_folder: Path) -> DiffusionGenerator:
    return ll.from_diffusers(sdxl_folder, steps=STEPS, guidance=3.0)


@pytest.fixture(scope="module")
def ddpm(ddpm_folder: Path) -> DiffusionGenerator:
    return ll.from_diffusers(ddpm_folder, steps=STEPS)


def _pipeline(folder: Path) -> Any:
    pipe = diffusers.DiffusionPipeline.from_pretrained(folder)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def _reference(
    pipe: Any, gen: DiffusionGenerator, noise: torch.Tensor, prompt: torch.Tensor, negative: Any, guidance: float
) -> torch.Tensor:
    """The pipeline's own ``__call__`` on the same noise and embeddings."""
    cond = gen._latents_to_cond(prompt)
    neg = gen._negative(negative, noise.shape[0])
    kwargs: dict[str, Any] = {"prompt_embeds": cond.tokens, "negative_prompt_embeds": neg.tokens}
    if gen.is_xl:
        kwargs |= {"pooled_prompt_embeds": cond.pooled, "negative_pooled_prompt_embeds": neg.pooled}
    out = pipe(
        latents=noise,
        num_inference_steps=STEPS,
        guidance_scale=guidance,
        height=HEIGHT,
        width=HEIGHT,
        output_type="pt",
        **kwargs,
    )
    return out.images


def test_spaces_and_capabilities_of_each_kind(
    sd: DiffusionGenerator, sdxl: DiffusionGenerator, ddpm: DiffusionGenerator
) -> None:
    assert sd.space().name == "noise" and sd.space().shape == (4, 16, 16) and sd.space().prior == "normal"
    assert sd.space("prompt").shape == (MAX_TOKENS, 32) and sd.image_size == (HEIGHT, HEIGHT)
    joint = sd.space("joint")
    assert [p.name for p in joint.parts] == ["noise", "prompt"] and joint.dim == 4 * 16 * 16 + MAX_TOKENS * 32
    assert [p.name for p in sdxl.space("prompt").parts] == ["prompt", "pooled"]
    assert sdxl.space("prompt").part("prompt").shape == (MAX_TOKENS, 64)
    assert [p.name for p in sdxl.space("joint").parts] == ["noise", "prompt", "pooled"]
    assert sd.can("prompt") and sd.can("encode") and sd.can("preview")
    assert ddpm.space().shape == (3, PIXEL_SIZE, PIXEL_SIZE) and [s.name for s in ddpm.spaces] == ["noise"]
    assert not ddpm.can("prompt") and ddpm.can("encode")
    assert "diffusers" in ll.models().names


@pytest.mark.parametrize("kind", ["sd", "sdxl"])
def test_decode_equals_the_pipelines_own_call(kind: str, request: pytest.FixtureRequest) -> None:
    gen: DiffusionGenerator = request.getfixturevalue(kind)
    pipe = _pipeline(request.getfixturevalue(f"{kind}_folder"))
    noise = gen.sample(2, seed=3)
    prompt = gen.embed(["a red fox", "a blue bird"])  # a batch of mixed prompts
    for negative, guidance in [(None, 3.0), ("blurry", 5.0), (None, 1.0)]:
        ours = gen.decode(noise, prompt=prompt, negative_prompt=negative, guidance=guidance)
        ref = _reference(pipe, gen, noise, prompt, negative, guidance)
        assert ours.shape == ref.shape == (2, 3, HEIGHT, HEIGHT)
        assert float((ours - ref).abs().max()) < 1e-4, (negative, guidance)
        assert float(ours.std()) > 1e-3
    # the control: a different guidance scale is visibly another image
    other = gen.decode(noise, prompt=prompt, guidance=6.0)
    assert float((other - gen.decode(noise, prompt=prompt)).abs().max()) > 1e-3


def test_pixel_ddpm_decode_equals_a_ddim_pipeline(ddpm: DiffusionGenerator, ddpm_folder: Path) -> None:
    pipe = _pipeline(ddpm_folder)
    ddim = diffusers.DDIMPipeline(unet=pipe.unet, scheduler=diffusers.DDIMScheduler.from_config(pipe.scheduler.config))
    ddim.set_progress_bar_config(disable=True)
    ref = ddim(
        batch_size=2, generator=torch.Generator().manual_seed(5), eta=0.0, num_inference_steps=STEPS, output_type="np"
    ).images
    noise = torch.randn((2, 3, PIXEL_SIZE, PIXEL_SIZE), generator=torch.Generator().manual_seed(5))
    ours = ddpm.decode(noise).permute(0, 2, 3, 1).numpy()
    assert abs(ours - ref).max() < 1e-4
    assert ddpm.decode(noise[0]).shape == (3, PIXEL_SIZE, PIXEL_SIZE)


def test_prompts_text_lists_and_latents_agree(sd: DiffusionGenerator) -> None:
    noise = sd.sample(3, seed=0)
    by_text = sd.decode(noise, prompt=list(PROMPTS))
    by_latents = sd.decode(noise, prompt=sd.embed(list(PROMPTS)))
    assert torch.equal(by_text, by_latents)
    one = sd.decode(noise[1], prompt=PROMPTS[1])
    assert float((one - by_text[1]).abs().max()) < 1e-5  # alone or in a mixed batch: the same image
    assert float((by_text[0] - sd.decode(noise[0], prompt=PROMPTS[1])).abs().max()) > 1e-3  # the prompt matters
    broadcast = sd.decode(noise, prompt="a red fox")
    assert float((broadcast[2] - sd.decode(noise[2], prompt="a red fox")).abs().max()) < 1e-5
    sd.prompt = "an old tree"
    try:
        assert torch.equal(sd.decode(noise[:1]), sd.decode(noise[:1], prompt="an old tree"))
    finally:
        sd.prompt = "a photograph"


def test_decoding_is_deterministic_and_leaves_global_rng_alone(sd: DiffusionGenerator) -> None:
    state = torch.get_rng_state()
    z = sd.sample(2, seed=11)
    a = sd.decode(z, prompt="a red fox")
    b = sd.decode(z, prompt="a red fox")
    img = sd.decode(sd.embed("a red fox"), space="prompt", seed=4)
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.equal(a, b)
    assert torch.equal(img, sd.decode(sd.embed("a red fox"), space="prompt", seed=4))
    assert torch.equal(img[0], sd.decode(sd.sample(1, seed=4), prompt="a red fox")[0])
    assert float((img - sd.decode(sd.embed("a red fox"), space="prompt", seed=5)).abs().max()) > 1e-3


def test_a_long_morph_encodes_each_text_once(sd_folder: Path) -> None:
    gen = ll.from_diffusers(sd_folder, steps=1, guidance=2.0)
    rows: list[int] = []
    gen.text_encoders[0].register_forward_hook(lambda _m, inputs, _out: rows.append(int(inputs[0].shape[0])))
    texts = [PROMPTS[i * 3 // 300] for i in range(300)]
    for start in range(0, 300, 30):  # frames decoded in batches, as save_morph does
        gen.decode(gen.sample(30, seed=start), prompt=texts[start : start + 30])
    assert sum(rows) == 4 and gen.texts_encoded == 4  # 3 prompts + the empty negative, not 300


def test_joint_latents_carry_the_whole_image(sd: DiffusionGenerator, sdxl: DiffusionGenerator) -> None:
    for gen in (sd, sdxl):
        keys = gen.keyframes([("a red fox", 1), ("a blue bird", 7)])
        assert keys.shape == (2, gen.space("joint").dim)
        images = gen.decode(keys, space="joint")
        plain = gen.decode(gen.sample(1, seed=7), prompt="a blue bird")[0]
        assert float((images[1] - plain).abs().max()) < 1e-5
        sampled = gen.sample(3, seed=2, space="joint")
        parts = gen.space("joint").split(sampled)
        assert torch.equal(parts["noise"], gen.sample(3, seed=2))
        with pytest.raises(InvalidValueError, match="already hold"):
            gen.decode(keys, space="joint", prompt="a red fox")


def test_preview_uses_fewer_steps(sd: DiffusionGenerator) -> None:
    z = sd.sample(1, seed=0)
    seen: list[tuple[int, int]] = []
    preview = sd.preview(z, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (sd.preview_steps, sd.preview_steps) and sd.preview_steps < sd.steps
    assert torch.equal(preview, sd.decode(z, steps=sd.preview_steps))


def test_dtype_and_device(sd_folder: Path) -> None:
    gen = ll.from_diffusers(tiny_sd(), dtype=torch.float64, device="cpu", steps=2, guidance=2.0)
    assert gen.dtype == torch.float64 and gen.device == torch.device("cpu")
    z = gen.sample(1, seed=0)
    out = gen.decode(z.double(), prompt="a red fox")
    assert out.dtype == torch.float64
    ref = ll.from_diffusers(sd_folder, steps=2, guidance=2.0).decode(z, prompt="a red fox")
    assert float((out.float() - ref).abs().max()) < 1e-4  # float64 and float32 agree: the same model


def test_cancel_stops_between_steps_and_progress_counts_them(sd: DiffusionGenerator) -> None:
    calls: list[int] = []

    def cancel() -> bool:
        calls.append(1)
        return len(calls) > 2

    with pytest.raises(ll.errors.RenderCancelledError, match="before step 3"):
        sd.decode(sd.sample(1, seed=0), cancel=cancel)
    seen: list[tuple[int, int]] = []
    sd.decode(sd.sample(10, seed=0), progress=lambda d, t: seen.append((d, t)))
    assert seen == [(i, 2 * STEPS) for i in range(1, 2 * STEPS + 1)]  # batches of 8 + 2: two passes


def test_bad_inputs_get_clear_errors(
    sd: DiffusionGenerator, sdxl: DiffusionGenerator, ddpm: DiffusionGenerator, tmp_path: Path
) -> None:
    with pytest.raises(ShapeError, match="noise"):
        sd.decode(torch.randn(1, 4, 8, 8))
    with pytest.raises(ShapeError, match="prompt latents"):
        sdxl.decode(sdxl.sample(1, seed=0), prompt=sd.embed("a red fox"))  # from another text encoder
    with pytest.raises(InvalidValueError, match="prompts must be"):
        sd.embed([])
    with pytest.raises(InvalidValueError, match="prompts must be"):
        sd.decode(sd.sample(1, seed=0), prompt=[])
    with pytest.raises(ShapeError, match="2 prompts for 3 latents"):
        sd.decode(sd.sample(3, seed=0), prompt=["a", "b"])
    with pytest.raises(CapabilityError):
        ddpm.embed("a red fox")
    with pytest.raises(InvalidValueError, match="steps"):
        sd.decode(sd.sample(1, seed=0), steps=0)


def test_folders_and_objects_it_cannot_open(tmp_path: Path, sd_folder: Path) -> None:
    empty = tmp_path / "not-a-pipeline"
    empty.mkdir()
    (empty / "notes.txt").write_text("hello")
    with pytest.raises(UnknownModelError, match="not a diffusers pipeline folder") as info:
        ll.from_diffusers(empty)
    assert "model_index.json" in str(info.value)
    with pytest.raises(UnknownModelError, match="from_diffusers_vae"):
        ll.from_diffusers(sd_folder / "vae")
    transformer = tmp_path / "sd3-like"
    transformer.mkdir()
    (transformer / "model_index.json").write_text(
        json.dumps({"_class_name": "StableDiffusion3Pipeline", "transformer": ["diffusers", "SD3Transformer2DModel"]})
    )
    with pytest.raises(UnknownModelError, match="StableDiffusion3Pipeline is not supported") as info:
        ll.from_diffusers(transformer)
    assert "StableDiffusionXLPipeline" in str(info.value) and "DDPMPipeline" in str(info.value)
    with pytest.raises(InvalidValueError, match="needs a diffusers pipeline"):
        ll.from_diffusers(torch.nn.Linear(2, 2))
    pipe = tiny_sd()
    inpaint_unet = diffusers.UNet2DConditionModel(
        block_out_channels=(16, 32),
        layers_per_block=1,
        sample_size=16,
        in_channels=9,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32,
        attention_head_dim=4,
        norm_num_groups=8,
    )
    inpaint = diffusers.StableDiffusionInpaintPipeline(
        unet=inpaint_unet,
        vae=pipe.vae,
        text_encoder=pipe.text_encoder,
        tokenizer=pipe.tokenizer,
        scheduler=pipe.scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    with pytest.raises(UnknownModelError, match="9 channels") as info:
        ll.from_diffusers(inpaint)
    assert "StableDiffusionPipeline" in str(info.value)


def test_the_pipelines_own_scheduler_and_a_turbo_like_config(sd_folder: Path) -> None:
    pipe = _pipeline(sd_folder)
    pipe.scheduler = diffusers.EulerDiscreteScheduler.from_config(pipe.scheduler.config, timestep_spacing="trailing")
    gen = ll.from_diffusers(pipe, scheduler="pipeline", steps=STEPS, guidance=3.0)
    noise = gen.sample(1, seed=2)
    prompt = gen.embed("a red fox")
    ours = gen.decode(noise, prompt=prompt)
    ref = _reference(pipe, gen, noise, prompt, None, 3.0)  # Euler scales the noise by init_noise_sigma
    assert float((ours - ref).abs().max()) < 1e-4
    assert float((ours - gen.decode(noise, prompt=prompt, steps=STEPS - 1)).abs().max()) > 1e-3
    turbo = ll.from_diffusers(pipe, name="my/sd-turbo-copy")  # turbo checkpoints: one step, no guidance
    assert (turbo.steps, turbo.guidance) == (1, 0.0)
    assert turbo.decode(noise, prompt="a red fox").shape == (1, 3, HEIGHT, HEIGHT)
    with pytest.raises(InvalidValueError, match="unknown scheduler"):
        ll.from_diffusers(pipe, scheduler="euler")
