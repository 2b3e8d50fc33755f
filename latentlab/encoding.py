"""Real images -> latents: :func:`encode` (the model's encoder, optimisation, or both).

Three methods, one call:

* ``"encoder"``: the generator's own encoder (``gen.encode``), one forward pass; fast
  but only as good as the encoder (amortisation gap).
* ``"optimize"``: gradient descent (Adam) on the latent so that
  ``gen.decode_differentiable(z)`` matches the image. The loss is a masked multi-scale
  pixel loss (squared error of the image and of its 2x and 4x average-pooled copies, so
  coarse structure is matched before fine detail) plus a small regulariser: the prior
  ``||z||^2`` for spaces with a normal prior (Z), or the distance to the mean latent for
  spaces without one (W, estimated through ``gen.map``). Where the generator has a
  ``"w+"`` space it is used by default. Stops early once no image improves by more than
  ``tol`` (relative) for a while.
* ``"hybrid"``: encoder initialisation, then optimisation; reaches the same loss in a
  fraction of the steps. ``"auto"`` picks it whenever both halves are possible.

Every method keeps the best latents seen for each image. Press Ctrl-C (or Jupyter's
stop button) during optimisation and :func:`encode` returns those best latents so far,
with ``result.interrupted`` set.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from ._checks import check_finite, shape_str, to_tensor
from .errors import CapabilityError, InvalidValueError, ShapeError
from .generators.base import Generator
from .images import Fit, fit_images, load_images
from .spaces import LatentSpace

__all__ = ["encode", "EncodeResult", "METHODS"]

Method = Literal["auto", "encoder", "optimize", "hybrid"]
METHODS: tuple[str, ...] = ("auto", "encoder", "optimize", "hybrid")

#: default optimisation steps per method (early stopping usually ends sooner)
DEFAULT_STEPS = {"optimize": 300, "hybrid": 100}
#: regulariser weight: ``weight * mean((z - mean_latent)^2)`` is added to each image's loss
DEFAULT_REGULARIZE = 1e-4
_PATIENCE = 20
# (latents, loss, history, reconstructions or None) of one batch
_Part = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None]
_SCALES = (1, 2, 4)
_MEAN_SAMPLES = 2048


class _Scores(NamedTuple):
    """How well latents reproduce their targets: what :class:`EncodeResult` reports beside the latents."""

    loss: torch.Tensor
    mse: torch.Tensor
    history: torch.Tensor
    reconstructions: torch.Tensor


@dataclass
class EncodeResult:
    """What :func:`encode` found. ``result.latents`` is usually all you need.

    Attributes:
        latents: ``(N, *space.shape)`` best latents found, on the generator's device.
        loss: ``(N,)`` final (best) loss per image (the objective that was minimised).
        mse: ``(N,)`` mean squared pixel error of the reconstruction over observed pixels.
        history: ``(T + 1, N)`` loss per image at every step; row 0 is the initial loss
            (the encoder's for ``"hybrid"``). Steps an image's batch did not run are NaN.
        images: ``(N, 3, H, W)`` the targets as encoded (converted and resized).
        reconstructions: ``(N, 3, H, W)`` ``gen.decode(latents)``.
        mask: ``(N, 1 or 3, H, W)`` observed-pixel weights, or ``None`` (all observed).
        space: the latent space of ``latents``.
        method: the method actually used (``"auto"`` resolved).
        steps: optimisation steps run (the most of any batch; 0 for ``"encoder"``).
        seconds: wall time of the call.
        interrupted: ``True`` when Ctrl-C stopped the optimisation early.

    For ``method="encoder"`` the scores (``loss``, ``mse``, ``history``, ``reconstructions``,
    ``psnr``) are computed on first use, so encoding many images costs what ``gen.encode`` does
    (``seconds`` counts the encoding only); the optimising methods compute them as they go.

    Example:
        >>> import latentlab as ll
        >>> gen = ll.load("digits")
        >>> r = ll.encode(gen, gen.decode(gen.sample(2, seed=0)), method="encoder", progress=False)
        >>> tuple(r.latents.shape), tuple(r.loss.shape), r.method
        ((2, 16), (2,), 'encoder')
    """

    latents: torch.Tensor
    images: torch.Tensor
    space: LatentSpace
    method: str
    steps: int
    seconds: float
    interrupted: bool = False
    mask: torch.Tensor | None = field(default=None, repr=False)
    scores: _Scores | Callable[[], _Scores] | None = field(default=None, repr=False)

    def _scored(self) -> _Scores:
        """The scores, computed now if they were left for later."""
        if callable(self.scores):
            self.scores = self.scores()
        if not isinstance(self.scores, _Scores):
            raise InvalidValueError(
                "this EncodeResult has no scores",
                expected="scores from encode()",
                got=repr(self.scores),
                fix="build results with latentlab.encode(...)",
            )
        return self.scores

    @property
    def loss(self) -> torch.Tensor:
        """``(N,)`` final (best) loss per image."""
        return self._scored().loss

    @property
    def mse(self) -> torch.Tensor:
        """``(N,)`` mean squared pixel error of each reconstruction over observed pixels."""
        return self._scored().mse

    @property
    def history(self) -> torch.Tensor:
        """``(T + 1, N)`` loss per image at every step."""
        return self._scored().history

    @property
    def reconstructions(self) -> torch.Tensor:
        """``(N, 3, H, W)`` the decoded latents."""
        return self._scored().reconstructions

    @property
    def psnr(self) -> torch.Tensor:
        """``(N,)`` peak signal-to-noise ratio of each reconstruction in dB (higher is better)."""
        return 10 * torch.log10(1.0 / self.mse.clamp_min(1e-10))

    def steps_to(self, target: float | torch.Tensor) -> torch.Tensor:
        """``(N,)`` first step at which each image's loss was ``<= target`` (``-1`` if never).

        ``target`` is one number or an ``(N,)`` tensor (e.g. another result's ``loss``).
        """
        reached = self.history <= torch.as_tensor(target, dtype=self.history.dtype).view(1, -1)
        first = reached.float().argmax(0)
        return torch.where(reached.any(0), first, torch.full_like(first, -1))

    def __len__(self) -> int:
        return int(self.latents.shape[0])

    def __repr__(self) -> str:
        n = len(self)
        flag = ", interrupted" if self.interrupted else ""
        return (
            f"<EncodeResult {n} image{'s' * (n != 1)} -> {self.space.name} {shape_str(tuple(self.latents.shape))}"
            f" by {self.method!r}: {self.steps} steps, {self.seconds:.2f} s,"
            f" mean loss {float(self.loss.mean()):.4g}, mean PSNR {float(self.psnr.mean()):.1f} dB{flag}>"
        )


def encode(
    gen: Generator,
    images: Any,
    method: Method = "auto",
    *,
    steps: int | None = None,
    lr: float = 0.05,
    space: str | LatentSpace | None = None,
    mask: Any = None,
    seed: int | torch.Generator | None = 0,
    batch_size: int = 64,
    progress: bool = True,
    tol: float | None = 1e-4,
    regularize: float | None = None,
    fit: Fit = "contain",
) -> EncodeResult:
    """Find latents whose decoded images match ``images``.

    Args:
        gen: the generator.
        images: anything :func:`latentlab.load_images` reads (paths, PIL, numpy, tensors,
            a list of them); resized to ``gen.image_size`` with ``fit``, alpha composited
            on the model's paper (``gen.background`` where defined, else white).
        method: ``"encoder"``, ``"optimize"``, ``"hybrid"`` or ``"auto"`` (hybrid when the
            generator has an encoder and gradients, else whichever exists).
        steps: optimisation steps per batch (default 300 for optimize, 100 for hybrid).
        lr: Adam learning rate (warm-up over the first 5 % of steps, cosine ramp-down over the last 25 %).
        space: latent space to encode into (default ``"w+"`` when the model has it for
            optimisation, else the model's default space).
        mask: observed pixels (1 = use, 0 = ignore, in between = weight): ``(H, W)``,
            ``(N, H, W)`` or ``(N, 1 or 3, H, W)``, at the model's size or at the input
            images' size (then resized with them). A generator may define
            ``pixel_mask(mask)`` to accept other kinds (e.g. observed characters).
        seed: randomness for estimating a mean latent through ``gen.map`` (spaces without
            a prior); the bundled models use none and results are deterministic.
        batch_size: images optimised together; memory grows with it.
        progress: show a ``tqdm`` progress bar (notebook or terminal).
        tol: early stopping: stop a batch once no image's best loss improved by more than
            ``tol`` (relative) in 20 steps. ``None`` runs all ``steps``.
        regularize: weight of the prior / mean-latent regulariser (default ``1e-4``; 0 turns it off).
        fit: ``"contain"``, ``"cover"`` or ``"stretch"`` (see :func:`latentlab.load_images`).

    Returns:
        An :class:`EncodeResult`; ``result.latents`` is ``(N, *space.shape)``.

    Raises:
        CapabilityError: the method needs an encoder or gradients the generator lacks.
        InputImageError, InvalidValueError, ShapeError: unusable images or mask.

    Example:
        >>> import latentlab as ll
        >>> gen = ll.load("digits")
        >>> target = gen.decode(gen.sample(3, seed=1))           # (3, 3, 32, 32)
        >>> result = ll.encode(gen, target, steps=30, progress=False)
        >>> result.method, tuple(result.latents.shape)
        ('hybrid', (3, 16))
        >>> bool((result.loss <= result.history[0]).all())     # never worse than the encoder
        True
    """
    t0 = time.perf_counter()
    _check_args(method, steps, lr, batch_size, tol, regularize)
    target, weights = _prepare(gen, images, mask, fit)
    s = _resolve_space(gen, space, method)
    chosen = _resolve_method(gen, s, method)
    n_steps = 0 if chosen == "encoder" else int(steps if steps is not None else DEFAULT_STEPS[chosen])
    weight = DEFAULT_REGULARIZE if regularize is None else float(regularize)
    mean = None if chosen == "encoder" else _mean_latent(gen, s, seed)
    batches = _batches(target, weights, batch_size)
    bar = tqdm(total=max(1, n_steps) * len(batches), desc=f"encode ({chosen})", unit="step", disable=not progress)
    if chosen == "encoder":
        return _encode_only(
            gen,
            s,
            target,
            weights,
            batches,
            bar,
            lambda: _Run(gen, s, chosen, 0, lr, tol, weight, _mean_latent(gen, s, seed)),
            t0,
        )
    _check_gradients(gen, s, _initial(gen, s, target[:1], "optimize", mean))
    run = _Run(gen, s, chosen, n_steps, lr, tol, weight, mean)
    parts: list[_Part] = []
    try:
        for y, m in batches:
            parts.append(run.batch(y, m, bar) if not run.interrupted else run.initial_only(y, m))
    finally:
        bar.close()
    return _assemble(gen, s, chosen, run, parts, target, weights, t0)


# -- preparation ------------------------------------------------------------------------------


def _check_args(
    method: str, steps: int | None, lr: float, batch_size: int, tol: float | None, regularize: float | None
) -> None:
    if method not in METHODS:
        raise InvalidValueError(
            "unknown encode method",
            expected=" or ".join(repr(m) for m in METHODS),
            got=repr(method),
            fix="use method='auto' to let latentlab choose",
        )
    checks = [
        (steps is None or (isinstance(steps, int) and steps >= 1), "steps", "an int >= 1", steps, "pass steps=100"),
        (math.isfinite(lr) and lr > 0, "lr", "a positive learning rate", lr, "use lr=0.05"),
        (
            isinstance(batch_size, int) and batch_size >= 1,
            "batch_size",
            "an int >= 1",
            batch_size,
            "pass batch_size=64 (smaller uses less memory)",
        ),
        (
            tol is None or (math.isfinite(tol) and tol >= 0),
            "tol",
            "None or a number >= 0",
            tol,
            "use tol=1e-4, or None to run every step",
        ),
        (
            regularize is None or (math.isfinite(regularize) and regularize >= 0),
            "regularize",
            "a number >= 0",
            regularize,
            "use regularize=1e-4, or 0 to turn it off",
        ),
    ]
    for ok, name, expected, got, fix in checks:
        if not ok:
            raise InvalidValueError(f"encode() got an invalid {name}", expected=expected, got=repr(got), fix=fix)


def _prepare(gen: Generator, images: Any, mask: Any, fit: Fit) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Images -> target ``(N, 3, H, W)`` on ``gen.device``; mask -> weights ``(N, 1|3, H, W)`` or None."""
    bg = gen.background
    size = gen.image_size
    if mask is None:
        return load_images(images, size, fit, bg).to(gen.device), None
    m = _mask_tensor(gen, mask)
    if tuple(m.shape[-2:]) == size:
        target = load_images(images, size, fit, bg)
    else:
        raw = load_images(images, None, fit, bg)
        if tuple(m.shape[-2:]) != tuple(raw.shape[-2:]):
            raise ShapeError(
                "the mask matches neither the model's image size nor the images'",
                expected=f"(..., {size[0]}, {size[1]}) or (..., {raw.shape[-2]}, {raw.shape[-1]})",
                got=shape_str(tuple(m.shape)),
                fix="make the mask the same height and width as the images",
            )
        target = fit_images(raw, size, fit, bg)
        m = fit_images(m.float(), size, fit, 1.0)  # padding counts as observed paper, like the images
    return target.to(gen.device), _mask_batch(m, len(target)).to(gen.device)


def _mask_tensor(gen: Generator, mask: Any) -> torch.Tensor:
    """Any mask -> float ``(B, C, H, W)`` in [0, 1] (B is 1 or N, C is 1 or 3)."""
    t = to_tensor(gen.pixel_mask(mask), name="mask").detach()
    t = t.float()
    check_finite(t, name="mask")
    if t.ndim == 2:
        t = t[None, None]
    elif t.ndim == 3:
        t = t[:, None]
    if t.ndim != 4 or t.shape[1] not in (1, 3):
        raise ShapeError(
            "the mask has the wrong shape",
            expected="(H, W), (N, H, W) or (N, 1 or 3, H, W)",
            got=shape_str(tuple(t.shape)),
            fix="pass one weight per pixel: 1 = observed, 0 = ignore",
        )
    if t.numel() and (float(t.min()) < 0 or float(t.max()) > 1):
        raise InvalidValueError(
            "mask weights must be in [0, 1]",
            expected="0 (ignore) .. 1 (observed)",
            got=f"values in [{float(t.min()):.3g}, {float(t.max()):.3g}]",
            fix="pass a boolean mask or weights in [0, 1]",
        )
    return t


def _mask_batch(m: torch.Tensor, n: int) -> torch.Tensor:
    if m.shape[0] not in (1, n):
        raise ShapeError(
            "the mask's batch size does not match the images",
            expected=f"1 or {n} masks",
            got=f"{m.shape[0]} masks",
            fix="pass one mask for all images or one per image",
        )
    m = m.expand(n, -1, -1, -1).contiguous()
    empty = (m.flatten(1).sum(1) == 0).nonzero().flatten().tolist()
    if empty:
        raise InvalidValueError(
            "a mask hides every pixel of an image, so there is nothing to encode",
            expected="at least one observed pixel per image",
            got=f"empty masks at {empty}",
            fix="set the observed pixels to 1 (True)",
        )
    return m


def _resolve_space(gen: Generator, space: str | LatentSpace | None, method: str) -> LatentSpace:
    if space is not None:
        return gen.space(space)
    if method != "encoder" and any(s.name == "w+" for s in gen.spaces):
        return gen.space("w+")
    return gen.default_space


def _resolve_method(gen: Generator, space: LatentSpace, method: str) -> str:
    if method in ("encoder", "hybrid") and not gen.can("encode"):
        raise CapabilityError(
            f"model {gen.name!r} has no encoder",
            expected="a generator with the 'encode' capability",
            got=f"capabilities {sorted(gen.capabilities) or 'none'}",
            fix=f"use method='optimize' (gradient descent on the latent) instead of {method!r}, or method='auto'",
        )
    if method != "auto":
        return method
    if not gen.can("encode"):
        return "optimize"
    problem = _gradient_problem(gen, space, _initial(gen, space, None, "optimize", None))
    return "hybrid" if problem is None else "encoder"


def _gradient_problem(gen: Generator, space: LatentSpace, z: torch.Tensor) -> str | None:
    """``None`` when ``decode_differentiable`` gives gradients for ``z`` (one latent), else why not."""
    probe = z[:1].detach().clone().requires_grad_(True)
    try:
        with torch.enable_grad():
            out = gen.decode_differentiable(probe, space)
    except (NotImplementedError, RuntimeError, TypeError) as exc:
        return f"decode_differentiable raised {type(exc).__name__}: {exc}"
    if not isinstance(out, torch.Tensor) or out.grad_fn is None:
        return "decode_differentiable returned a tensor without an autograd graph (grad_fn is None)"
    return None


def _check_gradients(gen: Generator, space: LatentSpace, z: torch.Tensor) -> None:
    problem = _gradient_problem(gen, space, z)
    if problem is not None:
        raise CapabilityError(
            f"model {gen.name!r} gives no gradients, so images cannot be encoded by optimisation",
            expected="decode_differentiable(z) returning images with a grad_fn",
            got=problem,
            fix="use method='encoder' if the model has one; adapters must decode without torch.no_grad()",
        )


def _mean_latent(gen: Generator, space: LatentSpace, seed: int | torch.Generator | None) -> torch.Tensor | None:
    """The centre the regulariser pulls towards: 0 for a normal prior, else the mean of mapped samples."""
    if space.prior == "normal":
        return torch.zeros(space.shape, device=gen.device)
    source = next((s for s in gen.spaces if s.prior == "normal"), None)
    if source is None or not gen.can("map"):
        return None
    with torch.no_grad():
        return gen.map(gen.sample(_MEAN_SAMPLES, seed=seed, space=source), source, space).float().mean(0)


def _initial(
    gen: Generator, space: LatentSpace, y: torch.Tensor | None, method: str, mean: torch.Tensor | None
) -> torch.Tensor:
    """Starting latents ``(n, *space.shape)``: the encoder's (encoder/hybrid) or the mean latent."""
    n = 1 if y is None else len(y)
    if method in ("encoder", "hybrid") and y is not None:
        return gen.encode(y, space=space).detach().float().to(gen.device)
    centre = mean if mean is not None else torch.zeros(space.shape, device=gen.device)
    return centre.to(gen.device).expand(n, *space.shape).clone()


def _paper_where_masked(gen: Generator, y: torch.Tensor, m: torch.Tensor | None) -> torch.Tensor:
    """What the encoder sees: ignored pixels become the model's paper, so they cannot steer the start."""
    if m is None:
        return y
    bg = gen.background
    paper = torch.as_tensor(bg, dtype=y.dtype, device=y.device).reshape(1, -1, 1, 1)
    return y * m + paper * (1 - m)


# -- the objective and the optimisation loop ----------------------------------------------------------


def _data_loss(x: torch.Tensor, y: torch.Tensor, m: torch.Tensor | None) -> torch.Tensor:
    """Masked multi-scale squared error per image ``(N,)``: full, 2x and 4x average-pooled residuals."""
    w = torch.ones_like(y[:, :1]) if m is None else m
    d = (x - y) * w  # masked-out residuals are exactly 0, whatever the image holds there
    total = x.new_zeros(len(x))
    scales = [k for k in _SCALES if min(x.shape[-2:]) >= 4 * k] or [1]
    for k in scales:
        dk = F.avg_pool2d(d, k) if k > 1 else d
        wk = F.avg_pool2d(w, k) if k > 1 else w
        denom = wk.expand_as(dk).flatten(1).sum(1).clamp_min(1e-8)
        total = total + dk.pow(2).flatten(1).sum(1) / denom
    return total / len(scales)


def _masked_mse(x: torch.Tensor, y: torch.Tensor, m: torch.Tensor | None) -> torch.Tensor:
    w = torch.ones_like(y[:, :1]) if m is None else m
    w = w.expand_as(y)
    return ((x - y).pow(2) * w).flatten(1).sum(1) / w.flatten(1).sum(1).clamp_min(1e-8)


def _lr_factor(t: int, total: int) -> float:
    """NVlabs-projector style schedule: linear warm-up (5 %), cosine ramp-down (last 25 %)."""
    frac = t / max(1, total)
    down = 0.5 - 0.5 * math.cos(math.pi * min(1.0, (1.0 - frac) / 0.25))
    return down * min(1.0, frac / 0.05 + 1.0 / max(1, total))


class _Run:
    """State shared by the batches of one :func:`encode` call."""

    def __init__(
        self,
        gen: Generator,
        space: LatentSpace,
        method: str,
        steps: int,
        lr: float,
        tol: float | None,
        weight: float,
        mean: torch.Tensor | None,
    ) -> None:
        self.gen, self.space, self.method, self.steps = gen, space, method, steps
        self.lr, self.tol, self.weight, self.mean = lr, tol, weight, mean
        self.interrupted = False

    def loss(self, z: torch.Tensor, y: torch.Tensor, m: torch.Tensor | None) -> torch.Tensor:
        """Per-image objective ``(N,)``, differentiable in ``z``."""
        return self._objective(self.gen.decode_differentiable(z, self.space), z, y, m)

    def evaluate(self, z: torch.Tensor, y: torch.Tensor, m: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-image objective ``(N,)`` and the images ``(N, 3, H, W)``, without gradients (any generator)."""
        with torch.no_grad():
            x = self.gen.decode(z, self.space)
            return self._objective(x, z, y, m), x

    def _objective(self, x: torch.Tensor, z: torch.Tensor, y: torch.Tensor, m: torch.Tensor | None) -> torch.Tensor:
        if tuple(x.shape) != tuple(y.shape):
            raise ShapeError(
                f"the decoder of {self.gen.name!r} returned the wrong shape",
                expected=shape_str(tuple(y.shape)),
                got=shape_str(tuple(x.shape)),
                fix="the adapter must return (N, 3, H, W) images at gen.image_size",
            )
        total = _data_loss(x, y, m)
        if self.weight > 0 and self.mean is not None:
            total = total + self.weight * (z - self.mean).pow(2).flatten(1).mean(1)
        return total

    def initial_only(self, y: torch.Tensor, m: torch.Tensor | None) -> _Part:
        """Latents, loss and a one-row history for a batch that is not optimised (encoder / after Ctrl-C)."""
        z = _initial(self.gen, self.space, _paper_where_masked(self.gen, y, m), self.method, self.mean)
        loss, x = self.evaluate(z, y, m)
        return z, loss, loss[None].clone(), x

    def batch(self, y: torch.Tensor, m: torch.Tensor | None, bar: Any) -> _Part:
        """Optimise one batch; returns best latents ``(n, *shape)``, best loss ``(n,)``, history ``(T+1, n)``."""
        if self.method == "encoder":
            bar.update(1)
            return self.initial_only(y, m)
        z = _initial(self.gen, self.space, _paper_where_masked(self.gen, y, m), self.method, self.mean)
        z.requires_grad_(True)
        opt = torch.optim.Adam([z], lr=self.lr)
        best_z, best = z.detach().clone(), torch.full((len(y),), math.inf, device=z.device)
        last_gain = torch.zeros(len(y), dtype=torch.long, device=z.device)
        history: list[torch.Tensor] = []
        updates = 0
        try:
            for t in range(self.steps + 1):
                with torch.enable_grad():
                    loss = self.loss(z, y, m)  # the loss of z_t, before update t
                current = loss.detach()
                history.append(current)
                gained = current < best * (1 - (self.tol or 0.0))
                last_gain = torch.where(gained, t, last_gain)
                improved = current < best
                best_z = torch.where(improved.view(-1, *[1] * (z.ndim - 1)), z.detach(), best_z)
                best = torch.where(improved, current, best)
                if t == self.steps or (self.tol is not None and int((t - last_gain).min()) >= _PATIENCE):
                    break
                (grad,) = torch.autograd.grad(loss.sum(), z)  # only z gets gradients, never the weights
                z.grad = grad
                for group in opt.param_groups:
                    group["lr"] = self.lr * _lr_factor(t, self.steps)
                opt.step()
                updates += 1
                bar.update(1)
                if t % 10 == 0:
                    bar.set_postfix(loss=f"{float(best.mean()):.4g}")
        except KeyboardInterrupt:
            self.interrupted = True
        if not self.interrupted:
            bar.update(self.steps - updates)  # early stopping: count the skipped steps as done
        if not history:  # interrupted before the first loss: fall back to the starting latents
            return self.initial_only(y, m)
        return best_z, best, torch.stack(history), None


def _batches(
    target: torch.Tensor, weights: torch.Tensor | None, batch_size: int
) -> list[tuple[torch.Tensor, torch.Tensor | None]]:
    """The ``(images, mask)`` batches one :func:`encode` call works through, in order."""
    return [
        (target[i : i + batch_size], None if weights is None else weights[i : i + batch_size])
        for i in range(0, len(target), batch_size)
    ]


def _encode_only(
    gen: Generator,
    space: LatentSpace,
    target: torch.Tensor,
    weights: torch.Tensor | None,
    batches: list[tuple[torch.Tensor, torch.Tensor | None]],
    bar: Any,
    make_run: Callable[[], _Run],
    t0: float,
) -> EncodeResult:
    """``method="encoder"``: the encoder's latents now, the scores (a decode of every image) when first asked."""
    latents = []
    try:
        for y, m in batches:
            latents.append(_initial(gen, space, _paper_where_masked(gen, y, m), "encoder", None))
            bar.update(1)
    finally:
        bar.close()
    z = torch.cat(latents).detach()

    def score() -> _Scores:
        run = make_run()
        evaluated = [run.evaluate(zb, y, m) for zb, (y, m) in zip(z.split([len(y) for y, _ in batches]), batches)]
        loss = torch.cat([e[0] for e in evaluated]).detach().cpu()
        recon = torch.cat([e[1] for e in evaluated])
        return _Scores(
            loss=loss, mse=_masked_mse(recon, target, weights).cpu(), history=loss[None].clone(), reconstructions=recon
        )

    return EncodeResult(
        latents=z,
        images=target,
        space=space,
        method="encoder",
        steps=0,
        seconds=time.perf_counter() - t0,
        mask=weights,
        scores=score,
    )


def _assemble(
    gen: Generator,
    space: LatentSpace,
    method: str,
    run: _Run,
    parts: list[_Part],
    target: torch.Tensor,
    weights: torch.Tensor | None,
    t0: float,
) -> EncodeResult:
    latents = torch.cat([p[0] for p in parts])
    loss = torch.cat([p[1] for p in parts])
    rows = max(p[2].shape[0] for p in parts)
    history = torch.full((rows, len(target)), math.nan)
    start = 0
    for _, _, h, _ in parts:
        history[: h.shape[0], start : start + h.shape[1]] = h.cpu()
        start += h.shape[1]
    with torch.no_grad():
        recon = torch.cat([p[3] if p[3] is not None else gen.decode(p[0], space) for p in parts])
    scores = _Scores(
        loss=loss.detach().cpu(), mse=_masked_mse(recon, target, weights).cpu(), history=history, reconstructions=recon
    )
    return EncodeResult(
        latents=latents.detach(),
        images=target,
        space=space,
        method=method,
        steps=rows - 1,
        seconds=time.perf_counter() - t0,
        interrupted=run.interrupted,
        mask=weights,
        scores=scores,
    )
