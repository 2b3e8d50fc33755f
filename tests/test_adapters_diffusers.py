"""``ll.from_diffusers_vae`` on tiny real ``AutoencoderKL`` models saved with ``save_pretrained`` (no downloads)."""

from __future__ import annotations

import importlib.util
import logging
import sys
from pathlib import Path

import diffusers  # the [diffusers] extra; [dev] installs it
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import latentlab as ll
from latentlab import directions
from latentlab.generators.diffusers_vae import DiffusersVAEGenerator


def tiny_vae(seed: int = 0, sample_size: int = 32, **config: object) -> diffusers.AutoencoderKL:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return diffusers.AutoencoderKL(
            block_out_channels=(8, 16),
            down_block_types=("DownEncoderBlock2D",) * 2,
            up_block_types=("UpDecoderBlock2D",) * 2,
            latent_channels=4,
            norm_num_groups=4,
            sample_size=sample_size,
            layers_per_block=1,
            **config,
        ).eval()


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("vae") / "tiny-vae"
    tiny_vae().save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def gen(saved: Path) -> DiffusersVAEGenerator:
    return ll.from_diffusers_vae(saved)


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_loads_by_path_quietly(saved: Path) -> None:
    library_logger = logging.getLogger("diffusers")
    records = Records()
    library_logger.addHandler(records)
    try:
        diffusers.AutoencoderKL.from_pretrained(saved)  # the control: plain diffusers warns without accelerate
        warned = any("accelerate" in m for m in records.messages)
        records.messages.clear()
        g = ll.from_diffusers_vae(saved)
    finally:
        library_logger.removeHandler(records)
    assert warned or importlib.util.find_spec("accelerate") is not None
    assert records.messages == []
    assert g.name == str(saved) and g.can("encode") and not g.can("map")
    assert g.space().shape == (4, 16, 16) and g.space().prior == "normal" and g.image_size == (32, 32)


def test_sample_and_decode_apply_the_scaling_factor(gen: DiffusersVAEGenerator) -> None:
    z = gen.sample(2, seed=0)
    assert z.shape == (2, 4, 16, 16) and torch.equal(z, gen.sample(2, seed=0))
    img = gen.decode(z)
    assert img.shape == (2, 3, 32, 32) and img.dtype == torch.float32
    assert float(img.min()) >= 0 and float(img.max()) <= 1 and float(img.std()) > 1e-3
    with torch.no_grad():
        ref = ((gen.vae.decode(z / gen.vae.config.scaling_factor).sample + 1) / 2).clamp(0, 1)
    assert torch.allclose(img, ref, atol=1e-5)
    assert gen.decode(z[0]).shape == (3, 32, 32)


def test_encode_is_the_scaled_posterior_mean(gen: DiffusersVAEGenerator) -> None:
    images = torch.rand(3, 3, 32, 32)
    z = gen.encode(images)
    assert z.shape == (3, 4, 16, 16)
    with torch.no_grad():
        raw = gen.vae.encode(images * 2 - 1).latent_dist.mean
    assert torch.allclose(z, raw * 0.18215, atol=1e-5)
    assert torch.allclose(gen.encode(images[0]), z[0], atol=1e-5)
    # decode(encode(x)) is the VAE's own reconstruction: the scaling round-trips
    with torch.no_grad():
        rec = ((gen.vae.decode(raw).sample + 1) / 2).clamp(0, 1)
    assert torch.allclose(gen.decode(z), rec, atol=1e-5)


def test_encode_posterior_sample_is_seeded(gen: DiffusersVAEGenerator) -> None:
    images = torch.rand(2, 3, 32, 32)
    a = gen.encode(images, posterior="sample", seed=1)
    assert torch.equal(a, gen.encode(images, posterior="sample", seed=1))
    assert not torch.equal(a, gen.encode(images, posterior="sample", seed=2))
    assert not torch.allclose(a, gen.encode(images))
    assert torch.equal(gen.encode(images), gen.encode(images))  # back to the mean afterwards
    with pytest.raises(ll.InvalidValueError, match="'mean' or 'sample'"):
        gen.encode(images, posterior="mode")  # type: ignore[arg-type]


def test_wrong_image_size_is_explained(gen: DiffusersVAEGenerator) -> None:
    with pytest.raises(ll.ShapeError, match=r"\(N, 3, 32, 32\)"):
        gen.encode(torch.rand(1, 3, 16, 16))


@pytest.mark.parametrize(
    "config",
    [
        {"scaling_factor": 0.5, "shift_factor": 0.25},
        {"scaling_factor": 0.5, "latents_mean": (0.1, -0.2, 0.3, 0.0), "latents_std": (1.0, 2.0, 0.5, 4.0)},
    ],
)
def test_shift_and_per_channel_stats(config: dict[str, object]) -> None:
    g = ll.from_diffusers_vae(tiny_vae(**config), name="shifted")
    raw = torch.randn(2, 4, 16, 16)
    z = g.from_raw(raw)
    assert torch.allclose(g.to_raw(z), raw, atol=1e-5)
    if "shift_factor" in config:
        assert torch.allclose(z, (raw - 0.25) * 0.5)
    else:
        mean = torch.tensor([0.1, -0.2, 0.3, 0.0]).view(1, 4, 1, 1)
        std = torch.tensor([1.0, 2.0, 0.5, 4.0]).view(1, 4, 1, 1)
        assert torch.allclose(z, (raw - mean) * 0.5 / std, atol=1e-6)
    with torch.no_grad():
        ref = ((g.vae.decode(raw).sample + 1) / 2).clamp(0, 1)
    assert torch.allclose(g.decode(z), ref, atol=1e-5)


@given(scale=st.floats(0.05, 5), shift=st.floats(-2, 2))
@settings(max_examples=20, deadline=None)
def test_scaling_round_trips(scale: float, shift: float) -> None:
    g = DiffusersVAEGenerator.__new__(DiffusersVAEGenerator)
    g.scaling_factor, g.shift_factor, g._mean, g._std = scale, shift, None, None
    raw = torch.linspace(-3, 3, 24, dtype=torch.float64).view(1, 1, 4, 6)
    assert torch.allclose(g.to_raw(g.from_raw(raw)), raw, atol=1e-9)


def test_subfolder_of_a_pipeline(tmp_path: Path) -> None:
    tiny_vae().save_pretrained(tmp_path / "pipeline" / "vae")
    with pytest.raises(ll.UnknownModelError) as info:
        ll.from_diffusers_vae(tmp_path / "pipeline")
    assert "subfolder='vae'" in str(info.value) and "config.json" in str(info.value)
    g = ll.from_diffusers_vae(tmp_path / "pipeline", subfolder="vae")
    assert g.name.endswith("pipeline/vae") and g.space().shape == (4, 16, 16)
    with pytest.raises(ll.UnknownModelError, match="not a diffusers VAE folder"):
        ll.from_diffusers_vae(tmp_path)


def test_image_size_and_tiled_decoding(saved: Path) -> None:
    big = ll.from_diffusers_vae(saved, image_size=64, tiled=True)
    assert big.tiled and big.space().shape == (4, 32, 32) and big.image_size == (64, 64)
    z = big.sample(1, seed=0)
    with torch.no_grad():
        ref = ((big.vae.tiled_decode(big.to_raw(z)).sample + 1) / 2).clamp(0, 1)
    img = big.decode(z)
    assert img.shape == (1, 3, 64, 64) and torch.allclose(img, ref, atol=1e-5)
    big.tiled = False
    assert not big.tiled and not torch.allclose(big.decode(z), img, atol=1e-4)
    with pytest.raises(ll.InvalidValueError, match="divisible by 2"):
        ll.from_diffusers_vae(saved, image_size=33)


def test_dtype_is_honoured_and_outputs_follow_inputs(saved: Path) -> None:
    g = ll.from_diffusers_vae(saved, dtype=torch.bfloat16, device="cpu")
    assert next(g.vae.parameters()).dtype == torch.bfloat16
    z = g.sample(1, seed=0)
    img = g.decode(z)
    assert img.dtype == torch.float32 and img.shape == (1, 3, 32, 32)
    assert g.decode(z.double()).dtype == torch.float64
    full = ll.from_diffusers_vae(saved)
    assert (img - full.decode(z)).abs().max() < 0.1  # bfloat16 is close to float32


def test_not_an_autoencoder_and_missing_extra(monkeypatch: pytest.MonkeyPatch, saved: Path) -> None:
    with pytest.raises(ll.InvalidValueError, match="needs a diffusers AutoencoderKL"):
        ll.from_diffusers_vae(torch.nn.Linear(2, 2))
    monkeypatch.setitem(sys.modules, "diffusers", None)
    with pytest.raises(ll.MissingDependencyError) as info:
        ll.from_diffusers_vae(saved)
    assert 'pip install "latentlab[diffusers]"' in str(info.value)


def test_works_with_slerp_pca_and_animation(gen: DiffusersVAEGenerator, tmp_path: Path) -> None:
    z = gen.sample(2, seed=0)
    path = ll.slerp(z[0], z[1], steps=5, per_row=False, space=gen.space())
    assert path.shape == (5, 4, 16, 16)
    assert torch.allclose(path[0], z[0], atol=1e-6) and torch.allclose(path[-1], z[1], atol=1e-6)
    assert gen.decode(path).shape == (5, 3, 32, 32)
    codes = gen.encode(torch.rand(24, 3, 32, 32))
    pcs = directions.pca(gen, codes=codes, n_components=2)
    assert pcs[0].vector.shape == (4, 16, 16) and pcs[0].space.key == gen.space().key
    moved = pcs[0].apply(codes[:2], strength=2.0)
    assert gen.decode(moved).shape == (2, 3, 32, 32)
    anim = ll.save_morph(gen, z, tmp_path / "morph.gif", fps=4, seconds=1, size=32, progress=False)
    assert (tmp_path / "morph.gif").stat().st_size > 0 and anim.size == (32, 32)


def test_float16_model(saved: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    g = ll.from_diffusers_vae(saved, dtype=torch.float16)
    assert next(g.vae.parameters()).dtype == torch.float16
    z = g.sample(1, seed=0)
    img = g.decode(z)
    assert img.dtype == torch.float32 and bool(torch.isfinite(img).all())
    assert g.encode(img).dtype == torch.float32
    # float16 overflow (SD-XL's VAE is known for it) is reported, not rendered as garbage
    broken = diffusers.models.autoencoders.vae.DecoderOutput(sample=torch.full((1, 3, 32, 32), float("inf")).half())
    monkeypatch.setattr(g.vae, "decode", lambda raw: broken)
    with pytest.raises(ll.InvalidValueError) as info:
        g.decode(z)
    assert "dtype=torch.float32" in str(info.value) and "float16" in str(info.value)
