"""Directions: the object (apply, algebra, files, wrong-space errors) and the finders on planted data."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.decomposition import PCA

import latentlab as ll
from latentlab import directions as dirs
from latentlab.directions import Direction, DirectionSet
from latentlab.errors import CapabilityError, IncompatibleLatentError, InvalidValueError, ShapeError
from latentlab.generators.base import Generator
from latentlab.spaces import LatentSpace

TOY = LatentSpace("z", (16,), "normal", model="toy")
LAYERED = LatentSpace("w+", (4, 8), "none", model="toy")


def _unit(d: int, seed: int) -> torch.Tensor:
    v = torch.randn(d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return v / v.norm()


def _cos(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.flatten().double(), b.flatten().double()
    return float(a @ b / (a.norm() * b.norm()))


class LinearGen(Generator):
    """Images = 0.5 + 0.05 * M z (a known Jacobian), latents with prior N(0, S S^T) via map from ``u``."""

    name = "linear"
    capabilities = frozenset({"map", "sefa"})

    def __init__(self, dim: int = 6, size: int = 8, seed: int = 0) -> None:
        rng = torch.Generator().manual_seed(seed)
        spaces = [LatentSpace("z", (dim,), "normal", model="linear"), LatentSpace("w", (dim,), "none", model="linear")]
        super().__init__(spaces, (size, size))
        self.m = torch.randn(3 * size * size, dim, generator=rng)
        scales = torch.tensor([4.0, 3.0, 2.0, 1.0, 0.5, 0.25][:dim] + [0.1] * max(0, dim - 6))
        q, _ = torch.linalg.qr(torch.randn(dim, dim, generator=rng))
        self.s = q * scales  # w = S z has covariance Q diag(scales^2) Q^T

    def _decode(self, latents: torch.Tensor, space: LatentSpace) -> torch.Tensor:
        return (0.5 + 0.05 * latents @ self.m.T).view(-1, 3, *self.image_size)

    def _map(self, latents: torch.Tensor, src: LatentSpace, dst: LatentSpace) -> torch.Tensor:
        return latents @ self.s.T

    def sefa_weight(self, space: LatentSpace) -> torch.Tensor:
        return self.m


# --------------------------------------------------------------------------- the Direction object
def test_vectors_are_unit_and_shapes_follow_the_space() -> None:
    d = Direction(torch.randn(3, 4, 8) * 5, LAYERED, name="three")
    assert d.vectors.shape == (3, 4, 8) and d.vector.shape == (4, 8) and d.k == 3
    assert torch.allclose(d.vectors.flatten(1).norm(dim=1), torch.ones(3))
    assert d.space.model == "toy" and d.space.key == "toy:w+"


def test_apply_shapes_scalar_sequence_single_and_batch() -> None:
    d = Direction(_unit(16, 0), TOY, "a")
    z1, zn = torch.randn(16), torch.randn(5, 16)
    assert d.apply(z1, 2.0).shape == (16,)
    assert d.apply(zn, 2.0).shape == (5, 16)
    assert d.apply(z1, [-1, 0, 1, 2]).shape == (4, 16)
    assert d.apply(zn, torch.tensor([-1.0, 1.0])).shape == (2, 5, 16)
    assert torch.equal(d.apply(zn, [0.0])[0], zn)
    assert d.apply(zn.double(), 1.0).dtype == torch.float64
    with pytest.raises(ShapeError, match="1-D sequence"):
        d.apply(z1, [[1.0, 2.0]])


@settings(max_examples=30, deadline=None)
@given(
    v=arrays(np.float64, 16, elements=st.floats(-5, 5)),
    z=arrays(np.float64, (3, 16), elements=st.floats(-5, 5)),
    s=st.floats(-10, 10),
)
def test_apply_moves_exactly_strength_along_the_vector(v: np.ndarray, z: np.ndarray, s: float) -> None:
    if np.linalg.norm(v) < 1e-3:
        return
    d = Direction(torch.from_numpy(v), TOY)
    zt = torch.from_numpy(z)
    moved = d.apply(zt, s)
    step = (moved - zt) @ d.vector.double()
    assert torch.allclose(step, torch.full((3,), s, dtype=torch.float64), atol=1e-4)
    out = d.project_out(moved)
    assert torch.allclose(out @ d.vector.double(), torch.zeros(3, dtype=torch.float64), atol=1e-4)


def test_layers_edit_only_chosen_rows() -> None:
    d = Direction(torch.randn(4, 8), LAYERED, "l")
    z = torch.randn(2, 4, 8)
    moved = d.apply(z, 3.0, layers=range(0, 2))
    assert torch.equal(moved[:, 2:], z[:, 2:]) and not torch.equal(moved[:, :2], z[:, :2])
    assert torch.equal(d.apply(z, 3.0, layers=slice(None)), d.apply(z, 3.0))
    with pytest.raises(InvalidValueError, match="layers"):
        d.apply(z, 1.0, layers=[7])


def test_a_w_direction_edits_rows_of_w_plus_codes() -> None:
    w_space = LatentSpace("w", (8,), "none", model="toy")
    d = Direction(_unit(8, 1), w_space, "w-dir")
    wplus = torch.randn(3, 5, 8)
    moved = d.apply(wplus, 2.0, layers=[1, 2], space=LatentSpace("w+", (5, 8), "none", model="toy"))
    assert torch.allclose(moved[:, 1:3] - wplus[:, 1:3], 2.0 * d.vector.expand(3, 2, 8))
    assert torch.equal(moved[:, [0, 3, 4]], wplus[:, [0, 3, 4]])
    with pytest.raises(IncompatibleLatentError, match="other"):
        d.apply(wplus, 2.0, layers=[1], space=LatentSpace("w+", (5, 8), "none", model="other"))
    with pytest.raises(InvalidValueError, match="layered"):
        d.apply(torch.randn(8), 1.0, layers=[0])


def test_negate_rename_component_and_orthogonalize() -> None:
    d = Direction(torch.stack([_unit(16, 0), _unit(16, 1)]), TOY, "pair")
    assert torch.equal((-d).vectors, -d.vectors) and d.__neg__().__neg__().name == "pair"
    assert d.rename("x").name == "x" and torch.equal(d.rename("x").vectors, d.vectors)
    assert d.component(1).k == 1 and torch.equal(d.component(1).vector, d.vectors[1])
    other = Direction(_unit(16, 2), TOY, "c")
    o = d.orthogonalize([other])
    assert o.k == 2 and float((o.vectors.flatten(1) @ other.vector).abs().max()) < 1e-5
    assert o.provenance["edits"][-1]["op"] == "orthogonalize"


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), m=st.integers(1, 8), dependent=st.booleans())
def test_conditional_is_orthogonal_to_every_condition(seed: int, m: int, dependent: bool) -> None:
    space = LatentSpace("z", (12,), model="toy")
    g = torch.Generator().manual_seed(seed)
    conds = [Direction(torch.randn(12, generator=g), space, f"c{i}") for i in range(m)]
    if dependent:  # a condition that is a mix of two others must not break least squares
        conds.append(Direction(conds[0].vector + 0.5 * conds[-1].vector + 1e-3 * torch.randn(12, generator=g), space))
    primary = Direction(torch.randn(12, generator=g), space, "p")
    result = dirs.conditional(primary, conds)
    for c in conds:
        assert abs(result.cosine(c)) < 1e-4
    assert result.cosine(primary) > 0  # still points the primary's way
    assert result.name.startswith("p|")


def test_conditional_of_a_direction_in_the_span_raises() -> None:
    space = LatentSpace("z", (3,), model="toy")
    a, b = Direction([1.0, 0, 0], space, "a"), Direction([0, 1.0, 0], space, "b")
    with pytest.raises(InvalidValueError, match="span") as err:
        dirs.conditional(Direction([1.0, 1.0, 0], space, "ab"), [a, b])
    assert "fix" in str(err.value)


# --------------------------------------------------------------------------- files
def test_save_load_round_trips_exactly(tmp_path) -> None:
    d = Direction(torch.randn(2, 4, 8), LAYERED, "bold", {"method": "svm", "scores": {"acc": 0.93}, "t": (1, 2)})
    path = d.save(tmp_path / "bold")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bold.json", "bold.safetensors"]  # no temp files left
    e = Direction.load(tmp_path / "bold.json")
    assert torch.equal(e.vectors, d.vectors) and e.space == d.space and e.name == d.name
    assert e.provenance == d.provenance == {"method": "svm", "scores": {"acc": 0.93}, "t": [1, 2]}
    sidecar = json.loads((tmp_path / "bold.json").read_text())
    assert sidecar["space"]["model"] == "toy" and sidecar["kind"] == "Direction"
    (tmp_path / "bold.json").unlink()  # the copy inside the safetensors metadata still works
    assert torch.equal(Direction.load(path).vectors, d.vectors)


def test_direction_set_round_trips_and_indexes(tmp_path) -> None:
    ds = DirectionSet([Direction(_unit(16, i), TOY, f"d{i}") for i in range(3)], "three", {"why": "test"})
    ds.save(tmp_path / "set.safetensors")
    back = DirectionSet.load(tmp_path / "set")
    assert back.names == ["d0", "d1", "d2"] and back.provenance == {"why": "test"}
    assert all(torch.equal(a.vectors, b.vectors) for a, b in zip(ds, back))
    assert back["d1"].name == "d1" and len(back[1:]) == 2
    assert ds.as_direction().k == 3
    with pytest.raises(InvalidValueError, match="DirectionSet"):
        Direction.load(tmp_path / "set")
    with pytest.raises(InvalidValueError, match="one of"):
        back["nope"]


def test_load_missing_file_says_how_to_fix(tmp_path) -> None:
    with pytest.raises(InvalidValueError) as err:
        Direction.load(tmp_path / "nothing")
    assert "nothing.safetensors" in str(err.value) and "fix" in str(err.value)


# --------------------------------------------------------------------------- wrong space / model
@pytest.fixture(scope="module")
def digits() -> Generator:
    return ll.load("digits")


@pytest.fixture(scope="module")
def digits2d() -> Generator:
    return ll.load("digits-2d")


def test_wrong_model_or_space_names_both(digits: Generator, digits2d: Generator) -> None:
    d = dirs.sefa(digits)[0]
    with pytest.raises(IncompatibleLatentError) as err:
        d.check_compatible(digits2d)
    msg = str(err.value)
    assert "digits:z (16,)" in msg and "digits-2d" in msg and "expected" in msg and "fix" in msg
    with pytest.raises(IncompatibleLatentError, match="digits:z"):
        d.apply(digits2d.sample(2, seed=0), 1.0)
    with pytest.raises(IncompatibleLatentError):
        d.apply(digits.sample(2, seed=0), 1.0, space=digits2d)
    same_shape_other_model = LatentSpace("z", (16,), "normal", model="glyphs")
    with pytest.raises(IncompatibleLatentError, match="glyphs"):
        d.check_compatible(same_shape_other_model)
    assert d.check_compatible(digits) == digits.default_space


def test_unbound_directions_check_shape_only_and_can_be_bound(digits: Generator) -> None:
    codes = torch.randn(200, 16, generator=torch.Generator().manual_seed(0))
    d = dirs.from_labels(codes, codes[:, 0] > 0)
    assert not d.is_bound and "unbound" in repr(d)
    assert d.check_compatible(digits) == digits.default_space
    bound = d.bind(digits)
    assert bound.is_bound and bound.space.key == "digits:z"
    with pytest.raises(IncompatibleLatentError):
        d.bind(LatentSpace("z", (2,), model="x"))


# --------------------------------------------------------------------------- supervised finders
def _planted(
    n: int = 3000, d: int = 16, seed: int = 0, noise: float = 0.3
) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
    g = torch.Generator().manual_seed(seed)
    codes = torch.randn(n, d, generator=g, dtype=torch.float64)
    v = _unit(d, seed + 100)
    score = (codes @ v + noise * torch.randn(n, generator=g, dtype=torch.float64)).numpy()
    return codes, v, score


@pytest.mark.parametrize("method", ["mean_diff", "svm", "logistic"])
def test_classifiers_recover_a_planted_direction_from_binary_labels(method: str) -> None:
    codes, v, score = _planted()
    d = dirs.from_labels(codes, score > 0, method=method, space=TOY, name="planted")
    assert _cos(d.vector, v) >= 0.95
    prov = d.provenance
    assert prov["method"] == method and prov["n_samples"] == 3000 and prov["scores"]["heldout_accuracy"] > 0.85
    assert prov["scores"]["heldout_balanced_accuracy"] > 0.85
    assert {"created_at", "library_version", "params", "n_train", "n_test"} <= set(prov)


def test_balanced_accuracy_sees_through_a_majority_class() -> None:
    codes, _, score = _planted()
    rare = score > np.quantile(score, 0.9)  # 10% positives
    noise = np.random.default_rng(5).normal(size=codes.shape).astype(np.float32)  # labels unrelated to the codes
    found = dirs.from_labels(codes, rare, method="logistic", space=TOY).provenance["scores"]
    guess = dirs.from_labels(noise, rare, method="logistic", space=TOY).provenance["scores"]
    assert found["heldout_balanced_accuracy"] > 0.85  # measured 0.92
    assert guess["heldout_balanced_accuracy"] < 0.65  # control: codes unrelated to the labels (measured 0.54)


@pytest.mark.parametrize("method", ["mean_diff", "svm", "logistic", "ridge"])
def test_every_method_recovers_a_planted_direction_from_continuous_labels(method: str) -> None:
    codes, v, score = _planted(seed=3)
    d = dirs.from_labels(codes, score, method=method, space=TOY)
    assert _cos(d.vector, v) >= 0.95
    if method == "ridge":
        assert d.provenance["scores"]["heldout_r2"] > 0.85
    else:
        assert d.provenance["params"]["quantile"] == 0.3 and d.provenance["n_samples"] < 3000


def test_from_labels_on_layered_codes_and_numpy_input() -> None:
    g = torch.Generator().manual_seed(1)
    codes = torch.randn(2000, 4, 8, generator=g)
    v = torch.randn(4, 8, generator=g)
    y = (codes.flatten(1) @ v.flatten()).numpy() > 0
    d = dirs.from_labels(codes.numpy(), y, method="svm", space=LAYERED)
    assert d.vector.shape == (4, 8) and _cos(d.vector, v) >= 0.95


def test_from_labels_errors_teach() -> None:
    codes = torch.randn(50, 16)
    with pytest.raises(ShapeError, match=r"\(50,\)"):
        dirs.from_labels(codes, np.ones(49), space=TOY)
    with pytest.raises(InvalidValueError, match="single value") as err:
        dirs.from_labels(codes, np.ones(50), space=TOY)
    assert "threshold" in str(err.value)
    with pytest.raises(InvalidValueError, match="unknown method"):
        dirs.from_labels(codes, codes[:, 0] > 0, method="lda", space=TOY)  # type: ignore[arg-type]
    with pytest.raises(IncompatibleLatentError, match="toy:w"):
        dirs.from_labels(codes, codes[:, 0] > 0, space=LAYERED)


# --------------------------------------------------------------------------- unsupervised finders
def test_pca_on_codes_agrees_with_scikit_learn() -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(4000, 10, generator=g, dtype=torch.float64) * torch.linspace(3, 0.3, 10, dtype=torch.float64)
    x = x @ torch.linalg.qr(torch.randn(10, 10, generator=g, dtype=torch.float64))[0] + 2.0
    space = LatentSpace("z", (10,), model="linear")
    gen = LinearGen(dim=10)
    gen._spaces = (space, *gen.spaces[1:])
    ours = dirs.pca(gen, n_components=5, codes=x)
    ref = PCA(n_components=5).fit(x.numpy())
    for i in range(5):
        assert abs(_cos(ours[i].vector, torch.from_numpy(ref.components_[i]))) > 0.9999
    assert np.allclose(ours.provenance["explained_variance_ratio"], ref.explained_variance_ratio_, rtol=1e-6)
    assert np.allclose(ours.provenance["explained_variance"], ref.explained_variance_, rtol=1e-6)


def _offset_rows(n: int, d: int, offset: float, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    g = torch.Generator().manual_seed(1)
    scales = torch.logspace(0, -2, d, dtype=torch.float64)
    mix = torch.linalg.qr(torch.randn(d, d, generator=g, dtype=torch.float64))[0]
    return ((torch.randn(n, d, generator=g, dtype=torch.float64) * scales) @ mix + offset).to(dtype)


def test_covariance_stream_gives_identical_results_for_any_chunking() -> None:
    x = _offset_rows(5000, 7, 50.0)
    whole = dirs.unsupervised.CovarianceStream(7, block_rows=512)
    whole.update(x)
    mean, cov = whole.result()
    for sizes in ([1, 699, 3000, 1300], [511] * 9 + [401], [512] * 9 + [392], [4999, 1]):
        stream = dirs.unsupervised.CovarianceStream(7, block_rows=512)
        for chunk in x.split(sizes):
            stream.update(chunk)
        m, c = stream.result()
        assert stream.n == 5000 and torch.equal(c, cov) and torch.equal(m, mean), sizes
    other_blocks = dirs.unsupervised.CovarianceStream(7, block_rows=500)  # control: other blocks, other rounding
    other_blocks.update(x)
    assert not torch.equal(other_blocks.result()[1], cov)


@pytest.mark.parametrize("dtype, tol", [(torch.float32, 1e-5), (torch.float64, 1e-12)])
def test_covariance_stream_is_accurate_with_a_large_offset(dtype: torch.dtype, tol: float) -> None:
    x = _offset_rows(20_000, 8, 1000.0, dtype)
    ref = torch.from_numpy(np.cov(x.double().numpy(), rowvar=False))
    stream = dirs.unsupervised.CovarianceStream(8)
    for chunk in x.split(3000):
        stream.update(chunk)
    mean, cov = stream.result()
    assert float((cov - ref).norm() / ref.norm()) < tol
    assert torch.allclose(mean, x.double().mean(0), rtol=1e-12)
    # negative control: raw moments in the same precision without the shift lose the small variances
    xs = x.numpy()
    m = xs.mean(0)
    raw = torch.from_numpy(((xs.T @ xs - len(xs) * np.outer(m, m)) / (len(xs) - 1)).astype(np.float64))
    assert float((raw - ref).norm() / ref.norm()) > 100 * tol


@pytest.mark.parametrize("streaming", [False, True])
def test_pca_of_mapped_samples_finds_the_planted_axes(streaming: bool) -> None:
    gen = LinearGen(dim=6)
    ds = dirs.pca(gen, n_samples=20_000, n_components=3, space="w", streaming=streaming, batch_size=3000)
    true_axes = torch.linalg.svd(gen.s.double())[0].T  # principal axes of S S^T
    for i in range(3):
        assert abs(_cos(ds[i].vector, true_axes[i])) > 0.99
    ratios = ds.provenance["explained_variance_ratio"]
    assert ratios == sorted(ratios, reverse=True) and ds.provenance["params"]["streaming"] is streaming
    assert ds[0].space.key == "linear:w"


def test_streaming_pca_above_the_covariance_limit_uses_incremental_pca(monkeypatch) -> None:
    monkeypatch.setattr(dirs.unsupervised, "STREAM_COV_MAX_DIM", 2)
    gen = LinearGen(dim=6)
    ds = dirs.pca(gen, n_samples=9000, n_components=2, space="w", streaming=True, batch_size=3000)
    true_axes = torch.linalg.svd(gen.s.double())[0].T
    assert ds.provenance["params"]["algorithm"] == "IncrementalPCA"
    assert abs(_cos(ds[0].vector, true_axes[0])) > 0.99


def test_pca_without_a_prior_or_map_asks_for_codes() -> None:
    gen = LinearGen()
    gen.capabilities = frozenset()
    with pytest.raises(CapabilityError, match="codes="):
        dirs.pca(gen, n_samples=100, n_components=2, space="w")


def test_sefa_agrees_with_a_reference_eigh_and_is_sorted(digits: Generator) -> None:
    ds = dirs.sefa(digits)
    a = digits.sefa_weight(digits.default_space).double().numpy()  # type: ignore[attr-defined]
    evals, evecs = np.linalg.eigh(a.T @ a)
    order = np.argsort(evals)[::-1]
    assert np.allclose(ds.provenance["eigenvalues"], evals[order], rtol=1e-9)
    assert ds.provenance["eigenvalues"] == sorted(ds.provenance["eigenvalues"], reverse=True)
    for i in range(4):
        assert abs(_cos(ds[i].vector, torch.from_numpy(evecs[:, order[i]].copy()))) > 0.9999
    assert len(ds) == 16 and ds[0].name == "sefa0"


def test_sefa_needs_the_capability() -> None:
    gen = LinearGen()
    gen.capabilities = frozenset()
    with pytest.raises(CapabilityError, match="sefa") as err:
        dirs.sefa(gen)
    assert "pca" in str(err.value)


def test_jacobian_matches_the_svd_of_a_known_linear_decoder() -> None:
    gen = LinearGen(dim=6)
    ds = dirs.jacobian(gen, torch.zeros(6), k=3)
    _, sv, vh = torch.linalg.svd(0.05 * gen.m.double())
    for i in range(3):
        assert abs(_cos(ds[i].vector, vh[i])) > 0.999
    assert np.allclose(ds.provenance["singular_values"], sv[:3].numpy(), rtol=1e-4)


def test_jacobian_on_digits_matches_the_full_jacobian(digits: Generator) -> None:
    z = digits.sample(1, seed=3)[0]
    ds = dirs.jacobian(digits, z, k=3, n_iter=3)
    full = torch.autograd.functional.jacobian(lambda v: digits.decode_differentiable(v[None]).flatten(), z)
    _, sv, vh = torch.linalg.svd(full.double())
    for i in range(3):
        assert abs(_cos(ds[i].vector, vh[i])) > 0.99
    assert np.allclose(ds.provenance["singular_values"], sv[:3].numpy(), rtol=1e-3)


# --------------------------------------------------------------------------- a StyleGAN-style adapter (W / W+)
def test_sefa_and_layered_edits_on_a_tiny_stylegan() -> None:
    from ._tiny_stylegan import Generator as TinyG

    gen = ll.from_stylegan(TinyG(z_dim=8, w_dim=12, img_resolution=16), name="tiny-sg")
    found = dirs.sefa(gen, n_components=3)
    assert found[0].space.key == "tiny-sg:w"
    wplus = gen.sample(2, seed=0, space="w+")
    n_layers = wplus.shape[1]
    edited = found[0].apply(wplus, 3.0, layers=range(0, 2), space=gen.space("w+"))
    assert torch.equal(edited[:, 2:], wplus[:, 2:]) and not torch.equal(edited[:, :2], wplus[:, :2])
    assert gen.decode(edited, space="w+").shape == (2, 3, 16, 16)
    with pytest.raises(IncompatibleLatentError, match="tiny-sg:w"):
        found[0].apply(wplus, 3.0)  # W+ codes without layers= are not W latents
    pcs = dirs.pca(gen, n_samples=500, n_components=2, space="w+")
    assert pcs[0].vector.shape == (n_layers, 12)
    assert pcs[0].apply(wplus, 1.0, layers=[0]).shape == wplus.shape


def test_from_labels_takes_its_name_from_a_pandas_column() -> None:
    pd = pytest.importorskip("pandas")
    codes, _, score = _planted(n=400)
    d = dirs.from_labels(codes, pd.Series(score, name="weight") > 0.2, method="logistic", space=TOY)
    assert d.name == "weight" and d.provenance["label"] == "weight"
    assert d.provenance["n_positive"] == int((score > 0.2).sum())
