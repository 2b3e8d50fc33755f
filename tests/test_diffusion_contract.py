"""The architecture contract (``latentlab.testing.check_generator``) on tiny SD, SDXL and DDPM generators."""

from __future__ import annotations

import pytest

import latentlab as ll
from latentlab import testing

from ._tiny_diffusion import ddpm_folder, sd_folder, sdxl_folder

__all__ = ["ddpm_folder", "sd_folder", "sdxl_folder"]  # fixtures used here


@pytest.mark.parametrize("kind", ["sd", "sdxl", "ddpm"])
def test_diffusion_generators_meet_the_generator_contract(kind: str, request: pytest.FixtureRequest) -> None:
    gen = ll.from_diffusers(request.getfixturevalue(f"{kind}_folder"), steps=2)
    testing.check_generator(gen)
