"""LatentMap: fit/transform/inverse shapes, determinism, PCA without umap-learn, helpers, plots."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.path import Path as MplPath

import latentlab as ll
from latentlab import maps
from latentlab.errors import InvalidValueError, MissingDependencyError, ShapeError
from latentlab.maps import LatentMap, knn, select_polygon, spread_points


def blobs(n: int = 80, d: int = 8, seed: int = 0) -> tuple[torch.Tensor, np.ndarray]:
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % 2
    x = torch.randn(n, d, generator=g) * 0.3 + labels[:, None].float() * 4.0
    return x, labels.numpy()


# -- PCA --------------------------------------------------------------------------
def test_pca_shapes_and_labels() -> None:
    x, lab = blobs()
    m = LatentMap(method="pca").fit(x, labels=lab)
    assert m.embedding_.shape == (80, 2) and m.embedding_.dtype == np.float32
    assert m.transform(x[:5]).shape == (5, 2)
    assert m.transform(x[0]).shape == (1, 2)
    assert m.inverse_transform(m.embedding_[:3]).shape == (3, 8)
    assert m.inverse_transform(m.embedding_[0]).shape == (8,)
    assert list(m.labels_) == ["label"]
    # the two blobs separate along the first axis
    first = m.embedding_[:, 0]
    assert (first[lab == 0].max() < first[lab == 1].min()) or (first[lab == 1].max() < first[lab == 0].min())


def test_pca_keeps_latent_shape() -> None:
    x = torch.randn(30, 2, 3, generator=torch.Generator().manual_seed(1))
    m = LatentMap(method="pca").fit(x)
    assert m.inverse_transform(m.embedding_[:4]).shape == (4, 2, 3)
    with pytest.raises(ShapeError) as err:
        m.transform(torch.randn(4, 6))
    assert "(M, 2, 3)" in str(err.value) and "(4, 6)" in str(err.value)


def test_class_level_fit_and_determinism() -> None:
    x, _ = blobs()
    with pytest.warns(DeprecationWarning, match=r"LatentMap\(\*\*options\).fit"):
        a = LatentMap.fit(x, method="pca")
    b = LatentMap(method="pca").fit(x.numpy())
    assert isinstance(a, LatentMap) and a.method == "pca"
    np.testing.assert_array_equal(a.embedding_, b.embedding_)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.floats(-5, 5), st.floats(-5, 5)), min_size=1, max_size=6))
def test_pca_inverse_then_transform_is_identity(points: list[tuple[float, float]]) -> None:
    x, _ = blobs(d=5)
    m = _PCA_CACHE.setdefault("m", LatentMap(method="pca").fit(x))
    p = np.asarray(points, dtype=np.float32)
    np.testing.assert_allclose(m.transform(m.inverse_transform(p)), p, atol=1e-4)


_PCA_CACHE: dict[str, LatentMap] = {}


def test_pca_works_without_umap(monkeypatch: pytest.MonkeyPatch) -> None:
    maps._umap.cache_clear()
    monkeypatch.setitem(sys.modules, "umap", None)  # import umap -> ImportError
    try:
        x, _ = blobs()
        assert LatentMap(method="pca").fit(x).embedding_.shape == (80, 2)
        with pytest.raises(MissingDependencyError) as err:
            LatentMap(method="umap").fit(x)
        msg = str(err.value)
        assert "umap-learn" in msg and 'pip install "latentlab[maps]"' in msg
    finally:
        maps._umap.cache_clear()


# -- input errors --------------------------------------------------------------------
def test_bad_inputs_explain_themselves() -> None:
    x, _ = blobs()
    with pytest.raises(InvalidValueError) as err:
        LatentMap(method="tsne").fit(x)  # type: ignore[arg-type]
    assert "'umap' or 'pca'" in str(err.value)
    with pytest.raises(ShapeError) as err2:
        LatentMap(method="pca").fit(x, labels=[0, 1, 2])
    assert "(80,)" in str(err2.value) and "(3,)" in str(err2.value) and "aligned" in str(err2.value)
    with pytest.raises(ShapeError):
        LatentMap(method="pca").fit(x[:2])
    bad = x.clone()
    bad[3, 1] = float("nan")
    with pytest.raises(InvalidValueError, match="non-finite"):
        LatentMap(method="pca").fit(bad)
    with pytest.raises(InvalidValueError, match="not fitted"):
        LatentMap(method="pca").transform(x)
    with pytest.raises(InvalidValueError, match="unknown option"), pytest.warns(DeprecationWarning):
        LatentMap.fit(x, methd="pca")


def test_label_mappings() -> None:
    x, lab = blobs()
    m = LatentMap(method="pca").fit(x, labels={"side": lab, "weight": torch.linspace(100, 900, 80)})
    assert set(m.labels_) == {"side", "weight"}
    assert m.labels_["weight"].shape == (80,)


# -- helpers ------------------------------------------------------------------------
@settings(max_examples=25, deadline=None)
@given(st.integers(5, 60), st.integers(1, 6), st.integers(0, 10_000))
def test_knn_matches_brute_force(n: int, d: int, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    data = torch.randn(n, d, generator=g)
    q = torch.randn(7, d, generator=g)
    k = min(4, n)
    idx, dist = knn(q, data, k, chunk=3)
    full = torch.cdist(q.double(), data.double())
    ref = full.sort(1).values[:, :k]
    torch.testing.assert_close(dist.double(), ref, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(full.gather(1, idx), ref, atol=1e-5, rtol=1e-5)


def test_self_first_with_duplicates() -> None:
    x = torch.tensor([[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [3.0, 0.0]])
    idx, dist = knn(x, x, 3)
    idx2, dist2 = maps._self_first(idx, dist)
    assert idx2[:, 0].tolist() == [0, 1, 2, 3]
    assert dist2[:, 0].tolist() == [0.0] * 4
    for row in idx2.tolist():
        assert len(set(row)) == 3


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(3, 8))
def test_select_polygon_matches_matplotlib(seed: int, n_vertices: int) -> None:
    rng = np.random.default_rng(seed)
    pts = rng.uniform(-1, 1, (200, 2))
    angles = np.sort(rng.uniform(0, 2 * np.pi, n_vertices))
    poly = np.stack([np.cos(angles), np.sin(angles)], 1) * rng.uniform(0.2, 1.0, (n_vertices, 1))
    ours = select_polygon(pts, poly)
    ref = np.flatnonzero(MplPath(poly).contains_points(pts))
    # points exactly on an edge may differ; with random floats there are none
    assert ours.tolist() == ref.tolist()


def test_select_polygon_needs_three_vertices() -> None:
    with pytest.raises(ShapeError) as err:
        select_polygon(np.zeros((3, 2)), [[0, 0], [1, 1]])
    assert "V >= 3" in str(err.value)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.floats(0.05, 0.5))
def test_spread_points_never_overlap(seed: int, gap: float) -> None:
    pts = np.random.default_rng(seed).uniform(0, 1, (150, 2))
    chosen = spread_points(pts, 40, gap)
    assert len(set(chosen.tolist())) == len(chosen) >= 1
    sub = pts[chosen]
    cheb = np.abs(sub[:, None] - sub[None]).max(-1) + np.eye(len(sub)) * 10
    assert cheb.min() >= gap


# -- UMAP (tiny inputs: each cold umap run compiles numba kernels) -----------------------
@pytest.fixture(scope="module")
def umap_pair() -> tuple[LatentMap, LatentMap, torch.Tensor, np.ndarray]:
    x, lab = blobs(n=60, d=6)
    a = LatentMap(seed=3, n_neighbors=8, n_epochs=40, progress=False).fit(x, labels=lab)
    b = LatentMap(seed=3, n_neighbors=8, n_epochs=40, progress=False).fit(x, labels=lab)
    return a, b, x, lab


def test_umap_deterministic_with_seed(umap_pair: tuple[LatentMap, LatentMap, torch.Tensor, np.ndarray]) -> None:
    a, b, _, _ = umap_pair
    assert a.embedding_.shape == (60, 2)
    np.testing.assert_array_equal(a.embedding_, b.embedding_)
    assert a.knn_indices_.shape == (60, 8) and (a.knn_indices_[:, 0] == np.arange(60)).all()


def test_umap_transform_and_inverse(umap_pair: tuple[LatentMap, LatentMap, torch.Tensor, np.ndarray]) -> None:
    m, _, x, lab = umap_pair
    np.testing.assert_allclose(m.transform(x[:10]), m.embedding_[:10], atol=1e-5)
    torch.testing.assert_close(m.inverse_transform(m.embedding_[:5]), x[:5])
    # a new latent near cluster 1 lands among cluster 1's points
    new = x[lab == 1].mean(0) + 0.01
    pos = m.transform(new)[0]
    dists = np.linalg.norm(m.embedding_ - pos, axis=1)
    assert (lab[np.argsort(dists)[:5]] == 1).all()
    # a point between two map points gives a latent between their latents
    mid = m.inverse_transform((m.embedding_[0] + m.embedding_[2]) / 2)
    assert mid.shape == (6,)
    assert torch.isfinite(mid).all()


def test_umap_sets_numba_cache_dir(umap_pair: tuple[LatentMap, LatentMap, torch.Tensor, np.ndarray]) -> None:
    import os

    assert os.environ.get("NUMBA_CACHE_DIR")  # set by the umap fit above, or by the user


def _mixture(n: int = 1500, d: int = 12, k: int = 6) -> np.ndarray:
    rng = np.random.default_rng(0)
    return (rng.normal(size=(k, d))[rng.integers(0, k, n)] * 3 + rng.normal(size=(n, d))).astype(np.float32)


def _neighbours_kept(x: np.ndarray, emb: np.ndarray, k: int = 10) -> float:
    """Share of each point's k nearest latents that are among its k nearest map points."""
    near_x = knn(torch.from_numpy(x), torch.from_numpy(x), k + 1)[0][:, 1:].numpy()
    near_e = knn(torch.from_numpy(emb), torch.from_numpy(emb), k + 1)[0][:, 1:].numpy()
    return float(np.mean([len(set(a) & set(b)) / k for a, b in zip(near_x, near_e)]))


def test_float32_layout_keeps_umaps_quality(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("umap")
    x = _mixture()
    kept = {}
    for f32 in (False, True):
        monkeypatch.setattr(LatentMap, "float32_layout", f32)
        maps_ = [LatentMap(seed=s, n_epochs=200, progress=False).fit(x) for s in (0, 1)]
        kept[f32] = [_neighbours_kept(x, m.embedding_) for m in maps_]
    assert np.mean(kept[True]) >= 0.95 * np.mean(kept[False]), kept
    # control: the same map points, shuffled (their spread kept, their neighbours lost), fails the same bar
    emb = LatentMap(seed=0, n_epochs=200, progress=False).fit(x).embedding_
    shuffled = emb[np.random.default_rng(1).permutation(len(emb))]
    assert _neighbours_kept(x, shuffled) < 0.5 * np.mean(kept[False])


@pytest.mark.filterwarnings("ignore::UserWarning")  # umap: n_jobs with a seed; kNN without an index
def test_float64_layout_is_umap_learns_own_and_the_float32_swap_is_scoped(monkeypatch: pytest.MonkeyPatch) -> None:
    umap = pytest.importorskip("umap")
    import umap.layouts as layouts

    from latentlab import _umap_layout

    x = _mixture(n=400, d=8)
    before = layouts._nb_optimize_layout_euclidean_single_epoch
    f32 = LatentMap(seed=0, n_epochs=50, progress=False).fit(x)
    assert layouts._nb_optimize_layout_euclidean_single_epoch is before  # restored after the fit
    with _umap_layout.float32_layout():
        assert layouts._nb_optimize_layout_euclidean_single_epoch is _umap_layout.single_epoch
    monkeypatch.setattr(LatentMap, "float32_layout", False)
    f64 = LatentMap(seed=0, n_epochs=50, progress=False).fit(x)
    ref = umap.UMAP(
        n_neighbors=15,
        random_state=0,
        n_epochs=50,
        low_memory=True,
        precomputed_knn=(f64.knn_indices_, f64.knn_dists_),
    ).fit_transform(x)
    np.testing.assert_array_equal(f64.embedding_, ref)  # float64 epochs: umap-learn's map, bit for bit
    assert not np.array_equal(f32.embedding_, f64.embedding_)  # the float32 epochs did run


# -- plots ------------------------------------------------------------------------
def test_plot_with_thumbnails_saves_png(tmp_path: pytest.TempPathFactory) -> None:
    gen = ll.load("digits")
    z = gen.sample(120, seed=0)
    m = LatentMap(method="pca").fit(z, labels={"half": np.arange(120) % 2, "norm": z.norm(dim=1)})
    out = tmp_path / "map.png"  # type: ignore[operator]
    fig = m.plot(gen, color_by="half", thumbnails=12, path=out)
    assert out.exists() and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ax = fig.axes[0]
    assert len(ax.artists) >= 3  # thumbnails placed
    assert ax.get_legend() is not None
    fig2 = m.plot(color_by="norm")  # numeric -> colour bar, no thumbnails
    assert len(fig2.axes) == 2
    with pytest.raises(InvalidValueError, match="no label named"):
        m.plot(color_by="nope")
    with pytest.raises(InvalidValueError, match="need a generator"):
        m.plot(thumbnails=3)


def _thumbnail_boxes(fig: object) -> list[tuple[object, object]]:
    """Draw ``fig`` with Agg; return ``(frame, image)`` window extents of each thumbnail, in pixels."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.offsetbox import AnnotationBbox

    canvas = FigureCanvasAgg(fig)  # type: ignore[arg-type]
    canvas.draw()
    renderer = canvas.get_renderer()
    ax = fig.axes[0]  # type: ignore[attr-defined]
    return [
        (a.get_window_extent(renderer), a.offsetbox.get_window_extent(renderer))
        for a in ax.artists
        if isinstance(a, AnnotationBbox)
    ]


@pytest.mark.parametrize("text", ["Ag", "Hamburg"])
def test_plot_thumbnails_of_wide_images_keep_their_shape_and_never_overlap(text: str) -> None:
    from latentlab.generators._glyphs_net import GlyphsConfig, GlyphsNet
    from latentlab.generators.glyphs import GlyphsGenerator

    gen = GlyphsGenerator(GlyphsNet(GlyphsConfig(latent_dim=8)), text=text)  # a tiny untrained glyphs model
    h, w = gen.image_size
    z = torch.randn(400, 8, generator=torch.Generator().manual_seed(0))
    m = LatentMap(method="pca").fit(z, labels={"cat": np.arange(400) % 5})
    fig = m.plot(gen, color_by="cat", thumbnails=40, figsize=(8, 7))
    boxes = _thumbnail_boxes(fig)
    assert len(boxes) >= 4, "too few thumbnails placed"
    for _, img in boxes:  # the image keeps its aspect (a specimen line stays a line) and stays legible
        assert abs(img.width / img.height - w / h) < 0.05 * w / h, (img.width, img.height, w, h)  # type: ignore[attr-defined]
        assert img.height >= 15  # type: ignore[attr-defined]
    for i, (a, _) in enumerate(boxes):
        for b, _ in boxes[i + 1 :]:
            assert not a.overlaps(b), f"thumbnails overlap: {a} and {b}"  # type: ignore[attr-defined]
    assert fig.axes[0].get_legend() is not None


def test_default_colour_skips_labels_with_too_many_categories() -> None:
    x, lab = blobs(n=60)
    names = np.array([f"font {i}" for i in range(60)])
    m = LatentMap(method="pca").fit(x, labels={"family": names, "half": lab})
    assert m.color_values(None)[0] == "half"  # not the 60 family names
    fig = m.plot(color_by="family")  # asked for: coloured, but no legend of 60 names
    assert fig.axes[0].get_legend() is None
    only_names = LatentMap(method="pca").fit(x, labels={"family": names})
    assert only_names.color_values(None)[0] == "family"


def test_latent_map_follows_scikit_learn_conventions() -> None:
    x, _ = blobs()
    m = LatentMap(method="tsne", n_neighbors=1)  # type: ignore[arg-type]  # __init__ stores, never validates
    assert m.get_params()["method"] == "tsne" and m.get_params()["n_neighbors"] == 1
    with pytest.raises(InvalidValueError, match="'umap' or 'pca'"):
        m.fit(x)
    assert m.set_params(method="pca", n_neighbors=5) is m
    assert m.fit(x) is m and m.get_params()["n_neighbors"] == 5  # fit does not rewrite the options
    with pytest.raises(InvalidValueError, match="n_neighbors must be at least 2"):
        LatentMap(method="pca", n_neighbors=1.5).fit(x)  # type: ignore[arg-type]
    with pytest.raises(InvalidValueError, match="unknown option"):
        m.set_params(n_neighbours=5)
