"""``ll.from_module``: any torch decoder -> Generator; output range/shape handling; the adapter listing."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import latentlab as ll
from latentlab.generators.module import to_unit_rgb


class Const(nn.Module):
    """Returns ``value`` everywhere, shaped ``(N, channels, size, size)`` (or a custom layout)."""

    def __init__(self, value: float, channels: int = 3, size: int = 8, layout: str = "nchw") -> None:
        super().__init__()
        self.value, self.channels, self.size, self.layout = value, channels, size, layout
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        n = len(z)
        shape = {
            "nchw": (n, self.channels, self.size, self.size),
            "nhwc": (n, self.size, self.size, self.channels),
            "flat": (n, self.channels * self.size * self.size),
            "nhw": (n, self.size, self.size),
        }[self.layout]
        return torch.full(shape, self.value) * self.scale


def linear_decoder(dim: int = 6, size: int = 8, channels: int = 1) -> nn.Module:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return nn.Sequential(nn.Linear(dim, channels * size * size), nn.Tanh(), nn.Unflatten(1, (channels, size, size)))


@pytest.mark.parametrize(
    ("value", "output_range", "expected"),
    [
        (-1.0, (-1, 1), 0.0),
        (0.0, (-1, 1), 0.5),
        (1.0, (-1, 1), 1.0),
        (0.25, (0, 1), 0.25),
        (255.0, (0, 255), 1.0),
        (51.0, (0, 255), 0.2),
        (0.0, "logits", 0.5),
        (3.0, (-1, 1), 1.0),
        (-7.0, (0, 1), 0.0),  # out-of-range values are clamped
    ],
)
def test_output_range_is_mapped_to_unit_interval(value: float, output_range, expected: float) -> None:
    gen = ll.from_module(Const(value), latent_shape=4, output_range=output_range)
    img = gen.decode(gen.sample(2, seed=0))
    assert img.shape == (2, 3, 8, 8)
    assert torch.allclose(img, torch.full_like(img, expected), atol=1e-6)


@given(lo=st.floats(-100, 100), width=st.floats(0.01, 100), frac=st.floats(0, 1))
@settings(max_examples=40, deadline=None)
def test_to_unit_rgb_is_affine_in_range(lo: float, width: float, frac: float) -> None:
    x = torch.full((1, 3, 2, 2), lo + frac * width, dtype=torch.float64)
    out = to_unit_rgb(x, (lo, lo + width))
    assert torch.allclose(out, torch.full_like(out, frac), atol=1e-4)


def test_grayscale_becomes_rgb_and_image_size_is_probed() -> None:
    gen = ll.from_module(linear_decoder(size=12), latent_shape=6, name="gray")
    img = gen.decode(gen.sample(3, seed=1))
    assert img.shape == (3, 3, 12, 12) and gen.image_size == (12, 12)
    assert torch.equal(img[:, 0], img[:, 1]) and torch.equal(img[:, 1], img[:, 2])
    assert float(img.min()) >= 0 and float(img.max()) <= 1


def test_single_latent_numpy_and_multidim_latents() -> None:
    dec = nn.Sequential(nn.Flatten(), nn.Linear(2 * 3 * 3, 3 * 4 * 4), nn.Unflatten(1, (3, 4, 4)))
    gen = ll.from_module(dec, latent_shape=(2, 3, 3), output_range=(0, 1))
    assert gen.space().shape == (2, 3, 3)
    z = gen.sample(2, seed=0)
    assert gen.decode(z[0]).shape == (3, 4, 4)
    assert gen.decode(z.numpy()).shape == (2, 3, 4, 4)
    assert torch.allclose(gen.decode(z[0]), gen.decode(z)[0], atol=1e-6)  # batch size changes BLAS rounding


@pytest.mark.parametrize(
    ("layout", "hint"), [("nhwc", "permute(0, 3, 1, 2)"), ("flat", "view(-1, C, H, W)"), ("nhw", "unsqueeze(1)")]
)
def test_wrong_output_layout_is_explained(layout: str, hint: str) -> None:
    with pytest.raises(ll.ShapeError) as info:
        ll.from_module(Const(0.0, layout=layout), latent_shape=4)
    msg = str(info.value)
    assert "expected: (N, 3, H, W) or (N, 1, H, W)" in msg and hint in msg and "got:" in msg


def test_four_channel_output_suggests_dropping_alpha() -> None:
    with pytest.raises(ll.ShapeError, match=r"out\[:, :3\]"):
        ll.from_module(Const(0.0, channels=4), latent_shape=4)


def test_non_tensor_output_and_bad_arguments() -> None:
    with pytest.raises(ll.InvalidValueError, match="did not return a tensor"):
        ll.from_module(lambda z: {"sample": z}, latent_shape=4)
    with pytest.raises(ll.InvalidValueError, match="low < high"):
        ll.from_module(Const(0.0), latent_shape=4, output_range=(1, 1))
    with pytest.raises(ll.InvalidValueError, match="latent_shape"):
        ll.from_module(Const(0.0), latent_shape=0)
    with pytest.raises(ll.InvalidValueError, match="needs a decoder"):
        ll.from_module("not a module", latent_shape=4)  # type: ignore[arg-type]


def test_decoder_that_changes_size_is_caught() -> None:
    calls = {"n": 0}

    def fickle(z: torch.Tensor) -> torch.Tensor:
        calls["n"] += 1
        size = 8 if calls["n"] == 1 else 10
        return torch.zeros(len(z), 3, size, size)

    gen = ll.from_module(fickle, latent_shape=4)
    with pytest.raises(ll.ShapeError, match="changed its output size"):
        gen.decode(gen.sample(1, seed=0))


def test_wrong_latents_are_refused() -> None:
    gen = ll.from_module(linear_decoder(), latent_shape=6)
    with pytest.raises(ll.ShapeError, match="another model or space"):
        gen.decode(torch.zeros(2, 5))


def test_encoder_round_trip_and_mean_of_tuple() -> None:
    dim, size = 6, 8
    dec = linear_decoder(dim, size)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(1)
        enc_lin = nn.Linear(size * size, dim)
    seen: dict[str, torch.Tensor] = {}

    class Enc(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = enc_lin

        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            seen["x"] = x
            mu = self.lin(x.flatten(1))
            return mu, torch.zeros_like(mu)

    gen = ll.from_module(dec, latent_shape=dim, encoder=Enc())
    assert gen.can("encode")
    images = gen.decode(gen.sample(3, seed=0))
    z = gen.encode(images)
    assert z.shape == (3, dim)
    # the encoder sees the decoder's own layout and range: 1 channel, values back in [-1, 1]
    assert seen["x"].shape == (3, 1, size, size)
    assert torch.allclose(seen["x"], dec(gen.sample(3, seed=0)), atol=1e-5)
    assert torch.allclose(z, enc_lin(seen["x"].flatten(1)))


def test_encoder_with_wrong_shape_and_no_encoder() -> None:
    gen = ll.from_module(linear_decoder(), latent_shape=6, encoder=lambda x: torch.zeros(len(x), 5))
    with pytest.raises(ll.ShapeError, match=r"encoder .* wrong shape"):
        gen.encode(torch.rand(2, 3, 8, 8))
    plain = ll.from_module(linear_decoder(), latent_shape=6)
    assert not plain.can("encode")
    with pytest.raises(ll.CapabilityError, match="cannot encode"):
        plain.encode(torch.rand(2, 3, 8, 8))


def test_sefa_weight_is_the_first_linear_layer() -> None:
    dec = linear_decoder(dim=6)
    gen = ll.from_module(dec, latent_shape=6)
    assert gen.can("sefa")
    assert torch.equal(gen.sefa_weight(gen.space()), dec[0].weight.detach())
    conv = nn.Sequential(nn.Unflatten(1, (6, 1, 1)), nn.ConvTranspose2d(6, 3, 8))
    assert not ll.from_module(conv, latent_shape=6).can("sefa")


def test_device_and_float64_module() -> None:
    dec = linear_decoder().double()
    gen = ll.from_module(dec, latent_shape=6, device="cpu")
    assert gen.device == torch.device("cpu")
    out = gen.decode(gen.sample(2, seed=0))
    assert out.dtype == torch.float32 and out.shape == (2, 3, 8, 8)
    assert gen.decode(np.zeros((1, 6), dtype=np.float64)).dtype == torch.float32


def test_adapters_are_listed_and_load_explains_how_to_call_them() -> None:
    listed = {m.name: m for m in ll.models()}
    for name, call in [
        ("diffusers-vae", "from_diffusers_vae"),
        ("stylegan", "from_stylegan"),
        ("torch-module", "from_module"),
    ]:
        assert listed[name].source == "adapter"
        assert call in listed[name].description
        with pytest.raises(ll.InvalidValueError) as info:
            ll.load(name)
        assert f"ll.{call}(" in str(info.value) and "fix:" in str(info.value)
    names = ll.models().names
    assert names.index("digits") < names.index("diffusers-vae")  # bundled models first, adapters after


def test_float16_module() -> None:
    gen = ll.from_module(linear_decoder().half(), latent_shape=6)
    img = gen.decode(gen.sample(2, seed=0))
    assert img.dtype == torch.float32 and img.shape == (2, 3, 8, 8)
    ref = ll.from_module(linear_decoder(), latent_shape=6).decode(gen.sample(2, seed=0))
    assert torch.allclose(img, ref, atol=1e-2)
