"""MapWidget: an interactive 2-D map of a latent space, linked to a generator (anywidget, canvas).

The browser side only draws and reports gestures; every decision is a plain Python method
that tests call without a browser:

* :meth:`MapWidget.click_point` (a click on a point) and :meth:`MapWidget.click_position`
  (a click on empty space: the inverse-mapped latent) render the latent, move a linked
  Explorer there and call the ``on_click`` callbacks;
* :meth:`MapWidget.select` (lasso or box) sets :attr:`MapWidget.selection`, the indices of
  the points inside, and calls the ``on_select`` callbacks;
* :meth:`MapWidget.show_marker` / :meth:`MapWidget.show_path` draw the Explorer's current
  latent and an interpolation path;
* :attr:`MapWidget.view` is the window of the map on show (zoom and pan), in map
  coordinates; :meth:`MapWidget.reset_view` shows every point again.

Map positions travel to the browser normalised to ``[0, 1]`` (``u`` right, ``v`` up) as
float32 bytes (8 bytes a point: a million points are 8 MB, one binary message, no JSON), and
draw on a canvas. The browser sorts them once into a grid of cells, so each frame touches only
the cells in view: while more than ``density_above`` points are in view it bins them into a
2-D histogram drawn with a log colour scale (the density), below that it draws the points,
and below ``thumbnails_below`` it also draws thumbnails of spread-out points, which it asks
for in small batches (:meth:`MapWidget.thumbnails`: decoded on demand or read from the job's
stored PNGs, cached). Gestures come back as fractions of the plot area together with the view
they were made in, and :meth:`MapWidget.from_screen` turns them into map positions.

A map of a million rows of a :mod:`latentlab.dataset` job keeps only positions in memory::

    m, xy = ll.dataset.fit_map(out, sample=20_000)        # fit on a sample, place every row
    ll.MapWidget(m, gen, points=xy, latents=out, color_by="stroke_weight")
"""

from __future__ import annotations

import os
import pathlib
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

import anywidget
import numpy as np
import torch
import traitlets

from .._checks import shape_str
from ..colors import category_colors, is_categorical, viridis
from ..errors import InvalidValueError, ShapeError
from ..maps import select_polygon
from ..render import jpeg_bytes, png_bytes
from ._map_points import JobPoints, TensorPoints, point_source

if TYPE_CHECKING:
    from ..generators.base import Generator
    from ..maps import LatentMap

__all__ = ["MapWidget"]

_ASSETS = pathlib.Path(__file__).parent
_ESM = _ASSETS / "map.js"  # the anywidget front end (package data)
_CSS = _ASSETS / "map.css"
_SPACE_FIX = "fit the map on latents of this generator (gen.encode(...) or gen.codes()), or pass space="

ClickCallback = Callable[[torch.Tensor, "int | None"], Any]
SelectCallback = Callable[[np.ndarray], Any]

MAX_THUMBNAILS = 64  # thumbnails one request may ask for (the browser asks for at most 24 at a time)
_THUMB_CACHE = 4096  # encoded thumbnails kept (about 1 kB each for digits, 4 kB for a glyphs pair)
_THUMB_MAX_H = 64  # decoded thumbnails taller than this are scaled down (the browser draws them 36 px high)


class MapWidget(anywidget.AnyWidget):
    """An interactive map of a fitted :class:`~latentlab.maps.LatentMap`, linked to ``gen``.

    Made with ``ll.MapWidget(latent_map, gen, explorer=explorer)`` from a fitted map.

    In the browser: hover a point for its image, click it to render it, click empty space to
    render the inverse-mapped latent there; drag a lasso (shift-drag: a box) to select. The
    mouse wheel zooms about the cursor; drag with the middle button, or switch the toolbar to
    **Pan** and drag, to move the view; **+** / **-** zoom about the centre and **Reset view**
    shows every point again. Every gesture works the same in a zoomed view.

    Args:
        latent_map: a fitted map (its ``latents_`` must live in ``gen``'s ``space``).
        gen: the generator that renders clicked latents.
        explorer: optional linked Explorer (anything with a ``.latent`` property and a
            traitlets-style ``.observe``): a click moves it, its moves move the marker.
        color_by: label name (or length-``N`` values) that colours the points (default: as
            :meth:`LatentMap.plot`, the first label that is numeric or has few categories).
        size: plot side in CSS pixels.
        space: latent space of ``gen`` (default space when ``None``).
        points: ``(N, 2)`` map positions of every point to show, when they are more than the
            map was fitted on (``dataset.fit_map``'s positions); default ``latent_map.embedding_``.
        latents: where point ``i``'s latent is when ``points`` is given: a :mod:`latentlab.dataset`
            job folder (its stored thumbnails are used too) or an ``(N, *shape)`` tensor.
        density_above: draw the density instead of the points while more points than this
            are in view (zoom in to see points).
        thumbnails_below: draw thumbnails of spread-out points while fewer points than this
            are in view (0: never). Default: 1,500 for a map of more than ``density_above``
            points, 0 for a smaller one (it keeps its points and hover tip).

    Attributes:
        selection: ``int64 (K,)`` indices of the last lasso/box selection.
        last_latent: the latent rendered last (``None`` before the first click).
        view: ``[x0, x1, y0, y1]``, the window of the map on show, in map coordinates
            (those of ``latent_map.embedding_``; ``x`` right, ``y`` up). Synced both ways: the
            browser's zoom and pan set it, and ``widget.view = [x0, x1, y0, y1]`` zooms there.
            Setting ``[]`` or calling :meth:`reset_view` shows every point.
        extent: ``[x0, x1, y0, y1]`` of every point (the view after :meth:`reset_view`).

    Example:
        >>> import torch, latentlab as ll
        >>> gen = ll.load("digits")
        >>> m = ll.LatentMap(method="pca").fit(gen.sample(100, seed=0))
        >>> w = m.widget(gen)
        >>> w.click_point(3).shape
        torch.Size([16])
        >>> len(w.select([[-9, -9], [9, -9], [9, 9], [-9, 9]]))
        100
        >>> x0, x1, y0, y1 = w.extent
        >>> w.view = [x0, (x0 + x1) / 2, y0, (y0 + y1) / 2]  # zoom into the lower-left quarter
        >>> w.reset_view(); w.view == w.extent
        True
        >>> z = gen.sample(5000, seed=1)                  # more points than the map was fitted on
        >>> big = ll.MapWidget(m, gen, points=m.transform(z), latents=z)
        >>> big.n_points, big.nearest(m.transform(z[7])).tolist()
        (5000, [7])
        >>> big.thumbnails([7, 8])[0][:4]                 # PNG bytes, decoded in one batch and cached
        b'\\x89PNG'
    """

    _esm = _ESM
    _css = _CSS

    xy = traitlets.Bytes(b"").tag(sync=True)
    colors = traitlets.Bytes(b"").tag(sync=True)
    palette = traitlets.List(traitlets.Unicode()).tag(sync=True)
    legend = traitlets.List(traitlets.Unicode()).tag(sync=True)
    marker = traitlets.List(traitlets.Float()).tag(sync=True)
    path = traitlets.List(traitlets.List(traitlets.Float())).tag(sync=True)
    selected = traitlets.Bytes(b"").tag(sync=True)  # int32 indices
    image = traitlets.Bytes(b"").tag(sync=True)
    caption = traitlets.Unicode("").tag(sync=True)
    hover_image = traitlets.Bytes(b"").tag(sync=True)
    hover_index = traitlets.Int(-1).tag(sync=True)
    size = traitlets.Int(440).tag(sync=True)
    point_radius = traitlets.Float(2.0).tag(sync=True)
    view = traitlets.List(traitlets.Any()).tag(sync=True)
    extent = traitlets.List(traitlets.Float()).tag(sync=True)
    density_above = traitlets.Int(20_000).tag(sync=True)
    thumbnails_below = traitlets.Int(1_500).tag(sync=True)
    thumb_aspect = traitlets.Float(1.0).tag(sync=True)

    def __init__(
        self,
        latent_map: LatentMap,
        gen: Generator,
        explorer: Any = None,
        *,
        color_by: Any = None,
        size: int = 440,
        space: str | None = None,
        points: Any = None,
        latents: Any = None,
        density_above: int = 20_000,
        thumbnails_below: int | None = None,
    ) -> None:
        latent_map.check_fitted()
        super().__init__()
        self.map = latent_map
        self.gen = gen
        self.space = space
        self.explorer: Any = None
        self.last_latent: torch.Tensor | None = None
        self._click_callbacks: list[ClickCallback] = []
        self._select_callbacks: list[SelectCallback] = []
        self._thumbs: OrderedDict[int, bytes] = OrderedDict()
        self._tree: Any = None
        self._points, self._source = self._points_and_source(points, latents)
        self._check_space()
        self.density_above = int(density_above)
        if thumbnails_below is None:  # a small map stays as it was: points, and a hover tip
            thumbnails_below = 1_500 if self.n_points > self.density_above else 0
        self.thumbnails_below = int(thumbnails_below)
        img_h, img_w = (int(t) for t in gen.image_size)
        self.thumb_aspect = img_w / img_h
        emb = self._points.astype(np.float64)
        self._lo = emb.min(0)
        self._span = np.maximum(emb.max(0) - self._lo, 1e-12)
        uv = (emb - self._lo) / self._span
        n = len(emb)
        self.size = int(size)
        self.point_radius = float(np.clip(3.0 / np.sqrt(max(n, 1) / 1000.0), 1.0, 3.0))
        self._set_colors(color_by)
        self.xy = uv.astype(np.float32).tobytes()
        hi = self._lo + self._span
        self.extent = [float(self._lo[0]), float(hi[0]), float(self._lo[1]), float(hi[1])]
        self.reset_view()
        self.on_msg(self._on_msg)
        if explorer is not None:
            self.link(explorer)

    @classmethod
    def from_dataset(
        cls,
        out: str | os.PathLike[str],
        gen: Generator,
        *,
        sample: int = 20_000,
        method: Literal["umap", "pca"] = "umap",
        seed: int = 0,
        color_by: str | None = None,
        **options: Any,
    ) -> MapWidget:
        """A map of every row of a :mod:`latentlab.dataset` job, fitted on a sample of them.

        :func:`latentlab.dataset.fit_map` fits the map on ``sample`` rows and places every row
        in batches; the widget holds only the positions (8 bytes a row) and reads a clicked
        row's latent, and the thumbnails the job stored, from its shards.

        Args:
            out: the job folder (of ``ll.dataset.render`` or ``ll.dataset.encode``).
            gen: the generator that renders clicked latents.
            sample, method, seed: passed to :func:`~latentlab.dataset.fit_map`.
            color_by: a column of the job to colour the points by (e.g. a measure).
            **options: other :class:`MapWidget` options (``explorer=``, ``size=`` ...).
        """
        from .. import dataset

        latent_map, xy = dataset.fit_map(out, sample=sample, method=method, seed=seed)
        return cls(latent_map, gen, points=xy, latents=out, color_by=color_by, **options)

    # -- setup ------------------------------------------------------------------
    def _points_and_source(self, points: Any, latents: Any) -> tuple[np.ndarray, TensorPoints | JobPoints]:
        """The ``(N, 2)`` float32 positions shown and where their latents come from."""
        if points is None:
            if latents is not None:
                raise InvalidValueError(
                    "latents= needs the points they belong to",
                    expected="points=(N, 2) positions together with latents=",
                    got="latents without points",
                    fix="m, xy = ll.dataset.fit_map(out); ll.MapWidget(m, gen, points=xy, latents=out)",
                )
            return self.map.embedding_.astype(np.float32), TensorPoints(self.map.latents_, self.map.labels_)
        xy = np.asarray(points, dtype=np.float32)
        if xy.ndim != 2 or xy.shape[1] != 2 or len(xy) == 0:
            raise ShapeError(
                "map points must be (x, y) pairs",
                expected="(N, 2) with N >= 1",
                got=shape_str(xy.shape),
                fix="pass the positions dataset.fit_map returned, or latent_map.transform(latents)",
            )
        if not np.isfinite(xy).all():
            raise InvalidValueError(
                "some map points are not finite",
                expected="finite positions",
                got=f"{int((~np.isfinite(xy)).any(1).sum())} rows with NaN or inf",
                fix="drop those rows, or recompute them with latent_map.transform",
            )
        if latents is None:
            if len(xy) != len(self.map.embedding_):
                raise InvalidValueError(
                    "points= needs the latents of those points",
                    expected=f"latents= (a job folder or (N, *shape) tensor) for {len(xy)} points",
                    got=f"points only (the map holds the latents of its {len(self.map.embedding_)} fitted points)",
                    fix="pass latents=out (the job folder) or latents=<(N, *shape) tensor>",
                )
            return xy, TensorPoints(self.map.latents_, self.map.labels_)
        return xy, point_source(latents, len(xy))

    @property
    def n_points(self) -> int:
        """How many points the widget shows."""
        return len(self._points)

    @property
    def points(self) -> np.ndarray:
        """``float32 (N, 2)`` map positions of the points shown (read-only view)."""
        view = self._points.view()
        view.flags.writeable = False
        return view

    def _check_space(self) -> None:
        first = self._source.latents(np.array([0]))  # one row tells the shape; expand is a view, no copy
        self.gen.space(self.space).check(
            first.expand(self.n_points, *first.shape[1:]),
            "the map's latents",
            batch="required",
            n=str(self.n_points),
            fix=_SPACE_FIX,
        )

    def _color_values(self, color_by: Any) -> tuple[str, np.ndarray | None]:
        """The label name and ``(N,)`` values for ``color_by`` (a map label, a job column or N values)."""
        n = self.n_points
        fitted_only = n == len(self.map.embedding_) and isinstance(self._source, TensorPoints)
        if fitted_only:
            return self.map.color_values(color_by)
        if color_by is None:
            return "", None
        if isinstance(color_by, str):
            values = self._source.column(color_by)
            if values is None:
                raise InvalidValueError(
                    f"no column named {color_by!r} to colour the points by",
                    expected=" or ".join(map(repr, self._source.columns())) or "a column of the job",
                    got=repr(color_by),
                    fix="pass a measure column of the job (e.g. color_by='stroke_weight') or an array of N values",
                )
            return color_by, values
        values = np.asarray(color_by)
        if values.shape != (n,):
            raise ShapeError(
                "color_by needs one value per point",
                expected=f"({n},)",
                got=shape_str(values.shape),
                fix="pass a label name or an array with a value for every point",
            )
        return "", values

    def _set_colors(self, color_by: Any) -> None:
        name, values = self._color_values(color_by)
        self._color_name, self._color_vals = name, values
        n = self.n_points
        if values is None:
            self.palette, self.legend, self.colors = ["#3b6ea8"], [], bytes(n)
            return
        cats = np.unique(values) if is_categorical(values) else None
        if cats is not None and len(cats) > 255 and values.dtype.kind not in "iuf":
            raise InvalidValueError(
                f"too many categories to colour the map by{f' {name!r}' if name else ''}",
                expected="at most 255 distinct values (or numbers)",
                got=f"{len(cats)} distinct values",
                fix="colour by a label with fewer values, e.g. color_by='category' for the glyphs fonts",
            )
        if cats is not None and len(cats) <= 255:
            cats, codes = np.unique(values, return_inverse=True)
            self.palette = category_colors(len(cats))
            self.legend = [str(c) for c in cats]
        else:
            v = values.astype(np.float64)
            bins = 16
            codes = np.clip(((v - v.min()) / max(np.ptp(v), 1e-12) * bins).astype(int), 0, bins - 1)
            self.palette = [viridis(i / (bins - 1)) for i in range(bins)]
            self.legend = [f"{name or 'value'} {v.min():.3g}"] + [""] * (bins - 2) + [f"{v.max():.3g}"]
        self.colors = codes.astype(np.uint8).tobytes()

    # -- coordinates ---------------------------------------------------------------
    def to_uv(self, points: np.ndarray) -> np.ndarray:
        """Map positions ``(M, 2)`` -> normalised widget coordinates in ``[0, 1]``."""
        return (np.asarray(points, dtype=np.float64) - self._lo) / self._span

    def from_uv(self, uv: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
        """Normalised widget coordinates ``(M, 2)`` -> map positions."""
        return np.asarray(uv, dtype=np.float64) * self._span + self._lo

    def from_screen(
        self, points: np.ndarray | Sequence[Sequence[float]], view: Sequence[float] | None = None
    ) -> np.ndarray:
        """Positions on the plot ``(M, 2)`` -> map positions ``(M, 2)``, through a view.

        Args:
            points: fractions of the plot area: ``0`` at the left/bottom edge of the view,
                ``1`` at the right/top edge (values outside are outside the view).
            view: ``[x0, x1, y0, y1]`` the points were made in (default: :attr:`view`).
        """
        x0, x1, y0, y1 = self._checked_view(self.view if view is None else view)
        p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        return np.stack([x0 + p[:, 0] * (x1 - x0), y0 + p[:, 1] * (y1 - y0)], axis=1)

    def to_screen(self, points: np.ndarray, view: Sequence[float] | None = None) -> np.ndarray:
        """Map positions ``(M, 2)`` -> fractions of the plot area ``(M, 2)`` (see :meth:`from_screen`)."""
        x0, x1, y0, y1 = self._checked_view(self.view if view is None else view)
        p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        return np.stack([(p[:, 0] - x0) / (x1 - x0), (p[:, 1] - y0) / (y1 - y0)], axis=1)

    # -- view (zoom and pan) -----------------------------------------------------------
    def reset_view(self) -> None:
        """Show every point: set :attr:`view` to :attr:`extent`."""
        self.view = list(self.extent)

    @traitlets.validate("view")
    def _validate_view(self, proposal: Any) -> list[float]:
        value = proposal["value"]
        if len(value) == 0:
            return list(self.extent)
        return self._checked_view(value)

    def _checked_view(self, value: Any) -> list[float]:
        try:
            view = [float(t) for t in value]
        except (TypeError, ValueError):
            view = []
        if len(view) != 4 or not np.isfinite(view).all() or not (view[0] < view[1] and view[2] < view[3]):
            raise InvalidValueError(
                "not a window of the map",
                expected="[x0, x1, y0, y1], finite, with x0 < x1 and y0 < y1",
                got=value,
                fix="pass map coordinates, e.g. widget.view = widget.extent, or call widget.reset_view()",
            )
        return view

    # -- actions (what the browser's gestures call) -----------------------------------
    def click_point(self, index: int) -> torch.Tensor:
        """Render fitted point ``index``, move the linked Explorer there, call ``on_click``.

        Returns:
            the latent, shape ``(*space.shape)``.
        """
        i = self._checked_indices([index])[0]
        latent = self._source.latents(np.array([i]))[0]
        if isinstance(self._source, TensorPoints) and self.n_points == len(self.map.embedding_):
            label = ", ".join(f"{k} {_label_text(v[i])}" for k, v in self.map.labels_.items())
        else:
            vals = self._color_vals
            label = f"{self._color_name} {_label_text(vals[i])}" if self._color_name and vals is not None else ""
        self._activate(latent, i, f"point {i}" + (f" · {label}" if label else ""))
        return latent

    def _checked_indices(self, indices: Any) -> np.ndarray:
        """``int64 (K,)`` point indices, each in ``[0, N)``, or an :class:`InvalidValueError`."""
        n = self.n_points
        try:
            idx = np.asarray(indices, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            idx = np.array([np.nan])
        bad = ~np.isfinite(idx) | (idx != np.round(idx)) | (idx < 0) | (idx >= n)
        if bad.any():
            raise InvalidValueError(
                "no map point with that index",
                expected=f"0 <= index < {n}",
                got=indices if np.size(indices) <= 1 else f"{int(bad.sum())} bad indices, e.g. {idx[bad][0]}",
                fix="click a point of the map, or pass an index of the fitted latents",
            )
        return idx.astype(np.int64)

    def nearest(self, points: Any) -> np.ndarray:
        """Index of the point nearest to each map position: ``(M, 2)`` (or one ``(2,)``) -> ``int64 (M,)``.

        A k-d tree over the shown points is built on first use (about 1 s for a million points).
        """
        p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        if self._tree is None:
            from scipy.spatial import cKDTree

            self._tree = cKDTree(self._points.astype(np.float64))
        _, idx = self._tree.query(p)
        return np.asarray(idx, dtype=np.int64)

    def thumbnails(self, indices: Sequence[int] | np.ndarray) -> list[bytes]:
        """PNG thumbnails of points ``indices`` (at most :data:`MAX_THUMBNAILS` a call), in that order.

        Cached; the missing ones come from the job's stored thumbnails when the points are a
        :mod:`latentlab.dataset` job with a ``thumbnail`` column, otherwise from one batched
        ``gen.decode`` of their latents (taller than 64 px: scaled down to 64 px high).
        """
        idx = self._checked_indices(indices)
        if len(idx) > MAX_THUMBNAILS:
            raise InvalidValueError(
                "too many thumbnails asked for at once",
                expected=f"at most {MAX_THUMBNAILS} indices a call",
                got=f"{len(idx)}",
                fix=f"ask in batches of {MAX_THUMBNAILS} (the browser asks for 24 at a time)",
            )
        missing = np.array(sorted({int(i) for i in idx if int(i) not in self._thumbs}), dtype=np.int64)
        if len(missing):
            stored = self._source.thumbnails(missing)
            made = stored if stored is not None else self._decode_thumbnails(missing)
            for i, data in zip(missing.tolist(), made):
                self._thumbs[i] = data
        out = []
        for i in idx.tolist():
            self._thumbs.move_to_end(i)
            out.append(self._thumbs[i])
        while len(self._thumbs) > _THUMB_CACHE:
            self._thumbs.popitem(last=False)
        return out

    def _decode_thumbnails(self, idx: np.ndarray) -> list[bytes]:
        images = self.gen.decode(self._source.latents(idx), space=self.space)
        h, w = (int(t) for t in images.shape[-2:])
        size = None if h <= _THUMB_MAX_H else (_THUMB_MAX_H, max(1, round(w * _THUMB_MAX_H / h)))
        return [png_bytes(img, size=size) for img in images]

    def click_position(self, x: float, y: float) -> torch.Tensor:
        """Render the latent under map position ``(x, y)`` (via ``inverse_transform``).

        Returns:
            the latent, shape ``(*space.shape)``.
        """
        latent = self.map.inverse_transform(np.array([x, y], dtype=np.float32))
        self._activate(latent, None, f"between points ({x:.2f}, {y:.2f})")
        return latent

    def select(self, polygon: Sequence[Sequence[float]] | np.ndarray) -> np.ndarray:
        """Select the fitted points inside a polygon of map positions; call ``on_select``.

        Returns:
            ``int64 (K,)`` indices (also kept as :attr:`selection`).
        """
        idx = select_polygon(self._points, polygon)
        self.selected = idx.astype(np.int32).tobytes()
        self.caption = f"{len(idx)} points selected"
        for cb in self._select_callbacks:
            cb(idx)
        return idx

    @property
    def selection(self) -> np.ndarray:
        """``int64 (K,)`` indices of the current selection (empty before any)."""
        return np.frombuffer(self.selected, dtype=np.int32).astype(np.int64)

    def show_marker(self, latent: Any) -> None:
        """Draw the live marker at the map position of ``latent`` (``(*shape)``); ``None`` hides it."""
        if latent is None:
            self.marker = []
            return
        uv = self.to_uv(self.map.transform(latent))[0]
        self.marker = [float(uv[0]), float(uv[1])]

    def show_path(self, latents: Any) -> None:
        """Draw an interpolation path ``(T, *shape)`` as a line (``None`` clears it)."""
        if latents is None:
            self.path = []
            return
        self.path = [[float(u), float(v)] for u, v in self.to_uv(self.map.transform(latents))]

    def on_click(self, callback: ClickCallback) -> None:
        """Call ``callback(latent, index_or_None)`` after every click."""
        self._click_callbacks.append(callback)

    def on_select(self, callback: SelectCallback) -> None:
        """Call ``callback(indices)`` after every lasso/box selection."""
        self._select_callbacks.append(callback)

    # -- explorer link -------------------------------------------------------------
    def link(self, explorer: Any) -> None:
        """Link an Explorer: clicks set ``explorer.latent``; its changes move the marker."""
        if not hasattr(explorer, "observe"):
            raise InvalidValueError(
                "cannot link this object to the map",
                expected="an ll.Explorer (with .latent and .observe)",
                got=type(explorer).__name__,
                fix="pass explorer=ll.Explorer(gen)",
            )
        self.explorer = explorer
        try:
            explorer.observe(self._on_explorer_change, names=["latent"])
        except TypeError:
            explorer.observe(self._on_explorer_change)
        current = getattr(explorer, "latent", None)
        if current is not None:
            self.show_marker(current)

    def _on_explorer_change(self, change: Any = None) -> None:
        if isinstance(change, dict) and change.get("name") not in (None, "latent"):
            return
        self.show_marker(getattr(self.explorer, "latent", None))

    # -- internals -------------------------------------------------------------------
    def _activate(self, latent: torch.Tensor, index: int | None, caption: str) -> None:
        self.last_latent = latent
        image = self.gen.decode(latent, space=self.space)
        self.image = jpeg_bytes(image, quality=92)
        self.caption = caption
        if self.explorer is not None:
            self.explorer.latent = latent  # the explorer's change event moves the marker
        else:
            self.show_marker(latent)
        for cb in self._click_callbacks:
            cb(latent, index)

    def _hover(self, index: int) -> None:
        if index < 0:
            self.hover_index = -1
            return
        self.hover_image = self.thumbnails([index])[0]
        self.hover_index = int(index)

    def handle_message(self, content: dict[str, Any]) -> None:
        """Act on one message from the browser (``click``, ``click_empty``, ``select``, ``hover``, ``thumbnails``)."""
        kind = content.get("type")
        if kind == "click":
            self.click_point(int(content["index"]))
        elif kind == "click_empty":  # u, v: fractions of the plot area in the browser's view
            x, y = self.from_screen([[float(content["u"]), float(content["v"])]], content.get("view"))[0]
            self.click_position(float(x), float(y))
        elif kind == "select":
            self.select(self.from_screen(content["polygon"], content.get("view")))
        elif kind == "hover":
            self._hover(int(content["index"]))
        elif kind == "thumbnails":
            self._send_thumbnails(content.get("indices", []))

    def _send_thumbnails(self, indices: Sequence[int]) -> None:
        """Answer the browser's request with one message: the indices, and one PNG buffer each."""
        idx = self._checked_indices(indices)
        for start in range(0, len(idx), MAX_THUMBNAILS):
            part = idx[start : start + MAX_THUMBNAILS]
            self.send({"type": "thumbnails", "indices": part.tolist()}, buffers=self.thumbnails(part))

    def _on_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict):
            self.handle_message(content)


def _label_text(value: Any) -> str:
    """One label value for a caption: floats to 3 significant digits (``ink 0.123``), the rest as is."""
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.3g}"
    return str(value)
