"""Diffusion rows: decode vs the pipeline's own ``__call__``, a 3-prompt morph vs one pipeline call per
frame (prompts re-encoded each time, as stable-diffusion-videos does), inversion seconds per image,
Explorer preview vs full render.

Models: the tiny random-weight SD-style pipeline of ``tests/_tiny_diffusion.py`` (32 px, CPU), so the
figures measure latentlab's overhead and batching around the UNet, not a real model's speed; on a
real SD checkpoint the UNet dominates and per-call overheads matter less.
"""

from __future__ import annotations

import time
from typing import Any

import torch

import latentlab as ll

from ._timing import best_of


def _pipe_and_gen(steps: int) -> tuple[Any, Any]:
    from tests._tiny_diffusion import tiny_sd

    pipe = tiny_sd()
    gen = ll.from_diffusers(pipe, steps=steps, guidance=5.0)
    return pipe, gen


def _per_frame_pipeline(
    pipe: Any, gen: Any, prompts: list[str], seeds: list[int], n_frames: int, steps: int
) -> torch.Tensor:
    """The stable-diffusion-videos loop: per frame, encode the two keyframe prompts again, lerp the
    embeddings, slerp the noises, one pipeline call (batch 1)."""
    noises = [gen.sample(1, seed=s) for s in seeds]
    segments = len(prompts) - 1
    frames = []
    for i in range(n_frames):
        pos = i / (n_frames - 1) * segments
        k = min(int(pos), segments - 1)
        t = pos - k
        a, _ = pipe.encode_prompt(prompts[k], "cpu", 1, False)
        b, _ = pipe.encode_prompt(prompts[k + 1], "cpu", 1, False)
        emb = torch.lerp(a, b, t)
        noise = ll.slerp(noises[k].flatten(1), noises[k + 1].flatten(1), t).view_as(noises[k])  # one great circle
        frames.append(
            pipe(
                prompt_embeds=emb,
                latents=noise,
                num_inference_steps=steps,
                guidance_scale=5.0,
                output_type="pt",
                height=32,
                width=32,
            ).images
        )
    return torch.cat(frames)


def run(quick: bool = False) -> list[dict[str, str]]:
    torch.set_num_threads(1)
    steps = 4 if quick else 10
    pipe, gen = _pipe_and_gen(steps)
    rows: list[dict[str, str]] = []

    noise = gen.sample(4, seed=0)
    emb = gen.embed(["a red fox", "a blue bird", "an old tree", "a red fox"])
    cond = gen._latents_to_cond(emb)
    neg = gen._negative(None, 4)
    t_ll = best_of(lambda: gen.decode(noise, prompt=emb), repeat=3)
    t_pipe = best_of(
        lambda: pipe(
            latents=noise,
            prompt_embeds=cond.tokens,
            negative_prompt_embeds=neg.tokens,
            num_inference_steps=steps,
            guidance_scale=5.0,
            output_type="pt",
            height=32,
            width=32,
        ),
        repeat=3,
    )
    diff = float(
        (
            gen.decode(noise, prompt=emb)
            - pipe(
                latents=noise,
                prompt_embeds=cond.tokens,
                negative_prompt_embeds=neg.tokens,
                num_inference_steps=steps,
                guidance_scale=5.0,
                output_type="pt",
                height=32,
                width=32,
            ).images
        )
        .abs()
        .max()
    )
    rows.append(
        {
            "benchmark": f"decode 4 images, {steps} DDIM steps, CFG (tiny SD, CPU)",
            "latentlab": f"{t_ll:.3f} s",
            "baseline": f"{t_pipe:.3f} s (pipe.__call__, same embeddings)",
            "ratio": f"{t_ll / t_pipe:.2f}x",
            "note": f"goal <= 1.05x; max pixel difference {diff:.1e}",
        }
    )

    n_frames = 20 if quick else 60
    prompts, seeds = ["a red fox", "a blue bird", "an old tree"], [1, 7, 3]
    t0 = time.perf_counter()
    fresh = ll.from_diffusers(pipe, steps=steps, guidance=5.0)
    keys = fresh.keyframes(list(zip(prompts, seeds)))
    lat = ll.animate.frame_latents(fresh, keys, fps=n_frames, seconds=1, curve="piecewise", space="joint")
    ours = torch.cat([fresh.decode(lat[i : i + 16], space="joint") for i in range(0, n_frames, 16)])
    t_morph = time.perf_counter() - t0
    t0 = time.perf_counter()
    theirs = _per_frame_pipeline(pipe, fresh, prompts, seeds, n_frames, steps)
    t_base = time.perf_counter() - t0
    same = float((ours - theirs).abs().max())
    rows.append(
        {
            "benchmark": f"{n_frames}-frame morph through 3 prompts, {steps} steps (tiny SD, CPU)",
            "latentlab": f"{t_morph:.2f} s ({fresh.texts_encoded} texts encoded)",
            "baseline": f"{t_base:.2f} s (per-frame pipe call, {2 * n_frames} prompt encodings)",
            "ratio": f"{t_base / t_morph:.2f}x faster",
            "note": f"goal >= 2x; same frames to {same:.1e}",
        }
    )

    image = gen.decode(gen.sample(2, seed=5), prompt="a red fox")
    for inv_steps in (10, 50):
        t_inv = best_of(lambda s=inv_steps: gen.encode(image, prompt="a red fox", steps=s), repeat=2) / 2
        rows.append(
            {
                "benchmark": f"inversion, {inv_steps} steps (tiny SD, 32 px, CPU)",
                "latentlab": f"{t_inv:.3f} s/image",
                "baseline": "-",
                "ratio": "-",
                "note": "VAE encode + inverse DDIM, batch 2",
            }
        )

    from latentlab.widgets._render import render_bytes

    gen.steps, gen.preview_steps = 20, 5
    z = gen.sample(1, seed=0)[0]
    t_prev = best_of(lambda: render_bytes(gen, z, gen.default_space, size=(256, 256), preview=True), repeat=3)
    t_full = best_of(lambda: render_bytes(gen, z, gen.default_space, size=(256, 256)), repeat=3)
    rows.append(
        {
            "benchmark": "Explorer event: preview vs full render (20 steps, tiny SD, CPU)",
            "latentlab": f"{t_prev * 1e3:.0f} ms (preview, 5 steps, half size)",
            "baseline": f"{t_full * 1e3:.0f} ms (full)",
            "ratio": f"{t_full / t_prev:.2f}x faster",
            "note": "renders in flight are also abandoned between steps when a newer value arrives",
        }
    )
    return rows
