"""Data-set jobs: stream many latents through decode, measures and encode into Parquet shards.

A *job* writes a folder of Parquet shards (``part-00000.parquet``, ...) and a manifest
(``_latentlab_job.json``: the model, the arguments, the latentlab version). It holds one
shard in memory at a time, so memory stays flat however many latents it renders, and it
runs on this machine (``engine="local"``) or on Ray Data (``engine="ray"``: a local Ray on
one machine, or a cluster after ``ray.init(address=...)``; see ``docs/CLUSTER.md``).

* :func:`render` samples (or takes) latents, decodes them, computes :mod:`latentlab.measures`
  and stores small PNG thumbnails. Row ``i`` of a sampled job has its own seed
  (:func:`row_seed`): its latent is ``gen.sample(1, seed=row["seed"])``, whatever the shard
  size or engine, so the local and Ray engines write identical tables. ``latents=`` another
  job's folder renders its latents again (other measures, thumbnails or generator), streamed
  from its shards; with ``direction=`` and ``strength=`` it sweeps a direction over them.
* :func:`encode` encodes a folder, a list or a Parquet column of images.
* :func:`read` returns the rows as a ``pyarrow.Table`` (``.to_pandas()`` for pandas);
  :func:`latents` turns its fixed-size-list ``latent`` column into a tensor;
  :func:`iter_batches` streams a job without holding it.
* :func:`pca`, :func:`from_labels` and :func:`fit_map` find directions and maps in a data
  set larger than memory (streaming covariance, SGD with a held-out shard, a map fitted
  on a sample and applied in batches).

Jobs resume: a shard appears only when complete (written to a temporary file, then renamed),
a re-run skips the shards already there, and a folder holding another job's shards is refused.
Run one job at a time per folder (a starting job removes the temporary files a killed one left).

Example:
    >>> import tempfile, latentlab as ll
    >>> from latentlab import dataset
    >>> out = tempfile.mkdtemp() + "/digits"
    >>> job = dataset.render("digits", n=300, seed=0, out=out, measures=["slant"], thumbnails=16,
    ...                      shard_size=128, progress=False)
    >>> job.n_shards, job.done
    (3, True)
    >>> table = dataset.read(out)
    >>> table.num_rows, table.column_names
    (300, ['index', 'seed', 'latent', 'slant', 'thumbnail'])
    >>> dataset.latents(table).shape
    torch.Size([300, 16])
    >>> gen = ll.load("digits")
    >>> bool((gen.sample(1, seed=table["seed"][7].as_py())[0] == dataset.latents(table)[7]).all())
    True
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import torch

from . import measures as _measures
from ._atomic import atomic_path, atomic_write_bytes
from ._checks import to_tensor
from ._optional import require
from .errors import InvalidValueError, LatentLabError, ShapeError
from .generators.base import Generator
from .spaces import LatentSpace

if TYPE_CHECKING:
    import pyarrow as pa

    from .directions import Direction, DirectionSet
    from .maps import LatentMap

__all__ = [
    "Job",
    "render",
    "encode",
    "read",
    "info",
    "latents",
    "iter_batches",
    "row_seed",
    "pca",
    "from_labels",
    "fit_map",
    "MANIFEST_NAME",
]

Engine = Literal["local", "ray"]
GeneratorLike = Generator | str | os.PathLike[str] | Callable[[], Generator]

#: The manifest file of a job folder.
MANIFEST_NAME = "_latentlab_job.json"
_FORMAT = "latentlab.dataset/1"
_SHARD_RE = re.compile(r"^part-(\d{5})\.parquet$")
_TEMP_GLOB = ".part-*.partial.parquet"
_META_KEY = b"latentlab"


def _shard_name(k: int) -> str:
    return f"part-{k:05d}.parquet"


def _version() -> str:
    from ._version import __version__

    return __version__


def _pa() -> Any:
    return require("pyarrow", purpose="latentlab.dataset")


def _pq() -> Any:
    return require("pyarrow.parquet", purpose="latentlab.dataset")


# --------------------------------------------------------------------------- seeds
def row_seed(seed: int, index: int) -> int:
    """The seed of row ``index`` of a sampled job started with ``seed`` (a 63-bit int).

    It depends only on ``(seed, index)``: shard sizes, batch sizes and engines do not change
    which latent a row gets (``gen.sample(1, seed=row_seed(seed, index))``).

    Example:
        >>> row_seed(0, 0) == row_seed(0, 0) != row_seed(0, 1)
        True
    """
    digest = hashlib.blake2b(f"latentlab.dataset:{int(seed)}:{int(index)}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") & (2**63 - 1)


# --------------------------------------------------------------------------- how workers get the model
@dataclass(frozen=True)
class _ModelSource:
    """How a worker process builds the generator: ``ll.load(load_ref)`` or an unpickled payload."""

    load_ref: str | None = None
    payload: bytes | None = None  # cloudpickle of a Generator or of a zero-argument factory

    def build(self) -> Generator:
        if self.load_ref is not None:
            from .generators.registry import load

            return load(self.load_ref)
        assert self.payload is not None
        import pickle

        obj = pickle.loads(self.payload)  # our own payload, made by the driver
        return _call_factory(obj) if not isinstance(obj, Generator) else obj


def _call_factory(factory: Callable[[], Any]) -> Generator:
    gen = factory()
    if not isinstance(gen, Generator):
        raise InvalidValueError(
            "the generator factory did not return a Generator",
            expected="a function with no arguments returning a latentlab Generator",
            got=type(gen).__name__,
            fix="return ll.load(...) or ll.from_module(...) from it",
        )
    return gen


def _resolve_local(gen: GeneratorLike) -> Generator:
    """The generator the driver uses (loading a name or folder, calling a factory)."""
    if isinstance(gen, Generator):
        return gen
    if isinstance(gen, (str, os.PathLike)):
        from .generators.registry import load

        return load(os.fspath(gen))
    if callable(gen):
        return _call_factory(gen)
    raise InvalidValueError(
        "gen must be a generator, a model name or folder, or a function that builds one",
        expected="ll.load('digits'), 'digits', a model folder, or lambda: ll.load('digits')",
        got=type(gen).__name__,
        fix="pass the generator or its name",
    )


def _unpicklable_error(what: str, exc: BaseException) -> InvalidValueError:
    return InvalidValueError(
        f"{what} cannot be sent to the Ray workers: it cannot be pickled, and latentlab does not know how "
        "to load it again",
        expected="a model name or folder (each worker calls ll.load on it), a generator loaded by ll.load, "
        "or a picklable generator or factory",
        got=f"{type(exc).__name__}: {exc}",
        fix="pass its name or folder (dataset.render('glyphs', ...)); or a function that builds it, defined in a "
        "module the workers can import (dataset.render(my_module.build, ...)); or register such a function "
        "there with ll.register(name, factory) and pass the name; or set gen.load_ref to a name or folder "
        "that ll.load turns into this generator",
    )


def _pickle(obj: Any, what: str) -> bytes:
    ray = require("ray", purpose="engine='ray'")
    try:
        data: bytes = ray.cloudpickle.dumps(obj)
    except Exception as exc:  # cloudpickle raises TypeError, PicklingError, AttributeError ...
        raise _unpicklable_error(what, exc) from exc
    return data


def _registered_factory(name: str) -> Callable[[], Generator] | None:
    """The factory of a name registered in this process (not bundled): workers do not have it."""
    from .generators.registry import models

    entry = next((m for m in models() if m.name == name), None)
    return entry.factory if entry is not None and entry.source != "bundled" else None


def _ref_source(ref: str) -> _ModelSource:
    factory = _registered_factory(ref)
    if factory is not None:
        return _ModelSource(payload=_pickle(factory, f"the factory registered as {ref!r}"))
    path = Path(ref)
    return _ModelSource(load_ref=str(path.resolve()) if path.is_dir() else ref)


def _same_generator(a: Generator, b: Generator) -> bool:
    """Whether ``b`` (freshly loaded) behaves like ``a``: same spaces, size and decode of a probe."""
    if type(a) is not type(b) or a.spaces != b.spaces or a.image_size != b.image_size or a.device != b.device:
        return False
    space = a.default_space
    probe = torch.randn((2, *space.shape), generator=torch.Generator().manual_seed(0))
    return bool(torch.equal(a.decode(probe), b.decode(probe)))


def _model_source(gen: GeneratorLike) -> _ModelSource:
    """How Ray workers rebuild ``gen``: by name/folder when that gives the same model, else pickled."""
    if isinstance(gen, (str, os.PathLike)):
        return _ref_source(str(gen))
    if not isinstance(gen, Generator):
        return _ModelSource(payload=_pickle(gen, "the generator factory"))
    ref = getattr(gen, "load_ref", None)
    if isinstance(ref, (str, os.PathLike)):
        source = _ref_source(str(ref))
        if _same_generator(gen, source.build()):
            return source
    return _ModelSource(payload=_pickle(gen, f"the generator {gen.name!r}"))


def _model_id(gen: Generator) -> dict[str, Any]:
    return {
        "name": gen.name,
        "class": type(gen).__name__,
        "image_size": list(gen.image_size),
        "spaces": [s.describe() for s in gen.spaces],
    }


def _space_meta(space: LatentSpace) -> dict[str, Any]:
    return {
        "name": space.name,
        "shape": list(space.shape),
        "prior": space.prior,
        "model": space.model,
        "description": space.description,
    }


# --------------------------------------------------------------------------- the job description
@dataclass
class _Spec:
    """Everything a worker needs to compute shard ``k`` (picklable; sent to Ray actors)."""

    kind: str  # "render" | "encode"
    out: str
    n: int
    shard_size: int
    batch_size: int
    space: str
    measures: list[tuple[str, Any]]  # (name, function)
    thumb_size: tuple[int, int] | None
    seed: int | None = None
    temperature: float = 1.0
    latents: Any = None  # render: (N, D) float32 numpy, a Ray ObjectRef to it, or _JobLatents
    direction: Any = None  # render: a Direction moving every given latent ...
    strengths: list[float] | None = None  # ... by each of these strengths (row i*S + j: latent i, strength j)
    images: Any = None  # encode: _ImageSource
    encode_options: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)  # the Parquet schema metadata

    @property
    def n_shards(self) -> int:
        return math.ceil(self.n / self.shard_size)

    def bounds(self, k: int) -> tuple[int, int]:
        return k * self.shard_size, min(self.n, (k + 1) * self.shard_size)


@dataclass(frozen=True)
class Job:
    """What :func:`render` and :func:`encode` return: where the shards are and how far the job got.

    Attributes:
        out: the job folder.
        n: rows of the whole job.
        n_shards: number of shards.
        done: whether every shard is written.
        computed: shards this call computed (the others were already there).
    """

    out: Path
    n: int
    n_shards: int
    done: bool
    computed: int

    def read(self, columns: Sequence[str] | None = None) -> pa.Table:
        """The job's rows (see :func:`read`)."""
        return read(self.out, columns=columns)


# --------------------------------------------------------------------------- manifest
def _manifest(spec: _Spec, model: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
    return {
        "format": _FORMAT,
        "latentlab": _version(),
        "kind": spec.kind,
        "model": model,
        "args": args,
        "n": spec.n,
        "shard_size": spec.shard_size,
        "n_shards": spec.n_shards,
    }


_IDENTITY = ("format", "latentlab", "kind", "model", "args", "n", "shard_size")


def _prepare_folder(out: Path, manifest: dict[str, Any], overwrite: bool) -> None:
    """Create ``out`` with its manifest, or check that it holds this very job; refuse another job's shards."""
    path = out / MANIFEST_NAME
    if out.exists() and not out.is_dir():
        raise InvalidValueError(
            f"the job output {out} is a file",
            expected="a folder (new or from this job)",
            got="a file",
            fix="pass a folder path, e.g. out='fonts.parquet/'",
        )
    if overwrite and out.is_dir():
        _clear(out)
    if path.is_file():
        old = json.loads(path.read_text())
        diff = _differences(manifest, old)
        if diff:
            raise InvalidValueError(
                f"the folder {out} holds the shards of another job; they are not mixed with this one",
                expected="; ".join(f"{k}={json.dumps(mine, sort_keys=True)}" for k, mine, _ in diff),
                got="; ".join(f"{k}={json.dumps(theirs, sort_keys=True)}" for k, _, theirs in diff),
                fix="write this job to a new folder, or pass overwrite=True to delete that job's shards",
            )
        return
    if out.is_dir() and any(p.suffix == ".parquet" for p in out.iterdir()):
        raise InvalidValueError(
            f"the folder {out} holds Parquet files but no latentlab job manifest",
            expected=f"a new folder, or one written by latentlab.dataset ({MANIFEST_NAME})",
            got=f"{sum(1 for p in out.iterdir() if p.suffix == '.parquet')} .parquet files",
            fix="write the job to a new folder",
        )
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode())


def _differences(mine: dict[str, Any], theirs: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """``(key, this job's value, the folder's value)`` for each identity field that differs (one level deep)."""
    out: list[tuple[str, Any, Any]] = []
    for key in _IDENTITY:
        a, b = mine.get(key), theirs.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out.extend((f"{key}.{k}", a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k))
        elif a != b:
            out.append((key, a, b))
    return out


def _clear(out: Path) -> None:
    for p in out.iterdir():
        if _SHARD_RE.match(p.name) or p.name == MANIFEST_NAME or p.match(_TEMP_GLOB):
            p.unlink()


def _remove_stale_temps(out: Path) -> None:
    """Temporary shards of a killed run (never read: their names start with a dot)."""
    for p in out.glob(_TEMP_GLOB):
        p.unlink(missing_ok=True)


def info(out: str | os.PathLike[str]) -> dict[str, Any]:
    """The manifest of a job folder (model, arguments, version) plus ``shards_done``.

    Example:
        >>> import tempfile
        >>> out = tempfile.mkdtemp() + "/j"
        >>> _ = render("digits", n=10, seed=0, out=out, progress=False)
        >>> m = info(out)
        >>> m["kind"], m["model"]["name"], m["n"], m["shards_done"]
        ('render', 'digits', 10, 1)
    """
    folder = Path(out)
    path = folder / MANIFEST_NAME
    if not path.is_file():
        raise InvalidValueError(
            f"{folder} is not a latentlab job folder",
            expected=f"a folder with {MANIFEST_NAME}",
            got="no manifest" if folder.is_dir() else "no such folder",
            fix="pass the out= folder of dataset.render or dataset.encode",
        )
    manifest: dict[str, Any] = json.loads(path.read_text())
    manifest["shards_done"] = len(_done_shards(folder, manifest["n"], manifest["shard_size"]))
    return manifest


def _done_shards(out: Path, n: int, shard_size: int) -> set[int]:
    pq = _pq()
    done = set()
    n_shards = math.ceil(n / shard_size)
    for p in out.iterdir():
        m = _SHARD_RE.match(p.name)
        if not m or int(m.group(1)) >= n_shards:
            continue
        k = int(m.group(1))
        expected = min(n, (k + 1) * shard_size) - k * shard_size
        try:
            rows = pq.read_metadata(p).num_rows
        except Exception:  # not a Parquet file: computed again (and replaced atomically)
            continue
        if rows == expected:
            done.add(k)
    return done


# --------------------------------------------------------------------------- computing one shard
def _thumbnails(images: torch.Tensor, size: tuple[int, int]) -> list[bytes]:
    """PNG bytes of each image at ``size`` (the same bytes as :func:`latentlab.png_bytes`, batched)."""
    from PIL import Image

    from .render import to_uint8

    arr = to_uint8(images)
    out = []
    for a in arr:
        img = Image.fromarray(a)
        if (img.height, img.width) != size:
            img = img.resize((size[1], size[0]), Image.Resampling.BICUBIC)
        buf = io.BytesIO()
        img.save(buf, format="PNG", compress_level=1)
        out.append(buf.getvalue())
    return out


def _views_are_decode(gen: Generator) -> bool:
    return type(gen).measure_views is Generator.measure_views


def _describe_rows(
    gen: Generator,
    spec: _Spec,
    z: torch.Tensor,
    images_of: Callable[[int, int, torch.Tensor], torch.Tensor] | None = None,
) -> tuple[dict[str, np.ndarray], list[bytes]]:
    """Measures and thumbnails of latents ``z``, batch by batch."""
    space = gen.space(spec.space)
    values: dict[str, list[np.ndarray]] = {name: [] for name, _ in spec.measures}
    thumbs: list[bytes] = []
    for start in range(0, len(z), spec.batch_size):
        chunk = z[start : start + spec.batch_size]
        images = None
        if spec.thumb_size is not None or (spec.measures and _views_are_decode(gen)):
            images = images_of(start, len(chunk), chunk) if images_of else gen.decode(chunk, space=space)
        if spec.measures:
            views, k = (
                (images, 1) if images is not None and _views_are_decode(gen) else gen.measure_views(chunk, space=space)
            )
            assert views is not None
            for name, fn in spec.measures:
                v = to_tensor(fn(views), name=f"measure {name!r}").detach().cpu().double()
                if v.numel() != len(chunk) * k:
                    raise ShapeError(
                        f"the measure {name!r} did not give one number per image",
                        expected=f"({len(chunk) * k},)",
                        got=str(tuple(v.shape)),
                        fix="a measure maps images (N, 3, H, W) to values (N,)",
                    )
                values[name].append(v.view(len(chunk), k).mean(1).numpy())
        if spec.thumb_size is not None:
            assert images is not None
            thumbs.extend(_thumbnails(images, spec.thumb_size))
    return {name: np.concatenate(v) if v else np.zeros(0) for name, v in values.items()}, thumbs


def _latent_array(z: torch.Tensor) -> Any:
    pa = _pa()
    flat = np.ascontiguousarray(z.detach().cpu().float().reshape(len(z), -1).numpy())
    return pa.FixedSizeListArray.from_arrays(pa.array(flat.reshape(-1), type=pa.float32()), flat.shape[1])


def _latent_rows(source: Any, lo: int, hi: int) -> np.ndarray:
    """Rows ``lo:hi`` of given latents, flat ``(hi - lo, D)`` float32 (a job's shards are read as needed)."""
    if isinstance(source, _JobLatents):
        return source.rows(lo, hi)
    return np.array(_fetch(source)[lo:hi], dtype=np.float32)


def _given_latents(spec: _Spec, lo: int, hi: int, space: LatentSpace) -> tuple[torch.Tensor, dict[str, Any]]:
    """Latents of rows ``lo:hi`` of a job given latents, and the sweep's extra columns (if it has a direction)."""
    if spec.direction is None:
        return torch.from_numpy(_latent_rows(spec.latents, lo, hi)).reshape(hi - lo, *space.shape), {}
    pa = _pa()
    strengths = spec.strengths or [1.0]
    s = len(strengths)
    first, last = lo // s, (hi - 1) // s + 1  # the given latents these rows move
    base = torch.from_numpy(_latent_rows(spec.latents, first, last)).reshape(last - first, *space.shape)
    moved = spec.direction.apply(base, strengths, space=space)  # (S, B, *shape)
    z = moved.transpose(0, 1).reshape(-1, *space.shape)[lo - first * s : hi - first * s]
    rows = np.arange(lo, hi, dtype=np.int64)
    swept = {
        "source_index": pa.array(rows // s),
        "strength": pa.array(np.asarray(strengths, dtype=np.float64)[rows % s]),
    }
    return z.contiguous(), swept


def _render_shard(gen: Generator, spec: _Spec, k: int) -> pa.Table:
    pa = _pa()
    lo, hi = spec.bounds(k)
    space = gen.space(spec.space)
    cols: dict[str, Any] = {"index": pa.array(np.arange(lo, hi, dtype=np.int64))}
    if spec.latents is None:
        assert spec.seed is not None
        seeds = [row_seed(spec.seed, i) for i in range(lo, hi)]
        z = torch.cat([gen.sample(1, seed=s, space=space, temperature=spec.temperature).cpu() for s in seeds])
        cols["seed"] = pa.array(seeds, type=pa.int64())
    else:
        z, swept = _given_latents(spec, lo, hi, space)
        cols.update(swept)
    cols["latent"] = _latent_array(z)
    values, thumbs = _describe_rows(gen, spec, z)
    for name, v in values.items():
        cols[name] = pa.array(v, type=pa.float64())
    if spec.thumb_size is not None:
        cols["thumbnail"] = pa.array(thumbs, type=pa.binary())
    return pa.table(cols).replace_schema_metadata({_META_KEY: json.dumps(spec.meta).encode()})


def _encode_shard(gen: Generator, spec: _Spec, k: int) -> pa.Table:
    from .encoding import encode as _encode
    from .images import load_images

    pa = _pa()
    lo, hi = spec.bounds(k)
    source: _ImageSource = spec.images
    items, names = source.items(lo, hi)
    x = load_images(items, size=gen.image_size, fit=spec.encode_options.get("fit", "contain"))
    options = {key: v for key, v in spec.encode_options.items() if key != "fit"}
    result = _encode(
        gen,
        x,
        space=spec.space,
        progress=False,
        fit=spec.encode_options.get("fit", "contain"),
        batch_size=spec.batch_size,
        **options,
    )
    z = result.latents.detach().cpu()
    cols: dict[str, Any] = {
        "index": pa.array(np.arange(lo, hi, dtype=np.int64)),
        "source": pa.array(names, type=pa.string()),
        "latent": _latent_array(z),
        "loss": pa.array(result.loss.detach().cpu().double().numpy()),
        "mse": pa.array(result.mse.detach().cpu().double().numpy()),
    }
    recon = result.reconstructions.detach().cpu()
    values, thumbs = _describe_rows(gen, spec, z, images_of=lambda s, m, _: recon[s : s + m])
    for name, v in values.items():
        cols[name] = pa.array(v, type=pa.float64())
    if spec.thumb_size is not None:
        cols["thumbnail"] = pa.array(thumbs, type=pa.binary())
    return pa.table(cols).replace_schema_metadata({_META_KEY: json.dumps(spec.meta).encode()})


def _compute_shard(gen: Generator, spec: _Spec, k: int) -> pa.Table:
    return _render_shard(gen, spec, k) if spec.kind == "render" else _encode_shard(gen, spec, k)


def _write_shard(table: pa.Table, out: Path, k: int) -> Path:
    """Write shard ``k`` atomically: a hidden temporary file, renamed when complete."""
    target = out / _shard_name(k)
    with atomic_path(target) as tmp:
        _pq().write_table(table, tmp)
    return target


def _run_shard(gen: Generator, spec: _Spec, k: int) -> int:
    table = _compute_shard(gen, spec, k)
    _write_shard(table, Path(spec.out), k)
    return int(table.num_rows)


def _fetch(obj: Any) -> Any:
    """A Ray ObjectRef's value (actors get big inputs through the object store), else ``obj``."""
    if type(obj).__name__ == "ObjectRef":
        import ray

        return ray.get(obj)
    return obj


# --------------------------------------------------------------------------- engines
def _run_local(gen: Generator, spec: _Spec, todo: list[int], bar: Any) -> None:
    for k in todo:
        bar.update(_run_shard(gen, spec, k))


class _ShardWorker:
    """A Ray Data actor: builds the generator once, then computes and writes whole shards."""

    def __init__(self, spec: _Spec, model: _ModelSource) -> None:
        torch.set_num_threads(max(1, int(os.environ.get("OMP_NUM_THREADS", "1") or 1)))
        self.spec = spec
        self.gen = model.build()

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        import pickle

        shards = [int(k) for k in batch["shard"]]
        rows, errors = [], []
        for k in shards:
            try:
                rows.append(_run_shard(self.gen, self.spec, k))
                errors.append(b"")
            except LatentLabError as exc:  # sent back whole: Ray's own wrapping drops the cause
                rows.append(0)
                errors.append(pickle.dumps(exc))
        return {
            "shard": np.asarray(shards, dtype=np.int64),
            "rows": np.asarray(rows, dtype=np.int64),
            "error": np.asarray(errors, dtype=object),
        }


def _ray_cpus(ray: Any, workers: int | None, num_cpus: float | None) -> tuple[int, float]:
    total = float(ray.cluster_resources().get("CPU", 1.0))
    size = int(workers) if workers is not None else max(1, int(total))
    if size < 1:
        raise InvalidValueError(
            "workers must be at least 1",
            expected="workers >= 1",
            got=workers,
            fix="pass workers=2, or leave it out for one per CPU",
        )
    # leave half a CPU for Ray Data's own tasks: actors holding every CPU starve them (deadlock)
    cpus = float(num_cpus) if num_cpus is not None else max(0.05, min(1.0, (total - 0.5) / size))
    return size, cpus


def _run_ray(
    model: _ModelSource, spec: _Spec, todo: list[int], bar: Any, workers: int | None, num_cpus: float | None
) -> None:
    ray = require("ray", purpose="engine='ray'")
    rd = require("ray.data", purpose="engine='ray'")
    if not ray.is_initialized():
        ray.init(log_to_driver=False)
    size, cpus = _ray_cpus(ray, workers, num_cpus)
    if spec.latents is not None and not isinstance(spec.latents, _JobLatents):  # a job's shards are read by path
        spec = _Spec(**{**spec.__dict__, "latents": ray.put(spec.latents)})
    import pickle

    ctx = rd.DataContext.get_current()
    bars, ctx.enable_progress_bars = ctx.enable_progress_bars, False  # ours counts rows; Ray's would interleave
    try:
        items = rd.from_items([{"shard": k} for k in todo], override_num_blocks=len(todo))
        results = items.map_batches(
            _ShardWorker,
            fn_constructor_kwargs={"spec": spec, "model": model},
            batch_size=1,
            compute=rd.ActorPoolStrategy(size=min(size, len(todo))),
            num_cpus=cpus,
        )
        for row in results.iter_rows():
            if row["error"]:
                raise pickle.loads(row["error"])  # a latentlab error from a worker, as the local engine raises it
            bar.update(int(row["rows"]))
    finally:
        ctx.enable_progress_bars = bars


def _run(
    gen: GeneratorLike,
    local: Generator,
    spec: _Spec,
    args: dict[str, Any],
    engine: str,
    overwrite: bool,
    progress: bool,
    workers: int | None,
    num_cpus: float | None,
) -> Job:
    from tqdm.auto import tqdm

    if engine not in ("local", "ray"):
        raise InvalidValueError(
            f"unknown engine {engine!r}",
            expected="'local' or 'ray'",
            got=repr(engine),
            fix="use engine='local' on this machine, engine='ray' for Ray Data",
        )
    model = _model_source(gen) if engine == "ray" else None  # fail before writing anything
    out = Path(spec.out)
    _prepare_folder(out, _manifest(spec, _model_id(local), args), overwrite)
    _remove_stale_temps(out)
    done = _done_shards(out, spec.n, spec.shard_size)
    todo = [k for k in range(spec.n_shards) if k not in done]
    rows_done = sum(hi - lo for lo, hi in (spec.bounds(k) for k in done))
    with tqdm(total=spec.n, initial=rows_done, desc=f"{spec.kind} ({engine})", unit="row", disable=not progress) as bar:
        if todo and engine == "local":
            _run_local(local, spec, todo, bar)
        elif todo:
            assert model is not None
            _run_ray(model, spec, todo, bar, workers, num_cpus)
    finished = len(_done_shards(out, spec.n, spec.shard_size)) == spec.n_shards
    return Job(out, spec.n, spec.n_shards, finished, len(todo))


# --------------------------------------------------------------------------- argument checks
def _positive(value: Any, name: str, example: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InvalidValueError(
            f"{name} must be a positive whole number",
            expected=f"{name} >= 1",
            got=repr(value),
            fix=f"pass {name}={example}",
        )
    return int(value)


def _measure_list(measures: Sequence[Any] | None) -> list[tuple[str, Any]]:
    if measures is None:
        return []
    if isinstance(measures, str) or callable(measures):
        measures = [measures]
    pairs = [_measures.get_measure(m) for m in measures]
    names = [name for name, _ in pairs]
    reserved = {"index", "seed", "latent", "thumbnail", "source", "loss", "mse"}
    clash = sorted(set(names) & reserved | {n for n in names if names.count(n) > 1})
    if clash:
        raise InvalidValueError(
            "measure names must be distinct and not a column latentlab writes",
            expected=f"names other than {sorted(reserved)}, each once",
            got=clash,
            fix="give your measure functions distinct __name__s",
        )
    return pairs


def _thumb_size(gen: Generator, thumbnails: int | tuple[int, int] | None) -> tuple[int, int] | None:
    if thumbnails is None or thumbnails is False or thumbnails == 0:
        return None
    from .render import fit_size

    return fit_size(gen.image_size, thumbnails)


def _out_path(out: Any) -> Path:
    if not isinstance(out, (str, os.PathLike)) or not str(out):
        raise InvalidValueError(
            "out must name the job's folder",
            expected="a folder path such as 'fonts.parquet/'",
            got=repr(out),
            fix="pass out='fonts.parquet/'",
        )
    return Path(out).absolute()


def _fingerprint_array(x: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(x).tobytes()).hexdigest()


# --------------------------------------------------------------------------- latents of another job
@dataclass
class _JobLatents:
    """The ``latent`` column of a finished job, read one shard at a time (``render(latents=<job folder>)``).

    Workers read the shards by path (on a cluster the folder must be on storage every node sees,
    as ``out`` must); each keeps the last shard it read, so memory holds one source shard.
    """

    folder: str
    files: list[tuple[str, int]]  # (shard file, rows), in row order
    shape: tuple[int, ...]  # one latent, as the source job's space has it
    space: str  # the source job's space name
    manifest: dict[str, Any]
    _cache: tuple[int, np.ndarray] | None = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_cache": None}  # a worker reads its own shards

    def __len__(self) -> int:
        return sum(rows for _, rows in self.files)

    def _shard(self, k: int) -> np.ndarray:
        if self._cache is None or self._cache[0] != k:
            column = _pq().read_table(self.files[k][0], columns=["latent"]).column("latent")
            self._cache = (k, _flat_latents(column))
        return self._cache[1]

    def rows(self, lo: int, hi: int) -> np.ndarray:
        """Rows ``lo:hi`` as float32 ``(hi - lo, D)``, from the shards that hold them."""
        parts, start = [], 0
        for k, (_, rows) in enumerate(self.files):
            a, b = max(lo, start), min(hi, start + rows)
            if a < b:
                parts.append(self._shard(k)[a - start : b - start])
            start += rows
        return np.concatenate(parts) if parts else np.zeros((0, math.prod(self.shape)), np.float32)

    def fingerprint(self) -> str:
        """sha256 of all the latents (float32, row order): the same as for the tensor ``dataset.latents(folder)``."""
        h = hashlib.sha256()
        for file, _ in self.files:
            for batch in _pq().ParquetFile(file).iter_batches(batch_size=65_536, columns=["latent"]):
                h.update(np.ascontiguousarray(_flat_latents(batch.column(0))).tobytes())
        return h.hexdigest()

    def provenance(self) -> dict[str, Any]:
        """The source job as this job's manifest records it: folder, model, kind, rows and fingerprint."""
        identity = json.dumps({key: self.manifest.get(key) for key in _IDENTITY}, sort_keys=True)
        return {
            "path": self.folder,
            "model": self.manifest["model"]["name"],
            "kind": self.manifest["kind"],
            "space": self.space,
            "n": int(self.manifest["n"]),
            "fingerprint": hashlib.sha256(identity.encode()).hexdigest(),
        }


def _job_latents(folder: str | os.PathLike[str]) -> _JobLatents:
    """The latents of the finished job in ``folder``; a latentlab error if it is not one."""
    path = Path(folder).absolute()
    fix = "pass the out= folder of a finished dataset.render or dataset.encode job, or a tensor (N, *space.shape)"
    if not (path / MANIFEST_NAME).is_file():
        what = "a file" if path.is_file() else ("a folder without one" if path.is_dir() else "no such folder")
        raise InvalidValueError(
            f"latents={str(folder)!r} is not a latentlab job folder",
            expected=f"a job folder (with {MANIFEST_NAME}) or a tensor of latents",
            got=what,
            fix=fix + (" (a Parquet file of your own: dataset.latents(table))" if path.is_file() else ""),
        )
    manifest = info(path)
    if manifest["shards_done"] < manifest["n_shards"]:
        raise InvalidValueError(
            f"the job {path} given as latents= is not finished",
            expected=f"{manifest['n_shards']} shards",
            got=f"{manifest['shards_done']} shards written",
            fix="run that job's dataset.render/encode call again to finish it, then render from it",
        )
    files = [path / _shard_name(k) for k in range(manifest["n_shards"])]
    schema = _pq().read_schema(files[0])
    if "latent" not in schema.names or _META_KEY not in (schema.metadata or {}):
        raise InvalidValueError(
            f"the job {path} given as latents= has no latent column",
            expected="a column 'latent' and latentlab metadata",
            got=f"columns {schema.names}",
            fix=fix,
        )
    sp = json.loads(schema.metadata[_META_KEY])["space"]
    rows = [
        (str(f), min(manifest["n"], (k + 1) * manifest["shard_size"]) - k * manifest["shard_size"])
        for k, f in enumerate(files)
    ]
    return _JobLatents(str(path), rows, tuple(int(d) for d in sp["shape"]), str(sp["name"]), manifest)


def _is_folder(latents: Any) -> bool:
    return isinstance(latents, (str, os.PathLike, Job))


def _space_for_job(gen: Generator, source: _JobLatents, space: str | None) -> LatentSpace:
    """``space``, or else the generator's space of the source job's name (else its default), checked to fit."""
    names = [sp.name for sp in gen.spaces]
    s = gen.space(space if space is not None or source.space not in names else source.space)
    shaped = np.lib.stride_tricks.as_strided(
        np.zeros(1, np.float32), (len(source), *source.shape), (0,) * (1 + len(source.shape))
    )
    s.check(
        shaped,
        f"the latents of the job {source.folder}",
        batch="required",
        fix=f"that job ({source.manifest['model']['name']}, space {source.space!r}) is of another shape: render it "
        "with a generator whose space has that shape, or pass space= the one of this generator that fits",
    )
    return s


def _sweep(direction: Any, strength: Any, space: LatentSpace) -> tuple[Any, list[float] | None, dict[str, Any]]:
    """``(direction, strengths, manifest args)`` of a direction sweep (all ``None``/empty without a direction)."""
    from .directions import Direction
    from .directions._common import as_strengths

    if direction is None:
        if strength is not None:
            raise InvalidValueError(
                "strength= needs direction=",
                expected="direction=<a Direction> with strength=",
                got=f"strength={strength!r} and no direction",
                fix="pass the direction to move the latents along, or leave strength out",
            )
        return None, None, {}
    if not isinstance(direction, Direction):
        raise InvalidValueError(
            "direction= must be a latentlab Direction",
            expected="a Direction, e.g. dataset.from_labels(job.out, 'slant') or ll.directions.pca(gen)[0]",
            got=type(direction).__name__,
            fix="wrap a vector as ll.Direction(vector, gen.space())",
        )
    s = as_strengths(1.0 if strength is None else strength)
    strengths = [s] if isinstance(s, float) else [float(v) for v in s.tolist()]
    direction.apply(torch.zeros((1, *space.shape)), strengths, space=space)  # checks it fits, before any shard
    vectors = np.ascontiguousarray(direction.vector.numpy())
    args = {
        "direction": {
            "name": direction.name,
            "space": direction.space.key,
            "vector_sha256": _fingerprint_array(vectors),
        },
        "strengths": strengths,
    }
    return direction, strengths, args


# --------------------------------------------------------------------------- render
def render(
    gen: GeneratorLike,
    n: int | None = None,
    *,
    latents: Any = None,
    seed: int = 0,
    out: str | os.PathLike[str],
    measures: Sequence[str | _measures.Measure] | None = None,
    thumbnails: int | tuple[int, int] | None = 64,
    space: str | None = None,
    temperature: float = 1.0,
    direction: Direction | None = None,
    strength: float | Sequence[float] | None = None,
    batch_size: int = 256,
    shard_size: int = 10_000,
    engine: Engine = "local",
    workers: int | None = None,
    num_cpus: float | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> Job:
    """Sample (or take) latents, decode them, measure them and write Parquet shards to ``out``.

    Columns: ``index`` (row number), ``seed`` (sampled jobs: the row's own seed, see
    :func:`row_seed`), ``latent`` (fixed-size list of float32, the flattened latent; see
    :func:`latents`), one float64 column per measure (averaged over the generator's
    :meth:`~latentlab.Generator.measure_views`, e.g. the glyphs of a font), and
    ``thumbnail`` (PNG bytes). The schema metadata holds the space and the provenance.
    A sweep (``direction=``) adds ``source_index`` and ``strength``.

    Re-rendering a job: ``latents=`` another job's folder (or its :class:`Job`) renders the
    same latents again, e.g. with other measures, thumbnails, or another generator of a space
    of the same shape. They are streamed from its shards (memory holds one source shard), row
    ``i`` is the source's row ``i``, and the manifest records the source job
    (``info(out)["args"]["latents_job"]``: its folder, model and fingerprint) and the
    latents' sha256, so a changed source is refused on re-run instead of mixed.

    Example:
        >>> import tempfile, latentlab as ll
        >>> gen, tmp = ll.load("digits"), tempfile.mkdtemp()
        >>> fonts = render(gen, n=40, seed=0, out=tmp + "/a", thumbnails=None, progress=False)
        >>> again = render(gen, latents=fonts.out, out=tmp + "/b", measures=["ink_coverage"], progress=False)
        >>> bool((latents(again.out) == latents(fonts.out)).all())
        True
        >>> d = ll.Direction(torch.ones(16), gen.space(), name="ones")
        >>> swept = render(gen, latents=fonts.out, direction=d, strength=[-2.0, 0.0, 2.0], out=tmp + "/c",
        ...                measures=["ink_coverage"], thumbnails=None, progress=False)
        >>> t = read(swept.out)
        >>> t.num_rows, t["source_index"][3].as_py(), t["strength"][3].as_py()
        (120, 1, -2.0)
        >>> bool(torch.allclose(latents(t)[3], d.apply(latents(fonts.out)[1], -2.0)))
        True

    Args:
        gen: a generator, a model name or folder (Ray workers call ``ll.load`` on it once
            each), or a function with no arguments that builds the generator.
        n: number of latents to sample (or give ``latents``).
        latents: ``(N, *space.shape)`` latents to render instead of samples, or the folder
            (or :class:`Job`) of a finished job whose latents to render again; its shape must
            fit the space (:meth:`~latentlab.LatentSpace.check`). On a Ray cluster that folder,
            like ``out``, must be on storage every node reads.
        seed: seed of the job; row ``i`` is ``gen.sample(1, seed=row_seed(seed, i))``.
        out: the job folder (created; re-running the same job resumes it).
        measures: names in :data:`latentlab.measures.MEASURES` or functions ``(N, 3, H, W) -> (N,)``.
        thumbnails: long side of the PNG thumbnails in pixels, ``(H, W)``, or ``None`` for none.
        space: the latent space (default: the source job's space when ``latents`` is a job
            and the generator has a space of that name, else the default space).
        temperature: sampling temperature.
        direction: a :class:`~latentlab.Direction` to sweep the given latents along
            (its first vector): row ``i * S + j`` is latent ``i`` moved by strength ``j``,
            ``direction.apply(z[i], strength[j])``.
        strength: a number or ``S`` numbers (with ``direction``; default 1.0).
        batch_size: latents decoded together.
        shard_size: rows per shard (memory holds one shard per worker).
        engine: ``"local"`` or ``"ray"`` (Ray Data; ``ray.init()`` is called if Ray is not running).
        workers: Ray actors (default: one per CPU of the cluster).
        num_cpus: CPUs reserved per Ray actor (default: a share that leaves half a CPU for
            Ray Data's own tasks, which whole-CPU actors on a small machine starve).
        overwrite: delete the shards of another job in ``out`` instead of refusing.
        progress: show a progress bar.

    Returns:
        A :class:`Job`; ``job.read()`` gives the table.

    Raises:
        InvalidValueError: ``out`` holds another job's shards (different model, arguments or
            latentlab version), bad arguments, ``latents`` names a folder that is not a
            finished job, or (``engine="ray"``) a generator the workers cannot get.
        LatentShapeError: the latents (or the source job's) do not fit the space.
        IncompatibleLatentError: ``direction`` belongs to another model or space.
    """
    local = _resolve_local(gen)
    if (n is None) == (latents is None):
        raise InvalidValueError(
            "render() needs either n (to sample) or latents, not both",
            expected="n=10_000 or latents=z",
            got=f"n={n!r}, latents={'given' if latents is not None else None}",
            fix="pass n=... to sample latents, or latents=... to render yours (a tensor or a job folder)",
        )
    target = _out_path(out)
    source = _job_latents(latents.out if isinstance(latents, Job) else latents) if _is_folder(latents) else None
    s = _space_for_job(local, source, space) if source is not None else local.space(space)
    if source is not None and Path(source.folder) == target:
        raise InvalidValueError(
            "a job cannot be rendered into the folder it reads its latents from",
            expected="out= a new folder",
            got=f"latents= and out= both {target}",
            fix="pass another out= folder",
        )
    if direction is not None and latents is None:
        raise InvalidValueError(
            "direction= moves given latents: it needs latents=",
            expected="latents=<a job folder or a tensor> with direction=",
            got="n= with direction=",
            fix="render the samples first (job = dataset.render(gen, n=...)), then sweep them: "
            "dataset.render(gen, latents=job.out, direction=d, strength=[-2, 0, 2], out=...)",
        )
    moved_by, strengths, sweep_args = _sweep(direction, strength, s)
    args: dict[str, Any] = {"space": s.name, "batch_size": _positive(batch_size, "batch_size", "256")}
    lat_np: Any = None
    if source is not None:
        lat_np, total = source, len(source) * len(strengths or [1.0])
        args.update(latents_sha256=source.fingerprint(), latents_job=source.provenance(), **sweep_args)
    elif latents is not None:
        from ._checks import as_batched_latents

        z, _ = as_batched_latents(latents, s)
        lat_np = np.ascontiguousarray(z.detach().cpu().float().reshape(len(z), -1).numpy())
        total = len(lat_np) * len(strengths or [1.0])
        args.update(latents_sha256=_fingerprint_array(lat_np), **sweep_args)
    else:
        total = _positive(n, "n", "10_000")
        if not (isinstance(temperature, (int, float)) and temperature > 0):
            raise InvalidValueError(
                "temperature must be positive", expected="temperature > 0", got=temperature, fix="use 1.0 for the prior"
            )
        args.update(seed=int(seed), temperature=float(temperature))
    pairs = _measure_list(measures)
    thumb = _thumb_size(local, thumbnails)
    args.update(measures=[name for name, _ in pairs], thumbnails=list(thumb) if thumb else None)
    spec = _Spec(
        "render",
        str(target),
        total,
        _positive(shard_size, "shard_size", "10_000"),
        int(batch_size),
        s.name,
        pairs,
        thumb,
        seed=int(seed) if latents is None else None,
        temperature=float(temperature),
        latents=lat_np,
        direction=moved_by,
        strengths=strengths,
        meta={"kind": "render", "space": _space_meta(s), "model": local.name, "latentlab": _version(), "args": args},
    )
    return _run(gen, local, spec, args, engine, overwrite, progress, workers, num_cpus)


# --------------------------------------------------------------------------- encode
@dataclass
class _ImageSource:
    """Images of an encode job: a list of items (paths, PIL, arrays) or a Parquet column of bytes."""

    items_list: list[Any] | None = None
    parquet_files: list[tuple[str, int]] | None = None  # (file, rows)
    column: str = "image"
    names: list[str] | None = None

    def __len__(self) -> int:
        if self.items_list is not None:
            return len(self.items_list)
        return sum(rows for _, rows in self.parquet_files or [])

    def items(self, lo: int, hi: int) -> tuple[list[Any], list[str]]:
        if self.items_list is not None:
            names = self.names or [str(i) for i in range(len(self.items_list))]
            return list(self.items_list[lo:hi]), names[lo:hi]
        from PIL import Image

        out: list[Any] = []
        labels: list[str] = []
        start = 0
        for file, rows in self.parquet_files or []:
            a, b = max(lo, start), min(hi, start + rows)
            if a < b:
                col = _pq().read_table(file, columns=[self.column]).column(self.column).slice(a - start, b - a)
                out.extend(Image.open(io.BytesIO(v)) for v in col.to_pylist())
                labels.extend(f"{Path(file).name}#{i}" for i in range(a - start, b - start))
            start += rows
        return out, labels

    def fingerprint(self) -> str:
        h = hashlib.sha256()
        if self.parquet_files is not None:
            for file, rows in self.parquet_files:
                st = os.stat(file)
                h.update(f"{file}:{rows}:{st.st_size}:{st.st_mtime_ns}:{self.column}".encode())
            return h.hexdigest()
        for item in self.items_list or []:
            h.update(_item_bytes(item))
        return h.hexdigest()


def _item_bytes(item: Any) -> bytes:
    if isinstance(item, (str, os.PathLike)):
        st = os.stat(item)
        return f"{Path(item).resolve()}:{st.st_size}:{st.st_mtime_ns}".encode()
    if isinstance(item, torch.Tensor):
        return item.detach().cpu().contiguous().numpy().tobytes()
    if isinstance(item, np.ndarray):
        return np.ascontiguousarray(item).tobytes()
    tobytes = getattr(item, "tobytes", None)
    if callable(tobytes):
        return bytes(tobytes())
    raise InvalidValueError(
        "cannot read this image item",
        expected="a path, PIL image, numpy array or tensor",
        got=type(item).__name__,
        fix="pass image files, PIL images or arrays",
    )


def _parquet_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if (path / MANIFEST_NAME).is_file():
        m = json.loads((path / MANIFEST_NAME).read_text())
        return [path / _shard_name(k) for k in range(m["n_shards"])]
    return sorted(p for p in path.iterdir() if p.suffix == ".parquet" and not p.name.startswith("."))


def _image_source(images: Any, column: str | None) -> _ImageSource:
    from .images import IMAGE_SUFFIXES

    if isinstance(images, (str, os.PathLike)):
        path = Path(images)
        if not path.exists():
            raise InvalidValueError(
                f"no such image folder or file: {path}",
                expected="a folder of images, a Parquet file or folder",
                got=str(path),
                fix="check the path",
            )
        if path.suffix == ".parquet" or (path.is_dir() and any(p.suffix == ".parquet" for p in path.iterdir())):
            files = _parquet_files(path)
            pq = _pq()
            names = pq.read_schema(files[0]).names if files else []
            col = column or next((c for c in ("image", "thumbnail") if c in names), None)
            if col is None or col not in names:
                raise InvalidValueError(
                    f"the Parquet data set {path} has no image column",
                    expected=f"a binary column {column or 'image'!r} of PNG/JPEG bytes",
                    got=f"columns {names}",
                    fix="pass column='<the column of image bytes>'",
                )
            return _ImageSource(parquet_files=[(str(f), pq.read_metadata(f).num_rows) for f in files], column=col)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
            if not files:
                raise InvalidValueError(
                    f"the folder {path} holds no images",
                    expected=f"files ending in {sorted(IMAGE_SUFFIXES)}",
                    got="none",
                    fix="point at the folder that holds the images",
                )
            return _ImageSource(items_list=[str(f) for f in files], names=[f.name for f in files])
        return _ImageSource(items_list=[str(path)], names=[path.name])
    if isinstance(images, torch.Tensor) and images.ndim == 4:
        items = list(images.detach().cpu())
    elif (isinstance(images, np.ndarray) and images.ndim == 4) or (
        isinstance(images, Sequence) and not isinstance(images, (bytes, str))
    ):
        items = list(images)
    else:
        raise InvalidValueError(
            "cannot read these images for an encode job",
            expected="a folder, a Parquet file/folder, a list of images, or an (N, C, H, W) batch",
            got=type(images).__name__,
            fix="pass a folder path or a list of image paths",
        )
    if not items:
        raise InvalidValueError(
            "no images to encode",
            expected="at least one image",
            got="an empty list",
            fix="pass a non-empty list or folder",
        )
    names = [str(Path(i).name) if isinstance(i, (str, os.PathLike)) else str(k) for k, i in enumerate(items)]
    return _ImageSource(items_list=items, names=names)


def encode(
    gen: GeneratorLike,
    images: Any,
    *,
    out: str | os.PathLike[str],
    method: str = "auto",
    steps: int | None = None,
    column: str | None = None,
    measures: Sequence[str | _measures.Measure] | None = None,
    thumbnails: int | tuple[int, int] | None = None,
    space: str | None = None,
    fit: str = "contain",
    batch_size: int = 64,
    shard_size: int = 1000,
    engine: Engine = "local",
    workers: int | None = None,
    num_cpus: float | None = None,
    overwrite: bool = False,
    progress: bool = True,
    **options: Any,
) -> Job:
    """Encode many images into latents with :func:`latentlab.encode`, shard by shard, into Parquet.

    Columns: ``index``, ``source`` (file name, list position, or ``file#row`` of a Parquet
    source), ``latent``, ``loss`` and ``mse`` (of the reconstruction), a column per measure
    (of the reconstruction) and ``thumbnail`` (PNG of the reconstruction) when asked.

    Args:
        gen: a generator, a model name or folder, or a function that builds it (see :func:`render`).
        images: a folder of image files, a list of paths / PIL images / arrays, an
            ``(N, C, H, W)`` batch, or a Parquet file or folder with a column of PNG/JPEG bytes
            (``column``, default ``"image"`` or else ``"thumbnail"``; a :func:`render` job works).
        out: the job folder.
        method, steps, space, fit, **options: passed to :func:`latentlab.encode` (``seed=``,
            ``lr=``, ``tol=``...; JSON values, they go into the manifest). Image files are
            identified in the manifest by path, size and modification time, in-memory images by content.
        measures, thumbnails: as in :func:`render`, of the reconstructions.
        batch_size: images encoded together; shard_size: images per shard.
        engine, workers, num_cpus, overwrite, progress: as in :func:`render`.

    Returns:
        A :class:`Job`.

    Example:
        >>> import tempfile, latentlab as ll
        >>> gen = ll.load("digits")
        >>> pictures = list(gen.decode(gen.sample(5, seed=3)))
        >>> job = encode(gen, pictures, out=tempfile.mkdtemp() + "/enc", method="encoder", progress=False)
        >>> read(job.out).column_names
        ['index', 'source', 'latent', 'loss', 'mse']
    """
    local = _resolve_local(gen)
    s = local.space(space)
    source = _image_source(images, column)
    pairs = _measure_list(measures)
    thumb = _thumb_size(local, thumbnails)
    try:
        json.dumps(options)
    except TypeError as exc:
        raise InvalidValueError(
            "encode options must be JSON values (they are recorded in the job manifest)",
            expected="numbers, strings, lists",
            got=str(exc),
            fix="pass plain values",
        ) from exc
    encode_options = {"method": method, "steps": steps, "fit": fit, **options}
    args: dict[str, Any] = {
        "space": s.name,
        "batch_size": _positive(batch_size, "batch_size", "64"),
        "images_sha256": source.fingerprint(),
        "column": source.column if source.parquet_files else None,
        "measures": [name for name, _ in pairs],
        "thumbnails": list(thumb) if thumb else None,
        "encode": encode_options,
    }
    spec = _Spec(
        "encode",
        str(_out_path(out)),
        len(source),
        _positive(shard_size, "shard_size", "1000"),
        int(batch_size),
        s.name,
        pairs,
        thumb,
        images=source,
        encode_options=encode_options,
        meta={"kind": "encode", "space": _space_meta(s), "model": local.name, "latentlab": _version(), "args": args},
    )
    return _run(gen, local, spec, args, engine, overwrite, progress, workers, num_cpus)


# --------------------------------------------------------------------------- reading
def _shard_files(out: str | os.PathLike[str], allow_partial: bool) -> tuple[list[Path], dict[str, Any]]:
    manifest = info(out)
    folder = Path(out)
    done = _done_shards(folder, manifest["n"], manifest["shard_size"])
    if len(done) < manifest["n_shards"] and not allow_partial:
        raise InvalidValueError(
            f"the job in {folder} is not finished",
            expected=f"{manifest['n_shards']} shards",
            got=f"{len(done)} shards written",
            fix="run the same dataset.render/encode call again to finish it, or pass "
            "allow_partial=True to read the shards written so far",
        )
    return [folder / _shard_name(k) for k in sorted(done)], manifest


def read(out: str | os.PathLike[str], columns: Sequence[str] | None = None, *, allow_partial: bool = False) -> pa.Table:
    """All rows of a job as one ``pyarrow.Table`` (in row order; ``.to_pandas()`` for a DataFrame).

    Only complete shards are ever read (temporary files of a running or killed job are not).
    This holds the table in memory: use :func:`iter_batches` to stream a large job.

    Args:
        out: the job folder.
        columns: the columns to read (default all).
        allow_partial: read an unfinished job's shards instead of raising.

    Returns:
        A ``pyarrow.Table`` whose schema metadata holds the space and provenance
        (``json.loads(table.schema.metadata[b"latentlab"])``).
    """
    pa = _pa()
    files, _ = _shard_files(out, allow_partial)
    pq = _pq()
    if not files:
        raise InvalidValueError(
            f"the job in {out} has no shards yet",
            expected="at least one written shard",
            got="none",
            fix="run the job first",
        )
    tables = [pq.read_table(f, columns=list(columns) if columns else None) for f in files]
    table = pa.concat_tables(tables)
    meta = tables[0].schema.metadata
    return table.replace_schema_metadata(meta) if meta else table


def iter_batches(
    out: str | os.PathLike[str],
    columns: Sequence[str] | None = None,
    *,
    batch_size: int = 65_536,
    shards: Sequence[int] | None = None,
) -> Iterator[pa.RecordBatch]:
    """Stream a finished job's rows as ``pyarrow.RecordBatch`` es, in row order, one shard at a time.

    Args:
        out: the job folder.
        columns: the columns to read (default all).
        batch_size: rows per batch at most.
        shards: only these shard numbers (e.g. all but a held-out one).
    """
    files, _ = _shard_files(out, allow_partial=False)
    pq = _pq()
    chosen = range(len(files)) if shards is None else [int(k) for k in shards]
    for k in chosen:
        pf = pq.ParquetFile(files[k])
        yield from pf.iter_batches(batch_size=batch_size, columns=list(columns) if columns else None)


def _space_of(out: str | os.PathLike[str]) -> LatentSpace:
    files, _ = _shard_files(out, allow_partial=True)
    if not files:
        raise InvalidValueError(
            f"the job in {out} has no shards yet", expected="a written shard", got="none", fix="run the job first"
        )
    meta = json.loads(_pq().read_schema(files[0]).metadata[_META_KEY])
    sp = meta["space"]
    return LatentSpace(sp["name"], tuple(sp["shape"]), sp["prior"], model=sp["model"], description=sp["description"])


def _flat_latents(col: Any) -> np.ndarray:
    """A fixed-size-list column (Array or ChunkedArray) as a writable float32 ``(N, D)`` array."""
    arr = col.combine_chunks() if hasattr(col, "combine_chunks") else col
    return np.array(arr.flatten().to_numpy(zero_copy_only=False), dtype=np.float32).reshape(
        len(arr), arr.type.list_size
    )


def latents(data: Any, column: str = "latent", shape: Sequence[int] | None = None) -> torch.Tensor:
    """The latents of a table, record batch or job folder as a float32 tensor ``(N, *shape)``.

    Args:
        data: a ``pyarrow.Table`` / ``RecordBatch`` (from :func:`read` or :func:`iter_batches`),
            a pandas DataFrame from ``.to_pandas()``, or a job folder.
        column: the fixed-size-list column.
        shape: the shape of one latent (default: from the table's metadata, else flat).

    Returns:
        ``float32 (N, *shape)`` (a copy: Arrow buffers are read-only).
    """
    if isinstance(data, (str, os.PathLike)):
        return latents(read(data, columns=[column]), column, shape)
    if hasattr(data, "schema") and hasattr(data, "column"):
        if shape is None and data.schema.metadata and _META_KEY in data.schema.metadata:
            shape = json.loads(data.schema.metadata[_META_KEY])["space"]["shape"]
        flat = _flat_latents(data.column(column))
    else:  # pandas: a column of numpy arrays
        values = list(data[column])
        flat = np.stack([np.asarray(v, dtype=np.float32) for v in values]) if values else np.zeros((0, 0), np.float32)
    t = torch.from_numpy(flat)
    return t.reshape(len(t), *shape) if shape is not None else t


# --------------------------------------------------------------------------- out of core: directions and maps
def _require_render_like(out: str | os.PathLike[str], needs: Sequence[str]) -> dict[str, Any]:
    manifest = info(out)
    files, _ = _shard_files(out, allow_partial=False)
    names = _pq().read_schema(files[0]).names
    missing = [c for c in needs if c not in names]
    if missing:
        raise InvalidValueError(
            f"the job in {out} has no column {missing[0]!r}",
            expected=f"one of {names}",
            got=repr(missing[0]),
            fix="pass a column the job wrote (or render it with that measure)",
        )
    return manifest


def pca(
    out: str | os.PathLike[str],
    n_components: int = 10,
    *,
    column: str = "latent",
    batch_size: int = 65_536,
    name: str = "pc",
) -> DirectionSet:
    """Principal directions of a job's latents, streamed shard by shard (GANSpace over a data set).

    Uses the streaming covariance of :func:`latentlab.directions.pca` (fixed blocks of rows
    summed in float64, one pass, ``D x D`` memory), so the result equals, bit for bit, the
    in-memory PCA of the same latents
    (above ``D = 4096``, scikit-learn's ``IncrementalPCA``, as ``directions.pca`` does).

    Args:
        out: a job folder.
        n_components: number of directions.
        column: the latent column.
        batch_size: rows read at a time.
        name: prefix of the component names.

    Returns:
        A :class:`~latentlab.DirectionSet` bound to the job's space (its provenance holds
        ``explained_variance_ratio``).
    """
    from .directions import Direction, DirectionSet
    from .directions._common import base_provenance
    from .directions.unsupervised import STREAM_COV_MAX_DIM, CovarianceStream, pca_from_cov, sign_fix

    _require_render_like(out, [column])
    space = _space_of(out)
    if not 1 <= int(n_components) <= space.dim:
        raise InvalidValueError(
            "n_components out of range",
            expected=f"1 <= n_components <= {space.dim}",
            got=n_components,
            fix=f"pass n_components={min(10, space.dim)}",
        )
    k = int(n_components)
    batches = (latents(b, column).reshape(b.num_rows, -1) for b in iter_batches(out, [column], batch_size=batch_size))
    if space.dim <= STREAM_COV_MAX_DIM:
        stream = CovarianceStream(space.dim)
        for x in batches:
            stream.update(x)
        rows = stream.n
        if rows < 2:
            raise InvalidValueError("PCA needs at least two rows", expected=">= 2 rows", got=rows, fix="render more")
        _, cov = stream.result()
        evals, vecs = pca_from_cov(cov, k)
        total, algo = float(torch.trace(cov)), "streaming covariance + eigh"
    else:  # a D x D covariance would not fit: the same fallback as ll.directions.pca
        ipca = require("sklearn.decomposition", purpose="dataset.pca").IncrementalPCA(n_components=k)
        rows = 0
        for x in batches:
            rows += len(x)
            if len(x) >= k:
                ipca.partial_fit(x.double().numpy())
        evals, vecs = torch.from_numpy(ipca.explained_variance_), torch.from_numpy(ipca.components_)
        total, algo = float(evals.sum() / max(float(ipca.explained_variance_ratio_.sum()), 1e-30)), "IncrementalPCA"
    vecs = sign_fix(vecs.double())
    ratio = (evals / max(total, 1e-30)).tolist()
    prov = base_provenance(
        "pca",
        params={
            "n_components": k,
            "space": space.name,
            "streaming": True,
            "algorithm": algo,
            "source": f"dataset {Path(out).name}",
        },
        n_samples=int(rows),
        explained_variance=evals.tolist(),
        explained_variance_ratio=ratio,
    )
    items = [
        Direction(
            vecs[i].view(space.shape),
            space,
            f"{name}{i}",
            {**prov, "component": i, "scores": {"explained_variance_ratio": ratio[i]}},
        )
        for i in range(len(vecs))
    ]
    return DirectionSet(items, name=f"pca({space.model}:{space.name})", provenance=prov)


def _xy(batch: Any, column: str, label: str) -> tuple[np.ndarray, np.ndarray]:
    x = latents(batch, column).reshape(batch.num_rows, -1).double().numpy()
    y = np.asarray(batch.column(label).to_numpy(zero_copy_only=False), dtype=np.float64)
    return x, y


def from_labels(
    out: str | os.PathLike[str],
    label: str,
    *,
    method: Literal["logistic", "svm", "ridge"] = "logistic",
    quantile: float = 0.3,
    holdout: int = -1,
    epochs: int | None = None,
    column: str = "latent",
    batch_size: int = 8192,
    alpha: float = 1e-4,
    seed: int = 0,
    name: str | None = None,
) -> Direction:
    """The direction along which a column grows, fitted out of core (InterFaceGAN on a data set).

    A linear model (scikit-learn's ``SGDClassifier``/``SGDRegressor``) is fitted with
    ``partial_fit`` on one batch at a time over the training shards; one whole shard is held
    out for the score. Continuous labels keep their top and bottom ``quantile`` for the
    classifiers (the thresholds come from the training shards' label column, which alone is
    read into memory: 8 bytes a row).

    Args:
        out: a job folder.
        label: the column to explain (e.g. a measure such as ``"slant"``).
        method: ``"logistic"`` (log loss), ``"svm"`` (hinge loss) or ``"ridge"`` (squared loss, continuous labels).
        quantile: fraction kept at each end for the classifiers (binary labels are used as they are).
        holdout: the shard held out for the score (default the last).
        epochs: passes over the training shards (default: enough for about 100,000 rows seen,
            between 3 and 50; small data sets need many passes of SGD).
        column: the latent column.
        batch_size: rows per ``partial_fit``.
        alpha: SGD's L2 penalty.
        seed: seed of SGD's shuffling.
        name: the direction's name (default ``label``).

    Returns:
        A :class:`~latentlab.Direction` bound to the job's space; ``provenance["scores"]`` holds
        ``heldout_accuracy`` and ``heldout_balanced_accuracy`` (classifiers) or ``heldout_r2``
        (ridge) on the held-out shard.
    """
    from .directions import Direction
    from .directions._common import base_provenance
    from .directions.supervised import classifier_scores

    if method not in ("logistic", "svm", "ridge"):
        raise InvalidValueError(
            f"unknown method {method!r}",
            expected="'logistic', 'svm' or 'ridge'",
            got=repr(method),
            fix="pass method='logistic'",
        )
    manifest = _require_render_like(out, [column, label])
    n_shards = int(manifest["n_shards"])
    if n_shards < 2:
        raise InvalidValueError(
            "from_labels on a data set needs at least two shards (one is held out)",
            expected=">= 2 shards",
            got=f"{n_shards} shard",
            fix="render with a smaller shard_size, or use ll.directions.from_labels in memory",
        )
    held = holdout % n_shards
    train = [k for k in range(n_shards) if k != held]
    space = _space_of(out)
    lm = require("sklearn.linear_model", purpose="dataset.from_labels")
    pre = require("sklearn.preprocessing", purpose="dataset.from_labels")
    y_train = np.concatenate(
        [
            np.asarray(b.column(label).to_numpy(zero_copy_only=False), dtype=np.float64)
            for b in iter_batches(out, [label], shards=train)
        ]
    )
    binary = len(np.unique(y_train)) == 2
    epochs = epochs if epochs is not None else max(3, min(50, math.ceil(100_000 / max(len(y_train), 1))))
    if method == "ridge":
        lo = hi = None
    elif binary:
        lo = hi = float(np.unique(y_train)[0])
    else:
        if not 0 < quantile <= 0.5:
            raise InvalidValueError(
                "quantile must be in (0, 0.5]", expected="e.g. 0.3", got=quantile, fix="pass quantile=0.3"
            )
        lo, hi = (float(v) for v in np.quantile(y_train, [quantile, 1 - quantile]))

    def select(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if lo is None or hi is None:
            return x, y
        if binary:
            return x, (y > lo).astype(np.int64)
        keep = (y <= lo) | (y >= hi)
        return x[keep], (y[keep] >= hi).astype(np.int64)

    scaler = pre.StandardScaler()
    for batch in iter_batches(out, [column], batch_size=batch_size, shards=train):
        scaler.partial_fit(latents(batch, column).reshape(batch.num_rows, -1).double().numpy())
    if method == "ridge":
        y_scale = float(np.std(y_train)) or 1.0
        y_mean = float(np.mean(y_train))
        model = lm.SGDRegressor(alpha=alpha, random_state=seed, learning_rate="invscaling", eta0=0.01)
    else:
        model = lm.SGDClassifier(loss="log_loss" if method == "logistic" else "hinge", alpha=alpha, random_state=seed)
    rng = np.random.default_rng(seed)
    used = 0
    for epoch in range(int(epochs)):
        order = [int(k) for k in rng.permutation(train)]
        for batch in iter_batches(out, [column, label], batch_size=batch_size, shards=order):
            x, y = select(*_xy(batch, column, label))
            if not len(y):
                continue
            xs = scaler.transform(x)
            if method == "ridge":
                model.partial_fit(xs, (y - y_mean) / y_scale)
            else:
                model.partial_fit(xs, y, classes=np.array([0, 1]))
            used += len(y) if epoch == 0 else 0
    x_te, y_te = select(*_xy(read_shard(out, held, [column, label]), column, label))
    xs_te = scaler.transform(x_te)
    if method == "ridge":
        pred = model.predict(xs_te) * y_scale + y_mean
        r2 = 1.0 - float(((y_te - pred) ** 2).sum()) / max(float(((y_te - y_te.mean()) ** 2).sum()), 1e-30)
        scores = {"heldout_r2": r2}
    else:
        scores = classifier_scores(y_te, model.predict(xs_te))
    v = np.asarray(model.coef_, dtype=np.float64).reshape(-1) / scaler.scale_  # back to latent coordinates
    params = {
        "method": method,
        "holdout_shard": held,
        "epochs": int(epochs),
        "alpha": alpha,
        "seed": seed,
        "quantile": quantile if method != "ridge" and not binary else None,
        "out_of_core": True,
    }
    prov = base_provenance(
        f"sgd_{method}", params=params, label=label, n_samples=used, n_train=used, n_test=len(y_te), scores=scores
    )
    return Direction(torch.from_numpy(v).view(space.shape), space, name or label, prov)


def read_shard(out: str | os.PathLike[str], k: int, columns: Sequence[str] | None = None) -> pa.Table:
    """Shard ``k`` of a job as a ``pyarrow.Table`` (with the job's metadata)."""
    files, _ = _shard_files(out, allow_partial=True)
    by_name = {f.name: f for f in files}
    if _shard_name(k) not in by_name:
        raise InvalidValueError(
            f"shard {k} of {out} is not written",
            expected=f"one of {sorted(by_name)}",
            got=_shard_name(k),
            fix="run the job to finish it",
        )
    table: pa.Table = _pq().read_table(by_name[_shard_name(k)], columns=list(columns) if columns else None)
    return table


def fit_map(
    out: str | os.PathLike[str],
    *,
    sample: int = 20_000,
    method: Literal["umap", "pca"] = "umap",
    seed: int = 0,
    column: str = "latent",
    labels: Sequence[str] | None = None,
    batch_size: int = 65_536,
    **options: Any,
) -> tuple[LatentMap, np.ndarray]:
    """A :class:`~latentlab.LatentMap` fitted on a random sample of a job, then applied to every row in batches.

    UMAP's cost grows faster than its input, and umap-learn's own advice for large data is
    to fit on a sample and ``transform`` the rest; the positions of all rows (``N x 2``
    float32, 8 bytes a row) are returned, the latents are never all held.

    Args:
        out: a job folder.
        sample: rows the map is fitted on (all rows if the job has fewer).
        method: ``"umap"`` or ``"pca"``.
        seed: seed of the sample and of the map.
        column: the latent column.
        labels: columns stored as the map's labels for the sampled points (e.g. ``["slant"]``).
        batch_size: rows transformed at a time.
        **options: other :class:`~latentlab.LatentMap` options (``n_neighbors=`` ...).

    Returns:
        ``(the fitted map, positions float32 (N, 2) of every row in row order)``.
    """
    from .maps import LatentMap

    manifest = _require_render_like(out, [column, *(labels or [])])
    n = int(manifest["n"])
    if _positive(sample, "sample", "20_000") >= n:
        chosen = np.arange(n)
    else:
        chosen = np.sort(np.random.default_rng(seed).choice(n, size=int(sample), replace=False))
    parts, label_parts = [], []
    start = 0
    for batch in iter_batches(out, [column, *(labels or [])], batch_size=batch_size):
        hit = chosen[(chosen >= start) & (chosen < start + batch.num_rows)] - start
        if len(hit):
            picked = batch.take(hit)
            parts.append(latents(picked, column))
            label_parts.append({c: picked.column(c).to_numpy(zero_copy_only=False) for c in labels or []})
        start += batch.num_rows
    space = _space_of(out)
    x = torch.cat(parts).reshape(-1, *space.shape)
    label_dict = {c: np.concatenate([p[c] for p in label_parts]) for c in labels or []}
    fitted = LatentMap(method=method, seed=seed, **options).fit(x, labels=label_dict or None)
    positions = np.empty((n, 2), dtype=np.float32)
    start = 0
    for batch in iter_batches(out, [column], batch_size=batch_size):
        positions[start : start + batch.num_rows] = fitted.transform(latents(batch, column).reshape(-1, *space.shape))
        start += batch.num_rows
    return fitted, positions
