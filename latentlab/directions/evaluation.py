"""What directions do: :func:`preview` grids, :func:`response` curves, :func:`entanglement` tables.

:func:`measure_samples` measures decoded samples (the labels for :func:`~latentlab.directions.from_labels`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .. import measures as _measures
from .._checks import to_tensor
from .._optional import require
from ..errors import InvalidValueError
from ..generators.base import Generator
from ..render import grid
from ..spaces import LatentSpace
from ._common import (
    as_strengths,
)
from .model import Direction, DirectionSet

__all__ = ["EntanglementTable", "Response", "entanglement", "measure_samples", "preview", "response"]


def measure_samples(
    gen: Generator,
    measure: str | _measures.Measure,
    n: int = 2000,
    seed: int = 0,
    space: str | LatentSpace | None = None,
    *,
    batch_size: int = 256,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Label the generator's own samples with a measure (InterFaceGAN's recipe: sample, render, score).

    Args:
        gen: the generator.
        measure: a measure name or function ``images (N, 3, H, W) -> (N,)`` (e.g. a classifier);
            it sees :meth:`~latentlab.Generator.measure_views` (for ``glyphs``: each glyph, averaged).
        n: number of samples.
        seed: sampling seed.
        space: the space to sample (default space when ``None``).

    Returns:
        ``(codes (n, *space.shape), labels (n,))``, ready for :func:`from_labels`.

    Example:
        >>> import latentlab as ll
        >>> gen = ll.load("digits")
        >>> z, y = measure_samples(gen, "slant", n=500)
        >>> d = ll.directions.from_labels(z, y, method="ridge", space=gen, name="slant")
        >>> d.provenance["scores"]["heldout_r2"] > 0.5
        True
    """
    s = gen.space(space)
    _, fn = _measures.get_measure(measure)
    codes = gen.sample(n, seed=seed, space=s)
    return codes, _measure_batched(gen, [fn], codes, s, batch_size)[0].float()


def _decode_batched(gen: Generator, z: torch.Tensor, space: LatentSpace, batch_size: int = 256) -> torch.Tensor:
    return torch.cat([gen.decode(chunk, space=space) for chunk in z.split(batch_size)])


def _measure_batched(
    gen: Generator, fns: Sequence[_measures.Measure], z: torch.Tensor, space: LatentSpace, batch_size: int = 256
) -> list[torch.Tensor]:
    """Each measure of the images of ``z``, ``(N,)`` float64 per measure (averaged over
    :meth:`~latentlab.Generator.measure_views`, e.g. the glyphs of a font)."""
    out: list[list[torch.Tensor]] = [[] for _ in fns]
    for chunk in z.split(batch_size):
        views, k = gen.measure_views(chunk, space=space)
        for values, fn in zip(out, fns):
            values.append(to_tensor(fn(views)).detach().cpu().double().view(len(chunk), k).mean(1))
    return [torch.cat(v) for v in out]


def _start_latents(gen: Generator, space: LatentSpace, z: Any, seeds: int | Sequence[int]) -> torch.Tensor:
    if z is not None:
        t = to_tensor(z, name="z").to(gen.device, torch.float32)
        return t.unsqueeze(0) if tuple(t.shape) == space.shape else t
    seed_list = list(range(seeds)) if isinstance(seeds, int) else [int(x) for x in seeds]
    if not seed_list:
        raise InvalidValueError(
            "no starting latents", expected="seeds=8 or a list of seeds", got=seeds, fix="pass seeds=8"
        )
    return torch.cat([gen.sample(1, seed=sd, space=space) for sd in seed_list])


def preview(
    gen: Generator,
    d: Direction | DirectionSet,
    z: Any = None,
    strengths: Sequence[float] = (-3.0, -1.5, 0.0, 1.5, 3.0),
    *,
    seeds: int | Sequence[int] = 4,
) -> torch.Tensor:
    """Image grid of a direction's effect, to see (and name) what it does.

    For one :class:`Direction`: one row per starting latent, one column per strength.
    For a :class:`DirectionSet`: one row per direction, applied to the first starting latent.

    Args:
        gen: the generator.
        d: a Direction or a DirectionSet (all checked against ``gen``).
        z: starting latents ``(N, *shape)`` or one ``(*shape)``; default: one sample per seed.
        strengths: the columns (include both extremes).
        seeds: seeds of the default starting latents.

    Returns:
        One grid image ``(3, H', W')`` in ``[0, 1]`` (show it with ``ll.show``).

    Example:
        >>> import latentlab as ll
        >>> gen = ll.load("digits")
        >>> d = ll.directions.sefa(gen)[0]
        >>> preview(gen, d, seeds=2, strengths=[-3, 0, 3]).shape   # 2 rows x 3 columns of 32 px
        torch.Size([3, 70, 104])
    """
    items = list(d) if isinstance(d, DirectionSet) else [d]
    if not items:
        raise InvalidValueError(
            "nothing to preview",
            expected="a Direction or a non-empty DirectionSet",
            got="an empty set",
            fix="pass at least one direction",
        )
    space = items[0].check_compatible(gen)
    for item in items[1:]:
        item.check_compatible(gen)
    start = _start_latents(gen, space, z, seeds)
    if isinstance(d, DirectionSet):
        rows = torch.stack([item.apply(start[0], strengths) for item in items])  # (R, S, *shape)
    else:
        rows = d.apply(start, strengths).transpose(0, 1)  # (N, S, *shape)
    n_cols = rows.shape[1]
    images = _decode_batched(gen, rows.reshape(-1, *space.shape), space)
    return grid(images, nrow=n_cols)


@dataclass
class Response:
    """A measured image attribute against strength along a direction.

    Attributes:
        direction: the direction's name.
        measure: the measure's name.
        strengths: ``(S,)`` strengths.
        values: ``(S, N)`` measured values (one column per starting latent).
    """

    direction: str
    measure: str
    strengths: np.ndarray
    values: np.ndarray

    @property
    def mean(self) -> np.ndarray:
        """``(S,)`` mean over starting latents."""
        return np.asarray(self.values.mean(1))

    @property
    def std(self) -> np.ndarray:
        """``(S,)`` standard deviation over starting latents."""
        return np.asarray(self.values.std(1))

    def spearman(self) -> float:
        """Spearman rank correlation between strength and the mean response (1 = rises monotonically)."""
        stats = require("scipy.stats", purpose="Response.spearman")
        return float(stats.spearmanr(self.strengths, self.mean).statistic)

    def slope(self) -> float:
        """Least-squares slope of the mean response per unit strength."""
        return float(np.polyfit(self.strengths, self.mean, 1)[0])

    def plot(self, ax: Any = None, label: str | None = None, band: bool = True) -> Any:
        """Plot the mean (and, with ``band``, mean +- std) against strength with matplotlib; returns the axes."""
        if ax is None:
            plt = require("matplotlib.pyplot", purpose="Response.plot")
            _, ax = plt.subplots(figsize=(4.5, 3))
        line = ax.plot(self.strengths, self.mean, marker="o", label=label or self.direction)[0]
        if band:
            ax.fill_between(
                self.strengths, self.mean - self.std, self.mean + self.std, alpha=0.2, color=line.get_color()
            )
        ax.set_xlabel(f"strength along {self.direction}")
        ax.set_ylabel(self.measure)
        ax.grid(alpha=0.3)
        return ax

    def __repr__(self) -> str:
        pairs = ", ".join(f"{s:+.2g}: {m:.3g}" for s, m in zip(self.strengths, self.mean))
        return f"<Response {self.measure} along {self.direction!r}: {pairs}>"


def response(
    gen: Generator,
    d: Direction,
    measure: str | _measures.Measure,
    strengths: Sequence[float] = (-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0),
    seeds: int | Sequence[int] = 8,
    *,
    z: Any = None,
) -> Response:
    """Measure an image attribute along a direction, over several starting latents.

    Args:
        gen: the generator (checked against the direction).
        d: the direction.
        measure: a name from :data:`latentlab.measures.MEASURES` or a function
            ``images (N, 3, H, W) -> (N,)``; it sees :meth:`~latentlab.Generator.measure_views`
            (for ``glyphs``: each glyph of ``gen.text``, averaged per font).
        strengths: ``S`` strengths.
        seeds: ``N`` seeds (or a count) of the starting latents, one ``gen.sample(1, seed=...)`` each.
        z: starting latents ``(N, *shape)`` instead of seeds.

    Returns:
        A :class:`Response` with ``values (S, N)``, ``mean``, ``std``, ``spearman()``, ``plot()``.

    Example:
        >>> import latentlab as ll
        >>> gen = ll.load("digits")
        >>> r = response(gen, ll.directions.sefa(gen)[0], "ink_coverage", [-2, 0, 2], seeds=3)
        >>> r.values.shape
        (3, 3)
    """
    space = d.check_compatible(gen)
    measure_name, fn = _measures.get_measure(measure)
    start = _start_latents(gen, space, z, seeds)
    s = np.asarray(as_strengths(list(strengths)), dtype=np.float64).reshape(-1)
    moved = d.apply(start, s.tolist())  # (S, N, *shape)
    values = _measure_batched(gen, [fn], moved.reshape(-1, *space.shape), space)[0]
    return Response(d.name, measure_name, s, values.view(len(s), len(start)).numpy())


@dataclass
class EntanglementTable:
    """How much each direction moves each measure, in standard deviations per unit strength.

    Attributes:
        rows: direction names.
        columns: measure names.
        values: ``(R, C)`` effects: mean change of the measure per unit strength, divided by
            the measure's spread over the starting images.
        cosines: ``(R, R)`` cosine similarities between the directions (latent entanglement).
    """

    rows: list[str]
    columns: list[str]
    values: np.ndarray
    cosines: np.ndarray = field(repr=False)

    def to_pandas(self) -> Any:
        """The effects as a ``pandas.DataFrame`` (needs pandas)."""
        pd = require("pandas", purpose="EntanglementTable.to_pandas")
        return pd.DataFrame(self.values, index=self.rows, columns=self.columns)

    def __repr__(self) -> str:
        w = max([len(r) for r in self.rows] + [9])
        head = " " * w + "".join(f"{c:>15}" for c in self.columns)
        lines = [head] + [f"{r:<{w}}" + "".join(f"{v:>+15.3f}" for v in row) for r, row in zip(self.rows, self.values)]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        big = float(np.abs(self.values).max()) or 1.0

        def cell(v: float) -> str:
            alpha = min(1.0, abs(v) / big)
            colour = f"rgba(220,80,60,{alpha:.2f})" if v > 0 else f"rgba(60,110,220,{alpha:.2f})"
            return f'<td style="background:{colour};text-align:right">{v:+.2f}</td>'

        head = "<tr><th></th>" + "".join(f"<th>{c}</th>" for c in self.columns) + "</tr>"
        body = "".join(
            f"<tr><th>{r}</th>" + "".join(cell(float(v)) for v in row) + "</tr>"
            for r, row in zip(self.rows, self.values)
        )
        return f"<table>{head}{body}</table>"


def entanglement(
    gen: Generator,
    directions: Iterable[Direction],
    measures: Sequence[str | _measures.Measure] = (
        "ink_coverage",
        "centroid_x",
        "centroid_y",
        "width",
        "slant",
        "stroke_weight",
    ),
    *,
    strength: float = 2.0,
    seeds: int | Sequence[int] = 8,
    z: Any = None,
) -> EntanglementTable:
    """Entanglement table: the effect of every direction on every measure (and their cosines).

    Each direction moves the starting latents by ``-strength`` and ``+strength``; the effect
    on a measure is ``mean(m(+s) - m(-s)) / (2 s)`` divided by the measure's standard
    deviation over the unedited starting images, so columns are comparable. A clean
    direction moves its own measure strongly and the others little. Any function
    ``images -> (N,)`` works as a measure, including a label classifier.

    Returns:
        An :class:`EntanglementTable` (prints as text, renders as a coloured HTML table).
    """
    items = list(directions)
    if not items:
        raise InvalidValueError(
            "entanglement() needs directions",
            expected="a list of Directions",
            got="nothing",
            fix="pass [bold, italic, ...]",
        )
    space = items[0].check_compatible(gen)
    for d in items[1:]:
        d.check_compatible(gen)
    named = [_measures.get_measure(m) for m in measures]
    fns = [fn for _, fn in named]
    start = _start_latents(gen, space, z, seeds)
    spreads = [float(v.std()) + 1e-8 for v in _measure_batched(gen, fns, start, space)]
    values = np.zeros((len(items), len(named)))
    for i, d in enumerate(items):
        moved = d.apply(start, [-strength, strength])
        for j, m in enumerate(_measure_batched(gen, fns, moved.reshape(-1, *space.shape), space)):
            m = m.view(2, len(start))
            values[i, j] = float((m[1] - m[0]).mean()) / (2 * strength) / spreads[j]
    flat = torch.stack([d.vector.flatten().double() for d in items])
    return EntanglementTable([d.name for d in items], [n for n, _ in named], values, (flat @ flat.T).numpy())
