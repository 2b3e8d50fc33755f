"""One word each for linear and spherical: the new spellings, the old ones (warned) and their equality."""

from __future__ import annotations

import warnings

import pytest
import torch

import latentlab as ll
from latentlab import InvalidValueError
from latentlab.interpolation import METHODS, interpolate
from latentlab.paths import LatentPath
from latentlab.spaces import CURVES, GEOMETRIES, OLD_CURVES, OLD_METHODS, LatentPart, LatentSpace, joint_space

NORMAL = LatentSpace("z", (16,), "normal", model="m")
NONE = LatentSpace("w", (16,), "none", model="m")
JOINT = joint_space("joint", [LatentPart("noise", (10,)), LatentPart("prompt", (6,), "none")], model="m")
SPACES = {"no space": None, "normal": NORMAL, "none": NONE, "joint": JOINT}


def _keys(k: int = 4, d: int = 16, seed: int = 0) -> torch.Tensor:
    return torch.randn(k, d, generator=torch.Generator().manual_seed(seed))


def test_one_table_names_every_word() -> None:
    assert GEOMETRIES == ("linear", "spherical") and CURVES == ("piecewise", "smooth")
    assert set(METHODS) == {"auto", *GEOMETRIES, "spherical-norm"}
    assert set(OLD_METHODS.values()) <= set(METHODS)
    assert all(c in CURVES and g in GEOMETRIES for c, g in OLD_CURVES.values())
    assert not set(OLD_CURVES) & set(CURVES)  # an old curve can never be read as a new one


@pytest.mark.parametrize("old", sorted(OLD_METHODS))
@pytest.mark.parametrize("space", sorted(SPACES))
def test_old_interpolation_methods_warn_and_give_the_same_tensors(old: str, space: str) -> None:
    a, b = _keys(1)[0], _keys(2, seed=1)
    new = OLD_METHODS[old]
    with pytest.warns(DeprecationWarning, match=f"method={new!r}"):
        before = interpolate(a, b, 9, method=old, space=SPACES[space])  # type: ignore[arg-type]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        after = interpolate(a, b, 9, method=new, space=SPACES[space])  # type: ignore[arg-type]
    assert torch.equal(before, after)


def test_interpolation_methods_are_the_functions_they_name() -> None:
    a, b = _keys(2).unbind()
    assert torch.equal(interpolate(a, b, 7, "linear"), ll.lerp(a, b, steps=7))
    assert torch.equal(interpolate(a, b, 7, "spherical"), ll.slerp(a, b, steps=7))
    assert torch.equal(interpolate(a, b, 7, "spherical-norm"), ll.slerp(a, b, steps=7, norm="linear"))
    assert not torch.equal(interpolate(a, b, 7, "linear"), interpolate(a, b, 7, "spherical"))  # control
    with pytest.raises(InvalidValueError, match="spherical-norm"):
        interpolate(a, b, 7, "cubic")  # type: ignore[arg-type]


@pytest.mark.parametrize("old", sorted(OLD_CURVES))
@pytest.mark.parametrize("space", sorted(SPACES))
@pytest.mark.parametrize("loop", [False, True])
def test_old_path_curves_warn_and_give_the_same_tensors(old: str, space: str, loop: bool) -> None:
    keys, s = _keys(), SPACES[space]
    curve, geometry = OLD_CURVES[old]
    with pytest.warns(DeprecationWarning, match=f"curve={curve!r}, geometry={geometry!r}"):
        before = LatentPath(keys, curve=old, loop=loop, space=s).sample(23)  # type: ignore[arg-type]
    # in a joint space the old curves put each part in its own geometry: geometry="auto" there
    geometry_now = "auto" if s is not None and s.parts else geometry
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        after = LatentPath(keys, curve=curve, geometry=geometry_now, loop=loop, space=s).sample(23)  # type: ignore[arg-type]
    assert torch.equal(before, after)


def test_the_readme_spherical_curve_keeps_drawing_the_smooth_spherical_spline() -> None:
    keys = _keys()
    with pytest.warns(DeprecationWarning):
        old = LatentPath(keys, curve="spherical", loop=True).sample(40)  # type: ignore[arg-type]
    smooth = LatentPath(keys, curve="smooth", geometry="spherical", loop=True).sample(40)
    piecewise = LatentPath(keys, curve="piecewise", geometry="spherical", loop=True).sample(40)
    assert torch.equal(old, smooth)
    assert not torch.allclose(old, piecewise, atol=1e-3)  # control: the piecewise path is another one


def test_every_curve_and_geometry_gives_its_own_path() -> None:
    keys = _keys(4, 64)
    paths = {(c, g): LatentPath(keys, curve=c, geometry=g).sample(31) for c in CURVES for g in GEOMETRIES}
    for i, p in enumerate(paths.values()):
        for q in list(paths.values())[i + 1 :]:
            assert not torch.allclose(p, q, atol=1e-3)


def test_auto_geometry_follows_the_space() -> None:
    keys = _keys()
    assert LatentPath(keys).geometry == "linear"
    assert LatentPath(keys, space=NORMAL).geometry == "spherical"
    assert LatentPath(keys, space=NONE).geometry == "linear"
    assert LatentPath(keys, space=JOINT).geometry == "auto"  # each part in its own
    joint = LatentPath(keys, space=JOINT).sample(9)
    noise_only = LatentPath(keys[:, :10], geometry="spherical").sample(9)
    prompt_only = LatentPath(keys[:, 10:], geometry="linear").sample(9)
    assert torch.equal(joint, torch.cat([noise_only, prompt_only], dim=-1))


def test_random_walk_words() -> None:
    walk = LatentPath.random_walk(16, 4, seed=0)
    assert (walk.curve, walk.geometry) == ("smooth", "spherical")
    with pytest.warns(DeprecationWarning, match="curve='piecewise', geometry='spherical'"):
        old = LatentPath.random_walk(16, 4, seed=0, curve="slerp")  # type: ignore[arg-type]
    new = LatentPath.random_walk(16, 4, seed=0, curve="piecewise")
    assert torch.equal(old.sample(13), new.sample(13))


def test_path_words_refuse_a_clash_and_unknown_words() -> None:
    keys = _keys()
    with pytest.raises(InvalidValueError, match="already says its geometry"):
        LatentPath(keys, curve="spherical", geometry="linear")  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="'piecewise' or 'smooth'"):
        LatentPath(keys, curve="bezier")  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="'linear' or 'spherical' or 'auto'"):
        LatentPath(keys, geometry="hyperbolic")  # type: ignore[arg-type]


def test_part_geometry_and_its_old_name() -> None:
    part = LatentPart("noise", (4,))
    assert part.geometry == "spherical" and LatentPart("prompt", (3,), "none").geometry == "linear"
    with pytest.warns(DeprecationWarning, match=r"LatentPart\.geometry"):
        assert part.curve == "spherical"
    with pytest.raises(InvalidValueError, match="'linear' or 'spherical'"):
        LatentPart("noise", (4,), "normal", "slerp")  # type: ignore[arg-type]


def test_save_morph_curves_keep_their_meaning() -> None:
    gen = ll.load("digits")
    keys = gen.sample(3, seed=1)
    default = ll.animate.frame_latents(gen, keys, fps=5, seconds=1)
    smooth = LatentPath(keys, curve="smooth", geometry="spherical", space=gen.default_space).sample(len(default))
    assert torch.equal(default, smooth)
    with pytest.warns(DeprecationWarning):
        old = ll.animate.frame_latents(gen, keys, fps=5, seconds=1, curve="catmull-rom")
    assert not torch.equal(old, ll.animate.frame_latents(gen, keys, fps=5, seconds=1, curve="smooth"))
    linear = LatentPath(keys, curve="smooth", geometry="linear", space=gen.default_space).sample(len(default))
    assert torch.equal(old, linear)


def test_the_warnings_point_at_the_line_that_used_the_old_spelling() -> None:
    keys = _keys()
    for call in (
        lambda: LatentPath(keys, curve="slerp"),  # type: ignore[arg-type]
        lambda: interpolate(keys[0], keys[1], 3, "lerp"),  # type: ignore[arg-type]
        lambda: LatentPart("noise", (2,)).curve,
    ):
        with pytest.warns(DeprecationWarning) as record:
            call()
        assert (record[0].filename, record[0].lineno) == (__file__, call.__code__.co_firstlineno)
