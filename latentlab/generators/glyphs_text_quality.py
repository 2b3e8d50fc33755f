"""Quality bars of the ``glyphs-text`` prior (issue 19), as functions the export script and the tests share.

Every bar measures fonts the prior makes, never a classifier of text: ink and slant are measured
on the decoded glyphs (each glyph on its own, :meth:`GlyphsGenerator.measure_views`), the
category of a sample is the majority category of its 10 nearest training codes, and legibility
is judged by the reader shipped with the glyphs evaluation sample.

Example:
    >>> import torch, numpy as np
    >>> codes = torch.tensor([[0.0], [0.1], [5.0]])
    >>> category_hits(torch.tensor([[0.05], [4.9]]), codes, np.array(["serif", "serif", "display"]),
    ...               "serif", k=1).tolist()
    [True, False]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch

from .. import measures

if TYPE_CHECKING:
    from .glyphs import GlyphsGenerator
    from .glyphs_text import GlyphsTextGenerator

__all__ = [
    "nearest_categories",
    "category_hits",
    "category_rate",
    "weight_spearman",
    "italic_gap",
    "mean_pairwise",
    "variety",
    "novelty",
    "heldout_caption_ranks",
    "spearman",
    "font_measure",
]


def nearest_categories(styles: torch.Tensor, codes: torch.Tensor, categories: np.ndarray, k: int = 10) -> np.ndarray:
    """The majority category of the ``k`` nearest training codes of each style latent, ``(N,)``."""
    d = torch.cdist(styles.float().cpu(), codes.float().cpu())
    nn_idx = d.topk(k, largest=False).indices.numpy()
    out = []
    for row in categories[nn_idx]:
        values, counts = np.unique(row, return_counts=True)
        out.append(values[np.argmax(counts)])
    return np.asarray(out)


def category_hits(
    styles: torch.Tensor, codes: torch.Tensor, categories: np.ndarray, asked: str, k: int = 10
) -> np.ndarray:
    """Whether each sample's 10-nearest-neighbour majority category is ``asked``, ``(N,)`` bool."""
    return nearest_categories(styles, codes, categories, k) == asked


def category_rate(
    prior: GlyphsTextGenerator,
    prompts: dict[str, str],
    codes: torch.Tensor,
    categories: np.ndarray,
    n: int = 20,
    seed: int = 0,
    guidance: float | None = None,
) -> dict[str, float]:
    """Share of ``n`` samples per prompt whose neighbours' category is the one asked: ``{prompt: rate}``."""
    out = {}
    for text, asked in prompts.items():
        styles = prior.styles(prior.sample(n, seed=seed), prompt=text, guidance=guidance)
        out[text] = float(category_hits(styles, codes, categories, asked).mean())
    return out


def font_measure(glyphs: GlyphsGenerator, styles: torch.Tensor, measure: str) -> torch.Tensor:
    """A measure of each font, ``(N,)``: the mean over the glyphs of the specimen text, each measured alone."""
    views, k = glyphs.measure_views(styles)
    return measures.get_measure(measure)[1](views).reshape(-1, k).mean(1)


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    """Spearman rank correlation of two sequences (ties share their rank); 0 when one is constant.

    Example:
        >>> spearman([1, 2, 3], [0.1, 0.5, 0.4]), spearman([1, 2, 3], [0.2, 0.2, 0.2])
        (0.5, 0.0)
    """
    from scipy.stats import spearmanr

    if np.ptp(np.asarray(a, float)) == 0 or np.ptp(np.asarray(b, float)) == 0:
        return 0.0
    return float(spearmanr(a, b)[0])


def weight_spearman(
    prior: GlyphsTextGenerator,
    words: Sequence[str],
    templates: Sequence[str],
    seeds: int = 4,
    guidance: float | None = None,
    seed: int = 0,
) -> dict[str, float]:
    """Bar 1: ink along the weight words, Spearman per (template, seed); mean and min.

    Each template (e.g. ``"a {} sans-serif"``) is filled with each word, all with the same noise
    (``seeds`` draws of the generator ``seed``), so only the words change.
    """
    rhos = []
    noise = prior.sample(seeds, seed=seed)
    for tpl in templates:
        styles = torch.stack([prior.styles(noise, prompt=tpl.format(w), guidance=guidance) for w in words])
        ink = font_measure(prior.glyphs, styles.reshape(-1, styles.shape[-1]), "ink_coverage").reshape(len(words), -1)
        rhos += [spearman(range(len(words)), ink[:, s].tolist()) for s in range(seeds)]
    return {"mean": float(np.mean(rhos)), "min": float(np.min(rhos)), "n": len(rhos)}


def italic_gap(
    prior: GlyphsTextGenerator,
    pairs: Sequence[tuple[str, str]],
    reference_std: float,
    seeds: int = 8,
    guidance: float | None = None,
    seed: int = 0,
) -> dict[str, float]:
    """Bar 2: mean per-glyph slant of the italic prompts minus the upright ones, in units of ``reference_std``."""
    noise = prior.sample(seeds, seed=seed)
    gaps = []
    for italic, upright in pairs:
        a = font_measure(prior.glyphs, prior.styles(noise, prompt=italic, guidance=guidance), "slant")
        b = font_measure(prior.glyphs, prior.styles(noise, prompt=upright, guidance=guidance), "slant")
        gaps.append(float((a - b).mean()))
    gap = float(np.mean(gaps))
    return {"slant_gap": gap, "in_std": gap / reference_std, "reference_std": reference_std}


def mean_pairwise(x: torch.Tensor) -> float:
    """Mean distance between distinct rows of ``(N, D)`` latents."""
    d = torch.cdist(x.float(), x.float())
    n = x.shape[0]
    return float(d.sum() / (n * (n - 1)))


def variety(
    prior: GlyphsTextGenerator,
    prompts: Sequence[str],
    codes: torch.Tensor,
    seeds: int = 8,
    guidance: float | None = None,
    seed: int = 1,
) -> dict[str, float]:
    """Bar 5a: mean pairwise distance of ``seeds`` samples of one prompt / that of the training codes."""
    gen = torch.Generator().manual_seed(0)
    ref = codes[torch.randperm(len(codes), generator=gen)[:512]]
    base = mean_pairwise(ref)
    ratios = {
        p: mean_pairwise(prior.styles(prior.sample(seeds, seed=seed), prompt=p, guidance=guidance)) / base
        for p in prompts
    }
    return {
        "mean": float(np.mean(list(ratios.values()))),
        "min": float(min(ratios.values())),
        "train_pairwise": base,
        "each": ratios,  # type: ignore[dict-item]
    }


def novelty(styles: torch.Tensor, codes: torch.Tensor) -> dict[str, float]:
    """Bar 5b: distance of samples to their nearest training code vs the training fonts' own (leave-one-out)."""
    d = torch.cdist(styles.float(), codes.float()).min(1).values
    dc = torch.cdist(codes.float(), codes.float())
    dc.fill_diagonal_(float("inf"))
    own = dc.min(1).values
    return {
        "sample_nn_median": float(d.median()),
        "train_nn_median": float(own.median()),
        "sample_nn_min": float(d.min()),
        "share_closer_than_train_median": float((d < own.median()).float().mean()),
    }


def heldout_caption_ranks(
    prior: GlyphsTextGenerator,
    captions: Sequence[Sequence[str]],
    codes: torch.Tensor,
    samples: int = 16,
    guidance: float | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Bar 4: for each held-out font, the rank (0 = best) of its true code among all held-out codes by
    distance to the mean of ``samples`` codes generated from its captions (spread over its captions)."""
    means = []
    noise = prior.sample(samples, seed=seed)
    for caps in captions:
        texts = [caps[i % len(caps)] for i in range(samples)]
        means.append(prior.styles(noise, prompt=texts, guidance=guidance).mean(0))
    d = torch.cdist(torch.stack(means).float(), codes.float())  # (F, F): row = generated mean, col = true code
    true = d.diagonal()
    return (d < true[:, None]).sum(1).numpy()
