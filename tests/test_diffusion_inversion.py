"""Inversion of images to diffusion noise (inverse DDIM) on tiny real pipelines.

Random weights make inversion subtle (``docs/recipes/DIFFUSION_TESTING.md``): a random VAE does not
invert its own decoder, and under SD's betas a random UNet makes a stiff ODE, so an *arbitrary*
SD latent cannot be inverted. The round trips measured here are the two well-posed ones: a pixel
DDPM pipeline with mild betas (a real image in, the same image out), and SD/SDXL latents the
sampler can reach. Each beats its negative control (decoding random noise) by a wide margin and
improves with the number of steps.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

import latentlab as ll
from latentlab.errors import CapabilityError, InvalidValueError
from latentlab.generators.diffusion import DiffusionGenerator

from ._tiny_diffusion import PIXEL_SIZE, ddpm_folder, sd_folder, sdxl_folder

__all__ = ["ddpm_folder", "sd_folder", "sdxl_folder"]  # fixtures used here


def smooth_image(size: int = PIXEL_SIZE) -> torch.Tensor:
    """A smooth colour test image ``(1, 3, size, size)`` in ``[0.1, 0.9]``."""
    yy, xx = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size), indexing="ij")
    return torch.stack([0.5 + 0.4 * torch.sin(3 * xx + 1), 0.5 + 0.4 * torch.cos(2 * yy), 0.3 + 0.4 * xx * yy])[None]


def mse(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(((a - b) ** 2).mean())


@pytest.fixture(scope="module")
def ddpm(ddpm_folder: Path) -> DiffusionGenerator:
    return ll.from_diffusers(ddpm_folder)


def test_pixel_inversion_round_trip_beats_random_noise_and_improves_with_steps(ddpm: DiffusionGenerator) -> None:
    image = smooth_image()
    errors = {}
    for steps in (10, 20, 50):
        noise = ddpm.encode(image, steps=steps)
        assert noise.shape == (1, 3, PIXEL_SIZE, PIXEL_SIZE)
        errors[steps] = mse(ddpm.decode(noise, steps=steps), image)
    control = mse(ddpm.decode(ddpm.sample(1, seed=0), steps=10), image)  # random noise
    # measured: 0.0028 / 0.0016 / 0.0003 against 0.23 for random noise
    assert errors[10] < control / 20
    assert errors[50] < errors[20] < errors[10]
    assert errors[50] < 1e-3


def test_ll_encode_inverts_a_photo_file(ddpm: DiffusionGenerator, tmp_path: Path) -> None:
    image = smooth_image()
    path = tmp_path / "photo.png"
    Image.fromarray((image[0].permute(1, 2, 0).numpy() * 255).round().astype("uint8")).save(path)
    result = ll.encode(ddpm, str(path), progress=False)
    assert result.method == "encoder" and result.latents.shape == (1, 3, PIXEL_SIZE, PIXEL_SIZE)
    assert float(result.mse[0]) < mse(ddpm.decode(ddpm.sample(1, seed=0)), image) / 20
    with pytest.raises(CapabilityError, match="differentiabl"):
        ll.encode(ddpm, str(path), method="optimize", progress=False)


@pytest.mark.parametrize("kind", ["sd", "sdxl"])
def test_latent_inversion_of_reachable_latents(kind: str, request: pytest.FixtureRequest) -> None:
    gen = ll.from_diffusers(request.getfixturevalue(f"{kind}_folder"), guidance=1.0)
    noise = gen.sample(2, seed=1)
    errors, noise_errors = {}, {}
    for steps in (10, 50):
        target = gen.denoise(noise, prompt="a red fox", steps=steps)  # latents the sampler reaches
        found = gen.invert(target, prompt="a red fox", steps=steps)
        errors[steps] = mse(gen.denoise(found, prompt="a red fox", steps=steps), target)
        noise_errors[steps] = mse(found, noise)
        control = mse(gen.denoise(gen.sample(2, seed=9), prompt="a red fox", steps=steps), target)
        assert errors[steps] < control / 100, (steps, errors[steps], control)
    # measured on tiny SD: latent MSE 0.38 (10 steps) -> 0.051 (50) against 151-367 for random noise
    assert errors[50] < errors[10] and noise_errors[50] < noise_errors[10] < 0.05


def test_encode_to_joint_latents_and_bad_spaces(sd_folder: Path) -> None:
    gen = ll.from_diffusers(sd_folder, steps=3)
    image = gen.decode(gen.sample(1, seed=0), prompt="a red fox")
    joint = gen.encode(image, space="joint", prompt="a red fox")
    parts = gen.space("joint").split(joint)
    assert torch.equal(parts["noise"], gen.encode(image, prompt="a red fox"))
    assert torch.equal(parts["prompt"], gen.embed("a red fox"))
    with pytest.raises(InvalidValueError, match="inverts images to noise"):
        gen.encode(image, space="prompt")


def test_photo_to_photo_morph_starts_and_ends_at_the_photos(ddpm: DiffusionGenerator) -> None:
    first, second = smooth_image(), smooth_image().flip(-1).roll(5, dims=-2)
    noises = ddpm.encode(torch.cat([first, second]), steps=20)
    old, ddpm.steps = ddpm.steps, 20
    try:
        frames = ll.animate.frame_latents(ddpm, noises, fps=5, seconds=1)  # slerp between the two noises
        images = ddpm.decode(frames)
    finally:
        ddpm.steps = old
    assert mse(images[0:1], first) < 2e-3 and mse(images[-1:], second) < 2e-3
    assert mse(images[2:3], first) > 5 * mse(images[0:1], first)  # the middle is neither photo
