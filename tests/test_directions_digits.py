"""Directions on the bundled ``digits`` / ``digits-2d`` models: labels, responses, previews, entanglement."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA

import latentlab as ll
from latentlab import directions as dirs
from latentlab.generators.base import Generator

matplotlib.use("Agg")
STRENGTHS = np.linspace(-3, 3, 7)


def digit_images() -> tuple[torch.Tensor, np.ndarray]:
    """sklearn's digits as dark ink on white paper, ``(1797, 3, 32, 32)``, and their classes."""
    data = load_digits()
    x = torch.from_numpy(1.0 - data.images.astype(np.float32) / 16.0)[:, None]
    return F.interpolate(x, size=32, mode="nearest").repeat(1, 3, 1, 1), data.target


@pytest.fixture(scope="module")
def gen() -> Generator:
    return ll.load("digits")


@pytest.fixture(scope="module")
def encoded(gen: Generator) -> tuple[torch.Tensor, np.ndarray]:
    images, classes = digit_images()
    return gen.encode(images), classes


@pytest.fixture(scope="module")
def slant_labels(gen: Generator) -> tuple[torch.Tensor, torch.Tensor]:
    return dirs.measure_samples(gen, "slant", n=2000, seed=1)


@pytest.mark.parametrize("method", ["mean_diff", "svm", "logistic"])
def test_class_directions_from_encoded_digits_separate_held_out_codes(
    encoded: tuple[torch.Tensor, np.ndarray], gen: Generator, method: str
) -> None:
    codes, classes = encoded
    pick = (classes == 0) | (classes == 1)
    d = dirs.from_labels(codes[pick], classes[pick] == 1, method=method, space=gen, name="0->1")
    assert d.provenance["scores"]["heldout_accuracy"] >= 0.95
    assert d.space.key == "digits:z" and d.provenance["n_positive"] == int((classes == 1).sum())


def random_directions(gen: Generator, n: int = 8) -> list[ll.Direction]:
    """``n`` seeded random unit directions: the negative control every found direction must beat."""
    dim = gen.sample(1).shape[1]
    return [
        ll.Direction(torch.randn(dim, generator=torch.Generator().manual_seed(s)), gen, name=f"random{s}")
        for s in range(n)
    ]


def sign_fitted(r: dirs.Response) -> float:
    """The slope of a response with the direction's sign chosen to make it rise (a random one gets the best sign)."""
    return abs(r.slope())


@pytest.fixture(scope="module")
def best_random_slant_slope(gen: Generator) -> float:
    """The best sign-fitted slant slope of 8 random directions (0.038 per unit strength)."""
    return max(
        sign_fitted(dirs.response(gen, d, "slant", STRENGTHS, seeds=range(100, 116))) for d in random_directions(gen)
    )


@pytest.mark.parametrize("method", ["mean_diff", "svm", "logistic", "ridge"])
def test_measured_slant_rises_along_the_slant_direction_faster_than_random_ones(
    gen: Generator, slant_labels: tuple[torch.Tensor, torch.Tensor], method: str, best_random_slant_slope: float
) -> None:
    """Found directions: slope 0.062-0.073, Spearman 1.0; best of 8 sign-fitted random ones: 0.038 (bar 1.3x)."""
    z, y = slant_labels
    d = dirs.from_labels(z, y, method=method, space=gen, name="slant")
    r = dirs.response(gen, d, "slant", STRENGTHS, seeds=range(100, 116))
    assert r.values.shape == (7, 16)
    assert r.spearman() >= 0.9, r.mean
    assert r.slope() >= 1.3 * best_random_slant_slope, (r.slope(), best_random_slant_slope)
    assert (r.std > 0).all()


def test_methods_agree_with_each_other(gen: Generator, slant_labels: tuple[torch.Tensor, torch.Tensor]) -> None:
    z, y = slant_labels
    found = {m: dirs.from_labels(z, y, method=m, space=gen) for m in ("mean_diff", "svm", "logistic", "ridge")}
    for m in ("svm", "logistic", "ridge"):
        assert found[m].cosine(found["mean_diff"]) > 0.9


def test_conditional_slant_moves_the_condition_less(
    gen: Generator, slant_labels: tuple[torch.Tensor, torch.Tensor]
) -> None:
    z, y = slant_labels
    slant = dirs.from_labels(z, y, method="ridge", space=gen, name="slant")
    z2, height = dirs.measure_samples(gen, "centroid_y", n=2000, seed=2)
    lower = dirs.from_labels(z2, height, method="ridge", space=gen, name="lower")
    pure = dirs.conditional(slant, [lower])
    table = dirs.entanglement(gen, [slant, pure], ["slant", "centroid_y"], seeds=range(100, 116))
    (s_raw, c_raw), (s_pure, c_pure) = table.values
    assert abs(pure.cosine(lower)) < 1e-5
    assert s_raw > 0.3 and s_pure > 0.2  # still slants
    assert abs(c_pure) < 0.25 * abs(c_raw)  # but moves the ink up/down far less


def test_preview_grids_show_both_extremes(gen: Generator) -> None:
    d = dirs.sefa(gen)[0]
    img = dirs.preview(gen, d, seeds=3, strengths=[-3, 0, 3])
    assert img.shape == (3, 3 * 34 + 2, 3 * 34 + 2)
    tiles = [img[:, 2:34, 2 + 34 * c : 34 + 34 * c] for c in range(3)]
    assert float(img.std()) > 0.1  # not blank
    assert float((tiles[0] - tiles[2]).abs().mean()) > 0.02  # the extremes differ
    rows = dirs.preview(gen, dirs.sefa(gen)[:4], seeds=[0], strengths=[-2, 2])
    assert rows.shape == (3, 4 * 34 + 2, 2 * 34 + 2)


def test_response_plot_and_repr(gen: Generator) -> None:
    d = dirs.sefa(gen)[0]
    r = dirs.response(gen, d, "ink_coverage", [-2, 0, 2], seeds=4)
    ax = r.plot()
    assert ax.get_ylabel() == "ink_coverage" and len(ax.lines) == 1
    assert "ink_coverage" in repr(r) and "sefa0" in repr(r)
    r_custom = dirs.response(gen, d, lambda im: im.mean((1, 2, 3)), [-2, 2], seeds=[5, 6])
    assert r_custom.values.shape == (2, 2)


def test_entanglement_table_shapes_and_rendering(gen: Generator) -> None:
    ds = dirs.sefa(gen)[:3]
    table = dirs.entanglement(gen, ds, seeds=6)
    assert table.values.shape == (3, 6) and table.rows == ["sefa0", "sefa1", "sefa2"]
    assert np.allclose(np.diag(table.cosines), 1.0) and abs(table.cosines[0, 1]) < 1e-5
    assert "stroke_weight" in repr(table) and "<table>" in table._repr_html_()
    assert list(table.to_pandas().index) == table.rows


def test_pca_of_encoded_digits_agrees_with_sklearn_on_the_2d_model() -> None:
    gen2 = ll.load("digits-2d")
    images, _ = digit_images()
    codes = gen2.encode(images)
    ds = dirs.pca(gen2, n_components=2, codes=codes)
    ref = PCA(n_components=2).fit(codes.double().numpy())
    for i in range(2):
        assert abs(float(ds[i].vector.double() @ torch.from_numpy(ref.components_[i]))) > 0.999
    assert ds[0].space.key == "digits-2d:z"


def test_pca_of_encoded_digits_finds_the_active_dimensions(
    gen: Generator, encoded: tuple[torch.Tensor, np.ndarray]
) -> None:
    codes, _ = encoded
    ds = dirs.pca(gen, n_components=6, codes=codes)
    ratios = ds.provenance["explained_variance_ratio"]
    assert sum(ratios[:4]) > 0.9 and ratios == sorted(ratios, reverse=True)
    ptp = np.ptp(dirs.response(gen, ds[0], "ink_coverage", STRENGTHS, seeds=8).mean)
    random_ptp = max(
        np.ptp(dirs.response(gen, d, "ink_coverage", STRENGTHS, seeds=8).mean) for d in random_directions(gen)
    )
    # the first component changes the ink more than any of 8 random directions (0.047 vs 0.024)
    assert ptp >= 1.5 * random_ptp, (ptp, random_ptp)


def test_direction_found_on_digits_round_trips_and_still_applies(gen: Generator, tmp_path) -> None:
    z, y = dirs.measure_samples(gen, "width", n=400, seed=0)
    d = dirs.from_labels(z, y, method="svm", space=gen, name="wide")
    back = ll.Direction.load(d.save(tmp_path / "wide"))
    assert torch.equal(back.vectors, d.vectors) and back.provenance == d.provenance
    z0 = gen.sample(2, seed=0)
    assert torch.equal(back.apply(z0, [1.0, 2.0], space=gen), d.apply(z0, [1.0, 2.0]))
