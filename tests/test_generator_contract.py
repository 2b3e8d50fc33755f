"""Every generator passes :func:`latentlab.testing.check_generator`, one test per (generator, check).

Add a new generator to ``GENERATORS`` (a name and a zero-argument factory building a tiny
instance of the real class); the contract then runs over it. The checker itself is tested
too: broken generators must fail the check that names their fault.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

import latentlab as ll
from latentlab.generators.base import Generator
from latentlab.spaces import LatentSpace
from latentlab.testing import CHECKS, GeneratorCheckError, check_generator, generator_checks

from ._tiny_stylegan import Generator as TinyG


def _digits() -> Generator:
    return ll.load("digits")


def _digits_2d() -> Generator:
    return ll.load("digits-2d")


def _glyphs() -> Generator:
    return ll.load("glyphs")


def _glyphs_text() -> Generator:
    pytest.importorskip("sentence_transformers")  # the [text] extra: the prompt encoder
    return ll.load("glyphs-text")


def _stylegan() -> Generator:
    return ll.from_stylegan(TinyG(z_dim=8, w_dim=12, img_resolution=16))


def _stylegan3_like() -> Generator:
    return ll.from_stylegan(TinyG(z_dim=8, w_dim=12, img_resolution=16, extra=12))


def _stylegan_conditional() -> Generator:
    return ll.from_stylegan(TinyG(z_dim=8, c_dim=3, w_dim=12, img_resolution=8, seed=1), c=1)


def _autoencoder_kl() -> Generator:
    diffusers = pytest.importorskip("diffusers")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        vae = diffusers.AutoencoderKL(
            block_out_channels=(8, 16),
            down_block_types=("DownEncoderBlock2D",) * 2,
            up_block_types=("UpDecoderBlock2D",) * 2,
            latent_channels=4,
            norm_num_groups=4,
            sample_size=32,
            layers_per_block=1,
        ).eval()
    return ll.from_diffusers_vae(vae)


def _from_module() -> Generator:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        decoder = nn.Sequential(nn.Linear(6, 3 * 12 * 12), nn.Tanh(), nn.Unflatten(1, (3, 12, 12)))
    return ll.from_module(decoder, latent_shape=6, name="tiny-module")


def _trained() -> Generator:
    # the interface of a ll.train result, not its quality (test_train.py measures that)
    rng = np.random.default_rng(0)
    images = np.ones((24, 32, 32, 3), np.float32)
    for img in images:
        x, y, r = rng.integers(8, 24), rng.integers(8, 24), rng.integers(4, 8)
        img[y - r : y + r, x - r : x + r] = 0.0
    with torch.random.fork_rng(devices=[]):
        return ll.train(images, size=32, latent_dim=4, epochs=2, seed=0, progress=False, live=False, max_minutes=1)


GENERATORS: dict[str, Callable[[], Generator]] = {
    "digits": _digits,
    "digits-2d": _digits_2d,
    "glyphs": _glyphs,
    "glyphs-text": _glyphs_text,
    "stylegan2": _stylegan,
    "stylegan3-like": _stylegan3_like,
    "stylegan-conditional": _stylegan_conditional,
    "autoencoder-kl": _autoencoder_kl,
    "from-module": _from_module,
    "ll-train": _trained,
}


@functools.cache
def _built(name: str) -> Generator:
    return GENERATORS[name]()


@pytest.mark.parametrize("check", generator_checks())
@pytest.mark.parametrize("name", list(GENERATORS))
def test_generator_passes_the_contract(name: str, check: str, tmp_path: Path) -> None:
    gen = _built(name)
    assert check_generator(gen, checks=[check], workdir=tmp_path) == [check]


# ----------------------------------------------------------------------------- the checker fails when it should
class _Broken(Generator):
    """A minimal generator whose faults are switched on one at a time."""

    name = "broken"

    def __init__(self, fault: str = "", capabilities: frozenset[str] = frozenset()) -> None:
        super().__init__([LatentSpace("z", (4,), "normal", model="broken")], (8, 8))
        self.fault = fault
        self.capabilities = capabilities
        self.weight = torch.linspace(-1, 1, 4 * 3 * 8 * 8).reshape(4, -1)

    def _sample(self, n: int, space: LatentSpace, rng: torch.Generator, temperature: float) -> torch.Tensor:
        if self.fault == "global_rng":
            return torch.randn(n, *space.shape) * temperature
        return super()._sample(n, space, rng, temperature)

    def _decode(self, latents: torch.Tensor, space: LatentSpace) -> torch.Tensor:
        out = torch.sigmoid(latents @ self.weight).reshape(-1, 3, 8, 8)
        if self.fault == "shape":
            return out[:, :, :4]
        if self.fault == "random":
            return (out + 0.1 * torch.rand_like(out)).clamp(0, 1)
        return out

    def _encode(self, images: torch.Tensor, space: LatentSpace) -> torch.Tensor:
        return images.flatten(1)[:, :4]


def _raises_in(check: str, gen: Generator, match: str) -> None:
    with pytest.raises(GeneratorCheckError, match=match):
        check_generator(gen, checks=[check])


def test_a_correct_minimal_generator_passes_the_core_checks() -> None:
    core = ["spaces", "capabilities", "sampling", "decode", "errors", "interpolation", "pca_direction"]
    assert check_generator(_Broken(), checks=core) == core


def test_the_checker_catches_broken_generators() -> None:
    _raises_in("sampling", _Broken("global_rng"), "global RNG")
    _raises_in("decode", _Broken("shape"), "shape")
    _raises_in("decode", _Broken("random"), "deterministic")
    _raises_in("capabilities", _Broken(capabilities=frozenset({"codes"})), "does not implement codes")
    _raises_in("capabilities", _Broken(capabilities=frozenset({"teleport"})), "unknown capabilities")
    # declares encode (it has _encode): the capability outputs are checked
    assert check_generator(_Broken(capabilities=frozenset({"encode"})), checks=["capability_outputs"])


def test_undeclared_capabilities_raise_capability_error() -> None:
    gen = _Broken()
    for call in (
        gen.codes,
        gen.labels,
        lambda: gen.preview(torch.zeros(4)),
        lambda: gen.sefa_weight(gen.default_space),
        lambda: gen.encode_font("x.ttf"),
        lambda: gen.embed("a text"),
    ):
        with pytest.raises(ll.CapabilityError):
            call()


def test_unknown_check_names_are_refused() -> None:
    with pytest.raises(ll.InvalidValueError, match="unknown generator checks"):
        generator_checks(["spaces", "speling"])
    with pytest.raises(ll.InvalidValueError, match="Generator"):
        check_generator("digits")  # type: ignore[arg-type]
    assert set(generator_checks()) == set(CHECKS)


def test_temperature_reaches_sample_without_state_on_the_generator() -> None:
    gen: Any = ll.load("glyphs")
    assert not hasattr(gen, "_temperature")
    hot, cool = gen.sample(64, seed=0, temperature=1.0), gen.sample(64, seed=0, temperature=0.25)
    means = gen._mixture["means"]
    # the same components and noise; the cool draw sits 4x closer to its component mean
    dist = lambda z: (z[:, None] - means[None]).norm(dim=-1).min(1).values.mean()  # noqa: E731
    assert float(dist(cool)) < 0.5 * float(dist(hot))
