"""Unsupervised direction finders: :func:`pca` (GANSpace, streaming covariance), :func:`sefa`, :func:`jacobian`."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .._checks import shape_str, to_tensor
from .._optional import require
from ..errors import CapabilityError, InvalidValueError, ShapeError
from ..generators.base import Generator
from ..spaces import LatentSpace
from ._common import (
    base_provenance,
    codes_matrix,
)
from .model import Direction, DirectionSet

__all__ = ["jacobian", "pca", "sefa"]

STREAM_COV_MAX_DIM = 4096  # streaming PCA keeps a D x D covariance up to here, IncrementalPCA above
COV_BLOCK_ROWS = 4096  # rows per block of the covariance accumulation (fixed, so chunking does not matter)


def sign_fix(vectors: torch.Tensor) -> torch.Tensor:
    """Flip each row so that its largest-magnitude entry is positive (deterministic signs)."""
    idx = vectors.abs().argmax(dim=1)
    signs = torch.sign(vectors[torch.arange(len(vectors)), idx])
    signs[signs == 0] = 1
    return vectors * signs.unsqueeze(1)


def _sample_space(gen: Generator, space: LatentSpace, n: int, rng: torch.Generator) -> torch.Tensor:
    """``(n, *space.shape)`` samples of ``space``: from its prior, or mapped from the default space."""
    try:
        return gen.sample(n, seed=rng, space=space).detach().cpu()
    except CapabilityError:
        if not gen.can("map") or space == gen.default_space:
            raise CapabilityError(
                f"cannot sample the {space.name!r} space of {gen.name!r} for PCA",
                expected="a space with a normal prior, or a generator that can map into it",
                got=f"prior {space.prior!r}, capabilities {sorted(gen.capabilities)}",
                fix="pass codes=... (e.g. encoded images) to run PCA on them instead",
            ) from None
    z = gen.sample(n, seed=rng)
    return gen.map(z, gen.default_space, space).detach().cpu()


def working_dtype(dtype: Any) -> torch.dtype:
    """The precision of the covariance blocks of data of ``dtype``: float64 for float64 data, else float32."""
    return torch.float64 if dtype in (torch.float64, np.float64) else torch.float32


class CovarianceStream:
    """Streaming mean and covariance (one pass, O(D^2) memory), independent of how the rows are chunked.

    Rows are processed in fixed blocks of :data:`COV_BLOCK_ROWS` (``update`` buffers rows until a
    block is full; :meth:`result` flushes the remainder), so any chunking of the same rows gives
    bit-identical results: streaming and in-memory PCA agree exactly. Each block is shifted by the
    first block's mean (numerical stability with a large offset) and its outer product is computed
    in the data's precision (float32 data: float32 BLAS syrk, as scikit-learn does for its whole
    covariance; float64 data: float64), then the blocks are summed in float64.

    Args:
        dim: ``D``, the number of columns.
        dtype: precision of the blocks (``torch.float32`` or ``torch.float64``); when ``None``,
            float64 if the first rows are float64, else float32.
        block_rows: rows per block (``0``: :data:`COV_BLOCK_ROWS`).

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> x = torch.randn(5000, 3, generator=g) + 100.0
        >>> a, b = CovarianceStream(3), CovarianceStream(3)
        >>> a.update(x)
        >>> for chunk in x.split(700):
        ...     b.update(chunk)
        >>> bool(torch.equal(a.result()[1], b.result()[1]))
        True
    """

    def __init__(self, dim: int, dtype: torch.dtype | None = None, block_rows: int = 0) -> None:
        self.n = 0  # rows seen (buffered ones included)
        self.block_rows = int(block_rows) or COV_BLOCK_ROWS
        self.total = torch.zeros(dim, dtype=torch.float64)
        self.outer = torch.zeros(dim, dim, dtype=torch.float64)
        self.shift: torch.Tensor | None = None  # float64 copy of the shift, exactly representable in `dtype`
        self.dtype = dtype  # working precision of the blocks; from the first rows when None
        self._pending: list[torch.Tensor] = []
        self._pending_rows = 0

    def update(self, x: torch.Tensor) -> None:
        """Add rows ``(n, D)``; full blocks are accumulated, the rest waits for the next call."""
        x = x.detach().cpu()
        if self.dtype is None:
            self.dtype = working_dtype(x.dtype)
        self.n += len(x)
        if self._pending_rows:
            need = self.block_rows - self._pending_rows
            self._pending.append(x[:need].clone())
            self._pending_rows += len(self._pending[-1])
            x = x[need:]
            if self._pending_rows < self.block_rows:
                return
            self._accumulate(torch.cat(self._pending))
            self._pending, self._pending_rows = [], 0
        full = len(x) - len(x) % self.block_rows
        for start in range(0, full, self.block_rows):
            self._accumulate(x[start : start + self.block_rows])
        if full < len(x):  # a copy: the caller may reuse its buffer
            self._pending, self._pending_rows = [x[full:].clone()], len(x) - full

    def _accumulate(self, block: torch.Tensor) -> None:
        assert self.dtype is not None
        if self.shift is None:  # the first block's mean, rounded to the working precision
            self.shift = block.double().mean(0).to(self.dtype).double()
        xs = block.to(self.dtype) - self.shift.to(self.dtype)  # one buffer in the working precision
        self.total += xs.sum(0, dtype=torch.float64)
        # numpy spots ``a.T @ a`` and calls BLAS syrk (half the products of a general matmul)
        a = xs.numpy()
        self.outer += torch.from_numpy(a.T @ a)

    def result(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The mean ``(D,)`` and the unbiased covariance ``(D, D)`` of all rows (float64)."""
        if self._pending_rows:
            self._accumulate(torch.cat(self._pending))
            self._pending, self._pending_rows = [], 0
        assert self.shift is not None
        mean_s = self.total / self.n
        cov = (self.outer - self.n * torch.outer(mean_s, mean_s)) / max(self.n - 1, 1)
        return mean_s + self.shift, cov


def pca_from_cov(cov: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The top ``k`` eigenvalues ``(k,)`` and eigenvectors ``(k, D)`` (rows) of a covariance ``(D, D)``."""
    evals, evecs = torch.linalg.eigh(cov)
    order = torch.argsort(evals, descending=True)[:k]
    return evals[order].clamp_min(0), evecs[:, order].T


def pca(
    gen: Generator,
    n_samples: int = 10_000,
    n_components: int = 10,
    space: str | LatentSpace | None = None,
    seed: int = 0,
    *,
    codes: Any = None,
    streaming: bool | None = None,
    batch_size: int = 8192,
    name: str = "pc",
) -> DirectionSet:
    """Principal directions of a latent space (GANSpace): sample (and map), then PCA.

    Samples ``n_samples`` latents of ``space`` (from its prior, or by mapping the default
    space when the space has no prior, as GANSpace maps ``z -> w``), or uses ``codes``.
    The covariance (:class:`CovarianceStream`: blocks of 4096 rows, in float32 for samples and
    float32 codes, float64 for float64 codes, summed in float64) is factorised with ``eigh``;
    when streaming (default for ``n_samples > 50_000``), samples are drawn in batches and never
    held together: the same running covariance for ``D <= 4096``, scikit-learn's
    ``IncrementalPCA`` above.

    Args:
        gen: the generator.
        n_samples: number of samples (ignored when ``codes`` is given).
        n_components: number of principal directions.
        space: the space (default space when ``None``).
        seed: seed of the sampling.
        codes: ``(N, *space.shape)`` latents to analyse instead of samples (e.g. encoded
            images: for a VAE, whose prior is isotropic, this is where PCA is informative).
        streaming: force streaming (``True``) or in-memory (``False``) computation.
        batch_size: batch size when streaming.
        name: prefix of the component names (``pc0``, ``pc1``...).

    Returns:
        A :class:`DirectionSet` sorted by explained variance; its provenance holds
        ``explained_variance`` and ``explained_variance_ratio`` lists.
    """
    s = gen.space(space)
    if n_components < 1 or n_components > s.dim:
        raise InvalidValueError(
            "n_components out of range",
            expected=f"1 <= n_components <= {s.dim}",
            got=n_components,
            fix=f"pass n_components={min(10, s.dim)}",
        )
    rng = torch.Generator().manual_seed(int(seed))
    precision: torch.dtype | None = None  # of the covariance blocks: float32 for samples, the codes' own for codes
    if codes is not None:
        precision = working_dtype(getattr(codes, "dtype", None))  # codes_matrix makes float64; keep theirs
        x, _ = codes_matrix(codes, s)
        streaming, n_samples, source = False, len(x), "codes"
    else:
        streaming = n_samples > 50_000 if streaming is None else streaming
        source = f"samples of {s.name}" + ("" if s.prior == "normal" else f" mapped from {gen.default_space.name}")
    if n_samples < 2:
        raise InvalidValueError(
            "PCA needs at least two samples", expected="n_samples >= 2", got=n_samples, fix="pass n_samples=10_000"
        )
    if streaming:
        batches = (
            _sample_space(gen, s, min(batch_size, n_samples - i), rng).flatten(1)
            for i in range(0, n_samples, batch_size)
        )
        if s.dim <= STREAM_COV_MAX_DIM:
            stream = CovarianceStream(s.dim)
            for b in batches:
                stream.update(b)
            _, cov = stream.result()
            evals, vecs = pca_from_cov(cov, n_components)
            total, algo = float(torch.trace(cov)), "streaming covariance + eigh"
        else:
            decomposition = require("sklearn.decomposition", purpose="streaming PCA")
            ipca = decomposition.IncrementalPCA(n_components=n_components)
            for b in batches:
                if len(b) >= n_components:
                    ipca.partial_fit(b.double().numpy())
            evals = torch.from_numpy(ipca.explained_variance_)
            vecs = torch.from_numpy(ipca.components_)
            total, algo = float(evals.sum() / max(float(ipca.explained_variance_ratio_.sum()), 1e-30)), "IncrementalPCA"
    else:
        if codes is None:
            x = _sample_space(gen, s, n_samples, rng).flatten(1)
        held = CovarianceStream(s.dim, precision)
        held.update(x)  # block by block: no shifted copy of all samples
        _, cov = held.result()
        evals, vecs = pca_from_cov(cov, n_components)
        total, algo = float(torch.trace(cov)), "covariance + eigh"
    vecs = sign_fix(vecs.double())
    ratio = (evals / max(total, 1e-30)).tolist()
    prov = base_provenance(
        "pca",
        params={
            "n_components": n_components,
            "space": s.name,
            "seed": seed,
            "streaming": bool(streaming),
            "algorithm": algo,
            "source": source,
        },
        n_samples=int(n_samples),
        explained_variance=evals.tolist(),
        explained_variance_ratio=ratio,
    )
    items = [
        Direction(
            vecs[i].view(s.shape),
            s,
            f"{name}{i}",
            {**prov, "component": i, "scores": {"explained_variance_ratio": ratio[i]}},
        )
        for i in range(len(vecs))
    ]
    return DirectionSet(items, name=f"pca({gen.name}:{s.name})", provenance=prov)


def sefa(
    gen: Generator,
    space: str | LatentSpace | None = None,
    n_components: int | None = None,
    *,
    normalize_rows: bool = False,
    name: str = "sefa",
) -> DirectionSet:
    """Closed-form factorisation (SeFa): eigenvectors of ``A^T A`` of the first latent-facing weight.

    The generator's adapter says which weight ``A`` (``(out, space.dim)``) through
    ``gen.sefa_weight(space)`` and declares the ``"sefa"`` capability. The eigenvectors
    (``eigh``, the matrix is symmetric) are sorted by eigenvalue, largest first: the
    directions that change the first layer's output the most.

    Args:
        gen: a generator with ``gen.can("sefa")``.
        space: the space (default space when ``None``).
        n_components: how many directions (all when ``None``).
        normalize_rows: scale each output unit's weights to norm 1 first, as the SeFa
            reference code does for StyleGAN's style layers.
        name: prefix of the direction names.

    Returns:
        A :class:`DirectionSet`; provenance holds the eigenvalues.
    """
    if not gen.can("sefa"):
        raise CapabilityError(
            f"model {gen.name!r} does not expose a weight for SeFa",
            expected="a generator with the 'sefa' capability",
            got=f"capabilities {sorted(gen.capabilities) or 'none'}",
            fix="use ll.directions.pca(gen) or jacobian(gen, z, k) instead",
        )
    s = gen.space(space)
    a = to_tensor(gen.sefa_weight(s), name="SeFa weight").detach().cpu().double()
    if a.ndim != 2 or a.shape[1] != s.dim:
        raise ShapeError(
            "the adapter's SeFa weight does not face the latent space",
            expected=f"(out, {s.dim})",
            got=shape_str(tuple(a.shape)),
            fix="the adapter's sefa_weight() must return the weight applied to the latent",
        )
    if normalize_rows:
        a = a / a.norm(dim=1, keepdim=True).clamp_min(1e-12)
    k = s.dim if n_components is None else int(n_components)
    evals, vecs = pca_from_cov(a.T @ a, k)
    vecs = sign_fix(vecs)
    prov = base_provenance(
        "sefa",
        params={"space": s.name, "normalize_rows": normalize_rows, "weight_shape": list(a.shape)},
        eigenvalues=evals.tolist(),
    )
    items = [
        Direction(
            vecs[i].view(s.shape), s, f"{name}{i}", {**prov, "component": i, "scores": {"eigenvalue": float(evals[i])}}
        )
        for i in range(len(vecs))
    ]
    return DirectionSet(items, name=f"sefa({gen.name}:{s.name})", provenance=prov)


def jacobian(
    gen: Generator,
    z: Any,
    k: int = 5,
    space: str | LatentSpace | None = None,
    *,
    oversample: int = 8,
    n_iter: int = 2,
    seed: int = 0,
    name: str = "jac",
) -> DirectionSet:
    """Top-``k`` local directions that change the image most at ``z`` (decoder Jacobian).

    Right singular vectors of the Jacobian ``J = d decode(z) / dz`` (pixels x latent), found
    with a randomised SVD (Halko et al.) that only needs Jacobian-vector products
    (``torch.func.jvp``) and vector-Jacobian products (``torch.func.vjp``), never the full
    Jacobian.

    Args:
        gen: the generator (``decode_differentiable`` must be differentiable).
        z: one latent ``(*space.shape)`` (or ``(1, *shape)``).
        k: number of directions.
        oversample: extra random probes of the randomised SVD.
        n_iter: power iterations (sharper separation of close singular values).
        seed: seed of the random probes.

    Returns:
        A :class:`DirectionSet`; provenance holds the singular values (image change per
        unit step) and the point ``z``.
    """
    s = gen.space(space)
    t = to_tensor(z, name="z").detach().to(gen.device, torch.float32)
    if tuple(t.shape) == (1, *s.shape):
        t = t[0]
    s.check(t, "z (jacobian() needs one latent)", batch="none", fix="pass z[0] rather than a batch")
    d = s.dim
    if not 1 <= k <= d:
        raise InvalidValueError("k out of range", expected=f"1 <= k <= {d}", got=k, fix=f"pass k={min(5, d)}")
    func = torch.func

    def f(flat: torch.Tensor) -> torch.Tensor:
        return gen.decode_differentiable(flat.view(1, *s.shape), s).flatten()

    x0 = t.flatten()
    vjp_fn = func.vjp(f, x0)[1]

    def jvp(v: torch.Tensor) -> torch.Tensor:
        return func.jvp(f, (x0,), (v,))[1]

    def jv_cols(m: torch.Tensor) -> torch.Tensor:  # J @ m, m (D, l) -> (P, l)
        return torch.stack([jvp(c) for c in m.T], 1)

    def jtv_cols(m: torch.Tensor) -> torch.Tensor:  # J^T @ m, m (P, l) -> (D, l)
        return torch.stack([vjp_fn(c)[0] for c in m.T], 1)

    rng = torch.Generator().manual_seed(int(seed))
    width = min(d, k + oversample)
    with torch.enable_grad():
        q, _ = torch.linalg.qr(jv_cols(torch.randn(d, width, generator=rng).to(x0)))
        for _ in range(n_iter):
            q, _ = torch.linalg.qr(jtv_cols(q))
            q, _ = torch.linalg.qr(jv_cols(q))
        bt = jtv_cols(q).detach().double()  # (D, l) = (Q^T J)^T
    _, sv, vh = torch.linalg.svd(bt.T, full_matrices=False)
    vecs = sign_fix(vh[:k])
    prov = base_provenance(
        "jacobian",
        params={"k": k, "oversample": oversample, "n_iter": n_iter, "seed": seed, "space": s.name},
        singular_values=sv[:k].tolist(),
        point=t.cpu().flatten().tolist() if d <= 1024 else None,
    )
    items = [
        Direction(
            vecs[i].view(s.shape), s, f"{name}{i}", {**prov, "component": i, "scores": {"singular_value": float(sv[i])}}
        )
        for i in range(k)
    ]
    return DirectionSet(items, name=f"jacobian({gen.name}:{s.name})", provenance=prov)
