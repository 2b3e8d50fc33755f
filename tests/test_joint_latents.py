"""Joint latents: a space made of a noise part and a prompt part, and the base Generator hooks."""

from __future__ import annotations

import pytest
import torch

import latentlab as ll
from latentlab.errors import CapabilityError, InvalidValueError, ShapeError, UnknownSpaceError
from latentlab.generators.base import Generator
from latentlab.spaces import LatentPart, LatentSpace, joint_space


class ToyText(Generator):
    """Noise (3,) + prompt (2,): the image is a flat colour set by both (enough to test the plumbing)."""

    name = "toy-text"
    capabilities = frozenset({"prompt"})

    def __init__(self) -> None:
        noise = LatentSpace("noise", (3,), "normal", model=self.name)
        prompt = LatentSpace("prompt", (2,), "none", model=self.name)
        joint = joint_space("joint", [LatentPart("noise", (3,)), LatentPart("prompt", (2,), "none")], model=self.name)
        super().__init__([noise, prompt, joint], (4, 4))
        self.prompt = "a grey square"
        self.embedded: list[str] = []

    def _embed(self, texts: list[str]) -> torch.Tensor:
        self.embedded.extend(texts)
        return torch.tensor([[len(t) / 10.0, t.count("a") / 5.0] for t in texts])

    def _decode(self, latents: torch.Tensor, space: LatentSpace) -> torch.Tensor:
        parts = self.space("joint").split(latents)
        level = torch.sigmoid(parts["noise"].mean(1) + parts["prompt"].sum(1))
        return level.view(-1, 1, 1, 1).expand(-1, 3, 4, 4)


def test_parts_split_and_join_round_trip() -> None:
    s = joint_space("joint", [LatentPart("noise", (2, 3)), LatentPart("prompt", (4,), "none")], model="m")
    z = torch.randn(5, 10)
    parts = s.split(z)
    assert parts["noise"].shape == (5, 2, 3) and parts["prompt"].shape == (5, 4)
    assert torch.equal(s.join(parts), z)
    assert torch.equal(s.join(s.split(z[0])), z[:1])
    assert s.part("prompt").geometry == "linear" and s.part("noise").geometry == "spherical"


def test_join_repeats_a_single_part_and_refuses_mismatches() -> None:
    s = joint_space("joint", [LatentPart("noise", (2,)), LatentPart("prompt", (3,), "none")])
    out = s.join({"noise": torch.randn(4, 2), "prompt": torch.tensor([1.0, 2.0, 3.0])})
    assert out.shape == (4, 5) and torch.equal(out[:, 2:], torch.tensor([[1.0, 2.0, 3.0]]).expand(4, 3))
    with pytest.raises(ShapeError, match="batch sizes"):
        s.join({"noise": torch.randn(4, 2), "prompt": torch.randn(3, 3)})
    with pytest.raises(InvalidValueError, match="do not match"):
        s.join({"noise": torch.randn(4, 2)})
    with pytest.raises(ShapeError, match="wrong shape"):
        s.join({"noise": torch.randn(4, 3), "prompt": torch.randn(4, 3)})
    with pytest.raises(ShapeError, match="does not fit the space"):
        s.split(torch.randn(4, 6))
    with pytest.raises(UnknownSpaceError, match="no part"):
        s.part("pooled")


def test_space_with_parts_checks_its_shape_and_names() -> None:
    with pytest.raises(ShapeError, match="does not hold"):
        LatentSpace("joint", (4,), "none", parts=(LatentPart("noise", (2,)), LatentPart("prompt", (3,), "none")))
    with pytest.raises(InvalidValueError, match="same name"):
        joint_space("joint", [LatentPart("a", (2,)), LatentPart("a", (3,))])
    with pytest.raises(InvalidValueError, match="not made of parts"):
        LatentSpace("z", (3,)).split(torch.zeros(1, 3))


def test_compose_and_keyframes_embed_each_text_once_per_call() -> None:
    gen = ToyText()
    keys = gen.keyframes([("a red fox", 1), ("a blue bird", 7)])
    assert keys.shape == (2, 5)
    parts = gen.space("joint").split(keys)
    assert torch.equal(parts["noise"][0], gen.sample(1, seed=1, space="noise")[0])
    assert torch.equal(parts["prompt"][1], gen.embed("a blue bird")[0])
    both = gen.compose(noise=gen.sample(3, seed=0, space="noise"))  # the current gen.prompt for all three
    assert both.shape == (3, 5) and torch.equal(gen.space("joint").split(both)["prompt"][2], gen.embed(gen.prompt)[0])
    images = gen.decode(keys, space="joint")
    assert images.shape == (2, 3, 4, 4)


def test_bad_prompts_and_generators_without_prompts_get_clear_errors() -> None:
    gen = ToyText()
    for bad in ["", [], ["ok", ""], 3]:
        with pytest.raises(InvalidValueError, match="prompts must be"):
            gen.embed(bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="at least one"):
        gen.keyframes([])
    with pytest.raises(ShapeError):
        gen.compose(prompt=torch.zeros(1, 7))
    digits = ll.load("digits")
    assert not digits.can("prompt")
    with pytest.raises(CapabilityError, match="text-conditioned"):
        digits.embed("a seven")


def test_interpolation_treats_each_part_with_its_own_curve() -> None:
    gen = ToyText()
    joint = gen.space("joint")
    a, b = gen.keyframes([("a red fox", 1), ("a blue bird", 7)])
    path = ll.interpolate(a, b, 5, space=joint)
    assert path.shape == (5, 5)
    assert torch.equal(path[0], a) and torch.equal(path[-1], b)
    parts, pa, pb = joint.split(path), joint.split(a), joint.split(b)
    t = torch.linspace(0, 1, 5, dtype=torch.float64)
    assert torch.allclose(parts["noise"], ll.slerp(pa["noise"], pb["noise"], t), atol=1e-6)
    assert torch.allclose(parts["prompt"], ll.lerp(pa["prompt"], pb["prompt"], t), atol=1e-6)
    # the negative control: one angle across the whole flat vector is not what a joint space gets
    flat = ll.slerp(a, b, t)
    assert not torch.allclose(flat, path, atol=1e-3)
    # slerp given the space: one angle per part
    per_part = ll.slerp(a, b, t, space=joint)
    assert torch.allclose(joint.split(per_part)["prompt"], ll.slerp(pa["prompt"], pb["prompt"], t), atol=1e-6)
    assert torch.allclose(joint.split(per_part)["noise"], parts["noise"], atol=1e-6)


def test_latent_path_follows_the_parts_geometry() -> None:
    gen = ToyText()
    joint = gen.space("joint")
    keys = gen.keyframes([("a", 1), ("a red fox", 2), ("a blue bird", 3)])
    frames = ll.LatentPath(keys, space=joint).sample(9)
    parts = joint.split(frames)
    kp = joint.split(keys)
    # piecewise: the middle frame of segment 0 is the slerp of the noises and the lerp of the prompts
    assert torch.allclose(parts["noise"][2], ll.slerp(kp["noise"][0], kp["noise"][1], 0.5), atol=1e-5)
    assert torch.allclose(parts["prompt"][2], ll.lerp(kp["prompt"][0], kp["prompt"][1], 0.5), atol=1e-5)
    assert torch.equal(frames[4], keys[1])


def test_a_direction_of_one_part_moves_only_that_part_of_joint_latents() -> None:
    gen = ToyText()
    joint = gen.space("joint")
    d = ll.Direction(torch.tensor([1.0, -1.0]), gen.space("prompt"), name="longer")
    z = gen.keyframes([("a red fox", 1)])
    moved = d.apply(z, 2.0, space=joint)
    before, after = joint.split(z), joint.split(moved)
    assert torch.equal(after["noise"], before["noise"])
    assert torch.allclose(after["prompt"] - before["prompt"], 2.0 * d.vector)
    assert torch.equal(d.apply(z, 0.0, space=joint), z)
    assert d.check_compatible(joint) == joint
    lifted = d.lift(joint)
    assert lifted.space == joint and lifted.provenance["part"] == "prompt"
    other = ll.Direction(torch.tensor([1.0, 0.0, 0.0, 0.0]), ll.LatentSpace("w", (4,), model="toy-text"))
    with pytest.raises(ll.IncompatibleLatentError):
        other.lift(joint)


def test_join_puts_three_parts_together() -> None:  # SDXL's joint space: noise, prompt and pooled
    s = joint_space(
        "joint", [LatentPart("noise", (2,)), LatentPart("prompt", (3,), "none"), LatentPart("pooled", (1,), "none")]
    )
    parts = {"noise": torch.zeros(2, 2), "prompt": torch.ones(2, 3), "pooled": torch.full((2, 1), 2.0)}
    z = s.join(parts)
    assert z.shape == (2, 6) and z.dtype == torch.float32 and z[0].tolist() == [0, 0, 1, 1, 1, 2]
