"""latentlab.dataset.render(latents=<another job's folder>): re-render a job's latents, sweep a direction over it."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import latentlab as ll
from latentlab import dataset
from latentlab.errors import IncompatibleLatentError, InvalidValueError, LatentShapeError

from .conftest import peak_rss_mb

pa = pytest.importorskip("pyarrow")
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def digits() -> ll.Generator:
    return ll.load("digits")


@pytest.fixture(scope="module")
def source(digits, tmp_path_factory) -> dataset.Job:
    """A finished digits job: 230 sampled latents in 5 shards of 50, with the slant measured."""
    out = tmp_path_factory.mktemp("src") / "digits"
    return dataset.render(
        digits, n=230, seed=3, out=out, measures=["slant"], thumbnails=16, shard_size=50, batch_size=32, progress=False
    )


def _again(gen: object, latents: object, out: Path, **kw: object) -> dataset.Job:
    args = dict(measures=["ink_coverage", "slant"], thumbnails=8, shard_size=70, batch_size=32, progress=False)
    args.update(kw)
    return dataset.render(gen, latents=latents, out=out, **args)  # type: ignore[arg-type]


def _rows(table: pa.Table) -> pa.Table:
    return table.replace_schema_metadata(None)


# --------------------------------------------------------------------------- what a re-render writes
def test_a_rerender_has_the_source_latents_new_measures_and_records_the_source(digits, source, tmp_path, monkeypatch):
    reads: list[tuple[str, list[str] | None]] = []
    real_read = dataset._pq().read_table

    def counting_read(where, columns=None, **kw):
        reads.append((Path(where).name, columns))
        return real_read(where, columns=columns, **kw)

    monkeypatch.setattr(dataset._pq(), "read_table", counting_read)
    job = _again(digits, source.out, tmp_path / "again")  # shards of 70 over source shards of 50
    monkeypatch.undo()
    assert (job.n, job.n_shards, job.done) == (230, 4, True)
    # streamed: one source shard's latent column at a time, each read once (the worker keeps the last one)
    assert all(columns == ["latent"] for _, columns in reads)
    assert sorted(name for name, _ in reads) == [f"part-0000{k}.parquet" for k in range(5)]

    table = dataset.read(job.out)
    assert table.column_names == ["index", "latent", "ink_coverage", "slant", "thumbnail"]
    z_src = dataset.latents(source.out)
    assert torch.equal(dataset.latents(table), z_src)
    assert table["index"].to_pylist() == list(range(230))
    images = digits.decode(z_src)
    expected_ink = ll.measures.ink_coverage(images).double().numpy()
    assert np.allclose(table["ink_coverage"].to_numpy(), expected_ink, atol=1e-6)
    assert np.allclose(table["slant"].to_numpy(), source.read(["slant"])["slant"].to_numpy(), atol=1e-5)
    assert table["thumbnail"][5].as_py() == ll.png_bytes(images[5], size=(8, 8))

    # the same table as rendering the tensor of those latents; only the provenance says where they came from
    from_tensor = _again(digits, z_src, tmp_path / "tensor")
    assert _rows(table).equals(_rows(from_tensor.read()))
    args = dataset.info(job.out)["args"]
    assert args["latents_sha256"] == dataset.info(from_tensor.out)["args"]["latents_sha256"]
    src_manifest = dataset.info(source.out)
    identity = {k: src_manifest[k] for k in ("format", "latentlab", "kind", "model", "args", "n", "shard_size")}
    assert args["latents_job"] == {
        "path": str(source.out),
        "model": "digits",
        "kind": "render",
        "space": "z",
        "n": 230,
        "fingerprint": hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest(),
    }
    meta = json.loads(table.schema.metadata[b"latentlab"])
    assert meta["args"]["latents_job"]["path"] == str(source.out)
    assert "latents_job" not in dataset.info(from_tensor.out)["args"]


def test_a_different_source_gives_a_different_table(digits, source, tmp_path):
    other = dataset.render(
        digits, n=230, seed=4, out=tmp_path / "other", thumbnails=None, shard_size=50, batch_size=32, progress=False
    )
    a = _again(digits, source, tmp_path / "a").read()  # a Job works as well as its folder
    b = _again(digits, other.out, tmp_path / "b").read()
    assert not torch.allclose(dataset.latents(a), dataset.latents(b))
    assert not np.allclose(a["ink_coverage"].to_numpy(), b["ink_coverage"].to_numpy())
    assert (
        dataset.info(tmp_path / "a")["args"]["latents_job"]["fingerprint"]
        != (dataset.info(tmp_path / "b")["args"]["latents_job"]["fingerprint"])
    )


def test_another_generator_of_a_space_of_that_shape_renders_the_same_latents(source, tmp_path):
    torch.manual_seed(0)
    dec = nn.Sequential(nn.Linear(16, 3 * 8 * 8), nn.Sigmoid(), nn.Unflatten(1, (3, 8, 8)))
    tiny = ll.from_module(dec, latent_shape=16, output_range=(0, 1), name="tiny16")
    job = _again(tiny, source.out, tmp_path / "tiny", measures=["ink_coverage"])
    table = job.read()
    z = dataset.latents(source.out)
    assert torch.equal(dataset.latents(table), z)
    assert np.allclose(table["ink_coverage"].to_numpy(), ll.measures.ink_coverage(tiny.decode(z)).double().numpy())
    manifest = dataset.info(job.out)
    assert (manifest["model"]["name"], manifest["args"]["latents_job"]["model"]) == ("tiny16", "digits")


def test_an_encode_job_is_a_source_too(digits, tmp_path):
    pictures = list(digits.decode(digits.sample(6, seed=9)))
    enc = dataset.encode(digits, pictures, out=tmp_path / "enc", method="encoder", shard_size=4, progress=False)
    job = _again(digits, enc.out, tmp_path / "again", measures=["ink_coverage"], thumbnails=None)
    assert torch.equal(dataset.latents(job.out), dataset.latents(enc.out))
    assert dataset.info(job.out)["args"]["latents_job"]["kind"] == "encode"


# --------------------------------------------------------------------------- resume
def test_a_rerender_resumes_and_refuses_a_changed_source(digits, tmp_path, monkeypatch):
    src = dataset.render(
        digits, n=120, seed=5, out=tmp_path / "src", thumbnails=None, shard_size=40, batch_size=32, progress=False
    )
    reference = _again(digits, src.out, tmp_path / "ref", shard_size=30).read()
    real = dataset._run_shard
    calls = {"n": 0}

    def dies_on_third(*args):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(dataset, "_run_shard", dies_on_third)
    with pytest.raises(KeyboardInterrupt):
        _again(digits, src.out, tmp_path / "job", shard_size=30)
    monkeypatch.undo()
    assert dataset.info(tmp_path / "job")["shards_done"] == 2
    job = _again(digits, src.out, tmp_path / "job", shard_size=30)
    assert (job.computed, job.done) == (2, True)
    assert job.read().equals(reference)
    assert _again(digits, src.out, tmp_path / "job", shard_size=30).computed == 0  # nothing left to do

    # the source job is replaced by another one: the re-run is refused, not mixed with the old rows
    dataset.render(
        digits,
        n=120,
        seed=6,
        out=tmp_path / "src",
        thumbnails=None,
        shard_size=40,
        batch_size=32,
        progress=False,
        overwrite=True,
    )
    with pytest.raises(InvalidValueError, match="another job") as err:
        _again(digits, src.out, tmp_path / "job", shard_size=30)
    assert "latents_sha256" in str(err.value)
    assert dataset.read(tmp_path / "job").equals(reference)  # untouched


# --------------------------------------------------------------------------- a direction swept over a job
def test_a_sweep_moves_every_latent_by_each_strength_and_a_fitted_direction_moves_its_measure(digits, source, tmp_path):
    slant = dataset.from_labels(source.out, "slant", method="ridge")
    strengths = [-2.0, 0.0, 2.0]
    job = _again(digits, source.out, tmp_path / "sweep", direction=slant, strength=strengths, shard_size=50)
    table = job.read()
    assert job.n == 230 * 3 and table.column_names == [
        "index",
        "source_index",
        "strength",
        "latent",
        "ink_coverage",
        "slant",
        "thumbnail",
    ]
    z = dataset.latents(source.out)
    assert table["source_index"].to_pylist() == [i // 3 for i in range(690)]
    assert table["strength"].to_pylist() == strengths * 230
    moved = slant.apply(z, strengths).transpose(0, 1).reshape(690, 16)
    assert torch.equal(dataset.latents(table), moved)  # shards of 50 cut through the triples: rows still line up
    measured = table["slant"].to_numpy().reshape(230, 3)
    assert np.allclose(measured[:, 1], source.read(["slant"])["slant"].to_numpy(), atol=1e-5)  # strength 0
    gain = float(np.mean(measured[:, 2] - measured[:, 0]))
    # negative control: a random unit direction moved as far changes the slant far less
    rand = ll.Direction(torch.randn(16, generator=torch.Generator().manual_seed(1)), digits.space(), name="random")
    control = _again(digits, source.out, tmp_path / "control", direction=rand, strength=[-2.0, 2.0], thumbnails=None)
    ctrl = control.read()["slant"].to_numpy().reshape(230, 2)
    gain_random = float(np.mean(ctrl[:, 1] - ctrl[:, 0]))
    assert gain > 0 and gain > 3 * abs(gain_random), (gain, gain_random)
    args = dataset.info(job.out)["args"]
    assert args["strengths"] == strengths and args["direction"]["name"] == "slant"
    # a scalar strength is one row per latent
    one = _again(digits, z, tmp_path / "one", direction=slant, strength=1.5, thumbnails=None, measures=None)
    assert torch.allclose(dataset.latents(one.out), slant.apply(z, 1.5))


# --------------------------------------------------------------------------- bad input
def test_bad_sources_and_sweeps_get_latentlab_errors(digits, source, tmp_path):
    with pytest.raises(InvalidValueError, match="not a latentlab job folder") as err:
        _again(digits, tmp_path / "nowhere", tmp_path / "o1")
    assert "no such folder" in str(err.value)
    (tmp_path / "plain").mkdir()
    with pytest.raises(InvalidValueError, match="not a latentlab job folder"):
        _again(digits, tmp_path / "plain", tmp_path / "o2")
    pa.parquet.write_table(pa.table({"latent": [[0.0] * 16]}), tmp_path / "mine.parquet")
    with pytest.raises(InvalidValueError, match="not a latentlab job folder") as err:
        _again(digits, str(tmp_path / "mine.parquet"), tmp_path / "o3")
    assert "dataset.latents(table)" in str(err.value)

    unfinished = dataset.render(
        digits, n=120, seed=1, out=tmp_path / "unfinished", thumbnails=None, shard_size=40, progress=False
    )
    os.remove(unfinished.out / "part-00001.parquet")
    with pytest.raises(InvalidValueError, match="not finished") as err:
        _again(digits, unfinished.out, tmp_path / "o4")
    assert "2 shards written" in str(err.value)

    two_d = dataset.render("digits-2d", n=30, seed=0, out=tmp_path / "2d", thumbnails=None, progress=False)
    with pytest.raises(LatentShapeError, match="does not fit the space digits:z") as err:
        _again(digits, two_d.out, tmp_path / "o5")
    assert "(30, 2)" in str(err.value) and "digits-2d" in str(err.value)

    with pytest.raises(InvalidValueError, match="folder it reads its latents from"):
        _again(digits, source.out, source.out, overwrite=True)
    assert dataset.info(source.out)["shards_done"] == 5  # the source is untouched

    d = ll.Direction(torch.ones(16), digits.space(), name="ones")
    with pytest.raises(InvalidValueError, match="needs latents="):
        dataset.render(digits, n=10, out=tmp_path / "o6", direction=d, progress=False)
    with pytest.raises(InvalidValueError, match="strength= needs direction="):
        _again(digits, source.out, tmp_path / "o7", strength=2.0)
    with pytest.raises(InvalidValueError, match="must be a latentlab Direction"):
        _again(digits, source.out, tmp_path / "o8", direction=torch.ones(16))
    other_model = ll.Direction(torch.ones(2), ll.load("digits-2d").space(), name="2d")
    with pytest.raises((IncompatibleLatentError, LatentShapeError)):
        _again(digits, source.out, tmp_path / "o9", direction=other_model)
    for bad in ([], float("nan")):
        with pytest.raises(ll.LatentLabError):
            _again(digits, source.out, tmp_path / "o10", direction=d, strength=bad)
    assert not any((tmp_path / f"o{k}").exists() for k in range(1, 11))  # nothing written for bad input


# --------------------------------------------------------------------------- memory
_MEMORY_SCRIPT = """
from latentlab import dataset
source, out, mode = sys.argv[1:4]
if mode == "job":
    dataset.render(gen, latents=source, out=out, measures=["ink_coverage"], thumbnails=8, shard_size=5000,
                   batch_size=1000, progress=False)
else:  # negative control: reading the source's latents all at once
    z = dataset.latents(source)
"""


def _tiny256() -> ll.Generator:
    torch.manual_seed(0)
    dec = nn.Sequential(nn.Linear(256, 3 * 8 * 8), nn.Sigmoid(), nn.Unflatten(1, (3, 8, 8)))
    return ll.from_module(dec, latent_shape=256, output_range=(0, 1), name="tiny")


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the peak memory from /proc (Linux)")
def test_rerendering_a_job_keeps_memory_flat_from_10k_to_100k_rows(tmp_path):
    for n in (10_000, 100_000):  # sources of 256-d latents (given, so no decode is needed to write them)
        z = torch.randn(n, 256, generator=torch.Generator().manual_seed(n))
        dataset.render(
            _tiny256(),
            latents=z,
            out=tmp_path / f"src{n}",
            measures=None,
            thumbnails=None,
            shard_size=5000,
            progress=False,
        )

    def peak_mb(n: int, mode: str) -> int:
        return peak_rss_mb(_MEMORY_SCRIPT, tmp_path / f"src{n}", tmp_path / f"{mode}{n}", mode)

    small, large = peak_mb(10_000, "job"), peak_mb(100_000, "job")
    assert large - small < 40, (small, large)  # 90k more 256-d latents are 92 MB of float32 alone
    assert dataset.read(tmp_path / "job100000", columns=["index"]).num_rows == 100_000
    read_small, read_large = peak_mb(10_000, "read"), peak_mb(100_000, "read")
    assert read_large - read_small > 40, (read_small, read_large)  # the bound would catch a job that read them all


# --------------------------------------------------------------------------- Ray Data
@pytest.fixture(scope="module")
def ray_cluster():
    ray = pytest.importorskip("ray")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    if started:
        ray.shutdown()


@pytest.mark.slow
def test_ray_and_local_rerender_and_sweep_write_identical_tables(ray_cluster, digits, source, tmp_path):
    d = ll.Direction(torch.randn(16, generator=torch.Generator().manual_seed(2)), digits.space(), name="d")
    for kw in ({}, {"direction": d, "strength": [-1.0, 1.0]}):
        local = _again("digits", source.out, tmp_path / "local", overwrite=True, **kw)
        ray = _again("digits", source.out, tmp_path / "ray", engine="ray", workers=2, overwrite=True, **kw)
        assert (ray.done, ray.computed) == (True, local.n_shards)
        assert ray.read().equals(local.read())
