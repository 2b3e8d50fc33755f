"""UMAP's layout epoch in float32: the step that takes ~80% of a map fit, about 1.5x faster.

umap-learn's ``_optimize_layout_euclidean_single_epoch`` (umap 0.5) stores the embedding in
float32 but does its arithmetic in float64, because ``a``, ``b`` and the ``clip`` bounds are
Python floats: each of the ~400k point updates of an epoch on a 10k map computes one or two
float64 ``pow`` calls, about half of the epoch's time. :func:`single_epoch` is the same
algorithm, the same order of updates and the same random draws, with the arithmetic in float32
(``powf``): a 10k-point fit takes 8-9 s of CPU instead of 11-13 s here. Its maps differ from
umap-learn's bit for bit (SGD amplifies rounding) and match them in quality (the share of
nearest neighbours kept and the trustworthiness, equal within the seed spread on 10k points);
``tests/test_maps.py`` checks both, and ``python -m benchmarks maps`` times the fits. densMAP's
terms are not implemented: latentlab never asks umap for densMAP.

This module imports numba and umap; :mod:`latentlab.maps` imports it only when a UMAP map is
fitted.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numba
import numpy as np
from umap.utils import tau_rand_int

__all__ = ["single_epoch", "float32_layout"]

_FOUR = np.float32(4.0)


@numba.njit(fastmath=True, cache=True)
def _clip(value: np.float32) -> np.float32:  # pragma: no cover - compiled
    if value > _FOUR:
        return _FOUR
    if value < -_FOUR:
        return -_FOUR
    return value


@numba.njit(fastmath=True, cache=True)
def _squared_distance(x: np.ndarray, y: np.ndarray, dim: int) -> np.float32:  # pragma: no cover - compiled
    """umap's ``rdist`` accumulated in float32 (umap's starts from the float64 literal ``0.0``)."""
    total = np.float32(0.0)
    for d in range(dim):
        diff = x[d] - y[d]
        total += diff * diff
    return total


@numba.njit(fastmath=True, cache=True)
def single_epoch(  # umap calls it with its positional arguments, one for one
    head_embedding: np.ndarray,
    tail_embedding: np.ndarray,
    head: np.ndarray,
    tail: np.ndarray,
    n_vertices: int,
    epochs_per_sample: np.ndarray,
    a: float,
    b: float,
    rng_state_per_sample: np.ndarray,
    gamma: float,
    dim: int,
    move_other: bool,
    alpha: float,
    epochs_per_negative_sample: np.ndarray,
    epoch_of_next_negative_sample: np.ndarray,
    epoch_of_next_sample: np.ndarray,
    n: int,
    densmap_flag: bool,
    dens_phi_sum: np.ndarray,
    dens_re_sum: np.ndarray,
    dens_re_cov: float,
    dens_re_std: float,
    dens_re_mean: float,
    dens_lambda: float,
    dens_r: np.ndarray,
    dens_mu: np.ndarray,
    dens_mu_tot: float,
) -> None:  # pragma: no cover - compiled
    """One SGD epoch over the graph's edges: umap's ``_optimize_layout_euclidean_single_epoch`` in float32."""
    a32 = np.float32(a)
    b32 = np.float32(b)
    attract = np.float32(-2.0 * a * b)
    repel = np.float32(2.0 * gamma * b)
    alpha32 = np.float32(alpha)
    zero = np.float32(0.0)
    one = np.float32(1.0)
    for i in range(epochs_per_sample.shape[0]):
        if epoch_of_next_sample[i] <= n:
            j = head[i]
            k = tail[i]
            current = head_embedding[j]
            other = tail_embedding[k]
            dist_squared = _squared_distance(current, other, dim)
            if dist_squared > zero:
                grad_coeff = attract * dist_squared ** (b32 - one)
                grad_coeff /= a32 * dist_squared**b32 + one
            else:
                grad_coeff = zero
            for d in range(dim):
                grad_d = _clip(grad_coeff * (current[d] - other[d]))
                current[d] += grad_d * alpha32
                if move_other:
                    other[d] += -grad_d * alpha32
            epoch_of_next_sample[i] += epochs_per_sample[i]
            n_neg_samples = int((n - epoch_of_next_negative_sample[i]) / epochs_per_negative_sample[i])
            for _ in range(n_neg_samples):
                k = tau_rand_int(rng_state_per_sample[j]) % n_vertices
                other = tail_embedding[k]
                dist_squared = _squared_distance(current, other, dim)
                if dist_squared > zero:
                    grad_coeff = repel / ((np.float32(0.001) + dist_squared) * (a32 * dist_squared**b32 + one))
                elif j == k:
                    continue
                else:
                    grad_coeff = zero
                if grad_coeff > zero:
                    for d in range(dim):
                        current[d] += _clip(grad_coeff * (current[d] - other[d])) * alpha32
            epoch_of_next_negative_sample[i] += n_neg_samples * epochs_per_negative_sample[i]


@contextlib.contextmanager
def float32_layout(enabled: bool = True) -> Iterator[None]:
    """While the block runs, umap's serial layout epoch is :func:`single_epoch`; umap is restored after.

    Only latentlab's own fits see the swap: code that calls umap-learn directly before or after
    gets umap's kernel. ``enabled=False`` swaps nothing (umap's float64 arithmetic).
    """
    import umap.layouts as layouts

    name = "_nb_optimize_layout_euclidean_single_epoch"
    original: Any = getattr(layouts, name, None)
    if not enabled or original is None:
        yield
        return
    setattr(layouts, name, single_epoch)
    try:
        yield
    finally:
        setattr(layouts, name, original)
