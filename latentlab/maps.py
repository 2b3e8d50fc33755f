"""2-D maps of a latent space: :class:`LatentMap` (UMAP via umap-learn, or PCA).

A map places every latent of a collection (training codes, encoded images, samples)
on a plane so that neighbours stay neighbours. Because latentlab holds the generator,
any point of the map -- even one between the data -- can be rendered:
:meth:`LatentMap.inverse_transform` turns map points back into latents.

Layouts: latents ``(N, *space.shape)`` are flattened to ``(N, D)``; map points are
``float32 (N, 2)`` numpy arrays.

Speed (umap-learn is optional, the ``[maps]`` extra): umap-learn compiles its kernels
with numba on first use and searches neighbours with pynndescent, which recompiles in
every new process. latentlab instead

* computes the exact k nearest neighbours with torch (chunked ``cdist`` + ``topk``)
  and hands them to umap as ``precomputed_knn``, so pynndescent never runs;
* points ``NUMBA_CACHE_DIR`` at ``~/.cache/latentlab/numba`` (unless the user set it)
  before umap is imported, and compiles umap's per-epoch layout and graph kernels with
  ``cache=True``, so a second Python process reuses the machine code.

Example:
    >>> import torch
    >>> codes = torch.randn(200, 16, generator=torch.Generator().manual_seed(0))
    >>> m = LatentMap(method="pca").fit(codes, labels=(codes[:, 0] > 0).long())
    >>> m.embedding_.shape
    (200, 2)
    >>> m.inverse_transform(m.embedding_[:3]).shape
    torch.Size([3, 16])
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import functools
import math
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, overload

import numpy as np
import torch

from ._atomic import atomic_path
from ._checks import check_finite, check_int, shape_str, to_tensor
from ._optional import require
from .colors import MAX_LEGEND, category_colors, is_categorical
from .errors import InvalidValueError, ShapeError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .generators.base import Generator
    from .widgets.map import MapWidget

__all__ = [
    "LatentMap",
    "knn",
    "select_polygon",
    "spread_points",
    "numba_cache_dir",
    "numba_cache_is_warm",
    "warm_numba_cache",
]

Method = Literal["umap", "pca"]
_METHODS = ("umap", "pca")
_T = TypeVar("_T")
_THUMB_PX = 34.0  # plot thumbnails: height on the canvas, in pixels
_THUMB_MAX_W = 110.0  # ... and the widest a wide image may get before it shrinks


# -- nearest neighbours ---------------------------------------------------------
def knn(
    queries: torch.Tensor,
    data: torch.Tensor,
    k: int,
    *,
    chunk: int = 2048,
    progress: bool = False,
    desc: str = "neighbours",
    data_sq: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact Euclidean k nearest neighbours, chunked so memory stays at ``chunk x M`` floats.

    Args:
        queries: ``(N, D)`` float tensor.
        data: ``(M, D)`` float tensor.
        k: neighbours per query (``<= M``).
        chunk: queries per block.
        progress: show a tqdm bar over the blocks.
        data_sq: ``(M,)`` squared row norms of ``data`` when the caller keeps them (repeated
            queries against the same data); computed here when ``None``.

    Returns:
        ``(indices (N, k) int64, distances (N, k) float32)``, nearest first. A query that
        is also in ``data`` finds itself first at distance 0.

    Example:
        >>> x = torch.tensor([[0.0, 0.0], [1.0, 0.0], [5.0, 0.0]])
        >>> idx, dist = knn(x, x, 2)
        >>> idx.tolist(), dist[:, 1].tolist()
        ([[0, 1], [1, 0], [2, 1]], [1.0, 1.0, 4.0])
    """
    from tqdm.auto import tqdm

    q = queries.detach().float()
    d = data.detach().float()
    d_sq = (d * d).sum(1) if data_sq is None else data_sq
    idx_out = torch.empty((q.shape[0], k), dtype=torch.int64)
    dist_out = torch.empty((q.shape[0], k), dtype=torch.float32)
    starts = range(0, q.shape[0], chunk)
    for s in tqdm(starts, desc=desc, disable=not progress, leave=False):
        block = q[s : s + chunk]
        # ||a-b||^2 = |a|^2 + |b|^2 - 2ab; |a|^2 is the same along a row, so |b|^2 - 2ab (one fused
        # matmul-add per block) ranks the candidates
        rank = torch.addmm(d_sq[None, :], block, d.T, alpha=-2.0)
        _, ids = torch.topk(rank, k, dim=1, largest=False, sorted=True)
        # exact distances for the chosen few (the matmul form loses digits near 0)
        exact = (block[:, None, :].double() - d[ids].double()).norm(dim=2)
        exact, order = exact.sort(dim=1, stable=True)
        idx_out[s : s + chunk] = ids.gather(1, order)
        dist_out[s : s + chunk] = exact.float()
    return idx_out, dist_out


# -- numba cache ------------------------------------------------------------------
def numba_cache_dir() -> str:
    """Where numba caches compiled umap kernels: ``$NUMBA_CACHE_DIR`` or ``~/.cache/latentlab/numba``.

    Sets ``NUMBA_CACHE_DIR`` when the user has not, so it must run before numba is imported
    to take effect for umap-learn's own ``cache=True`` kernels.

    Example:
        >>> isinstance(numba_cache_dir(), str)
        True
    """
    if not os.environ.get("NUMBA_CACHE_DIR"):
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        folder = os.path.join(base, "latentlab", "numba")
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError:  # read-only home: numba falls back to __pycache__ next to umap
            return ""
        os.environ["NUMBA_CACHE_DIR"] = folder
        _reload_numba_config()
    return os.environ["NUMBA_CACHE_DIR"]


def _reload_numba_config() -> None:
    """If numba was imported before the cache folder was set (librosa imports it), make it read the folder."""
    import sys

    config = sys.modules.get("numba.core.config")
    if config is not None and getattr(config, "CACHE_DIR", None) != os.environ.get("NUMBA_CACHE_DIR"):
        reload = getattr(config, "reload_config", None)
        if callable(reload):
            reload()


# one kernel file per package that a UMAP fit compiles with cache=True: their index files mean "warm"
_WARM_SIGNS = (
    ("latentlab", "_umap_layout.single_epoch-"),
    ("umap", "umap_.smooth_knn_dist-"),
    ("pynndescent", "rp_trees."),
)


def _numba_cache_folder(package: str) -> Path | None:
    """The folder where numba keeps the compiled kernels of ``package`` (``None`` if it is not installed).

    Mirrors numba's own choice: ``$NUMBA_CACHE_DIR/<dir>_<sha1 of dir>`` when a cache dir is
    set, else ``__pycache__`` next to the package's source.
    """
    import hashlib
    import importlib.util

    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        return None
    source_dir = os.path.dirname(os.path.abspath(spec.origin))
    cache = numba_cache_dir()
    if not cache:
        return Path(source_dir) / "__pycache__"
    sub = os.path.split(source_dir)[-1] + "_" + hashlib.sha1(source_dir.encode()).hexdigest()
    return Path(cache) / sub


def numba_cache_is_warm() -> bool:
    """Whether numba has cached umap's and pynndescent's kernels, so a new process skips ~30 s of compiling.

    Looks only at files (imports neither umap nor numba): ``False`` when umap-learn is not
    installed or no map was fitted with this cache folder yet (:func:`warm_numba_cache` fills it).

    Example:
        >>> isinstance(numba_cache_is_warm(), bool)
        True
    """
    for package, prefix in _WARM_SIGNS:
        folder = _numba_cache_folder(package)
        if folder is None or not folder.is_dir():
            return False
        if not any(f.name.startswith(prefix) and f.suffix == ".nbi" for f in folder.iterdir()):
            return False
    return True


def warm_numba_cache(progress: bool = True) -> float:
    """Fit one tiny UMAP map so numba compiles and caches every kernel a map fit needs; returns seconds.

    Run it once per machine (``latentlab doctor --warm`` does): afterwards the first map of
    every new Python process loads machine code from :func:`numba_cache_dir` instead of
    compiling it. The kernels depend on dtypes only, not on sizes, so 300 points cover the
    maps of any size. Takes ~30 s of CPU on an empty cache, ~5 s when already warm.

    Args:
        progress: say what is happening (one line to stderr before and after).

    Returns:
        wall seconds it took.
    """
    import sys
    import time

    start = time.perf_counter()
    if progress:
        print(
            f"latentlab: compiling umap's kernels into {numba_cache_dir() or 'the __pycache__ folders'} "
            "(once per machine, about 30 s of CPU)...",
            file=sys.stderr,
            flush=True,
        )
    x = torch.randn(300, 8, generator=torch.Generator().manual_seed(0))
    LatentMap(seed=0, n_epochs=20, progress=False).fit(x)
    seconds = time.perf_counter() - start
    if progress:
        print(f"latentlab: umap kernels cached ({seconds:.0f} s); new processes reuse them", file=sys.stderr)
    return seconds


def _say_first_compile() -> None:
    """With an empty numba cache: say why the first map takes ~30 s longer (and how to avoid it)."""
    import sys

    if numba_cache_is_warm():
        return
    print(
        "latentlab: first UMAP map with this numba cache: compiling umap's kernels once (about 30 s of CPU; "
        "`latentlab doctor --warm` does it ahead of time)",
        file=sys.stderr,
        flush=True,
    )


@functools.lru_cache(maxsize=1)
def _umap() -> ModuleType:
    """Import umap-learn once, with a numba cache folder and cached copies of its hot kernels."""
    numba_cache_dir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # umap/numba import-time deprecation chatter
        umap = require("umap", purpose="LatentMap(method='umap')")
    _cache_umap_kernels()
    return umap


def _import_umap_in_background() -> concurrent.futures.Future[ModuleType]:
    """:func:`_umap` on a worker thread (a done future when umap is already imported).

    Importing umap-learn (sklearn, pynndescent, numba's cached kernels) is seconds of Python;
    torch's neighbour search releases the GIL, so on two cores the two overlap.
    """
    import importlib.util

    if _umap.cache_info().currsize or importlib.util.find_spec("umap") is None:
        done: concurrent.futures.Future[ModuleType] = concurrent.futures.Future()
        done.set_result(_umap())  # imported already, or not installed: the clear error comes now
        return done
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="latentlab-umap")
    future = pool.submit(_umap)
    pool.shutdown(wait=False)  # the import goes on; the pool's thread ends with it
    return future


def _layout_kernel(float32: bool) -> contextlib.AbstractContextManager[None]:
    """:func:`latentlab._umap_layout.float32_layout` (imports numba and umap, so only when a UMAP map is fitted)."""
    from ._umap_layout import float32_layout

    return float32_layout(float32)


def _cache_umap_kernels() -> None:
    """Recompile umap's uncached numba kernels with ``cache=True`` (same code, cached machine code).

    umap-learn 0.5 compiles its per-epoch layout step and its graph-building kernels without
    ``cache=True``; each new Python process pays that compile again. The python functions are
    unchanged; only the dispatchers are swapped, so results are identical. Any mismatch with
    another umap version leaves umap as it is.
    """
    try:
        import numba
        import umap.layouts as layouts
        import umap.umap_ as umap_
    except ImportError:
        return
    jit: Any = numba.njit
    swaps = [
        (
            layouts,
            "_nb_optimize_layout_euclidean_single_epoch",
            "_optimize_layout_euclidean_single_epoch",
            {"fastmath": True, "parallel": False},
        ),
        (
            layouts,
            "_nb_optimize_layout_euclidean_single_epoch_parallel",
            "_optimize_layout_euclidean_single_epoch",
            {"fastmath": True, "parallel": True},
        ),
    ]
    for module, name, py_name, options in swaps:
        py_func = getattr(module, py_name, None)
        current = getattr(module, name, None)
        if py_func is None or current is None or getattr(current, "_latentlab_cached", False):
            continue
        try:
            cached = jit(py_func, cache=True, **options)
            cached._latentlab_cached = True
            setattr(module, name, cached)
        except Exception:  # pragma: no cover - unknown numba/umap combination
            continue
    for name in ("smooth_knn_dist", "compute_membership_strengths"):
        current = getattr(umap_, name, None)
        if current is None or getattr(current, "_latentlab_cached", False) or not hasattr(current, "py_func"):
            continue
        try:
            options = {k: v for k, v in current.targetoptions.items() if k != "nopython"}
            cached = jit(current.py_func, cache=True, **options)
            cached._latentlab_cached = True
            setattr(umap_, name, cached)
        except Exception:  # pragma: no cover
            continue


# -- geometry helpers --------------------------------------------------------------
def select_polygon(points: np.ndarray, polygon: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
    """Indices of the ``(N, 2)`` points inside a polygon (even-odd rule), ascending.

    Args:
        points: ``(N, 2)`` map positions.
        polygon: ``(V, 2)`` vertices, ``V >= 3`` (a box is its 4 corners); it is closed for you.

    Returns:
        ``int64 (K,)`` indices.

    Example:
        >>> pts = np.array([[0.5, 0.5], [2.0, 2.0], [0.1, 0.9]])
        >>> select_polygon(pts, [[0, 0], [1, 0], [1, 1], [0, 1]]).tolist()
        [0, 2]
    """
    poly = np.asarray(polygon, dtype=np.float64)
    if poly.ndim != 2 or poly.shape[1] != 2 or poly.shape[0] < 3:
        raise ShapeError(
            "a selection polygon needs at least 3 (x, y) vertices",
            expected="(V, 2) with V >= 3",
            got=shape_str(poly.shape),
            fix="pass a list of [x, y] corners, e.g. the 4 corners of a box",
        )
    x, y = points[:, 0].astype(np.float64), points[:, 1].astype(np.float64)
    inside = np.zeros(len(points), dtype=bool)
    xj, yj = poly[-1]
    for xi, yi in poly:
        crosses = (yi > y) != (yj > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            x_cross = (xj - xi) * (y - yi) / (yj - yi) + xi
        inside ^= crosses & (x < x_cross)
        xj, yj = xi, yi
    return np.flatnonzero(inside).astype(np.int64)


def spread_points(points: np.ndarray, n: int, min_gap: float) -> np.ndarray:
    """Pick up to ``n`` points, far apart, no two closer than ``min_gap`` on either axis (no overlap).

    Greedy farthest-point order starting from the point nearest the centre, so the result
    is deterministic. Used to place thumbnails without overlap.

    Args:
        points: ``(N, 2)`` positions.
        n: how many to pick at most.
        min_gap: minimum Chebyshev distance between picked points.

    Returns:
        ``int64 (K,)`` indices, ``K <= n``.

    Example:
        >>> pts = np.array([[0.0, 0.0], [0.05, 0.0], [1.0, 1.0], [0.0, 1.0]])
        >>> sorted(spread_points(pts, 4, 0.5).tolist())
        [1, 2, 3]
    """
    if n <= 0 or len(points) == 0:
        return np.zeros(0, dtype=np.int64)
    p = points.astype(np.float64)
    start = int(np.argmin(((p - p.mean(0)) ** 2).sum(1)))
    chosen = [start]
    gap = np.abs(p - p[start]).max(1)
    while len(chosen) < n:
        j = int(np.argmax(gap))
        if gap[j] < min_gap:
            break
        chosen.append(j)
        gap = np.minimum(gap, np.abs(p - p[j]).max(1))
    return np.asarray(chosen, dtype=np.int64)


# -- the deprecated class-level fit ----------------------------------------------------
_PARAMS = ("method", "n_neighbors", "min_dist", "metric", "seed", "n_epochs", "progress")


class _fit_method(Generic[_T]):  # noqa: N801 - a decorator, named like one
    """``map.fit(x)`` as usual; ``LatentMap.fit(x, **options)`` on the class still works, with a warning."""

    def __init__(self, func: Callable[..., _T]) -> None:
        self.func = func
        functools.update_wrapper(self, func)  # type: ignore[arg-type]

    @overload
    def __get__(self, obj: None, cls: type) -> Callable[..., _T]: ...
    @overload
    def __get__(self, obj: object, cls: type | None = None) -> Callable[..., _T]: ...

    def __get__(self, obj: object | None, cls: type | None = None) -> Callable[..., _T]:
        if obj is not None:
            return functools.partial(self.func, obj)
        assert cls is not None

        def class_level_fit(latents: Any, labels: Any = None, **options: Any) -> _T:
            warnings.warn(
                "LatentMap.fit(x, **options) on the class is deprecated: use LatentMap(**options).fit(x)",
                DeprecationWarning,
                stacklevel=2,
            )
            return self.func(cls().set_params(**options), latents, labels)

        return class_level_fit


# -- the map ------------------------------------------------------------------------
class LatentMap:
    """A 2-D map of latents, scikit-learn style: ``fit`` returns self, learned attributes end in ``_``.

    Args:
        method: ``"umap"`` (needs ``pip install "latentlab[maps]"``) or ``"pca"`` (always available).
        n_neighbors: neighbourhood size for UMAP (and for the neighbour-blend placement).
        min_dist: UMAP's minimum distance between map points (0 = tight clusters).
        metric: ``"euclidean"`` or ``"cosine"`` (neighbours computed by torch); other
            umap-learn metric names fall back to umap's own (slower) neighbour search.
        seed: makes the map reproducible (UMAP then runs single-threaded, like umap-learn).
            ``None`` lets umap run in parallel, non-deterministically.
        n_epochs: UMAP layout epochs (``None``: umap's default, 500 up to 10k points, 200 above).
        progress: show tqdm bars for the phases (neighbours, layout).

    Attributes (after ``fit``):
        embedding_: ``float32 (N, 2)`` map positions.
        latents_: ``(N, *shape)`` the fitted latents (a CPU float32 tensor).
        labels_: ``dict[str, np.ndarray]`` of per-point labels (``{}`` without labels).
        knn_indices_, knn_dists_: ``(N, k)`` neighbours of each point (UMAP only).
        umap_: the fitted ``umap.UMAP`` (UMAP only).

    Class attribute:
        float32_layout: ``True`` (default): UMAP's layout epochs, ~80% of a fit, run in float32
            (:mod:`latentlab._umap_layout`; a 10k-point fit takes 8-9 s of CPU instead of 11-13 s;
            the maps differ from umap-learn's bit for bit and match them in quality). Set
            ``False`` on the class or on one map for umap-learn's own float64 epochs (then the map
            equals ``umap.UMAP``'s given the same neighbours).

    Example:
        >>> import torch
        >>> x = torch.randn(50, 4, generator=torch.Generator().manual_seed(0))
        >>> m = LatentMap(method="pca").fit(x)          # options in the constructor, fit returns self
        >>> m.transform(x[:2]).shape
        (2, 2)
    """

    float32_layout: bool = True

    def __init__(
        self,
        method: Method = "umap",
        n_neighbors: int = 15,
        min_dist: float = 0.1,
        metric: str = "euclidean",
        seed: int | None = 0,
        n_epochs: int | None = None,
        progress: bool = True,
    ) -> None:
        self.method: Method = method
        self.n_neighbors = n_neighbors
        self.min_dist = min_dist
        self.metric = metric
        self.seed = seed
        self.n_epochs = n_epochs
        self.progress = progress

    def __repr__(self) -> str:
        fitted = f", fitted on {len(self.embedding_)} points" if hasattr(self, "embedding_") else ""
        return f"LatentMap(method={self.method!r}, n_neighbors={self.n_neighbors}, seed={self.seed}{fitted})"

    # -- fitting -----------------------------------------------------------------
    @_fit_method
    def fit(self, latents: Any, labels: Any = None) -> LatentMap:
        """Check the options, place ``latents`` on the plane and return self.

        Args:
            latents: ``(N, *shape)`` tensor or array, ``N >= 3``.
            labels: optional per-point labels: a length-``N`` sequence (stored as ``"label"``)
                or a mapping / DataFrame of name -> length-``N`` sequence (e.g. ``gen.labels()``).

        Returns:
            self, with ``embedding_`` ``(N, 2)``.
        """
        self._check_params()
        x = self._check_latents(latents)
        n = x.shape[0]
        self.labels_ = _as_label_dict(labels, n)
        self.latents_ = x.reshape(n, *self.latent_shape_)
        if self.method == "pca":
            self._fit_pca(x)
        else:
            self._fit_umap(x)
        return self

    def _check_params(self) -> None:
        """Validate the constructor options (scikit-learn checks them in ``fit``, not ``__init__``)."""
        method = self.method
        if method not in _METHODS:
            raise InvalidValueError(
                f"unknown map method {method!r}",
                expected=" or ".join(map(repr, _METHODS)),
                got=repr(method),
                fix="use method='umap' (pip install \"latentlab[maps]\") or method='pca'",
            )
        check_int(
            self.n_neighbors,
            "n_neighbors",
            2,
            message="n_neighbors must be at least 2",
            fix="use 15 (umap's default); smaller shows local detail, larger global shape",
        )

    def set_params(self, **params: Any) -> LatentMap:
        """Change constructor options (as scikit-learn's ``set_params``); refit to apply them."""
        for key in params:
            if key not in _PARAMS:
                raise InvalidValueError(
                    f"LatentMap got an unknown option {key!r}",
                    expected=", ".join(_PARAMS),
                    got=key,
                    fix="check the spelling of the option",
                )
        for key, value in params.items():
            setattr(self, key, value)
        return self

    def get_params(self) -> dict[str, Any]:
        """The constructor options, as scikit-learn's ``get_params``."""
        return {
            "method": self.method,
            "n_neighbors": self.n_neighbors,
            "min_dist": self.min_dist,
            "metric": self.metric,
            "seed": self.seed,
            "n_epochs": self.n_epochs,
            "progress": self.progress,
        }

    def _check_latents(self, latents: Any) -> torch.Tensor:
        t = to_tensor(latents, name="latents")
        if t.ndim < 2 or t.shape[0] < 3:
            raise ShapeError(
                "a map needs a batch of at least 3 latents",
                expected="(N, *shape) with N >= 3",
                got=shape_str(tuple(t.shape)),
                fix="pass many latents, e.g. gen.encode(images) or gen.sample(1000, seed=0)",
            )
        t = check_finite(t.detach().to("cpu", torch.float32), name="latents")
        self.latent_shape_ = tuple(int(s) for s in t.shape[1:])
        return t.reshape(t.shape[0], -1).contiguous()

    def _fit_pca(self, x: torch.Tensor) -> None:
        mean = x.mean(0)
        xc = (x - mean).double()
        cov = xc.T @ xc / max(1, x.shape[0] - 1)
        evals, evecs = torch.linalg.eigh(cov)  # symmetric: eigh, ascending
        comps = evecs[:, -2:].flip(1).T  # (2, D), largest first
        if comps.shape[0] < 2:  # 1-D latents: pad the second axis with zeros
            comps = torch.cat([comps, torch.zeros_like(comps)], 0)
        # deterministic signs: the largest-magnitude coordinate of each axis is positive
        signs = torch.sign(comps.gather(1, comps.abs().argmax(1, keepdim=True))).squeeze(1)
        signs[signs == 0] = 1
        comps = comps * signs[:, None]
        self.mean_ = mean
        self.components_ = comps.float()  # (2, D)
        self.explained_variance_ = evals.flip(0)[:2].float()
        self.embedding_ = ((x - mean) @ self.components_.T).numpy().astype(np.float32)

    def _fit_umap(self, x: torch.Tensor) -> None:
        if self.progress and not _umap.cache_info().currsize:  # umap not imported yet in this process
            _say_first_compile()
        n = x.shape[0]
        k = min(self.n_neighbors, n - 1)
        fast_metric = self.metric in ("euclidean", "cosine")
        # the first fit of a process imports umap (seconds) on a second thread while torch finds the neighbours
        umap_ready = _import_umap_in_background() if fast_metric else None
        init = "spectral" if n > k + 1 else "random"
        kwargs: dict[str, Any] = dict(
            n_neighbors=k,
            min_dist=self.min_dist,
            metric=self.metric,
            random_state=self.seed,
            n_epochs=self.n_epochs,
            init=init,
            low_memory=True,
            tqdm_kwds={"disable": not self.progress, "desc": "layout", "leave": False},
        )
        if fast_metric:
            xq = torch.nn.functional.normalize(x, dim=1) if self.metric == "cosine" else x
            idx, dist = knn(xq, xq, k, progress=self.progress)
            idx, dist = _self_first(idx, dist)
            if self.metric == "cosine":
                dist = dist * dist / 2  # unit vectors: |a - b|^2 / 2 = 1 - cos
            self.knn_indices_, self.knn_dists_ = idx.numpy().astype(np.int32), dist.numpy().astype(np.float32)
            kwargs["precomputed_knn"] = (self.knn_indices_, self.knn_dists_)
        if self.seed is None:
            kwargs["n_jobs"] = -1
        umap = _umap() if umap_ready is None else umap_ready.result()
        with warnings.catch_warnings(), _layout_kernel(self.float32_layout):
            # precomputed kNN without a pynndescent index: we place new points ourselves
            warnings.filterwarnings("ignore", message=".*knn_search_index.*")
            warnings.filterwarnings("ignore", message=".*n_jobs value.*")
            warnings.filterwarnings("ignore", category=UserWarning, module="umap")
            reducer = umap.UMAP(**kwargs)
            emb = reducer.fit_transform(x.numpy())
        if not fast_metric:
            self.knn_indices_ = np.asarray(reducer._knn_indices)
            self.knn_dists_ = np.asarray(reducer._knn_dists)
        self.umap_ = reducer
        self.embedding_ = np.ascontiguousarray(emb, dtype=np.float32)

    # -- mapping ------------------------------------------------------------------
    def check_fitted(self) -> None:
        """Raise :class:`~latentlab.errors.InvalidValueError` unless :meth:`fit` has run."""
        if not hasattr(self, "embedding_"):
            raise InvalidValueError(
                "this LatentMap is not fitted yet",
                expected="a fitted map",
                got="an unfitted LatentMap",
                fix="call map.fit(latents) first",
            )

    def _flat(self, latents: Any, name: str) -> torch.Tensor:
        t = to_tensor(latents, name=name).detach().to("cpu", torch.float32)
        shape = tuple(t.shape)
        if shape == self.latent_shape_:
            t = t.unsqueeze(0)
        elif shape[1:] != self.latent_shape_:
            raise ShapeError(
                f"{name} do not match the latents this map was fitted on",
                expected=f"(M, {', '.join(map(str, self.latent_shape_))})",
                got=shape_str(shape),
                fix="map latents of the same model and space as the fitted ones",
            )
        return check_finite(t.reshape(t.shape[0], -1), name=name)

    def transform(self, latents: Any) -> np.ndarray:
        """Map positions of new latents.

        PCA projects exactly. UMAP places each latent at the inverse-squared-distance
        weighted mean of its ``n_neighbors`` nearest fitted latents' positions (a fitted
        latent lands exactly on its own point); umap-learn's own ``transform`` would need
        pynndescent, which latentlab skips for speed.

        Args:
            latents: ``(M, *shape)`` or one latent ``shape``.

        Returns:
            ``float32 (M, 2)``.
        """
        self.check_fitted()
        q = self._flat(latents, "latents")
        if self.method == "pca":
            return ((q - self.mean_) @ self.components_.T).numpy().astype(np.float32)
        data, data_sq = self._neighbour_data()
        if self.metric == "cosine":
            q = torch.nn.functional.normalize(q, dim=1)
        k = min(self.n_neighbors, data.shape[0])
        idx, dist = knn(q, data, k, data_sq=data_sq)
        pos = torch.from_numpy(self.embedding_)[idx]  # (M, k, 2)
        return _blend(pos, dist).numpy().astype(np.float32)

    def _neighbour_data(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The fitted latents as ``transform`` searches them (flat, unit rows for cosine) and
        their squared norms, kept while ``latents_`` is the same tensor: placing one latent
        (a click on the map) then costs one matrix-vector product, not a pass over all rows."""
        cached = getattr(self, "_neighbours", None)
        if cached is not None and cached[0] is self.latents_:
            return cached[1], cached[2]
        data = self.latents_.reshape(len(self.latents_), -1).float()
        if self.metric == "cosine":
            data = torch.nn.functional.normalize(data, dim=1)
        data_sq = (data * data).sum(1)
        self._neighbours = (self.latents_, data, data_sq)
        return data, data_sq

    def inverse_transform(self, points: Any, k: int = 8) -> torch.Tensor:
        """Latents for map positions, so any point of the map can be rendered.

        PCA inverts exactly (the latent in the plane of the two axes). UMAP has no exact
        inverse here: each point becomes the inverse-squared-distance weighted mean of the
        latents of its ``k`` nearest map points (a point on a fitted point returns that
        latent). Blends of many latents are smoother than typical samples.

        Args:
            points: ``(M, 2)`` or one ``(2,)`` map position.
            k: neighbours blended (UMAP only).

        Returns:
            ``(M, *shape)`` float32 latents (``(*shape)`` for one point).
        """
        self.check_fitted()
        p = to_tensor(points, name="points").detach().to("cpu", torch.float32)
        single = tuple(p.shape) == (2,)
        if single:
            p = p[None]
        if p.ndim != 2 or p.shape[1] != 2:
            raise ShapeError(
                "map points must be (x, y) pairs",
                expected="(M, 2) or (2,)",
                got=shape_str(tuple(p.shape)),
                fix="pass positions like map.embedding_[:5] or [[0.5, 1.0]]",
            )
        check_finite(p, name="points")
        if self.method == "pca":
            flat = self.mean_ + p @ self.components_
        else:
            emb = torch.from_numpy(self.embedding_)
            idx, dist = knn(p, emb, min(int(k), emb.shape[0]))
            data = self.latents_.reshape(len(self.latents_), -1)
            flat = _blend(data[idx], dist)
        out = flat.reshape(-1, *self.latent_shape_)
        return out[0] if single else out

    def nearest(self, points: Any) -> np.ndarray:
        """Index of the fitted point nearest to each map position: ``(M, 2) -> int64 (M,)``."""
        self.check_fitted()
        p = to_tensor(points, name="points").detach().to("cpu", torch.float32).reshape(-1, 2)
        idx, _ = knn(p, torch.from_numpy(self.embedding_), 1)
        return idx[:, 0].numpy()

    def select(self, polygon: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
        """Indices of fitted points inside a polygon of map positions (see :func:`select_polygon`)."""
        self.check_fitted()
        return select_polygon(self.embedding_, polygon)

    # -- pictures -------------------------------------------------------------------
    def plot(
        self,
        gen: Generator | None = None,
        color_by: str | Any = None,
        thumbnails: int = 0,
        *,
        path: str | os.PathLike[str] | None = None,
        space: str | None = None,
        figsize: tuple[float, float] = (8.0, 8.0),
        point_size: float | None = None,
        title: str | None = None,
    ) -> Figure:
        """A matplotlib figure of the map, coloured by a label, with decoded thumbnails.

        Args:
            gen: generator that decodes thumbnails (needed when ``thumbnails > 0``).
            color_by: a key of ``labels_`` (default: the first label that is numeric or has
                at most 20 categories), or a length-``N`` sequence of values; categorical values
                get a legend (up to 20 categories), numbers a colour bar.
            thumbnails: how many decoded thumbnails to place (spread out, never overlapping).
                Each is 34 px high and as wide as the image's aspect says, so wide images
                (a glyphs specimen line) take more room and fewer fit: set a short
                ``gen.text`` such as ``"Ag"`` for the plot.
            path: save the figure there as PNG (atomically) when given.
            space: latent space of ``gen`` the latents live in (default space when ``None``).

        Returns:
            the ``matplotlib.figure.Figure``.
        """
        self.check_fitted()
        require("matplotlib", purpose="LatentMap.plot()")
        from matplotlib.figure import Figure

        fig = Figure(figsize=figsize, dpi=100)
        ax = fig.add_subplot(1, 1, 1)
        emb = self.embedding_
        size = point_size if point_size is not None else float(np.clip(20000 / max(1, len(emb)), 2.0, 40.0))
        name, values = self.color_values(color_by)
        _scatter(fig, ax, emb, values, name, size)
        if thumbnails > 0 and gen is None:
            raise InvalidValueError(
                "thumbnails need a generator to decode them",
                expected="plot(gen, thumbnails=n)",
                got="gen=None",
                fix="pass the generator: map.plot(gen, thumbnails=30)",
            )
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(title or f"{self.method.upper()} map of {len(emb)} latents")
        ax.margins(0.06 if thumbnails > 0 else 0.05)
        fig.tight_layout()
        if thumbnails > 0:
            assert gen is not None
            # placed after the layout, so the spacing uses the axes' real size in pixels
            self._add_thumbnails(ax, gen, int(thumbnails), space)
        if path is not None:
            with atomic_path(Path(path), suffix=".png") as tmp:
                fig.savefig(tmp, format="png")
        return fig

    def color_values(self, color_by: Any) -> tuple[str, np.ndarray | None]:
        """The label name and the ``(N,)`` values that colour the points for ``color_by``.

        ``None`` picks the first label that colours well (numbers, or at most ``MAX_LEGEND``
        categories); a name picks that label; an array of ``N`` values is used as given.
        ``("", None)`` means one colour for all.
        """
        if color_by is None:
            if not self.labels_:
                return "", None
            # the first label that colours well: numbers, or a few categories (not e.g. 2,000 family names)
            names = [
                k for k, v in self.labels_.items() if not is_categorical(v) or len(np.unique(v)) <= MAX_LEGEND
            ] or list(self.labels_)
            return names[0], self.labels_[names[0]]
        if isinstance(color_by, str):
            if color_by not in self.labels_:
                raise InvalidValueError(
                    f"no label named {color_by!r}",
                    expected=" or ".join(map(repr, self.labels_)) or "fit(labels=...)",
                    got=repr(color_by),
                    fix="pass one of the label names given to fit(), or an array of N values",
                )
            return color_by, self.labels_[color_by]
        values = _as_label_dict(color_by, len(self.embedding_))["label"]
        return "", values

    def _add_thumbnails(self, ax: Any, gen: Generator, n: int, space: str | None) -> None:
        """Decode up to ``n`` thumbnails and place them on spread-out points, never overlapping.

        A thumbnail is ``_THUMB_PX`` pixels high on the canvas and as wide as the image's aspect
        ratio says (a wide specimen line stays wide, never squashed), capped at ``_THUMB_MAX_W``
        pixels (then it shrinks, keeping its aspect). Wide thumbnails take more room, so fewer fit.
        """
        from matplotlib.offsetbox import AnnotationBbox, OffsetImage

        from .render import to_uint8

        fig = ax.figure
        emb = self.embedding_
        img_h, img_w = (int(t) for t in gen.image_size)
        box_h = min(_THUMB_PX, _THUMB_MAX_W * img_h / img_w)
        box_w = box_h * img_w / img_h
        # map positions -> canvas pixels of the axes (data limits after the margins)
        bbox = ax.get_window_extent()
        (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
        px = np.stack(
            [(emb[:, 0] - x0) / max(x1 - x0, 1e-12) * bbox.width, (emb[:, 1] - y0) / max(y1 - y0, 1e-12) * bbox.height],
            axis=1,
        )
        # Chebyshev spacing in units where a thumbnail is 1 x 1: no two boxes overlap
        gap = 1.12  # the frame and its padding, plus a little air
        chosen = spread_points(px / np.array([box_w, box_h]), n, gap)
        pixels = to_uint8(gen.decode(self.latents_[torch.from_numpy(chosen)], space=space))
        zoom = box_h / pixels.shape[1] * 72.0 / fig.dpi  # OffsetImage sizes are in points
        for i, img in zip(chosen, pixels):
            box = OffsetImage(img, zoom=zoom)
            ab = AnnotationBbox(
                box,
                (float(emb[i, 0]), float(emb[i, 1])),
                frameon=True,
                pad=0.05,
                bboxprops={"edgecolor": "0.5", "linewidth": 0.6, "alpha": 0.9},
            )
            ab.set_in_layout(False)
            ax.add_artist(ab)

    def widget(self, gen: Generator, explorer: Any = None, **options: Any) -> MapWidget:
        """Deprecated: use ``ll.MapWidget(latent_map, gen, explorer=...)`` (the widget takes the fitted map).

        A map does not know its views; this shim is the one import of :mod:`latentlab.widgets`
        below the widgets layer (listed in the import contract) and goes in a later release.
        """
        warnings.warn(
            "LatentMap.widget(gen) is deprecated: use ll.MapWidget(latent_map, gen, explorer=...)",
            DeprecationWarning,
            stacklevel=2,
        )
        from .widgets.map import MapWidget

        return MapWidget(self, gen, explorer=explorer, **options)


# -- small helpers ------------------------------------------------------------------------
def _self_first(idx: torch.Tensor, dist: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Make each row's first neighbour the point itself at distance 0 (umap expects it; ties can swap)."""
    n = idx.shape[0]
    own = torch.arange(n)
    is_self = idx == own[:, None]
    has_self = is_self.any(1)
    # rows where self is not first: move it to the front, or replace the last neighbour by self
    pos = torch.where(has_self, is_self.float().argmax(1), torch.full((n,), idx.shape[1] - 1))
    cols = torch.arange(idx.shape[1])[None, :].expand(n, -1)
    order = torch.where(cols == 0, pos[:, None], torch.where(cols <= pos[:, None], cols - 1, cols))
    idx = idx.gather(1, order)
    dist = dist.gather(1, order)
    idx[:, 0] = own
    dist[:, 0] = 0.0
    return idx, dist


def _blend(values: torch.Tensor, dist: torch.Tensor) -> torch.Tensor:
    """Inverse-squared-distance weighted mean over the neighbour axis: ``(M, k, C), (M, k) -> (M, C)``."""
    d2 = dist.double() ** 2
    exact = d2[:, 0] <= 1e-12
    w = 1.0 / (d2 + 1e-12)
    w = w / w.sum(1, keepdim=True)
    out = (w[..., None] * values.double()).sum(1)
    out[exact] = values[exact, 0].double()
    return out.float()


def _as_label_dict(labels: Any, n: int) -> dict[str, np.ndarray]:
    """Labels -> ``{name: (N,) array}``; a plain sequence is called ``"label"``."""
    if labels is None:
        return {}
    if isinstance(labels, Mapping) or hasattr(labels, "columns"):
        items = [(str(k), labels[k]) for k in (labels.columns if hasattr(labels, "columns") else labels)]
    else:
        items = [("label", labels)]
    out: dict[str, np.ndarray] = {}
    for name, value in items:
        arr = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
        if arr.ndim != 1 or len(arr) != n:
            raise ShapeError(
                f"label {name!r} must have one value per latent",
                expected=f"({n},)",
                got=shape_str(arr.shape),
                fix="pass labels aligned with the latents (same order, same length)",
            )
        out[name] = arr
    return out


def _scatter(fig: Any, ax: Any, emb: np.ndarray, values: np.ndarray | None, name: str, size: float) -> None:
    if values is None:
        ax.scatter(emb[:, 0], emb[:, 1], s=size, c="#3b6ea8", alpha=0.7, linewidths=0)
        return
    if is_categorical(values):
        cats = list(dict.fromkeys(np.unique(values).tolist()))
        cmap = category_colors(len(cats))
        for i, cat in enumerate(cats):
            mask = values == cat
            ax.scatter(emb[mask, 0], emb[mask, 1], s=size, color=cmap[i], alpha=0.8, linewidths=0, label=str(cat))
        if len(cats) > MAX_LEGEND:  # a legend of hundreds of names helps nobody: colours only
            return
        legend = ax.legend(
            title=name or None,
            markerscale=max(1.0, 6 / math.sqrt(size)),
            fontsize=8,
            loc="center left",
            bbox_to_anchor=(1.01, 0.5),
            frameon=False,
        )
        for handle in legend.legend_handles:
            if handle is not None:
                handle.set_alpha(1.0)
        return
    sc = ax.scatter(emb[:, 0], emb[:, 1], s=size, c=values.astype(np.float64), cmap="viridis", alpha=0.8, linewidths=0)
    fig.colorbar(sc, ax=ax, shrink=0.7, label=name or None)
