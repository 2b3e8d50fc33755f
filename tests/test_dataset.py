"""latentlab.dataset: Parquet jobs, resume, flat memory, the Ray Data engine, out-of-core directions and maps."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

import latentlab as ll
from latentlab import dataset
from latentlab.errors import InvalidValueError

from .conftest import peak_rss_mb

pa = pytest.importorskip("pyarrow")
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def digits() -> ll.Generator:
    return ll.load("digits")


def _tiny(dim: int = 8, name: str = "tiny") -> ll.Generator:
    """A cheap real generator (from_module) without load_ref: Ray gets it pickled."""
    torch.manual_seed(0)
    dec = nn.Sequential(nn.Linear(dim, 3 * 8 * 8), nn.Sigmoid(), nn.Unflatten(1, (3, 8, 8)))
    return ll.from_module(dec, latent_shape=dim, output_range=(0, 1), name=name)


def _render(gen: object, out: Path, **kw: object) -> dataset.Job:
    args = dict(
        n=230, seed=3, measures=["slant", "ink_coverage"], thumbnails=16, shard_size=50, batch_size=32, progress=False
    )
    args.update(kw)
    return dataset.render(gen, out=out, **args)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- what a job writes
def test_render_rows_are_the_seeded_samples_measures_and_thumbnails(digits, tmp_path):
    job = _render(digits, tmp_path / "a")
    assert (job.n, job.n_shards, job.done, job.computed) == (230, 5, True, 5)
    table = dataset.read(tmp_path / "a")
    assert table.column_names == ["index", "seed", "latent", "slant", "ink_coverage", "thumbnail"]
    assert table["index"].to_pylist() == list(range(230))
    z = dataset.latents(table)
    seeds = table["seed"].to_pylist()
    assert seeds[5] == dataset.row_seed(3, 5) and len(set(seeds)) == 230
    expected = torch.cat([digits.sample(1, seed=s) for s in seeds])
    assert torch.equal(z, expected)
    images = digits.decode(z)
    assert np.allclose(table["slant"].to_numpy(), ll.measures.slant(images).double().numpy(), atol=1e-6)
    assert np.allclose(table["ink_coverage"].to_numpy(), ll.measures.ink_coverage(images).double().numpy(), atol=1e-6)
    thumbs = table["thumbnail"].to_pylist()
    assert thumbs[17] == ll.png_bytes(images[17], size=(16, 16))
    # the thumbnail shows its latent's image, not another row's (negative control: the next row)
    small = ll.render.resize(images[17:19], (16, 16))
    pixels = torch.from_numpy(np.array(Image.open(io.BytesIO(thumbs[17])))).permute(2, 0, 1).float() / 255
    assert (pixels - small[0]).abs().mean() < 0.02 < (pixels - small[1]).abs().mean()
    meta = json.loads(table.schema.metadata[b"latentlab"])
    assert meta["space"]["shape"] == [16] and meta["model"] == "digits"


def test_rows_do_not_depend_on_shard_or_batch_size(digits, tmp_path):
    a = dataset.read(_render(digits, tmp_path / "a", n=60, shard_size=7, batch_size=5).out)
    b = dataset.read(_render(digits, tmp_path / "b", n=60, shard_size=60, batch_size=5).out)
    assert a.equals(b)


def test_render_given_latents_and_glyph_measures_average_the_glyphs(tmp_path):
    gen = ll.load("glyphs")
    gen.text = "Ag"
    z = gen.sample(6, seed=1)
    dataset.render(
        gen, latents=z, out=tmp_path / "g", measures=["stroke_weight"], thumbnails=None, shard_size=4, progress=False
    )
    table = dataset.read(tmp_path / "g")
    assert table.column_names == ["index", "latent", "stroke_weight"]
    assert torch.equal(dataset.latents(table), z)
    views, k = gen.measure_views(z)
    per_font = ll.measures.stroke_weight(views).double().view(6, k).mean(1)
    assert k == 2 and np.allclose(table["stroke_weight"].to_numpy(), per_font.numpy(), atol=1e-6)
    # the control: the whole specimen's measure is another quantity (its difference, up to ~1e-3 with the shipped
    # sharpness, is 100x the 1e-6 the per-glyph mean is held to above)
    whole = ll.measures.stroke_weight(gen.decode(z)).double().numpy()
    assert not np.allclose(per_font.numpy(), whole, atol=1e-4)


def test_pandas_and_streaming_reads(digits, tmp_path):
    _render(digits, tmp_path / "a")
    df = dataset.read(tmp_path / "a").to_pandas()
    assert list(df.columns)[:3] == ["index", "seed", "latent"] and len(df) == 230
    assert torch.equal(dataset.latents(df), dataset.latents(tmp_path / "a"))
    batches = list(dataset.iter_batches(tmp_path / "a", ["index"], batch_size=20))
    assert [b.num_rows for b in batches][:3] == [20, 20, 10]
    assert np.concatenate([b["index"].to_numpy() for b in batches]).tolist() == list(range(230))


def test_encode_folder_list_and_parquet_sources(digits, tmp_path):
    images = digits.decode(digits.sample(7, seed=2))
    folder = tmp_path / "pngs"
    folder.mkdir()
    for i, img in enumerate(images):
        (folder / f"{i:02d}.png").write_bytes(ll.png_bytes(img))
    job = dataset.encode(
        digits, folder, out=tmp_path / "enc", method="encoder", shard_size=3, progress=False, measures=["slant"]
    )
    table = job.read()
    assert table["source"].to_pylist() == [f"{i:02d}.png" for i in range(7)]
    direct = ll.encode(
        digits, ll.load_images(sorted(folder.iterdir()), size=digits.image_size), method="encoder", progress=False
    )
    assert torch.allclose(dataset.latents(table), direct.latents, atol=1e-6)
    assert np.allclose(table["mse"].to_numpy(), direct.mse.double().numpy(), atol=1e-7)
    assert np.allclose(table["slant"].to_numpy(), ll.measures.slant(direct.reconstructions).double().numpy(), atol=1e-6)
    # a list of tensors and a Parquet column of PNG bytes (a render job's thumbnails) give the same latents
    listed = dataset.encode(
        digits,
        [ll.load_images(p)[0] for p in sorted(folder.iterdir())],
        out=tmp_path / "l",
        method="encoder",
        progress=False,
    ).read()
    assert torch.allclose(dataset.latents(listed), direct.latents, atol=1e-6)
    rendered = _render(digits, tmp_path / "r", n=12, thumbnails=32, measures=None)
    from_parquet = dataset.encode(digits, rendered.out, out=tmp_path / "p", method="encoder", progress=False).read()
    assert from_parquet["source"].to_pylist()[:2] == ["part-00000.parquet#0", "part-00000.parquet#1"]
    thumbs = [Image.open(io.BytesIO(b)) for b in dataset.read(rendered.out)["thumbnail"].to_pylist()]
    expected = ll.encode(digits, ll.load_images(thumbs, size=(32, 32)), method="encoder", progress=False).latents
    assert torch.allclose(dataset.latents(from_parquet), expected, atol=1e-6)


# --------------------------------------------------------------------------- resume
def test_resume_after_a_fault_gives_the_uninterrupted_result(digits, tmp_path, monkeypatch):
    reference = dataset.read(_render(digits, tmp_path / "ref").out)
    real_write = dataset._pq().write_table
    calls = {"n": 0}

    def failing_write(table, where, **kw):  # the third shard dies half written
        calls["n"] += 1
        if calls["n"] == 3:
            Path(where).write_bytes(b"PAR1 half a shard")
            raise KeyboardInterrupt
        return real_write(table, where, **kw)

    monkeypatch.setattr(dataset._pq(), "write_table", failing_write)
    with pytest.raises(KeyboardInterrupt):
        _render(digits, tmp_path / "job")
    monkeypatch.undo()
    files = sorted(p.name for p in (tmp_path / "job").iterdir())
    assert files == ["_latentlab_job.json", "part-00000.parquet", "part-00001.parquet"]  # no partial shard
    with pytest.raises(InvalidValueError, match="not finished"):
        dataset.read(tmp_path / "job")
    assert dataset.read(tmp_path / "job", allow_partial=True).num_rows == 100
    job = _render(digits, tmp_path / "job")
    assert (job.computed, job.done) == (3, True)
    assert dataset.read(tmp_path / "job").equals(reference)
    assert _render(digits, tmp_path / "job").computed == 0  # a finished job is not recomputed


_KILL_SCRIPT = textwrap.dedent("""
    import sys, time
    import latentlab as ll
    from latentlab import dataset

    def slow_ink(images):
        time.sleep(0.05)
        return ll.measures.ink_coverage(images)

    dataset.render("digits", n=2000, seed=1, out=sys.argv[1], measures=[slow_ink], thumbnails=8, shard_size=100,
                   batch_size=25, progress=False)
""")


def slow_ink(images):  # the same measure name as in the killed job; no sleep needed to finish it
    return ll.measures.ink_coverage(images)


def test_resume_after_sigkill_of_a_subprocess(tmp_path):
    out = tmp_path / "job"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-c", _KILL_SCRIPT, str(out)], env=env)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(list(out.glob("part-*.parquet"))) < 3:
            assert proc.poll() is None, "the job ended before it was killed"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    written = dataset.read(out, allow_partial=True)  # only complete shards are ever read
    assert 300 <= written.num_rows < 2000 and written.num_rows % 100 == 0
    job = dataset.render(
        "digits",
        n=2000,
        seed=1,
        out=out,
        measures=[slow_ink],
        thumbnails=8,
        shard_size=100,
        batch_size=25,
        progress=False,
    )
    assert job.done and job.computed == 20 - written.num_rows // 100
    assert not list(out.glob(".*partial*"))
    reference = dataset.render(
        "digits",
        n=2000,
        seed=1,
        out=tmp_path / "ref",
        measures=[slow_ink],
        thumbnails=8,
        shard_size=100,
        batch_size=25,
        progress=False,
    )
    assert dataset.read(out).equals(dataset.read(reference.out))


# --------------------------------------------------------------------------- memory
_MEMORY_SCRIPT = """
from latentlab import dataset
n, mode = int(sys.argv[1]), sys.argv[2]
if mode == "job":
    dataset.render(gen, n=n, seed=0, out=sys.argv[3], measures=["ink_coverage"], thumbnails=8, shard_size=5000,
                   batch_size=1000, progress=False)
else:  # negative control: what a loop that keeps every latent holds
    kept = [gen.sample(1, seed=i) for i in range(n)]
"""


def _peak_mb(tmp_path: Path, n: int, mode: str) -> int:
    return peak_rss_mb(_MEMORY_SCRIPT, n, mode, tmp_path / f"{mode}{n}")


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the peak memory from /proc (Linux)")
def test_memory_stays_flat_from_10k_to_100k_latents(tmp_path):
    small, large = _peak_mb(tmp_path, 10_000, "job"), _peak_mb(tmp_path, 100_000, "job")
    assert large - small < 40, (small, large)  # 90k more 256-d latents are 92 MB of float32 alone
    assert dataset.read(tmp_path / "job100000", columns=["index"]).num_rows == 100_000
    kept_small, kept_large = _peak_mb(tmp_path, 10_000, "keep"), _peak_mb(tmp_path, 100_000, "keep")
    assert kept_large - kept_small > 40, (kept_small, kept_large)  # the bound would catch a job that held them


# --------------------------------------------------------------------------- bad input
def test_a_folder_of_another_job_is_refused_not_mixed(digits, tmp_path):
    _render(digits, tmp_path / "a", n=60)
    for change in ({"seed": 4}, {"measures": ["slant"]}, {"thumbnails": 32}, {"n": 61}, {"shard_size": 20}):
        with pytest.raises(InvalidValueError, match="another job") as err:
            _render(digits, tmp_path / "a", **{"n": 60, **change})
        assert "overwrite=True" in str(err.value)
    with pytest.raises(InvalidValueError, match="another job") as err:
        _render(ll.load("digits-2d"), tmp_path / "a", n=60)
    assert "digits-2d" in str(err.value)
    assert dataset.info(tmp_path / "a")["args"]["seed"] == 3  # untouched
    job = _render(digits, tmp_path / "a", n=60, seed=4, overwrite=True)
    assert job.computed == 2 and dataset.read(job.out).num_rows == 60
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    pa.parquet.write_table(pa.table({"x": [1]}), foreign / "data.parquet")
    with pytest.raises(InvalidValueError, match="no latentlab job manifest"):
        _render(digits, foreign, n=10)


def test_bad_arguments_get_latentlab_errors(digits, tmp_path):
    cases = [
        dict(n=None),  # neither n nor latents
        dict(latents=torch.zeros(3, 16)),  # both
        dict(n=0),
        dict(shard_size=0),
        dict(measures=["no-such-measure"]),
        dict(engine="spark"),
        dict(latents=torch.zeros(3, 5), n=None),  # wrong latent shape
    ]
    for kw in cases:
        with pytest.raises(ll.LatentLabError):
            _render(digits, tmp_path / "bad", **kw)
    (tmp_path / "file").write_text("x")
    with pytest.raises(InvalidValueError, match="is a file"):
        _render(digits, tmp_path / "file")
    with pytest.raises(InvalidValueError, match="not a latentlab job"):
        dataset.read(tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InvalidValueError, match="no images"):
        dataset.encode(digits, tmp_path / "empty", out=tmp_path / "e")


class _Locked(nn.Module):
    """A decoder holding a lock: cannot be pickled."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(4, 3 * 4 * 4)
        self.lock = threading.Lock()

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.lin(z)).view(-1, 3, 4, 4)


def test_a_generator_ray_cannot_get_is_refused_with_a_fix(tmp_path):
    pytest.importorskip("ray")
    gen = ll.from_module(_Locked(), latent_shape=4, output_range=(0, 1), name="locked")
    with pytest.raises(InvalidValueError, match="cannot be sent to the Ray workers") as err:
        dataset.render(gen, n=10, out=tmp_path / "r", engine="ray", progress=False)
    assert "ll.register" in str(err.value) and "load_ref" in str(err.value)
    assert not (tmp_path / "r").exists()  # refused before anything was written
    # the fix: a function that builds it, registered under a name
    ll.register("locked-test", _build_locked, overwrite=True)
    loaded = ll.load("locked-test")
    assert loaded.load_ref == "locked-test"
    source = dataset._model_source(loaded)
    assert source.payload is not None  # the factory travels, the generator is built in the worker
    z = loaded.sample(3, seed=0)
    assert torch.equal(source.build().decode(z), loaded.decode(z))


def _build_locked() -> ll.Generator:
    torch.manual_seed(0)
    return ll.from_module(_Locked(), latent_shape=4, output_range=(0, 1), name="locked")


def test_load_ref_is_how_workers_load_a_model(digits, tmp_path):
    assert digits.load_ref == "digits"
    assert dataset._model_source(digits).load_ref == "digits"
    changed = ll.load("glyphs")
    changed.text = "Ag"  # no longer what ll.load("glyphs") gives: sent pickled instead
    source = dataset._model_source(changed)
    assert source.load_ref is None and source.build().image_size == changed.image_size
    assert dataset._model_source(_tiny()).payload is not None


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
def test_ray_and_local_engines_write_identical_tables(ray_cluster, digits, tmp_path):
    local = dataset.read(_render(digits, tmp_path / "local").out)
    job = _render(digits, tmp_path / "ray", engine="ray", workers=2)
    assert (job.done, job.computed) == (True, 5)
    assert dataset.read(job.out).equals(local)
    assert sorted(p.name for p in job.out.iterdir()) == sorted(p.name for p in (tmp_path / "local").iterdir())


@pytest.mark.slow
def test_ray_resumes_a_local_job_and_sends_a_pickled_generator(ray_cluster, tmp_path, monkeypatch):
    gen = _tiny()
    reference = dataset.read(_render(gen, tmp_path / "ref", measures=["ink_coverage"]).out)
    real = dataset._run_shard
    calls = {"n": 0}

    def dies_on_third(*args):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("injected fault")
        return real(*args)

    monkeypatch.setattr(dataset, "_run_shard", dies_on_third)
    with pytest.raises(RuntimeError, match="injected"):
        _render(gen, tmp_path / "job", measures=["ink_coverage"])
    monkeypatch.undo()
    job = _render(gen, tmp_path / "job", measures=["ink_coverage"], engine="ray", workers=2)
    assert (job.computed, job.done) == (3, True)
    assert dataset.read(job.out).equals(reference)
    enc_local = dataset.encode(
        gen,
        tmp_path / "ref",
        out=tmp_path / "el",
        method="optimize",
        steps=5,
        shard_size=100,
        progress=False,
        column="thumbnail",
    ).read()
    enc_ray = dataset.encode(
        gen,
        tmp_path / "ref",
        out=tmp_path / "er",
        method="optimize",
        steps=5,
        shard_size=100,
        progress=False,
        column="thumbnail",
        engine="ray",
        workers=2,
    ).read()
    assert enc_ray.equals(enc_local)


@pytest.mark.slow
def test_ray_errors_inside_workers_arrive_as_latentlab_errors(ray_cluster, tmp_path):
    def bad_measure(images):
        return images.mean()  # one number per batch, not per image

    with pytest.raises(ll.ShapeError, match="one number per image"):
        dataset.render(
            _tiny(), n=20, out=tmp_path / "b", measures=[bad_measure], engine="ray", workers=1, progress=False
        )


# --------------------------------------------------------------------------- out of core: directions and maps
@pytest.fixture(scope="module")
def slant_job(tmp_path_factory):
    out = tmp_path_factory.mktemp("slant") / "job"
    dataset.render(
        "digits", n=3000, seed=0, out=out, measures=["slant"], thumbnails=None, shard_size=500, progress=False
    )
    return out


def test_streaming_pca_equals_pca_in_memory(slant_job, digits):
    streamed = dataset.pca(slant_job, n_components=4, batch_size=700)
    z = dataset.latents(slant_job)
    held = ll.directions.pca(digits, codes=z, n_components=4)
    for a, b in zip(streamed, held):
        assert torch.allclose(a.vector, b.vector, atol=1e-6)
    assert np.allclose(streamed.provenance["explained_variance"], held.provenance["explained_variance"], rtol=1e-9)
    assert streamed[0].check_compatible(digits) == digits.default_space  # bound to the job's space


def test_out_of_core_from_labels_matches_in_memory_and_scores_on_a_held_out_shard(slant_job, digits, tmp_path):
    d = dataset.from_labels(slant_job, "slant", method="logistic")
    table = dataset.read(slant_job)
    z, y = dataset.latents(table), torch.from_numpy(table["slant"].to_numpy())
    in_memory = ll.directions.from_labels(z, y, method="logistic", space=digits)
    assert d.provenance["scores"]["heldout_accuracy"] > 0.85, d.provenance["scores"]
    assert d.provenance["scores"]["heldout_balanced_accuracy"] > 0.85, d.provenance["scores"]
    assert d.provenance["n_test"] > 250 and d.provenance["params"]["holdout_shard"] == 5
    assert d.cosine(in_memory) > 0.9
    ridge = dataset.from_labels(slant_job, "slant", method="ridge")
    assert ridge.provenance["scores"]["heldout_r2"] > 0.5 and ridge.cosine(in_memory) > 0.8

    def noise(images):  # negative control: a label unrelated to the latents
        return torch.rand(len(images), generator=torch.Generator().manual_seed(int(images.sum() * 1000) % 2**31))

    dataset.render(
        digits, latents=z, out=tmp_path / "noise", measures=[noise], thumbnails=None, shard_size=500, progress=False
    )
    control = dataset.from_labels(tmp_path / "noise", "noise")
    assert control.provenance["scores"]["heldout_accuracy"] < 0.62, control.provenance["scores"]


def test_fit_map_on_a_sample_places_every_row(digits, tmp_path):
    scale = torch.tensor([5.0, 3.0] + [0.5] * 14)  # latents with a dominant plane, so PCA maps can be compared
    z = torch.randn(3000, 16, generator=torch.Generator().manual_seed(0)) * scale
    dataset.render(
        digits, latents=z, out=tmp_path / "m", measures=["slant"], thumbnails=None, shard_size=500, progress=False
    )
    fitted, xy = dataset.fit_map(tmp_path / "m", sample=400, method="pca", labels=["slant"], batch_size=333)
    assert xy.shape == (3000, 2) and xy.dtype == np.float32
    assert len(fitted.embedding_) == 400 and fitted.labels_["slant"].shape == (400,)
    assert np.allclose(xy, fitted.transform(z), atol=1e-5)
    whole = ll.LatentMap(method="pca").fit(z).embedding_
    # a 400-point sample finds nearly the plane of all 3000 (up to axis signs) ...
    corr = [abs(np.corrcoef(xy[:, i], whole[:, i])[0, 1]) for i in range(2)]
    assert min(corr) > 0.95, corr
    # ... and the sampled rows are placed where the fit put them
    rows = np.flatnonzero(np.isin(dataset.latents(tmp_path / "m")[:, 0].numpy(), fitted.latents_[:, 0].numpy()))
    assert len(rows) == 400 and np.allclose(xy[rows], fitted.embedding_, atol=1e-5)
