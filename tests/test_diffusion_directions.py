"""Text directions (mean difference of prompt embeddings) and h-space directions of tiny diffusion pipelines."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import latentlab as ll
from latentlab.errors import CapabilityError, InvalidValueError, ShapeError
from latentlab.generators.diffusion import DiffusionGenerator

from ._tiny_diffusion import sd_folder, sdxl_folder

__all__ = ["sd_folder", "sdxl_folder"]  # fixtures used here


@pytest.fixture(scope="module")
def gen(sd_folder: Path) -> DiffusionGenerator:
    return ll.from_diffusers(sd_folder, steps=3, guidance=2.0)


@pytest.mark.parametrize("kind", ["sd", "sdxl"])
def test_from_prompts_is_the_mean_difference_with_provenance(kind: str, request: pytest.FixtureRequest) -> None:
    g = ll.from_diffusers(request.getfixturevalue(f"{kind}_folder"), steps=2)
    d = ll.directions.from_prompts(g, ["a smiling face", "a laughing face"], ["a face", "a serious face"], name="smile")
    assert d.space == g.space("prompt") and d.name == "smile" and d.provenance["method"] == "from_prompts"
    assert d.provenance["params"]["positive"] == ["a smiling face", "a laughing face"]
    pos, neg = g.embed(["a smiling face", "a laughing face"]), g.embed(["a face", "a serious face"])
    moved = d.apply(neg.mean(0), d.provenance["norm"])
    assert float((moved - pos.mean(0)).abs().max()) < 1e-4  # strength = norm goes all the way
    single = ll.directions.from_prompts(g, "a red fox", "a blue bird")
    noise = g.sample(1, seed=0)
    target = g.decode(noise, prompt="a red fox")
    edited = g.decode(noise, prompt=single.apply(g.embed("a blue bird"), single.provenance["norm"]))
    rand = torch.randn(g.space("prompt").shape, generator=torch.Generator().manual_seed(0))
    control = g.embed("a blue bird") + rand / rand.norm() * single.provenance["norm"]  # a random direction
    assert float((edited - target).abs().max()) < 1e-4
    assert float((g.decode(noise, prompt=control) - target).abs().mean()) > 1e-3


def test_from_prompts_errors(gen: DiffusionGenerator) -> None:
    with pytest.raises(InvalidValueError, match="same mean"):
        ll.directions.from_prompts(gen, ["a face"], ["a face"])
    with pytest.raises(InvalidValueError, match="prompts must be"):
        ll.directions.from_prompts(gen, [], ["a face"])
    with pytest.raises(CapabilityError, match="takes no prompts"):
        ll.directions.from_prompts(ll.load("digits"), ["a seven"], ["a one"])


def test_h_space_directions_and_zero_is_exactly_the_plain_image(gen: DiffusionGenerator) -> None:
    found = ll.directions.h_space(gen, n_samples=12, n_components=3, prompt="a red fox", step=0)
    shape = gen.h_shape()
    assert len(found) == 3 and found[0].space.shape == shape and found[0].space.name == "h"
    ratios = [d.provenance["scores"]["explained_variance_ratio"] for d in found]
    assert ratios == sorted(ratios, reverse=True) and found[0].provenance["method"] == "h_space_pca"
    assert found[0].provenance["params"]["where"] == "output of unet.mid_block"
    z = gen.sample(2, seed=4)
    plain = gen.decode(z, prompt="a red fox")
    d = found[0]
    assert torch.equal(gen.decode(z, prompt="a red fox", h_edit=[(d, 0.0)]), plain)
    assert torch.equal(gen.decode(z, prompt="a red fox", h_edit=[(torch.zeros(shape), 5.0)]), plain)
    assert torch.equal(gen.decode(z, prompt="a red fox", h_edit=[(d, 50.0)], h_steps=[]), plain)  # no step chosen
    edited = gen.decode(z, prompt="a red fox", h_edit=[(d, 50.0)])
    early = gen.decode(z, prompt="a red fox", h_edit=[(d, 50.0)], h_steps=slice(0, 1))
    assert float((edited - plain).abs().mean()) > 1e-3
    assert float((early - plain).abs().mean()) > 1e-4 and not torch.equal(early, edited)
    with pytest.raises(ShapeError, match="h-space direction"):
        gen.decode(z, h_edit=[(torch.ones(3), 1.0)])


def test_h_activations_read_the_chosen_step(gen: DiffusionGenerator) -> None:
    z = gen.sample(3, seed=1)
    first = gen.h_activations(z, prompt="a red fox", step=0)
    last = gen.h_activations(z, prompt="a red fox", step=2)
    assert first.shape == (3, *gen.h_shape()) and not torch.equal(first, last)
    assert float((gen.h_activations(z[:1], prompt="a red fox", step=0) - first[:1]).abs().max()) < 1e-4  # batch-free
    with pytest.raises(InvalidValueError, match="outside"):
        gen.h_activations(z, step=3)


def test_an_sdxl_prompt_direction_moves_only_the_prompt_and_pooled_parts_of_joint_latents(sdxl_folder: Path) -> None:
    g = ll.from_diffusers(sdxl_folder, steps=2)
    d = ll.directions.from_prompts(g, ["a red fox"], ["a blue bird"])
    z = g.keyframes([("a blue bird", 1)])
    joint = g.space("joint")
    moved = joint.split(d.apply(z, d.provenance["norm"], space=joint))
    target = g.space("prompt").split(g.embed("a red fox"))
    assert torch.equal(moved["noise"], joint.split(z)["noise"])
    assert float((moved["prompt"] - target["prompt"]).abs().max()) < 1e-4
    assert float((moved["pooled"] - target["pooled"]).abs().max()) < 1e-4
    assert d.lift(joint).provenance["part"] == "prompt"
