"""Where the points of a :class:`~latentlab.widgets.MapWidget` get their latents, labels and thumbnails.

A small map keeps everything in its :class:`~latentlab.LatentMap` (``latents_``, ``labels_``).
A map of a million points does not: :func:`latentlab.dataset.fit_map` fits on a sample and
returns the positions of every row, while the latents (and the thumbnails the job stored)
stay in the job's Parquet shards. A *point source* answers, for the rows a gesture needs:

* ``latents(idx)``: ``(K, *shape)`` float32 latents of rows ``idx``;
* ``thumbnails(idx)``: stored PNG bytes of those rows, or ``None`` (then the widget decodes);
* ``column(name)``: ``(N,)`` values of a column (to colour the points), or ``None``.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import InvalidValueError

__all__ = ["TensorPoints", "JobPoints", "point_source"]


class TensorPoints:
    """Latents held in memory: an ``(N, *shape)`` tensor (a fitted map's ``latents_``)."""

    def __init__(self, latents: torch.Tensor, labels: dict[str, np.ndarray] | None = None) -> None:
        self._latents = latents
        self._labels = labels or {}

    def __len__(self) -> int:
        return len(self._latents)

    def latents(self, idx: np.ndarray) -> torch.Tensor:
        return self._latents[torch.from_numpy(np.asarray(idx, dtype=np.int64))]

    def thumbnails(self, idx: np.ndarray) -> list[bytes] | None:
        return None

    def column(self, name: str) -> np.ndarray | None:
        return self._labels.get(name)

    def columns(self) -> list[str]:
        return list(self._labels)


class JobPoints:
    """The rows of a finished :mod:`latentlab.dataset` job, read shard by shard and kept a few at a time.

    Row ``i`` lives in shard ``i // shard_size`` (the job writes rows in order), so a click
    reads one shard's latent column (2.5 MB for 10k 64-d latents), not the data set.
    """

    _KEEP = 4  # shards kept in memory

    def __init__(self, out: str | os.PathLike[str]) -> None:
        from .. import dataset

        self.out = Path(out)
        manifest = dataset.info(self.out)
        self._n, self._shard_size = int(manifest["n"]), int(manifest["shard_size"])
        if manifest["shards_done"] * self._shard_size < self._n:
            raise InvalidValueError(
                f"the job in {self.out} is not finished",
                expected=f"{-(-self._n // self._shard_size)} shards",
                got=f"{manifest['shards_done']} shards written",
                fix="run the job again with the same arguments to finish it (it resumes)",
            )
        self._names = list(dataset.read_shard(self.out, 0).schema.names)
        self._shards: OrderedDict[tuple[int, str], Any] = OrderedDict()

    def __len__(self) -> int:
        return self._n

    def columns(self) -> list[str]:
        return [c for c in self._names if c not in ("latent", "thumbnail", "index")]

    def _shard_column(self, k: int, name: str) -> Any:
        key = (k, name)
        if key in self._shards:
            self._shards.move_to_end(key)
            return self._shards[key]
        from .. import dataset

        col = dataset.read_shard(self.out, k, [name]).column(name)
        self._shards[key] = col
        while len(self._shards) > self._KEEP:
            self._shards.popitem(last=False)
        return col

    def _take(self, idx: np.ndarray, name: str) -> list[Any]:
        """Values of column ``name`` at rows ``idx``, in the order asked, one shard read per shard touched."""
        idx = np.asarray(idx, dtype=np.int64)
        out: list[Any] = [None] * len(idx)
        shard = idx // self._shard_size
        for k in np.unique(shard):
            where = np.flatnonzero(shard == k)
            col = self._shard_column(int(k), name)
            values = col.take(idx[where] - int(k) * self._shard_size).to_pylist()
            for j, v in zip(where, values):
                out[j] = v
        return out

    def latents(self, idx: np.ndarray) -> torch.Tensor:
        return torch.tensor(np.asarray(self._take(idx, "latent"), dtype=np.float32))

    def thumbnails(self, idx: np.ndarray) -> list[bytes] | None:
        if "thumbnail" not in self._names:
            return None
        return [bytes(b) for b in self._take(idx, "thumbnail")]

    def column(self, name: str) -> np.ndarray | None:
        if name not in self._names:
            return None
        from .. import dataset

        parts = [b.column(name).to_numpy(zero_copy_only=False) for b in dataset.iter_batches(self.out, [name])]
        return np.concatenate(parts)


def point_source(latents: Any, n: int) -> TensorPoints | JobPoints:
    """The source of ``latents=`` given to the widget: a job folder or an ``(N, *shape)`` tensor."""
    if isinstance(latents, (str, os.PathLike)):
        src: TensorPoints | JobPoints = JobPoints(latents)
    else:
        from .._checks import to_tensor

        src = TensorPoints(to_tensor(latents, name="latents").detach().to("cpu", torch.float32))
    if len(src) != n:
        raise InvalidValueError(
            "the map has a different number of points than latents",
            expected=f"{n} latents, one per point",
            got=f"{len(src)}",
            fix="pass the positions and the latents of the same rows, e.g. "
            "m, xy = ll.dataset.fit_map(out); ll.MapWidget(m, gen, points=xy, latents=out)",
        )
    return src
