"""The generator contract: :func:`check_generator` runs every check a :class:`~latentlab.Generator` must pass.

In the spirit of scikit-learn's ``check_estimator``: an adapter (a new model family, a
``from_module`` wrapper, a trained model) passes if everything the rest of the library does
with a generator works on it and every misuse gets a clear :mod:`latentlab.errors` error.

The checks (names for ``checks=`` / ``skip=``), each a few seconds on CPU for small models:

* ``spaces``: spaces are named, unique and looked up by name or object; unknown names raise
  :class:`~latentlab.errors.UnknownSpaceError`; ``image_size`` is two positive ints;
* ``capabilities``: declared capabilities are known and implemented, undeclared optional
  methods raise :class:`~latentlab.errors.CapabilityError` (``gen.can(x)`` tells which);
* ``sampling``: seeded sampling is reproducible, float32 on ``gen.device``, leaves torch's
  global RNG alone, and refuses ``n < 1`` or a non-positive temperature;
* ``decode``: ``(N, 3, H, W)`` in ``[0, 1]``, finite, deterministic; a latent without batch
  dim gives ``(3, H, W)``; numpy input works; outputs follow the input dtype (float64, and
  float16 unless ``float16=False``);
* ``errors``: wrong shapes raise :class:`~latentlab.errors.ShapeError`, NaN/inf latents
  :class:`~latentlab.errors.InvalidValueError`;
* ``capability_outputs``: what declared capabilities return (codes, labels, preview,
  SeFa weight, encode, map) has the documented shapes;
* ``interpolation``: a space-aware ``ll.interpolate`` path between two samples, endpoints exact;
* ``pca_direction``: ``ll.directions.pca`` finds directions that move the image;
* ``explorer``: an :class:`~latentlab.Explorer` renders, moves with its sliders, and closes;
* ``save_morph``: ``ll.save_morph`` writes a GIF;
* ``latent_map``: a :class:`~latentlab.LatentMap` (PCA) fits the samples and places new ones.

Example:
    >>> import latentlab as ll
    >>> from latentlab.testing import check_generator
    >>> check_generator(ll.load("digits"), checks=["spaces", "sampling", "decode", "errors"])
    ['spaces', 'sampling', 'decode', 'errors']
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .errors import CapabilityError, InvalidValueError, LatentLabError, ShapeError, UnknownSpaceError
from .generators.base import CAPABILITIES, Generator
from .spaces import LatentSpace

__all__ = ["CHECKS", "GeneratorCheckError", "check_generator", "generator_checks"]


class GeneratorCheckError(AssertionError):
    """A generator broke the contract: the message names the check and what was expected."""


@dataclass
class CheckContext:
    """What a check may use: the batch size, the work folder, and the options of :func:`check_generator`."""

    n: int = 3
    float16: bool = True
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="latentlab-check-")))
    tolerance: float = 1e-4


def _fail(check: str, message: str) -> GeneratorCheckError:
    return GeneratorCheckError(f"[{check}] {message}")


def _expect(ok: bool, check: str, message: str) -> None:
    if not ok:
        raise _fail(check, message)


def _expect_raises(
    check: str, what: str, errors: type[BaseException] | tuple[type[BaseException], ...], fn: Callable[[], Any]
) -> BaseException:
    try:
        fn()
    except errors as exc:
        return exc
    except Exception as exc:
        raise _fail(check, f"{what}: raised {type(exc).__name__}: {exc}; expected {_names(errors)}") from exc
    raise _fail(check, f"{what}: raised nothing; expected {_names(errors)}")


def _names(errors: type[BaseException] | tuple[type[BaseException], ...]) -> str:
    items = errors if isinstance(errors, tuple) else (errors,)
    return " or ".join(e.__name__ for e in items)


def _sampleable(gen: Generator) -> list[LatentSpace]:
    """Spaces ``gen.sample`` draws from (a normal prior, or the generator's own ``_sample``)."""
    out = []
    for s in gen.spaces:
        try:
            gen.sample(1, seed=0, space=s)
        except CapabilityError:
            continue
        out.append(s)
    return out


def _latents(gen: Generator, n: int, seed: int = 0, space: LatentSpace | None = None) -> torch.Tensor:
    return gen.sample(n, seed=seed, space=space or gen.default_space)


def _check_images(check: str, images: torch.Tensor, gen: Generator, n: int | None, what: str) -> None:
    h, w = gen.image_size
    expected = (3, h, w) if n is None else (n, 3, h, w)
    _expect(isinstance(images, torch.Tensor), check, f"{what} returned {type(images).__name__}, not a tensor")
    _expect(tuple(images.shape) == expected, check, f"{what} has shape {tuple(images.shape)}, expected {expected}")
    _expect(bool(torch.isfinite(images).all()), check, f"{what} holds NaN or inf")
    lo, hi = float(images.min()), float(images.max())
    _expect(lo >= 0.0 and hi <= 1.0, check, f"{what} has values in [{lo:.3g}, {hi:.3g}], expected [0, 1]")


# --------------------------------------------------------------------------- the checks
def check_spaces(gen: Generator, ctx: CheckContext) -> None:
    """Spaces are named, unique, found by name and object; the default is the first."""
    c = "spaces"
    spaces = gen.spaces
    _expect(isinstance(spaces, tuple) and len(spaces) > 0, c, f"gen.spaces is {spaces!r}, expected a non-empty tuple")
    names = [s.name for s in spaces]
    _expect(len(set(names)) == len(names), c, f"space names repeat: {names}")
    _expect(gen.default_space is spaces[0] and gen.space(None) is spaces[0], c, "the default space is not spaces[0]")
    for s in spaces:
        _expect(isinstance(s, LatentSpace), c, f"{s!r} is not a LatentSpace")
        _expect(gen.space(s.name) is s and gen.space(s) is s, c, f"gen.space({s.name!r}) does not return the space")
        _expect(all(isinstance(d, int) and d > 0 for d in s.shape), c, f"space {s.name!r} has shape {s.shape}")
        _expect(s.model in ("", gen.name), c, f"space {s.name!r} belongs to model {s.model!r}, not {gen.name!r}")
    _expect_raises(c, "gen.space('no-such-space')", UnknownSpaceError, lambda: gen.space("no-such-space"))
    h, w = gen.image_size
    _expect(isinstance(h, int) and isinstance(w, int) and h > 0 and w > 0, c, f"image_size is {gen.image_size}")
    _expect(gen.to(gen.device) is gen, c, "gen.to(device) does not return the generator")


#: The optional methods of :class:`Generator` and the capability each needs.
CAPABILITY_METHODS: dict[str, str] = {
    "codes": "codes",
    "labels": "labels",
    "preview": "preview",
    "sefa_weight": "sefa",
    "encode_font": "encode_font",
    "embed": "prompt",
}
#: Capabilities implemented by a protected hook instead of a public method.
CAPABILITY_HOOKS: dict[str, str] = {"encode": "_encode", "map": "_map", "prompt": "_embed"}


def _overrides(gen: Generator, method: str) -> bool:
    return getattr(type(gen), method) is not getattr(Generator, method)


def _call_undeclared(gen: Generator, method: str) -> Any:
    s = gen.default_space
    args: dict[str, tuple[Any, ...]] = {
        "codes": (),
        "labels": (),
        "preview": (torch.zeros(s.shape),),
        "sefa_weight": (s,),
        "encode_font": ("font.ttf",),
        "embed": ("a text",),
    }
    return getattr(gen, method)(*args[method])


def check_capabilities(gen: Generator, ctx: CheckContext) -> None:
    """Declared capabilities are known and implemented; undeclared optional methods raise CapabilityError."""
    c = "capabilities"
    caps = gen.capabilities
    _expect(isinstance(caps, frozenset), c, f"capabilities is a {type(caps).__name__}, expected a frozenset")
    unknown = sorted(caps - CAPABILITIES)
    _expect(not unknown, c, f"unknown capabilities {unknown}; known: {sorted(CAPABILITIES)}")
    for cap in CAPABILITIES:
        _expect(gen.can(cap) == (cap in caps), c, f"gen.can({cap!r}) disagrees with gen.capabilities")
    for method, cap in CAPABILITY_METHODS.items():
        if gen.can(cap):
            _expect(
                _overrides(gen, method) or (cap in CAPABILITY_HOOKS and _overrides(gen, CAPABILITY_HOOKS[cap])),
                c,
                f"{type(gen).__name__} declares {cap!r} but does not implement {method}()",
            )
        elif not _overrides(gen, method):
            _expect_raises(
                c,
                f"{method}() without the {cap!r} capability",
                CapabilityError,
                lambda m=method: _call_undeclared(gen, m),  # type: ignore[misc]
            )
    for cap, hook in CAPABILITY_HOOKS.items():
        if gen.can(cap):
            _expect(_overrides(gen, hook), c, f"{type(gen).__name__} declares {cap!r} but does not implement {hook}()")
    if not gen.can("encode"):
        _expect_raises(
            c,
            "encode() without the 'encode' capability",
            CapabilityError,
            lambda: gen.encode(torch.zeros(1, 3, *gen.image_size)),
        )


def check_sampling(gen: Generator, ctx: CheckContext) -> None:
    """Seeded sampling: reproducible, float32 on the device, global RNG untouched, bad arguments refused."""
    c = "sampling"
    spaces = _sampleable(gen)
    _expect(bool(spaces), c, "no space can be sampled (give the default space a normal prior or override _sample)")
    for s in spaces:
        state = torch.random.get_rng_state()
        a = gen.sample(ctx.n, seed=1, space=s)
        _expect(torch.equal(state, torch.random.get_rng_state()), c, "sample() changed torch's global RNG state")
        _expect(tuple(a.shape) == (ctx.n, *s.shape), c, f"sample in {s.name!r} has shape {tuple(a.shape)}")
        _expect(a.dtype == torch.float32, c, f"sample in {s.name!r} is {a.dtype}, expected float32")
        _expect(a.device == gen.device, c, f"sample in {s.name!r} is on {a.device}, not gen.device {gen.device}")
        _expect(bool(torch.isfinite(a).all()), c, f"sample in {s.name!r} holds NaN or inf")
        _expect(torch.equal(a, gen.sample(ctx.n, seed=1, space=s)), c, f"seed=1 is not reproducible in {s.name!r}")
        rng = torch.Generator().manual_seed(1)
        _expect(torch.equal(a, gen.sample(ctx.n, seed=rng, space=s)), c, "seed=torch.Generator(1) differs from seed=1")
        _expect(not torch.equal(a, gen.sample(ctx.n, seed=2, space=s)), c, f"seeds 1 and 2 agree in {s.name!r}")
        _expect(tuple(gen.sample(1, space=s).shape) == (1, *s.shape), c, "seed=None does not sample")
        if s.prior == "normal":  # elsewhere it is the model's business (StyleGAN's mapping normalises z)
            cool = gen.sample(ctx.n, seed=1, space=s, temperature=0.5)
            _expect(not torch.equal(cool, a), c, f"temperature=0.5 changes nothing in {s.name!r}")
    _expect_raises(c, "sample(0)", InvalidValueError, lambda: gen.sample(0))
    _expect_raises(c, "sample(2, temperature=0)", InvalidValueError, lambda: gen.sample(2, temperature=0.0))


def _decodable(gen: Generator) -> list[tuple[LatentSpace, torch.Tensor]]:
    out = []
    for s in _sampleable(gen):
        out.append((s, _latents(gen, 2, seed=3, space=s)))
    return out


def check_decode(gen: Generator, ctx: CheckContext) -> None:
    """decode: shapes, range, determinism, batch-less and numpy input, dtype following."""
    c = "decode"
    for s, z in _decodable(gen):
        where = f"decode in {s.name!r}"
        before = z.clone()
        images = gen.decode(z, space=s)
        _check_images(c, images, gen, len(z), where)
        _expect(torch.equal(z, before), c, f"{where} modified its input")
        _expect(
            images.dtype == torch.float32 and images.device == z.device,
            c,
            f"{where} gave {images.dtype} on {images.device} for float32 input on {z.device}",
        )
        _expect(torch.allclose(images, gen.decode(z, space=s), atol=ctx.tolerance), c, f"{where} is not deterministic")
        one = gen.decode(z[0], space=s)
        _check_images(c, one, gen, None, f"{where} of one latent without batch dim")
        _expect(torch.allclose(one, images[0], atol=1e-3), c, f"{where}: one latent differs from its batch row")
        from_numpy = gen.decode(z.cpu().numpy(), space=s)
        _expect(
            isinstance(from_numpy, torch.Tensor) and from_numpy.device == gen.device,
            c,
            f"{where} of numpy input is not a tensor on gen.device",
        )
        _expect(torch.allclose(from_numpy.float(), images, atol=1e-3), c, f"{where}: numpy input decodes differently")
        double = gen.decode(z.double(), space=s)
        _expect(double.dtype == torch.float64, c, f"{where} of float64 input gave {double.dtype}")
        if ctx.float16:
            half = gen.decode(z.half(), space=s)
            _expect(half.dtype == torch.float16, c, f"{where} of float16 input gave {half.dtype}")
            _expect(bool(torch.isfinite(half).all()), c, f"{where} of float16 input holds NaN or inf")
            _expect(float((half.float() - images).abs().max()) < 0.1, c, f"{where}: float16 input is far from float32")


def check_errors(gen: Generator, ctx: CheckContext) -> None:
    """Wrong shapes and non-finite latents get latentlab errors, not raw torch ones."""
    c = "errors"
    for s in gen.spaces:
        d = math.prod(s.shape)
        wrong = torch.zeros(2, d + 1) if len(s.shape) == 1 else torch.zeros(2, *s.shape[:-1], s.shape[-1] + 1)
        _expect_raises(
            c,
            f"decode of {tuple(wrong.shape)} latents in {s.name!r} {s.shape}",
            ShapeError,
            lambda s=s, wrong=wrong: gen.decode(wrong, space=s),  # type: ignore[misc]
        )
        bad = torch.zeros(2, *s.shape)
        bad.view(-1)[0] = float("nan")
        _expect_raises(
            c,
            f"decode of latents holding NaN in {s.name!r}",
            InvalidValueError,
            lambda s=s, bad=bad: gen.decode(bad, space=s),  # type: ignore[misc]
        )
        inf = torch.zeros(1, *s.shape)
        inf.view(-1)[-1] = float("inf")
        _expect_raises(
            c,
            f"decode of latents holding inf in {s.name!r}",
            InvalidValueError,
            lambda s=s, inf=inf: gen.decode(inf, space=s),  # type: ignore[misc]
        )
    _expect_raises(c, "decode of text", LatentLabError, lambda: gen.decode("not a latent"))


def check_capability_outputs(gen: Generator, ctx: CheckContext) -> None:
    """What each declared capability returns has the documented shape."""
    c = "capability_outputs"
    s = gen.default_space
    if gen.can("codes"):
        codes = gen.codes()
        _expect(
            codes.ndim == 1 + len(s.shape) and tuple(codes.shape[1:]) == s.shape,
            c,
            f"codes() has shape {tuple(codes.shape)}, expected (F, {', '.join(map(str, s.shape))})",
        )
        _expect(bool(torch.isfinite(codes).all()), c, "codes() holds NaN or inf")
        if gen.can("labels"):
            for key, values in gen.labels().items():
                _expect(len(values) == len(codes), c, f"labels()[{key!r}] has {len(values)} rows, codes {len(codes)}")
    if gen.can("preview"):
        z = _latents(gen, 2)
        p = gen.preview(z)
        h, w = gen.image_size
        _expect(
            p.ndim == 4 and p.shape[:2] == (2, 3) and p.shape[2] <= h and p.shape[3] <= w,
            c,
            f"preview() has shape {tuple(p.shape)}, expected (2, 3, <= {h}, <= {w})",
        )
        _expect(float(p.min()) >= 0 and float(p.max()) <= 1, c, "preview() leaves [0, 1]")
    if gen.can("sefa"):
        _check_sefa_weight(gen, c)
    if gen.can("encode"):
        z = _latents(gen, 2)
        codes = gen.encode(gen.decode(z))
        _expect(tuple(codes.shape) == (2, *s.shape), c, f"encode(decode(z)) has shape {tuple(codes.shape)}")
        _expect(bool(torch.isfinite(codes).all()), c, "encode() holds NaN or inf")
    if gen.can("map"):
        _check_map(gen, c)


def _check_sefa_weight(gen: Generator, c: str) -> None:
    worked = 0
    for space in gen.spaces:
        try:
            weight = gen.sefa_weight(space)
        except CapabilityError:
            continue
        _expect(
            weight.ndim == 2 and weight.shape[1] == space.shape[-1],
            c,
            f"sefa_weight({space.name!r}) has shape {tuple(weight.shape)}, expected (out, {space.shape[-1]})",
        )
        worked += 1
    _expect(worked > 0, c, "gen declares 'sefa' but sefa_weight() works in none of its spaces")


def _check_map(gen: Generator, c: str) -> None:
    worked = 0
    for src in _sampleable(gen):
        for dst in gen.spaces:
            if dst is src:
                continue
            try:
                w = gen.map(_latents(gen, 2, space=src), src, dst)
            except (CapabilityError, InvalidValueError):
                continue
            _expect(tuple(w.shape) == (2, *dst.shape), c, f"map {src.name}->{dst.name} has shape {tuple(w.shape)}")
            worked += 1
    _expect(worked > 0, c, "gen declares 'map' but maps between none of its spaces")


def check_interpolation(gen: Generator, ctx: CheckContext) -> None:
    """A space-aware interpolation between two samples decodes; its endpoints are the samples."""
    from .interpolation import interpolate

    c = "interpolation"
    s = _sampleable(gen)[0]
    a, b = _latents(gen, 2, seed=5, space=s)
    path = interpolate(a, b, steps=5, space=s)
    _expect(tuple(path.shape) == (5, *s.shape), c, f"interpolate(steps=5) has shape {tuple(path.shape)}")
    _expect(torch.equal(path[0], a) and torch.equal(path[-1], b), c, "the path's endpoints are not a and b")
    _check_images(c, gen.decode(path, space=s), gen, 5, "decode of the path")


def check_pca_direction(gen: Generator, ctx: CheckContext) -> None:
    """ll.directions.pca finds directions whose application moves the image."""
    from .directions import pca

    c = "pca_direction"
    s = _sampleable(gen)[0]
    found = pca(gen, n_components=2, n_samples=64, space=s, seed=0)
    _expect(len(found) == 2, c, f"pca(n_components=2) gave {len(found)} directions")
    z = _latents(gen, 2, space=s)
    moved = found[0].apply(z, strength=3.0)
    _expect(tuple(moved.shape) == tuple(z.shape), c, f"Direction.apply changed the shape to {tuple(moved.shape)}")
    before, after = gen.decode(z, space=s), gen.decode(moved, space=s)
    _expect(float((after - before).abs().max()) > 1e-4, c, "the first PCA direction at strength 3 changes no pixel")


def check_explorer(gen: Generator, ctx: CheckContext) -> None:
    """An Explorer with two directions renders, follows its sliders, and closes."""
    from .widgets import Explorer

    c = "explorer"
    s = _sampleable(gen)[0]
    d = math.prod(s.shape)
    eye = torch.eye(d)[:2].reshape(2, *s.shape)
    ex = Explorer(gen, directions=[eye[0], eye[1]], space=s.name, size=64)
    try:
        _expect(ex.wait(), c, "the Explorer did not render")
        first = bytes(ex.image.value)
        _expect(len(first) > 0, c, "the Explorer shows no image")
        ex.sliders[0].value = ex.sliders[0].max
        _expect(ex.wait(), c, "the Explorer did not render after a slider move")
        _expect(float((ex.latent - ex.base).abs().sum()) > 0, c, "moving a slider did not move the latent")
    finally:
        ex.close()


def check_save_morph(gen: Generator, ctx: CheckContext) -> None:
    """ll.save_morph writes a small GIF through two samples."""
    from .animate import save_morph

    c = "save_morph"
    s = _sampleable(gen)[0]
    out = ctx.workdir / f"{gen.name.replace('/', '_')}-morph.gif"
    anim = save_morph(gen, _latents(gen, 2, space=s), out, fps=4, seconds=0.5, size=32, space=s.name, progress=False)
    _expect(out.is_file() and out.stat().st_size > 0, c, f"save_morph wrote nothing at {out}")
    _expect(max(anim.size) == 32, c, f"save_morph(size=32) made frames of {anim.size}")


def check_latent_map(gen: Generator, ctx: CheckContext) -> None:
    """A PCA LatentMap fits sampled latents and places new ones."""
    from .maps import LatentMap

    c = "latent_map"
    s = _sampleable(gen)[0]
    z = _latents(gen, 24, seed=7, space=s)
    m = LatentMap(method="pca", progress=False).fit(z)
    _expect(m.embedding_.shape == (24, 2), c, f"the map of 24 latents has shape {m.embedding_.shape}")
    xy = m.transform(_latents(gen, 2, seed=8, space=s))
    _expect(np.asarray(xy).shape == (2, 2) and bool(np.isfinite(xy).all()), c, "transform of 2 new latents failed")


#: Every check, in the order :func:`check_generator` runs them.
CHECKS: dict[str, Callable[[Generator, CheckContext], None]] = {
    "spaces": check_spaces,
    "capabilities": check_capabilities,
    "sampling": check_sampling,
    "decode": check_decode,
    "errors": check_errors,
    "capability_outputs": check_capability_outputs,
    "interpolation": check_interpolation,
    "pca_direction": check_pca_direction,
    "explorer": check_explorer,
    "save_morph": check_save_morph,
    "latent_map": check_latent_map,
}


def generator_checks(checks: Iterable[str] | None = None, skip: Iterable[str] = ()) -> list[str]:
    """The names of the checks to run (all by default), validated; handy for ``pytest.mark.parametrize``.

    Example:
        >>> generator_checks(skip=["explorer", "save_morph", "latent_map"])[:3]
        ['spaces', 'capabilities', 'sampling']
    """
    names = list(CHECKS) if checks is None else list(checks)
    skipped = set(skip)
    unknown = sorted((set(names) | skipped) - set(CHECKS))
    if unknown:
        raise InvalidValueError(
            f"unknown generator checks {unknown}",
            expected=", ".join(CHECKS),
            got=repr(unknown),
            fix="pick names from latentlab.testing.CHECKS",
        )
    return [name for name in names if name not in skipped]


def check_generator(
    gen: Generator,
    *,
    checks: Sequence[str] | None = None,
    skip: Iterable[str] = (),
    n: int = 3,
    float16: bool = True,
    workdir: str | Path | None = None,
) -> list[str]:
    """Run the generator contract on ``gen``; raise :class:`GeneratorCheckError` at the first broken rule.

    Args:
        gen: the generator to check.
        checks: names of the checks to run (default: all of :data:`CHECKS`, in order).
        skip: names of checks to leave out (e.g. ``"explorer"`` without ipywidgets).
        n: batch size of the sampled latents.
        float16: check that float16 latents decode to finite float16 images near float32 ones.
        workdir: folder for the files ``save_morph`` writes (default: a new temporary folder).

    Returns:
        The names of the checks that passed, in the order they ran.

    Raises:
        GeneratorCheckError: an ``AssertionError`` naming the check and the broken rule.
    """
    if not isinstance(gen, Generator):
        raise InvalidValueError(
            "check_generator needs a latentlab Generator",
            expected="a Generator",
            got=type(gen).__name__,
            fix="wrap your model with ll.from_module(...) first",
        )
    ctx = CheckContext(n=int(n), float16=bool(float16))
    if workdir is not None:
        ctx.workdir = Path(workdir)
        ctx.workdir.mkdir(parents=True, exist_ok=True)
    passed = []
    for name in generator_checks(checks, skip):
        CHECKS[name](gen, ctx)
        passed.append(name)
    return passed
