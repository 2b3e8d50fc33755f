"""Registry: models(), register(), load() by name and by folder."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import latentlab as ll
from latentlab.generators.vae import VAE, VAEConfig, VAEGenerator, load_vae, save_vae


def test_models_lists_bundled_with_metadata() -> None:
    table = ll.models()
    by_name = {m.name: m for m in table}
    assert {"digits", "digits-2d"} <= set(by_name)
    d = by_name["digits"]
    assert d.image_size == (32, 32) and "16" in d.spaces and "CC BY 4.0" in d.license and d.source == "bundled"
    assert "digits-2d" in repr(table) and "<table>" in table._repr_html_()


def test_register_and_load_custom_factory() -> None:
    ll.register(
        "tiny-test",
        lambda: VAEGenerator(VAE(VAEConfig(8, latent_dim=3)), "tiny-test"),
        description="a test model",
        overwrite=True,
    )
    g = ll.load("tiny-test")
    assert g.decode(g.sample(2, seed=0)).shape == (2, 3, 8, 8)
    assert "tiny-test" in ll.models().names
    with pytest.raises(ll.InvalidValueError, match="already registered"):
        ll.register("tiny-test", lambda: g)
    with pytest.raises(ll.InvalidValueError, match="factory"):
        ll.register("tiny-test-2", "not callable", overwrite=True)  # type: ignore[arg-type]


def test_save_and_load_folder_bit_identical(tmp_path: Path) -> None:
    torch.manual_seed(0)
    g = VAEGenerator(VAE(VAEConfig(16, channels=3, latent_dim=4, width=8, hidden=32)), "mine")
    save_vae(g, tmp_path / "mine", {"description": "test"})
    again = ll.load(tmp_path / "mine")
    assert isinstance(again, VAEGenerator) and again.name == "mine"
    for (k, a), (_, b) in zip(g.model.state_dict().items(), again.model.state_dict().items()):
        assert torch.equal(a, b), k
    z = g.sample(3, seed=1)
    assert torch.equal(g.decode(z), again.decode(z))
    assert load_vae(tmp_path / "mine").card["description"] == "test"
    assert (tmp_path / "mine" / "weights.safetensors").stat().st_mode & 0o044, "saved files must be readable"


def test_load_device_argument() -> None:
    g = ll.load("digits", device="cpu")
    assert g.device.type == "cpu"
