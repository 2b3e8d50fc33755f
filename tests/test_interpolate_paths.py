"""blend / analogy / LatentPath: multi-way blends, keyframe paths, easing, loops and constant speed."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import latentlab as ll
from latentlab import InvalidValueError, ShapeError
from latentlab.interpolation import analogy, blend, slerp
from latentlab.paths import LatentPath
from latentlab.spaces import LatentSpace


def _keys(k: int, d: int = 16, seed: int = 0) -> torch.Tensor:
    return torch.randn(k, d, generator=torch.Generator().manual_seed(seed))


def _steps(frames: torch.Tensor) -> torch.Tensor:
    return (frames[1:] - frames[:-1]).flatten(1).norm(dim=-1)


# ----------------------------------------------------------------------------- blend
@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.0, 1.0))
def test_two_way_spherical_blend_is_norm_linear_slerp(seed: int, t: float) -> None:
    z = _keys(2, 24, seed)
    out = blend(z, torch.tensor([1 - t, t]))
    torch.testing.assert_close(out, slerp(z[0], z[1], t, norm="linear"), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("method", ["spherical", "linear", "norm"])
def test_blend_vertices_are_exact_and_shapes_follow_weights(method: str) -> None:
    z = _keys(3)
    w = torch.tensor([[1.0, 0, 0], [0, 0, 3.0], [1.0, 1.0, 1.0]])
    out = blend(z, w, method=method)  # type: ignore[arg-type]
    assert out.shape == (3, 16)
    assert torch.equal(out[0], z[0]) and torch.equal(out[1], z[2])
    assert blend(z, w[2], method=method).shape == (16,)  # type: ignore[arg-type]


def test_blend_methods_differ_as_documented() -> None:
    z = _keys(3, 256, seed=1)
    w = torch.tensor([0.2, 0.3, 0.5])
    linear = blend(z, w, method="linear")
    torch.testing.assert_close(linear, (w[:, None] * z).sum(0))
    target = float((w * z.norm(dim=-1)).sum())
    assert float(linear.norm()) < 0.75 * target  # linear mixes of Gaussian latents come out short
    assert abs(float(blend(z, w, method="norm").norm()) - target) < 1e-3
    assert abs(float(blend(z, w, method="spherical").norm()) - target) < 1e-3


def test_spherical_blend_is_symmetric_under_permutation() -> None:
    z = _keys(4, 32, seed=2)
    w = torch.tensor([0.1, 0.2, 0.3, 0.4])
    perm = torch.tensor([2, 0, 3, 1])
    torch.testing.assert_close(blend(z, w), blend(z[perm], w[perm]), rtol=1e-5, atol=1e-5)


def test_blend_per_row_for_wplus_codes() -> None:
    z = torch.randn(3, 4, 8, generator=torch.Generator().manual_seed(0))
    out = blend(z, torch.tensor([0.5, 0.5, 0.0]))
    rows = torch.stack([slerp(z[0, r], z[1, r], 0.5, norm="linear") for r in range(4)])
    torch.testing.assert_close(out, rows, rtol=1e-5, atol=1e-5)


def test_blend_errors() -> None:
    z = _keys(3)
    with pytest.raises(ShapeError) as err:
        blend(z, torch.ones(4))
    assert "(3,)" in str(err.value) and "(4,)" in str(err.value)
    with pytest.raises(ShapeError, match="at least 2"):
        blend(z[:1], torch.ones(1))
    with pytest.raises(InvalidValueError, match="sum to zero"):
        blend(z, torch.tensor([1.0, -1.0, 0.0]))
    with pytest.raises(InvalidValueError, match="'spherical'"):
        blend(z, torch.ones(3), method="cubic")  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="zero"):
        blend(torch.cat([z[:2], torch.zeros(1, 16)]), torch.ones(3))


# ----------------------------------------------------------------------------- analogy
def test_analogy_is_a_minus_b_plus_c_with_norm_correction() -> None:
    a, b, c = _keys(3, 512).unbind(0)
    raw = analogy(a, b, c, norm_correct=False)
    torch.testing.assert_close(raw, a - b + c)
    fixed = analogy(a, b, c)
    target = (a.norm() + b.norm() + c.norm()) / 3
    torch.testing.assert_close(fixed.norm(), target)
    assert float(torch.nn.functional.cosine_similarity(fixed, raw, dim=0)) > 0.9999
    assert float(raw.norm()) > 1.5 * float(target)  # what the correction is for


def test_analogy_batches_and_rejects_mismatched_shapes() -> None:
    a, b, c = torch.randn(5, 16), torch.randn(16), torch.randn(5, 16)
    assert analogy(a, b, c).shape == (5, 16)
    with pytest.raises(ShapeError, match="\\(5, 8\\)"):
        analogy(a, b, torch.randn(5, 8))


# ----------------------------------------------------------------------------- LatentPath
@pytest.mark.parametrize("curve", ["piecewise", "smooth"])
@pytest.mark.parametrize("geometry", ["linear", "spherical"])
def test_path_passes_through_keyframes_exactly(curve: str, geometry: str) -> None:
    keys = _keys(4)
    path = LatentPath(keys, durations=[1.0, 2.0, 1.0], curve=curve, geometry=geometry)  # type: ignore[arg-type]
    frames = path.at(torch.tensor([0.0, 1.0, 3.0, 4.0]))
    assert torch.equal(frames, keys)
    assert path.sample(9).shape == (9, 16)


@pytest.mark.parametrize("geometry", ["linear", "spherical"])
@pytest.mark.parametrize("loop", [False, True])
def test_smooth_curves_are_c1_in_time_with_unequal_durations(geometry: str, loop: bool) -> None:
    keys = _keys(5, 8, seed=7).double()
    durations = [1.0, 2.5, 0.5, 1.0, 3.0] if loop else [1.0, 2.5, 0.5, 1.0]
    path = LatentPath(keys, durations=durations, curve="smooth", geometry=geometry, loop=loop)  # type: ignore[arg-type]
    h = 1e-6
    for knot in path.times[1:-1].tolist() + ([0.0] if loop else []):
        f = path.at(torch.tensor([knot - h, knot, knot + h], dtype=torch.float64) % path.duration)
        left, right = (f[1] - f[0]) / h, (f[2] - f[1]) / h
        assert float((left - right).norm()) < 1e-3 * float(left.norm())


@pytest.mark.parametrize("geometry", ["linear", "spherical"])
def test_smooth_curves_have_no_kinks_at_keyframes(geometry: str) -> None:
    keys = _keys(5, 16, seed=3)
    frames = LatentPath(keys, curve="smooth", geometry=geometry).sample(401)  # type: ignore[arg-type]
    kinked = LatentPath(keys, curve="piecewise", geometry=geometry).sample(401)  # type: ignore[arg-type]

    def worst_turn(f: torch.Tensor) -> float:
        v = f[1:] - f[:-1]
        cos = torch.nn.functional.cosine_similarity(v[1:], v[:-1], dim=-1)
        return float(torch.arccos(cos.clamp(-1, 1)).max())

    assert worst_turn(frames) < 0.25
    assert worst_turn(kinked) > 0.5


def test_spherical_curve_stays_near_the_gaussian_shell() -> None:
    keys = _keys(6, 512, seed=4)
    norms = LatentPath(keys, curve="smooth", geometry="spherical").sample(200).norm(dim=-1)
    lin = LatentPath(keys, curve="smooth", geometry="linear").sample(200).norm(dim=-1)
    assert float(norms.min()) > 0.99 * float(keys.norm(dim=-1).min())
    assert float(norms.max()) < 1.01 * float(keys.norm(dim=-1).max())
    assert float(lin.min()) < 0.85 * math.sqrt(512)


def test_durations_and_easing_set_the_timing() -> None:
    keys = _keys(3)
    path = LatentPath(keys, durations=[1.0, 3.0])
    frames = path.sample(5)  # times 0, 1, 2, 3, 4 -> keyframe 1 at t = 1
    assert torch.equal(frames[1], keys[1])
    eased = LatentPath(keys, easing="ease-in-out").sample(41)
    steps = _steps(eased)
    assert float(steps[0]) < 0.2 * float(steps[10])  # lingers at keyframes
    assert float(steps[19]) < 0.2 * float(steps[10])


@pytest.mark.parametrize("geometry", ["linear", "spherical"])
def test_loop_joins_seamlessly(geometry: str) -> None:
    keys = _keys(4, 16, seed=5)
    path = LatentPath(keys, curve="smooth", geometry=geometry, loop=True)  # type: ignore[arg-type]
    # the seam is like any other keyframe: rotating the keyframes only shifts the path in time
    rolled = LatentPath(keys.roll(-1, dims=0), curve="smooth", geometry=geometry, loop=True)  # type: ignore[arg-type]
    t = torch.linspace(-0.5, 0.5, 21, dtype=torch.float64)
    torch.testing.assert_close(path.at(t), rolled.at(t + 3))
    frames = path.sample(400)
    assert torch.equal(frames[0], keys[0])
    steps = _steps(torch.cat([frames, frames[:1]]))  # play it on repeat: the seam is the last step
    change = torch.cat([steps, steps[:1]]).diff().abs() / steps.mean()  # relative change of step size
    seam_change = float(change[-2:].max())  # into and out of the seam step
    assert seam_change < 0.1
    assert seam_change <= float(change[:-2].max())  # no worse than at the other keyframes


def test_piecewise_loop_closes_back_to_the_first_keyframe() -> None:
    keys = _keys(3)
    frames = LatentPath(keys, geometry="spherical", loop=True).sample(30)
    assert torch.equal(frames[0], keys[0]) and torch.equal(frames[10], keys[1]) and torch.equal(frames[20], keys[2])
    last_step = float((frames[-1] - keys[0]).norm())
    assert last_step < float((keys[2] - keys[0]).norm()) / 5  # the last frame is on its way back


def test_open_path_does_not_loop() -> None:
    keys = _keys(3)
    frames = LatentPath(keys).sample(10)
    assert torch.equal(frames[0], keys[0]) and torch.equal(frames[-1], keys[-1])
    assert LatentPath(keys, loop=True).n_segments == 3 and LatentPath(keys).n_segments == 2


def test_constant_latent_speed_evens_out_the_steps() -> None:
    keys = torch.stack([torch.zeros(16), torch.ones(16) * 0.1, torch.ones(16) * 3.0])  # short then long
    path = LatentPath(keys, geometry="linear")
    naive = _steps(path.sample(30))
    even = _steps(path.sample(30, constant_speed="latent"))
    assert float(naive.max() / naive.min()) > 5
    assert float(even.max() / even.min()) < 1.05
    torch.testing.assert_close(even.sum(), naive.sum())  # same curve, only the timing changed


def test_constant_latent_speed_on_a_loop_includes_the_seam() -> None:
    keys = _keys(4, 16, seed=6) * torch.tensor([0.3, 1.0, 2.0, 1.0])[:, None]
    frames = LatentPath(keys, curve="smooth", geometry="spherical", loop=True).sample(80, constant_speed="latent")
    steps = _steps(torch.cat([frames, frames[:1]]))
    assert float(steps.max() / steps.min()) < 1.1


def test_constant_image_speed_with_digits() -> None:
    gen = ll.load("digits")
    keys = gen.sample(4, seed=0)
    path = LatentPath(keys, curve="smooth", space=gen.default_space)  # geometry from the space: spherical

    def image_steps(frames: torch.Tensor) -> torch.Tensor:
        return _steps(gen.decode(frames))

    naive = image_steps(path.sample(40))
    even = image_steps(path.sample(40, constant_speed="image", gen=gen))
    cv = lambda s: float(s.std() / s.mean())  # noqa: E731
    assert cv(even) < 0.5 * cv(naive)
    assert cv(even) < 0.1
    with pytest.raises(InvalidValueError, match="gen="):
        path.sample(10, constant_speed="image")


def test_random_walk_is_reproducible_and_seeded() -> None:
    w1 = LatentPath.random_walk(16, 5, seed=0)
    w2 = LatentPath.random_walk((16,), 5, seed=0)
    w3 = LatentPath.random_walk(16, 5, seed=1)
    assert torch.equal(w1.keyframes, w2.keyframes)
    assert not torch.equal(w1.keyframes, w3.keyframes)
    assert w1.loop and (w1.curve, w1.geometry) == ("smooth", "spherical")
    near = LatentPath.random_walk(512, 20, seed=0, step=0.2).keyframes
    far = LatentPath.random_walk(512, 20, seed=0, step=1.0).keyframes
    assert float(_steps(near).mean()) < 0.5 * float(_steps(far).mean())
    gen = ll.load("digits")
    walk = LatentPath.random_walk(gen, 4, seed=2)
    assert walk.space == gen.default_space and walk.sample(12).shape == (12, 16)
    wplus = LatentPath.random_walk(LatentSpace("w+", (4, 8), "normal"), 3, seed=0)
    assert wplus.sample(6).shape == (6, 4, 8)


def test_path_errors_teach() -> None:
    keys = _keys(3)
    with pytest.raises(InvalidValueError) as err:
        LatentPath(keys, durations=[1.0, 1.0, 1.0])
    assert "2 positive numbers" in str(err.value)
    with pytest.raises(InvalidValueError, match="3 positive"):
        LatentPath(keys, durations=[1.0, 1.0], loop=True)
    with pytest.raises(ShapeError, match="K >= 2"):
        LatentPath(keys[:1])
    with pytest.raises(InvalidValueError, match="smooth"):
        LatentPath(keys, curve="bezier")  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="f\\(1\\) = 1"):
        LatentPath(keys, easing=lambda t: t * 0.5)
    with pytest.raises(ShapeError, match="'z'"):
        LatentPath(keys, space=LatentSpace("z", (8,), "normal"))
    with pytest.raises(InvalidValueError, match="Gaussian prior"):
        LatentPath.random_walk(LatentSpace("w", (8,), "none"), 3, seed=0)
    with pytest.raises(InvalidValueError, match="constant_speed"):
        LatentPath(keys).sample(5, constant_speed="pixels")  # type: ignore[arg-type]


def test_path_follows_dtype() -> None:
    keys = _keys(3).double()
    assert LatentPath(keys, curve="smooth", geometry="spherical").sample(7).dtype == torch.float64
    half = LatentPath(_keys(3).half(), curve="smooth", geometry="linear").sample(7)
    assert half.dtype == torch.float16 and bool(torch.isfinite(half).all())


def test_path_is_a_deprecated_alias_of_latent_path() -> None:
    with pytest.warns(DeprecationWarning, match="LatentPath"):
        old = ll.Path
    assert old is ll.LatentPath is LatentPath


def test_modules_are_not_shadowed_by_functions_of_the_same_name() -> None:
    import importlib

    assert callable(ll.interpolate) and callable(ll.encode)
    assert importlib.import_module("latentlab.interpolation").blend is ll.blend
    assert importlib.import_module("latentlab.encoding").encode is ll.encode
    assert importlib.import_module("latentlab.paths").LatentPath is ll.LatentPath
