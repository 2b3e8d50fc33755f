"""One "latents fit this space" check: every tool refuses a wrong shape with the same error, and takes right ones."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import latentlab as ll
from latentlab import IncompatibleLatentError, LatentShapeError, ShapeError
from latentlab._checks import as_batched_latents
from latentlab.directions import Direction
from latentlab.directions._common import codes_matrix
from latentlab.interpolation import interpolate, slerp
from latentlab.paths import LatentPath
from latentlab.spaces import LatentPart, LatentSpace, joint_space, map_parts
from latentlab.widgets._render import direction_vectors


def _rand(shape: tuple[int, ...], seed: int = 0) -> torch.Tensor:
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed)) + 0.1  # never a zero vector


#: (site, the leading dims it takes, a call on a space and a tensor). Each must raise LatentShapeError
#: for a shape outside its rule and return for a shape inside it.
SITES: dict[str, tuple[str, Callable[[LatentSpace, torch.Tensor], Any]]] = {
    "as_batched_latents": ("optional", lambda s, x: as_batched_latents(x, s)),
    "interpolate": ("optional", lambda s, x: interpolate(x, x.flip(-1), 3, space=s)),
    "slerp per sample": ("optional", lambda s, x: slerp(x, x.flip(-1), 0.5, per_row=False, space=s)),
    "LatentPath keyframes": ("required", lambda s, x: LatentPath(x, space=s)),
    "Direction vectors": ("optional", lambda s, x: Direction(x, s)),
    "Direction.apply": ("optional", lambda s, x: Direction(_rand(s.shape), s).apply(x, 1.0)),
    "Direction conditions": ("required-cond", lambda s, x: Direction(_rand(s.shape, 1), s).orthogonalize(x)),
    "codes_matrix": ("required", lambda s, x: codes_matrix(x, s)),
    "Explorer directions": ("none", lambda s, x: direction_vectors([x], s)),
    "map_parts": ("any", lambda s, x: map_parts(s, lambda part, y: y, x)),
}

dims = st.integers(1, 5)
space_shapes = st.lists(dims, min_size=1, max_size=3).map(tuple)
any_shapes = st.lists(st.integers(1, 6), min_size=0, max_size=4).map(tuple)


def _fits(rule: str, shape: tuple[int, ...], space: tuple[int, ...]) -> bool:
    k = len(space)
    return {
        "optional": shape == space or shape[1:] == space,
        "required": shape[1:] == space,
        "required-cond": shape == space or shape[1:] == space,  # one condition is a batch of one
        "none": shape == space,
        "any": len(shape) >= k and shape[len(shape) - k :] == space,
    }[rule]


def _space(shape: tuple[int, ...], site: str) -> LatentSpace:
    if site == "map_parts":  # a space made of parts is flat: (D,)
        d = int(torch.tensor(shape).prod())
        return joint_space("joint", [LatentPart("noise", (d,)), LatentPart("prompt", (2,), "none")], model="m")
    return LatentSpace("z", shape, "normal", model="m")


@pytest.mark.parametrize("site", sorted(SITES))
@settings(max_examples=20, deadline=None)
@given(space_shape=space_shapes, shape=any_shapes)
def test_wrong_shapes_are_refused_with_the_one_error(
    space_shape: tuple[int, ...], shape: tuple[int, ...], site: str
) -> None:
    rule, call = SITES[site]
    space = _space(space_shape, site)
    assume(not _fits(rule, shape, space.shape))
    if site == "LatentPath keyframes":
        assume(len(shape) >= 2 and shape[0] >= 2)  # fewer keyframes is another error ("K >= 2")
    if site in ("slerp per sample", "interpolate"):
        assume(len(shape) >= 1)  # a 0-d a is refused before the space is looked at
    with pytest.raises(LatentShapeError) as err:
        call(space, _rand(shape))
    assert isinstance(err.value, ShapeError) and isinstance(err.value, IncompatibleLatentError)
    msg = str(err.value)
    assert "does not fit the space m:" in msg and f"got:      {ll.errors.shape_str(shape)}" in msg and "fix:" in msg


@pytest.mark.parametrize("site", sorted(SITES))
@settings(max_examples=10, deadline=None)
@given(space_shape=space_shapes, n=st.integers(2, 4), batched=st.booleans())
def test_right_shapes_pass_everywhere(space_shape: tuple[int, ...], n: int, batched: bool, site: str) -> None:
    rule, call = SITES[site]
    space = _space(space_shape, site)
    if rule == "none":
        batched = False
    if rule == "required":
        batched = True
    if site == "Direction conditions":  # fewer conditions than dims, so that something is left
        assume(space.dim >= 2)
        n = 1
    shape = (n, *space.shape) if batched else space.shape
    call(space, _rand(shape))  # no error


def test_the_message_names_what_expected_got_and_fix() -> None:
    gen = ll.load("digits")
    with pytest.raises(LatentShapeError) as err:
        gen.decode(torch.zeros(3, 8))
    assert str(err.value) == (
        "latents: shape (3, 8) does not fit the space digits:z (16,)\n"
        "  expected: (N, 16) or (16,)\n"
        "  got:      (3, 8)\n"
        "  fix:      these come from another model or space (last dim 8, not 16); sample or encode them with this "
        "generator, or pass the space they belong to"
    )
    with pytest.raises(LatentShapeError, match=r"expected: \(K, 16\)"):
        LatentPath(torch.zeros(3, 2, 16), space=gen.default_space)
    with pytest.raises(LatentShapeError, match="reshape to"):
        gen.decode(torch.zeros(2, 2, 16))  # right last dim, wrong layout
    with pytest.raises(LatentShapeError, match="needs one latent"):
        ll.directions.jacobian(gen, gen.sample(2, seed=0))


def test_check_returns_its_input_and_refuses_unknown_rules() -> None:
    s = LatentSpace("z", (4,), model="m")
    x = torch.zeros(2, 4)
    one = x[0]
    assert s.check(x) is x and s.check(one, batch="none") is one
    with pytest.raises(ll.InvalidValueError, match="batch rule"):
        s.check(x, batch="some")  # type: ignore[arg-type]
