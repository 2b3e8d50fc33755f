"""Every error path says what was expected, what was got and how to fix it."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

import latentlab as ll
from latentlab.errors import LatentLabError


@pytest.fixture(scope="module")
def gen() -> ll.Generator:
    return ll.load("digits")


def _assert_teaches(err: LatentLabError) -> None:
    text = str(err)
    assert "expected:" in text and "got:" in text and "fix:" in text


def test_wrong_latent_shape_names_both_shapes(gen: ll.Generator) -> None:
    with pytest.raises(ll.ShapeError) as info:
        gen.decode(torch.zeros(4, 17))
    _assert_teaches(info.value)
    assert "(4, 17)" in str(info.value) and "(N, 16)" in str(info.value)
    assert "another model" in str(info.value)


def test_latent_from_the_2d_model_is_refused(gen: ll.Generator) -> None:
    z2 = ll.load("digits-2d").sample(3, seed=0)
    with pytest.raises(ll.ShapeError, match=r"\(3, 2\)"):
        gen.decode(z2)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_latents(gen: ll.Generator, bad: float) -> None:
    z = gen.sample(2, seed=0)
    z[1, 3] = bad
    with pytest.raises(ll.InvalidValueError) as info:
        gen.decode(z)
    _assert_teaches(info.value)
    assert "non-finite" in str(info.value)


def test_error_hierarchy() -> None:
    assert issubclass(ll.ShapeError, ValueError) and issubclass(ll.ShapeError, ll.LatentLabError)
    assert issubclass(ll.ChecksumError, RuntimeError)
    assert issubclass(ll.MissingDependencyError, ImportError)
    err = ll.ShapeError("x", expected="a", got="b", fix="c")
    again = pickle.loads(pickle.dumps(err))
    assert str(again) == str(err) and type(again) is ll.ShapeError


def test_unknown_model_suggests_closest() -> None:
    with pytest.raises(ll.UnknownModelError) as info:
        ll.load("digit")
    _assert_teaches(info.value)
    assert "did you mean 'digits'" in str(info.value) and "digits-2d" in str(info.value)


def test_unknown_space(gen: ll.Generator) -> None:
    with pytest.raises(ll.UnknownSpaceError, match="'w'") as info:
        gen.sample(2, space="w")
    assert "'z'" in str(info.value)


@pytest.mark.parametrize(("n", "temperature"), [(0, 1.0), (2, 0.0), (2, -1.0)])
def test_bad_sample_arguments(gen: ll.Generator, n: int, temperature: float) -> None:
    with pytest.raises(ll.InvalidValueError):
        gen.sample(n, temperature=temperature)


def test_images_out_of_range_and_wrong_shape(gen: ll.Generator) -> None:
    with pytest.raises(ll.InvalidValueError, match=r"\[0, 1\]"):
        gen.encode(torch.full((1, 3, 32, 32), 2.0))
    with pytest.raises(ll.ShapeError, match="channel-first"):
        gen.encode(np.zeros((32, 32, 3), dtype=np.float32))
    with pytest.raises(ll.ShapeError, match=r"\(N, 3, 32, 32\)"):
        gen.encode(torch.zeros(1, 3, 20, 20))


def _copy_model(tmp_path: Path) -> Path:
    from latentlab.generators.registry import BUNDLED_DIR

    dst = tmp_path / "digits"
    shutil.copytree(BUNDLED_DIR / "digits", dst)
    return dst


def test_tampered_weights_raise_checksum_error(tmp_path: Path) -> None:
    folder = _copy_model(tmp_path)
    data = bytearray((folder / "weights.safetensors").read_bytes())
    data[-10] ^= 0xFF
    (folder / "weights.safetensors").write_bytes(bytes(data))
    with pytest.raises(ll.ChecksumError) as info:
        ll.load(folder)
    _assert_teaches(info.value)
    assert "weights.safetensors" in str(info.value) and "changed or truncated" in str(info.value)


def test_truncated_weights_raise_checksum_error(tmp_path: Path) -> None:
    folder = _copy_model(tmp_path)
    w = folder / "weights.safetensors"
    w.write_bytes(w.read_bytes()[:1000])
    with pytest.raises(ll.ChecksumError, match="1000 bytes"):
        ll.load(folder)


def test_missing_manifest(tmp_path: Path) -> None:
    folder = _copy_model(tmp_path)
    (folder / "MANIFEST.sha256").unlink()
    with pytest.raises(ll.ChecksumError, match="no MANIFEST"):
        ll.load(folder)


def test_bundled_model_tampering_is_detected(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from latentlab.generators import registry

    folder = _copy_model(tmp_path)
    (folder / "weights.safetensors").write_bytes(b"not weights")
    monkeypatch.setattr(registry, "BUNDLED_DIR", tmp_path)
    monkeypatch.setattr(registry, "_REGISTRY", {})
    with pytest.raises(ll.ChecksumError) as info:
        ll.load("digits")
    assert "reinstall latentlab" in str(info.value)


def test_missing_dependency_names_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from latentlab._optional import require

    with pytest.raises(ll.MissingDependencyError) as info:
        require("umap_not_a_module_xyz", purpose="maps")
    _assert_teaches(info.value)
    monkeypatch.setitem(sys.modules, "umap", None)  # makes `import umap` fail as if not installed
    with pytest.raises(ll.MissingDependencyError, match=r'pip install "latentlab\[maps\]"'):
        require("umap", purpose="UMAP maps")
