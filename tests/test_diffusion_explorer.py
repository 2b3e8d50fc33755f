"""Explorer on a slow (diffusion) generator: previews, progress, renders abandoned between steps, prompt box.

No timing is measured: the render abandoned mid-way is provoked from inside the UNet (a forward hook
moves a slider at a chosen denoising step, as a user's drag would arrive), so the test is exact.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

import latentlab as ll
from latentlab.generators.diffusion import DiffusionGenerator

from ._tiny_diffusion import sd_folder

__all__ = ["sd_folder"]  # fixture used here

STEPS = 8


@pytest.fixture()
def gen(sd_folder: Path) -> DiffusionGenerator:
    g = ll.from_diffusers(sd_folder, steps=STEPS, guidance=2.0, prompt="a red fox")
    g.preview_steps = 2
    return g


def test_explorer_on_a_diffusion_pipeline(gen: DiffusionGenerator) -> None:
    ex = ll.Explorer(gen, n_components=2)
    try:
        assert ex.view.slow and ex.view.previews and ex.view.progress.layout.display != "none"
        assert len(ex.sliders) == 2 and ex.prompt_box in ex.children[0].children[1].children
        assert ex.view.progress.value == 1.0  # the first render ran all its steps
        ex.sliders[0].value = 1.0
        assert ex.wait(60)
        assert torch.equal(ex.view.latent, ex.latent) and ex.view.progress.value == 1.0
        before = ex.image.value
        ex.prompt_box.value = "a blue bird"  # what Enter in the box does
        assert ex.wait(60)
        assert gen.prompt == "a blue bird" and ex.image.value != before
    finally:
        ex.close()
    digits = ll.Explorer(ll.load("digits"), n_components=2)
    try:
        assert not digits.view.slow and digits.prompt_box not in digits.children[0].children[1].children
    finally:
        digits.close()


def test_a_render_in_flight_is_abandoned_between_steps_when_a_newer_value_arrives(gen: DiffusionGenerator) -> None:
    ex = ll.Explorer(gen, n_components=2, preview=False)
    calls: list[int] = []
    state = {"armed": False}

    def hook(_module: Any, inputs: Any, _output: Any) -> None:
        calls.append(1)
        if state["armed"] and len(calls) == 2:  # a newer slider value arrives during step 2
            state["armed"] = False
            ex.sliders[1].value = -1.0

    handle = gen.unet.register_forward_hook(hook)
    try:
        calls.clear()
        state["armed"] = True
        ex.sliders[0].value = 1.0  # render A starts in the background
        assert ex.wait(60)
        assert ex.view.cancelled == 1
        assert len(calls) == 2 + STEPS  # A stopped after 2 of its 8 steps; B ran all 8
        assert ex.strengths == [1.0, -1.0] and torch.equal(ex.view.latent, ex.latent)
        shown = ex.image.value
    finally:
        handle.remove()
        ex.close()
    assert shown == ex.view.render(ex.latent)  # the picture is the newest value's full render


def test_preview_renders_fewer_steps_at_half_size(gen: DiffusionGenerator) -> None:
    ex = ll.Explorer(gen, n_components=1)
    try:
        seen: list[tuple[int, int]] = []
        ex.view.render(ex.latent, preview=True, progress=lambda d, t: seen.append((d, t)))
        assert seen[-1] == (2, 2)
        seen.clear()
        ex.view.render(ex.latent, progress=lambda d, t: seen.append((d, t)))
        assert seen[-1] == (STEPS, STEPS)
    finally:
        ex.close()


def test_joint_explorer_prompt_box_replaces_the_prompt_part(gen: DiffusionGenerator) -> None:
    ex = ll.Explorer(gen, space="joint", n_components=2, seed=3)
    try:
        parts = ex.space.split(ex.latent[None])
        assert torch.equal(parts["noise"][0], gen.sample(1, seed=3)[0])
        assert torch.equal(parts["prompt"][0], gen.embed("a red fox")[0])
        ex.set_prompt("an old tree")
        assert ex.wait(60)
        parts = ex.space.split(ex.latent[None])
        assert torch.equal(parts["prompt"][0], gen.embed("an old tree")[0])
        assert torch.equal(parts["noise"][0], ex.space.split(ex.base[None])["noise"][0])
        ex.sliders[0].value = 2.0  # the default sliders move the noise part only
        assert ex.wait(60)
        moved = ex.space.split(ex.latent[None])
        assert torch.equal(moved["prompt"], parts["prompt"]) and not torch.equal(moved["noise"], parts["noise"])
    finally:
        ex.close()
