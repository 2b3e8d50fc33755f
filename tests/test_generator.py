"""The Generator interface on the bundled digits models: shapes, determinism, devices, dtypes, inputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import latentlab as ll
from latentlab.generators.base import Generator


@pytest.fixture(scope="module")
def gen() -> Generator:
    return ll.load("digits")


def test_spaces(gen: Generator) -> None:
    assert [s.name for s in gen.spaces] == ["z"]
    s = gen.space()
    assert s is gen.space("z") is gen.default_space
    assert s.shape == (16,) and s.prior == "normal" and s.model == "digits" and s.key == "digits:z"
    assert ll.load("digits-2d").space().shape == (2,)


def test_sample_is_deterministic_and_seeded(gen: Generator) -> None:
    a, b = gen.sample(5, seed=3), gen.sample(5, seed=3)
    assert torch.equal(a, b)
    assert not torch.equal(a, gen.sample(5, seed=4))
    assert a.shape == (5, 16) and a.dtype == torch.float32


def test_sample_does_not_touch_global_rng(gen: Generator) -> None:
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    gen.sample(4, seed=1)
    gen.sample(4)  # no seed: fresh randomness, still not from the global generator
    assert torch.equal(torch.rand(3), expected)


def test_sample_accepts_torch_generator_and_temperature(gen: Generator) -> None:
    z1 = gen.sample(200, seed=torch.Generator().manual_seed(7))
    z2 = gen.sample(200, seed=7, temperature=0.5)
    assert torch.allclose(z2, z1 * 0.5)


def test_decode_shape_range_and_determinism(gen: Generator) -> None:
    z = gen.sample(6, seed=0)
    img = gen.decode(z)
    assert img.shape == (6, 3, 32, 32) and img.dtype == torch.float32
    assert float(img.min()) >= 0.0 and float(img.max()) <= 1.0
    assert torch.equal(img, gen.decode(z))
    assert float(img.std()) > 0.1, "decoded digits should have ink and paper, not a flat grey"


def test_single_latent_without_batch_dim(gen: Generator) -> None:
    z = gen.sample(3, seed=0)
    single = gen.decode(z[1])
    assert single.shape == (3, 32, 32)
    assert torch.allclose(single, gen.decode(z)[1], atol=1e-6)


def test_numpy_input(gen: Generator) -> None:
    z = gen.sample(2, seed=0)
    from_np = gen.decode(z.numpy().astype(np.float64))
    assert isinstance(from_np, torch.Tensor) and from_np.dtype == torch.float32
    assert torch.allclose(from_np, gen.decode(z), atol=1e-6)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_output_follows_input_dtype(gen: Generator, dtype: torch.dtype) -> None:
    z = gen.sample(2, seed=0)
    out = gen.decode(z.to(dtype))
    assert out.dtype == dtype
    assert torch.allclose(out.float(), gen.decode(z), atol=2e-2)


def test_output_follows_input_device(gen: Generator) -> None:
    z = gen.sample(2, seed=0)
    assert gen.decode(z).device == z.device
    if torch.cuda.is_available():  # pragma: no cover - only on a GPU machine
        g = ll.load("digits", device="cuda")
        assert g.device.type == "cuda"
        assert g.decode(z).device.type == "cpu"
        assert g.decode(z.cuda()).device.type == "cuda"


def test_to_moves_weights(gen: Generator) -> None:
    g = ll.load("digits").to("cpu")
    assert g.device == torch.device("cpu")
    assert all(p.device.type == "cpu" for p in g.model.parameters())  # type: ignore[attr-defined]


def test_encode_decode_round_trip(gen: Generator) -> None:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    data = load_digits()  # the held-out split of scripts/train_digits.py: digits the model never saw
    _, held_out = train_test_split(data.images, test_size=0.2, stratify=data.target, random_state=0)
    x = torch.from_numpy(1 - held_out[:16].astype(np.float32) / 16)[:, None]
    x32 = torch.nn.functional.interpolate(x, size=(32, 32), mode="bilinear").clamp(0, 1).expand(-1, 3, -1, -1)
    z = gen.encode(x32)
    assert z.shape == (16, 16)
    assert gen.encode(x32[0]).shape == (16,)
    recon = gen.decode(z)
    mse = float(((recon - x32) ** 2).mean())
    baseline = float(((x32.mean(0, keepdim=True) - x32) ** 2).mean())
    assert mse < 0.5 * baseline, (mse, baseline)  # today 0.42x
    assert float(((gen.decode(z.roll(1, 0)) - x32) ** 2).mean()) > baseline  # control: another digit's latent, 2.10x


def test_encode_accepts_uint8(gen: Generator) -> None:
    img = (gen.decode(gen.sample(2, seed=0)) * 255).round().to(torch.uint8)
    assert gen.encode(img).shape == (2, 16)


def test_capabilities(gen: Generator) -> None:
    assert gen.can("encode") and not gen.can("map")
    with pytest.raises(ll.CapabilityError, match="cannot map"):
        gen.map(gen.sample(1), "z", "z")


def test_repr(gen: Generator) -> None:
    assert "digits" in repr(gen) and "32x32" in repr(gen)
