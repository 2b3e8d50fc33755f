"""lerp / slerp / interpolate: math properties (hypothesis), edge cases and error messages."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import latentlab as ll
from latentlab import InvalidValueError, ShapeError
from latentlab.interpolation import EASINGS, ease, interpolate, lerp, slerp
from latentlab.spaces import LatentSpace

SETTINGS = settings(max_examples=60, deadline=None)


@st.composite
def pairs(draw: st.DrawFn, batched: bool | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Two random latents (same shape), well away from parallel / anti-parallel."""
    seed = draw(st.integers(0, 2**31 - 1))
    dim = draw(st.integers(2, 64))
    lead = (
        () if batched is False else (draw(st.integers(1, 6)),) if batched else draw(st.sampled_from([(), (3,), (2, 4)]))
    )
    rng = torch.Generator().manual_seed(seed)
    scale = draw(st.floats(0.1, 10.0))
    a = torch.randn(*lead, dim, generator=rng) * scale
    b = torch.randn(*lead, dim, generator=rng) * scale
    cos = torch.nn.functional.cosine_similarity(a, b, dim=-1)
    if bool((cos.abs() > 0.999).any()):
        b = b + a.roll(1, dims=-1)  # nudge away from the degenerate cases tested separately
    return a, b


def reference_slerp(a: np.ndarray, b: np.ndarray, t: float) -> np.ndarray:
    """Textbook float64 slerp, row by row (the reference)."""
    a2, b2 = a.reshape(-1, a.shape[-1]), b.reshape(-1, b.shape[-1])
    out = []
    for x, y in zip(a2, b2):
        cos = np.dot(x, y) / (np.linalg.norm(x) * np.linalg.norm(y))
        theta = np.arccos(np.clip(cos, -1, 1))
        out.append((np.sin((1 - t) * theta) * x + np.sin(t * theta) * y) / np.sin(theta))
    return np.array(out).reshape(a.shape)


ts = st.floats(0.0, 1.0, allow_nan=False)


# ----------------------------------------------------------------------------- properties
@SETTINGS
@given(pairs(), st.sampled_from(["lerp", "classic", "linear"]))
def test_endpoints_are_exact(ab: tuple[torch.Tensor, torch.Tensor], method: str) -> None:
    a, b = ab
    fn = (lambda t: lerp(a, b, t)) if method == "lerp" else (lambda t: slerp(a, b, t, norm=method))
    assert torch.equal(fn(0.0), a)
    assert torch.equal(fn(1.0), b)
    path = lerp(a, b, steps=7) if method == "lerp" else slerp(a, b, steps=7, norm=method)
    assert path.shape == (7, *a.shape)
    assert torch.equal(path[0], a) and torch.equal(path[-1], b)


@SETTINGS
@given(pairs(), ts)
def test_slerp_preserves_norm_for_equal_norms(ab: tuple[torch.Tensor, torch.Tensor], t: float) -> None:
    a, b = ab
    b = b / b.norm(dim=-1, keepdim=True) * a.norm(dim=-1, keepdim=True)
    for norm in ("classic", "linear"):
        out = slerp(a, b, t, norm=norm)
        torch.testing.assert_close(out.norm(dim=-1), a.norm(dim=-1), rtol=1e-5, atol=1e-5)


@SETTINGS
@given(pairs(), ts)
def test_slerp_is_symmetric(ab: tuple[torch.Tensor, torch.Tensor], t: float) -> None:
    a, b = ab
    torch.testing.assert_close(slerp(a, b, t), slerp(b, a, 1 - t), rtol=1e-5, atol=1e-5)


@SETTINGS
@given(pairs(batched=False))
def test_slerp_angle_grows_monotonically_with_t(ab: tuple[torch.Tensor, torch.Tensor]) -> None:
    a, b = ab
    path = slerp(a.double(), b.double(), steps=41)
    cos = torch.nn.functional.cosine_similarity(path, a.double()[None], dim=-1).clamp(-1, 1)
    angles = torch.arccos(cos)
    assert bool((angles.diff() > 0).all())


@SETTINGS
@given(pairs(), ts)
def test_slerp_matches_float64_reference(ab: tuple[torch.Tensor, torch.Tensor], t: float) -> None:
    a, b = ab
    ref = reference_slerp(a.double().numpy(), b.double().numpy(), t)
    out = slerp(a, b, t)
    scale = max(1.0, float(np.abs(ref).max()))
    assert float(np.abs(out.double().numpy() - ref).max()) <= 1e-5 * scale


@SETTINGS
@given(pairs(batched=True), st.sampled_from(["classic", "linear"]))
def test_batched_slerp_equals_per_sample_loop(ab: tuple[torch.Tensor, torch.Tensor], norm: str) -> None:
    a, b = ab
    t = torch.tensor([0.0, 0.3, 0.5, 1.0])
    batched = slerp(a, b, t, norm=norm)  # (T, N, D)
    looped = torch.stack([slerp(a[i], b[i], t, norm=norm) for i in range(a.shape[0])], dim=1)
    scale = max(1.0, float(torch.cat([a, b]).abs().max()))
    # equal up to float32 rounding: the dot products may be summed in a different order
    torch.testing.assert_close(batched, looped, rtol=0, atol=1e-6 * scale)


def test_batched_slerp_is_not_the_whole_batch_as_one_vector() -> None:
    rng = torch.Generator().manual_seed(0)
    a, b = torch.randn(64, 16, generator=rng), torch.randn(64, 16, generator=rng)
    naive = reference_slerp(a.double().numpy().reshape(1, -1), b.double().numpy().reshape(1, -1), 0.5).reshape(64, 16)
    ours = slerp(a, b, 0.5).double().numpy()
    assert np.abs(ours - naive).max() > 0.05
    assert np.abs(ours - reference_slerp(a.double().numpy(), b.double().numpy(), 0.5)).max() < 1e-5


def test_shape_rules() -> None:
    a, b = torch.randn(5, 16), torch.randn(5, 16)
    assert slerp(a, b, 0.5).shape == (5, 16)
    assert slerp(a, b, steps=9).shape == (9, 5, 16)
    assert slerp(a[0], b[0], steps=9).shape == (9, 16)
    assert lerp(a, b, torch.tensor([0.0, 1.0])).shape == (2, 5, 16)
    assert slerp(a[0], b, 0.5).shape == (5, 16)  # one latent against a batch broadcasts
    wplus = torch.randn(3, 4, 8), torch.randn(3, 4, 8)
    assert slerp(*wplus, steps=2).shape == (2, 3, 4, 8)


def test_per_row_false_uses_one_angle_per_sample() -> None:
    rng = torch.Generator().manual_seed(1)
    a, b = torch.randn(3, 4, 8, generator=rng), torch.randn(3, 4, 8, generator=rng)
    whole = slerp(a, b, 0.3, per_row=False)
    ref = reference_slerp(a.double().numpy().reshape(3, 32), b.double().numpy().reshape(3, 32), 0.3)
    np.testing.assert_allclose(whole.double().numpy().reshape(3, 32), ref, atol=1e-5)
    one = slerp(a[0], b[0], 0.3, per_row=False, space=LatentSpace("w+", (4, 8), "none"))
    torch.testing.assert_close(one, whole[0])
    with pytest.raises(ShapeError, match="w\\+"):
        slerp(a, b, 0.3, per_row=False, space=LatentSpace("w+", (4, 9), "none"))


def test_slerp_is_differentiable_even_for_identical_inputs() -> None:
    a = torch.randn(4, 8, requires_grad=True)
    b = torch.cat([a.detach()[:2], torch.randn(2, 8)]).requires_grad_(True)
    slerp(a, b, steps=5).square().sum().backward()
    assert a.grad is not None and b.grad is not None
    assert bool(torch.isfinite(a.grad).all()) and bool(torch.isfinite(b.grad).all())


# ----------------------------------------------------------------------------- edge cases
def test_parallel_inputs_fall_back_to_lerp() -> None:
    a = torch.tensor([1.0, 2.0, 3.0])
    for b in (2 * a, a.clone()):
        out = slerp(a, b, steps=5)
        torch.testing.assert_close(out, lerp(a, b, steps=5))


def test_anti_parallel_is_deterministic_norm_preserving_and_symmetric() -> None:
    a = torch.tensor([3.0, -1.0, 0.5, 2.0])
    b = -a
    path = slerp(a, b, steps=11)
    assert bool(torch.isfinite(path).all())
    torch.testing.assert_close(path.norm(dim=-1), a.norm().expand(11))
    torch.testing.assert_close(slerp(a, b, steps=11), path)  # same call, same route
    mid = path[5]
    assert abs(float(mid @ a)) < 1e-4  # a quarter turn: orthogonal to a
    assert float(mid[2].abs()) > 0.9 * float(a.norm())  # it turns through the axis where |a_i| is smallest
    torch.testing.assert_close(slerp(b, a, steps=11).flip(0), path)


def test_zero_vector_raises_with_a_fix() -> None:
    with pytest.raises(InvalidValueError) as err:
        slerp(torch.zeros(2, 4), torch.ones(2, 4), 0.5)
    assert "zero" in str(err.value) and "lerp()" in str(err.value)
    assert err.value.fix is not None


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_inputs_raise(bad: float) -> None:
    a = torch.ones(3)
    a[1] = bad
    for fn in (lerp, slerp):
        with pytest.raises(InvalidValueError, match="non-finite"):
            fn(a, torch.ones(3), 0.5)
    with pytest.raises(InvalidValueError, match="non-finite"):
        slerp(torch.ones(3), torch.ones(3) * 2, torch.tensor([0.0, bad]))


def test_overflowing_norms_raise_with_a_fix() -> None:
    big = torch.full((4,), 1e20)
    with pytest.raises(InvalidValueError, match="overflow") as err:
        slerp(big, torch.ones(4), 0.5)
    assert "double" in str(err.value)
    assert bool(torch.isfinite(slerp(big.double(), torch.ones(4, dtype=torch.float64), 0.5)).all())


def test_mismatched_shapes_name_both_shapes() -> None:
    with pytest.raises(ShapeError) as err:
        slerp(torch.ones(4, 16), torch.ones(4, 8), 0.5)
    msg = str(err.value)
    assert "(4, 16)" in msg and "(4, 8)" in msg and err.value.fix


def test_t_and_steps_errors() -> None:
    a, b = torch.ones(3), torch.ones(3) * 2
    with pytest.raises(InvalidValueError, match="exactly one of t and steps"):
        lerp(a, b)
    with pytest.raises(InvalidValueError, match="exactly one"):
        lerp(a, b, 0.5, steps=3)
    with pytest.raises(ShapeError, match="1-D"):
        slerp(a, b, torch.zeros(2, 2))
    with pytest.raises(InvalidValueError, match="positive integer"):
        slerp(a, b, steps=0)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_low_and_high_precision_dtypes(dtype: torch.dtype) -> None:
    rng = torch.Generator().manual_seed(3)
    a32, b32 = torch.randn(6, 32, generator=rng), torch.randn(6, 32, generator=rng)
    a, b = a32.to(dtype), b32.to(dtype)
    for fn in (lerp, slerp):
        out = fn(a, b, steps=5)
        assert out.dtype == dtype
        assert torch.equal(out[0], a) and torch.equal(out[-1], b)
        ref = fn(a.float(), b.float(), steps=5)
        tol = {torch.float16: 1e-2, torch.bfloat16: 5e-2, torch.float64: 1e-6}[dtype]
        torch.testing.assert_close(out.float(), ref, rtol=tol, atol=tol)


def test_mixed_dtypes_and_numpy_inputs() -> None:
    a = np.ones(4, dtype=np.float32)
    b = torch.full((4,), 2.0, dtype=torch.float64)
    out = slerp(a, b, 0.25)
    assert out.dtype == torch.float64
    assert isinstance(lerp([0.0, 0.0], [1.0, 1.0], 0.5), torch.Tensor)


# ----------------------------------------------------------------------------- interpolate
def test_interpolate_auto_follows_the_prior() -> None:
    rng = torch.Generator().manual_seed(0)
    a, b = torch.randn(16, generator=rng), torch.randn(16, generator=rng)
    z_space = LatentSpace("z", (16,), "normal", model="m")
    w_space = LatentSpace("w", (16,), "none", model="m")
    torch.testing.assert_close(interpolate(a, b, 9, space=z_space), slerp(a, b, steps=9))
    torch.testing.assert_close(interpolate(a, b, 9, space=w_space), lerp(a, b, steps=9))
    torch.testing.assert_close(interpolate(a, b, 9), slerp(a, b, steps=9))
    norm_path = interpolate(a, b, 9, method="spherical-norm")
    expected = torch.linspace(float(a.norm()), float(b.norm()), 9)
    torch.testing.assert_close(norm_path.norm(dim=-1), expected, rtol=1e-5, atol=1e-5)


def test_interpolate_with_a_generator_and_easing() -> None:
    gen = ll.load("digits")
    z = gen.sample(2, seed=0)
    path = interpolate(z[0], z[1], 12, space=gen, easing="ease-in-out")
    assert path.shape == (12, 16)
    assert torch.equal(path[0], z[0]) and torch.equal(path[-1], z[1])
    steps = (path[1:] - path[:-1]).norm(dim=-1)
    assert float(steps[0]) < float(steps[5]) and float(steps[-1]) < float(steps[5])  # slow in, slow out
    with pytest.raises(ShapeError, match="digits"):
        interpolate(torch.randn(8), torch.randn(8), 4, space=gen)
    with pytest.raises(InvalidValueError, match="spherical-norm"):
        interpolate(z[0], z[1], 4, method="cubic")  # type: ignore[arg-type]


def test_slerp_keeps_gaussian_norms_where_lerp_sags() -> None:
    rng = torch.Generator().manual_seed(0)
    a, b = torch.randn(256, 512, generator=rng), torch.randn(256, 512, generator=rng)
    mid_lerp = lerp(a, b, 0.5).norm(dim=-1).mean()
    mid_slerp = slerp(a, b, 0.5).norm(dim=-1).mean()
    assert float(mid_lerp) < 0.75 * math.sqrt(512)
    assert abs(float(mid_slerp) - math.sqrt(512)) < 0.05 * math.sqrt(512)


# ----------------------------------------------------------------------------- easing
@pytest.mark.parametrize("name", list(EASINGS))
def test_easings_are_monotone_with_fixed_ends(name: str) -> None:
    t = torch.linspace(0, 1, 101)
    y = ease(t, name)
    assert float(y[0]) == 0.0 and float(y[-1]) == 1.0
    assert bool((y.diff() >= -1e-7).all())


def test_custom_easing_and_errors() -> None:
    assert torch.allclose(ease(torch.tensor([0.0, 0.5, 1.0]), lambda t: t**3), torch.tensor([0.0, 0.125, 1.0]))
    with pytest.raises(InvalidValueError, match="f\\(0\\) = 0"):
        ease(0.5, lambda t: t + 1)
    with pytest.raises(InvalidValueError, match="ease-in-out"):
        ease(0.5, "bouncy")
