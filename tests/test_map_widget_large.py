"""MapWidget beyond its fitted points: positions as bytes, nearest points, thumbnails in cached batches,
a dataset job as the source of latents and thumbnails, and the errors for bad input (in-process)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

import latentlab as ll
from latentlab import dataset
from latentlab.errors import InvalidValueError, ShapeError
from latentlab.widgets import MapWidget
from latentlab.widgets.map import MAX_THUMBNAILS

N = 100_000


class CountingDecoder:
    """``gen`` with a count of ``decode`` calls and of the latents they decoded (everything else passes through)."""

    def __init__(self, gen: ll.Generator) -> None:
        self._gen, self.calls, self.decoded = gen, 0, 0

    def decode(self, z: torch.Tensor, **kw: Any) -> torch.Tensor:
        self.calls += 1
        self.decoded += len(z) if z.ndim > 1 else 1
        return self._gen.decode(z, **kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._gen, name)


@pytest.fixture(scope="module")
def gen() -> ll.Generator:
    return ll.load("digits")


@pytest.fixture(scope="module")
def big(gen: ll.Generator) -> tuple[ll.LatentMap, np.ndarray, torch.Tensor]:
    z = gen.sample(N, seed=0)
    m = ll.LatentMap(method="pca").fit(z[:2000])
    return m, m.transform(z), z


def _pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.float32) / 255


def _decoded(gen: ll.Generator, z: torch.Tensor) -> np.ndarray:
    return gen.decode(z[None])[0].permute(1, 2, 0).numpy()


def test_positions_and_colours_travel_as_bytes(big: Any, gen: ll.Generator) -> None:
    m, xy, z = big
    values = z[:, 0].numpy()
    w = MapWidget(m, gen, points=xy, latents=z, color_by=values)
    assert w.n_points == N and len(w.xy) == 8 * N and len(w.colors) == N  # 8 bytes a position, 1 a colour
    uv = np.frombuffer(w.xy, dtype=np.float32).reshape(-1, 2)
    assert uv.min() >= 0 and uv.max() <= 1
    np.testing.assert_allclose(w.from_uv(uv), xy, atol=1e-5 * float(np.ptp(xy)))
    codes = np.frombuffer(w.colors, dtype=np.uint8)
    assert codes[np.argmin(values)] == 0 and codes[np.argmax(values)] == len(w.palette) - 1
    np.testing.assert_allclose(w.extent, [xy[:, 0].min(), xy[:, 0].max(), xy[:, 1].min(), xy[:, 1].max()], rtol=1e-6)
    # a selection goes back as int32 bytes, in order
    x0, x1, y0, y1 = w.extent
    idx = w.select([[x0 - 1, y0 - 1], [(x0 + x1) / 2, y0 - 1], [(x0 + x1) / 2, y1 + 1], [x0 - 1, y1 + 1]])
    assert np.array_equal(idx, np.flatnonzero(xy[:, 0] < (x0 + x1) / 2))
    assert np.array_equal(np.frombuffer(w.selected, dtype=np.int32), idx) and np.array_equal(w.selection, idx)


def test_click_renders_the_latent_of_any_point(big: Any, gen: ll.Generator) -> None:
    m, xy, z = big
    w = MapWidget(m, gen, points=xy, latents=z)
    seen: list[tuple[torch.Tensor, int | None]] = []
    w.on_click(lambda lat, i: seen.append((lat, i)))
    w.handle_message({"type": "click", "index": 77_777})  # far beyond the 2,000 fitted points
    torch.testing.assert_close(seen[0][0], z[77_777])
    assert seen[0][1] == 77_777 and w.caption.startswith("point 77777")
    shown = _pixels(w.image)
    err = np.abs(shown - _decoded(gen, z[77_777])).mean()
    assert err < 0.03 and err < 0.5 * np.abs(shown - _decoded(gen, z[5])).mean()


def test_nearest_point_is_the_brute_force_one(big: Any, gen: ll.Generator) -> None:
    m, xy, z = big
    w = MapWidget(m, gen, points=xy, latents=z)
    q = np.random.default_rng(0).uniform(xy.min(0), xy.max(0), size=(50, 2))
    want = np.argmin(((xy[None, :, :].astype(np.float64) - q[:, None, :]) ** 2).sum(-1), axis=1)
    assert np.array_equal(w.nearest(q), want)
    assert w.nearest(xy[1234]).tolist() == [1234]  # a point is its own nearest


def test_thumbnails_are_batched_and_cached(big: Any, gen: ll.Generator) -> None:
    m, xy, z = big
    counting = CountingDecoder(gen)
    w = MapWidget(m, counting, points=xy, latents=z)  # type: ignore[arg-type]
    first = w.thumbnails([10, 20, 30])
    assert (counting.calls, counting.decoded) == (1, 3)  # one decode for the whole batch
    again = w.thumbnails([30, 20, 40])
    assert (counting.calls, counting.decoded) == (2, 4)  # only the new one is decoded
    assert again[0] == first[2] and again[1] == first[1]
    for i, data in zip([30, 20, 40], again):
        assert data[:4] == b"\x89PNG"
        err = np.abs(_pixels(data) - _decoded(gen, z[i])).mean()
        assert err < 0.02 and err < 0.5 * np.abs(_pixels(data) - _decoded(gen, z[i + 1])).mean()
    # the browser's request: one message with the indices and one PNG buffer each, at most MAX_THUMBNAILS a message
    sent: list[tuple[dict[str, Any], list[bytes]]] = []
    w.send = lambda content, buffers=None: sent.append((content, buffers))  # type: ignore[method-assign]
    wanted = list(range(1000, 1000 + MAX_THUMBNAILS + 6))
    w.handle_message({"type": "thumbnails", "indices": wanted})
    assert [len(c["indices"]) for c, _ in sent] == [MAX_THUMBNAILS, 6]
    assert [i for c, _ in sent for i in c["indices"]] == wanted
    assert all(len(c["indices"]) == len(b) for c, b in sent)
    assert sent[1][1][0] == w.thumbnails([1000 + MAX_THUMBNAILS])[0]
    # hovering a point shows its cached thumbnail, without another decode
    calls = counting.calls
    w.handle_message({"type": "hover", "index": 20})
    assert w.hover_index == 20 and w.hover_image == first[1] and counting.calls == calls


def test_bad_input_is_refused(big: Any, gen: ll.Generator) -> None:
    m, xy, z = big
    w = MapWidget(m, gen, points=xy, latents=z)
    with pytest.raises(InvalidValueError, match="too many thumbnails"):
        w.thumbnails(range(MAX_THUMBNAILS + 1))
    for bad in ([N], [-1], [1.5], ["x"]):
        with pytest.raises(InvalidValueError, match="no map point"):
            w.thumbnails(bad)
    with pytest.raises(InvalidValueError, match=f"0 <= index < {N}"):
        w.click_point(N)
    with pytest.raises(ShapeError, match="pairs"):
        MapWidget(m, gen, points=xy[:, :1], latents=z)
    nan = xy[:10].copy()
    nan[3, 1] = np.nan
    with pytest.raises(InvalidValueError, match="not finite"):
        MapWidget(m, gen, points=nan, latents=z[:10])
    with pytest.raises(InvalidValueError, match="needs the latents"):
        MapWidget(m, gen, points=xy)
    with pytest.raises(InvalidValueError, match="needs the points"):
        MapWidget(m, gen, latents=z)
    with pytest.raises(InvalidValueError, match="different number of points"):
        MapWidget(m, gen, points=xy, latents=z[:-1])
    with pytest.raises(ShapeError, match="one value per point"):
        MapWidget(m, gen, points=xy, latents=z, color_by=np.zeros(7))
    with pytest.raises(ShapeError, match="does not fit the space"):
        MapWidget(m, gen, points=xy[:5], latents=torch.zeros(5, 3))


def test_a_dataset_job_is_the_source(gen: ll.Generator, tmp_path: Path) -> None:
    out = tmp_path / "job"
    dataset.render(gen, n=260, seed=1, out=out, measures=["slant"], thumbnails=24, shard_size=100, progress=False)
    counting = CountingDecoder(gen)
    w = MapWidget.from_dataset(out, counting, method="pca", sample=80, color_by="slant")  # type: ignore[arg-type]
    table = dataset.read(out)
    assert w.n_points == 260 and len(w.map.embedding_) == 80
    # a click on a row of the third shard renders that row's stored latent
    lat = w.click_point(213)
    torch.testing.assert_close(lat, dataset.latents(table)[213])
    assert w.caption.startswith("point 213 · slant ")
    # thumbnails are the job's stored PNGs: no decode
    calls = counting.calls
    thumbs = w.thumbnails([5, 150, 259])
    assert thumbs == [table.column("thumbnail")[i].as_py() for i in (5, 150, 259)] and counting.calls == calls
    # colours follow the job's column
    slant = table.column("slant").to_numpy()
    codes = np.frombuffer(w.colors, dtype=np.uint8)
    assert codes[np.argmin(slant)] == 0 and codes[np.argmax(slant)] == len(w.palette) - 1
    with pytest.raises(InvalidValueError, match="no column named 'weight'") as err:
        MapWidget.from_dataset(out, gen, method="pca", sample=80, color_by="weight")
    assert "'slant'" in str(err.value)


def test_an_unfinished_job_is_refused(gen: ll.Generator, tmp_path: Path) -> None:
    out = tmp_path / "job"
    dataset.render(gen, n=60, seed=1, out=out, thumbnails=None, shard_size=20, progress=False)
    (out / "part-00002.parquet").unlink()
    m = ll.LatentMap(method="pca").fit(gen.sample(30, seed=0))
    with pytest.raises(InvalidValueError, match="not finished"):
        MapWidget(m, gen, points=np.zeros((60, 2)), latents=out)


def test_small_maps_keep_their_defaults(gen: ll.Generator) -> None:
    m = ll.LatentMap(method="pca").fit(gen.sample(300, seed=0))
    w = MapWidget(m, gen)
    assert w.n_points == 300 < w.density_above  # the browser draws points (density only above 20,000 in view)
    assert w.thumbnails_below == 0  # and no thumbnails over them: a small map looks as it did
    assert np.array_equal(w.points, m.embedding_)
    z = gen.sample(30_000, seed=0)
    assert MapWidget(m, gen, points=m.transform(z), latents=z).thumbnails_below == 1_500  # a big one has them
    w2 = MapWidget(m, gen, density_above=100, thumbnails_below=0)
    assert (w2.density_above, w2.thumbnails_below) == (100, 0)
    assert w2.get_state("density_above")["density_above"] == 100  # synced to the browser
