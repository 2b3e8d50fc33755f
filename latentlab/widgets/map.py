"""MapWidget: an interactive 2-D map of a latent space, linked to a generator (anywidget, canvas).

The browser side only draws and reports gestures; every decision is a plain Python method
that tests call without a browser:

* :meth:`MapWidget.click_point` (a click on a point) and :meth:`MapWidget.click_position`
  (a click on empty space: the inverse-mapped latent) render the latent, move a linked
  Explorer there and call the ``on_click`` callbacks;
* :meth:`MapWidget.select` (lasso or box) sets :attr:`MapWidget.selection`, the indices of
  the points inside, and calls the ``on_select`` callbacks;
* :meth:`MapWidget.show_marker` / :meth:`MapWidget.show_path` draw the Explorer's current
  latent and an interpolation path.

Map positions travel to the browser normalised to ``[0, 1]`` (``u`` right, ``v`` up) as
float32 bytes, so 50k points cost 400 kB and draw on a canvas.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import anywidget
import numpy as np
import torch
import traitlets

from .._checks import shape_str
from ..errors import InvalidValueError, ShapeError
from ..render import jpeg_bytes, png_bytes

if TYPE_CHECKING:
    from ..generators.base import Generator
    from ..maps import LatentMap

__all__ = ["MapWidget"]

_ESM = r"""
function view(dv, Type) {
  if (!dv || !dv.byteLength) return new Type(0);
  return new Type(dv.buffer.slice(dv.byteOffset, dv.byteOffset + dv.byteLength));
}
function blobUrl(dv, type) {
  if (!dv || !dv.byteLength) return "";
  return URL.createObjectURL(new Blob([dv], { type }));
}
function render({ model, el }) {
  const root = document.createElement("div");
  root.className = "ll-map";
  const stage = document.createElement("div");
  stage.className = "ll-map-stage";
  const base = document.createElement("canvas");
  const over = document.createElement("canvas");
  base.className = "ll-map-points"; over.className = "ll-map-overlay";
  const tip = document.createElement("img");
  tip.className = "ll-map-tip";
  stage.append(base, over, tip);
  const side = document.createElement("div");
  side.className = "ll-map-side";
  const shown = document.createElement("img");
  shown.className = "ll-map-image";
  const caption = document.createElement("div");
  caption.className = "ll-map-caption";
  const legend = document.createElement("div");
  legend.className = "ll-map-legend";
  const help = document.createElement("div");
  help.className = "ll-map-help";
  help.textContent = "click: render · drag: lasso · shift-drag: box";
  side.append(shown, caption, legend, help);
  root.append(stage, side);
  el.append(root);

  let xy = new Float32Array(0), colors = new Uint8Array(0), selected = new Set();
  let grid = new Map(), cell = 12, size = 0, dpr = window.devicePixelRatio || 1;
  const pad = 8;
  const toPx = (u, v) => [pad + u * (size - 2 * pad), pad + (1 - v) * (size - 2 * pad)];
  const toUV = (x, y) => [(x - pad) / (size - 2 * pad), 1 - (y - pad) / (size - 2 * pad)];

  function setup() {
    size = model.get("size");
    for (const c of [base, over]) {
      c.width = size * dpr; c.height = size * dpr;
      c.style.width = size + "px"; c.style.height = size + "px";
      c.getContext("2d").setTransform(dpr, 0, 0, dpr, 0, 0);
    }
    stage.style.width = size + "px"; stage.style.height = size + "px";
  }
  function buildGrid() {
    grid = new Map();
    for (let i = 0; i < xy.length / 2; i++) {
      const [x, y] = toPx(xy[2 * i], xy[2 * i + 1]);
      const key = Math.floor(x / cell) + "," + Math.floor(y / cell);
      let b = grid.get(key); if (!b) { b = []; grid.set(key, b); } b.push(i);
    }
  }
  function nearest(x, y, maxDist) {
    let best = -1, bestD = maxDist * maxDist;
    const cx = Math.floor(x / cell), cy = Math.floor(y / cell);
    for (let dx = -1; dx <= 1; dx++) for (let dy = -1; dy <= 1; dy++) {
      const b = grid.get((cx + dx) + "," + (cy + dy)); if (!b) continue;
      for (const i of b) {
        const [px, py] = toPx(xy[2 * i], xy[2 * i + 1]);
        const d = (px - x) ** 2 + (py - y) ** 2;
        if (d <= bestD) { bestD = d; best = i; }
      }
    }
    return best;
  }
  function drawPoints() {
    const ctx = base.getContext("2d");
    const t0 = performance.now();
    ctx.clearRect(0, 0, size, size);
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, size, size);
    const palette = model.get("palette");
    const r = model.get("point_radius");
    const n = xy.length / 2;
    ctx.globalAlpha = n > 5000 ? 0.6 : 0.85;
    const round = n <= 5000;  // circles when few; squares (much faster) for many points
    for (let c = 0; c < Math.max(1, palette.length); c++) {
      ctx.fillStyle = palette[c] || "#3b6ea8";
      if (round) ctx.beginPath();
      for (let i = 0; i < n; i++) {
        if ((colors[i] || 0) !== c) continue;
        const [x, y] = toPx(xy[2 * i], xy[2 * i + 1]);
        if (round) { ctx.moveTo(x + r, y); ctx.arc(x, y, r, 0, 2 * Math.PI); }
        else ctx.fillRect(x - r, y - r, 2 * r, 2 * r);
      }
      if (round) ctx.fill();
    }
    ctx.globalAlpha = 1;
    root.dataset.drawMs = String(performance.now() - t0);
    root.dataset.points = String(n);
  }
  let lasso = null, box = false;
  function drawOverlay() {
    const ctx = over.getContext("2d");
    ctx.clearRect(0, 0, size, size);
    const r = model.get("point_radius");
    if (selected.size) {
      ctx.strokeStyle = "rgba(0, 0, 0, 0.55)"; ctx.lineWidth = 1; ctx.beginPath();
      for (const i of selected) {
        const [x, y] = toPx(xy[2 * i], xy[2 * i + 1]);
        ctx.moveTo(x + r + 1, y); ctx.arc(x, y, r + 1, 0, 2 * Math.PI);
      }
      ctx.stroke();
    }
    const path = model.get("path");
    if (path.length > 1) {
      ctx.strokeStyle = "#e4572e"; ctx.lineWidth = 2; ctx.beginPath();
      path.forEach(([u, v], k) => { const [x, y] = toPx(u, v); k ? ctx.lineTo(x, y) : ctx.moveTo(x, y); });
      ctx.stroke();
    }
    const m = model.get("marker");
    if (m.length === 2) {
      const [x, y] = toPx(m[0], m[1]);
      ctx.strokeStyle = "#000"; ctx.lineWidth = 2.5;
      ctx.beginPath(); ctx.arc(x, y, 7, 0, 2 * Math.PI); ctx.stroke();
      ctx.strokeStyle = "#fff"; ctx.lineWidth = 1;
      ctx.beginPath(); ctx.arc(x, y, 7, 0, 2 * Math.PI); ctx.stroke();
    }
    if (lasso && lasso.length > 1) {
      ctx.strokeStyle = "#333"; ctx.setLineDash([4, 3]); ctx.lineWidth = 1; ctx.beginPath();
      const pts = box ? boxCorners(lasso[0], lasso[lasso.length - 1]) : lasso;
      pts.forEach(([x, y], k) => (k ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
      ctx.closePath(); ctx.stroke(); ctx.setLineDash([]);
    }
  }
  const boxCorners = (a, b) => [a, [b[0], a[1]], b, [a[0], b[1]]];
  function loadPoints() {
    xy = view(model.get("xy"), Float32Array);
    colors = view(model.get("colors"), Uint8Array);
    buildGrid(); drawPoints(); drawOverlay();
  }
  function loadLegend() {
    legend.replaceChildren();
    const names = model.get("legend"), palette = model.get("palette");
    names.forEach((name, c) => {
      const row = document.createElement("div");
      const dot = document.createElement("span");
      dot.className = "ll-map-dot"; dot.style.background = palette[c];
      row.append(dot, document.createTextNode(" " + name));
      legend.append(row);
    });
  }
  let shownUrl = "", tipUrl = "";
  function loadImage() {
    if (shownUrl) URL.revokeObjectURL(shownUrl);
    shownUrl = blobUrl(model.get("image"), "image/jpeg");
    shown.src = shownUrl; shown.style.visibility = shownUrl ? "visible" : "hidden";
    caption.textContent = model.get("caption");
  }
  function loadTip() {
    if (tipUrl) URL.revokeObjectURL(tipUrl);
    tipUrl = blobUrl(model.get("hover_image"), "image/png");
    tip.src = tipUrl;
    tip.style.display = tipUrl && model.get("hover_index") >= 0 ? "block" : "none";
  }

  let down = null, hoverReq = -1, raf = 0, lastMove = null;
  const local = (e) => { const b = over.getBoundingClientRect(); return [e.clientX - b.left, e.clientY - b.top]; };
  over.addEventListener("pointerdown", (e) => {
    down = local(e); box = e.shiftKey; lasso = [down];
    over.setPointerCapture(e.pointerId);
  });
  over.addEventListener("pointermove", (e) => {
    const p = local(e);
    if (down) {
      lasso.push(p); drawOverlay(); return;
    }
    lastMove = p;
    if (!raf) raf = requestAnimationFrame(() => {
      raf = 0;
      const i = nearest(lastMove[0], lastMove[1], 8);
      tip.style.left = (lastMove[0] + 12) + "px"; tip.style.top = (lastMove[1] + 12) + "px";
      if (i !== hoverReq) {
        hoverReq = i;
        model.send({ type: "hover", index: i });
        if (i < 0) tip.style.display = "none";
      }
    });
  });
  over.addEventListener("pointerleave", () => {
    if (down) return;
    hoverReq = -1; tip.style.display = "none"; model.send({ type: "hover", index: -1 });
  });
  over.addEventListener("pointerup", (e) => {
    if (!down) return;
    const p = local(e);
    const moved = Math.hypot(p[0] - down[0], p[1] - down[1]);
    if (moved < 4) {
      const i = nearest(p[0], p[1], 6);
      if (i >= 0) model.send({ type: "click", index: i });
      else { const [u, v] = toUV(p[0], p[1]); model.send({ type: "click_empty", u, v }); }
    } else {
      const pts = box ? boxCorners(down, p) : lasso;
      if (pts.length >= 3) model.send({ type: "select", polygon: pts.map(([x, y]) => toUV(x, y)) });
    }
    down = null; lasso = null; drawOverlay();
  });

  model.on("change:xy", loadPoints);
  model.on("change:colors", loadPoints);
  model.on("change:palette", () => { drawPoints(); loadLegend(); });
  model.on("change:legend", loadLegend);
  model.on("change:point_radius", () => { drawPoints(); drawOverlay(); });
  model.on("change:size", () => { setup(); loadPoints(); });
  model.on("change:marker", drawOverlay);
  model.on("change:path", drawOverlay);
  model.on("change:selected", () => { selected = new Set(model.get("selected")); drawOverlay(); });
  model.on("change:image", loadImage);
  model.on("change:caption", loadImage);
  model.on("change:hover_image", loadTip);
  model.on("change:hover_index", loadTip);
  root.redraw = drawPoints;  // for frame-rate measurements
  setup(); loadLegend(); selected = new Set(model.get("selected")); loadPoints(); loadImage();
  return () => { if (shownUrl) URL.revokeObjectURL(shownUrl); if (tipUrl) URL.revokeObjectURL(tipUrl); };
}
export default { render };
"""

_CSS = """
.ll-map { display: flex; gap: 14px; align-items: flex-start; font: 12px system-ui, sans-serif; }
.ll-map-stage { position: relative; border: 1px solid #ccc; background: #fff; flex: none; }
.ll-map-stage canvas { position: absolute; left: 0; top: 0; }
.ll-map-overlay { cursor: crosshair; touch-action: none; }
.ll-map-tip { position: absolute; width: 64px; height: 64px; border: 1px solid #888; background: #fff;
  pointer-events: none; display: none; image-rendering: auto; }
.ll-map-side { display: flex; flex-direction: column; gap: 6px; width: 180px; }
.ll-map-image { width: 160px; height: 160px; border: 1px solid #ccc; background: #fff; visibility: hidden; }
.ll-map-caption { color: #333; min-height: 1.2em; }
.ll-map-legend { max-height: 200px; overflow-y: auto; }
.ll-map-dot { display: inline-block; width: 9px; height: 9px; border-radius: 50%; }
.ll-map-help { color: #777; }
"""

ClickCallback = Callable[[torch.Tensor, "int | None"], Any]
SelectCallback = Callable[[np.ndarray], Any]


class MapWidget(anywidget.AnyWidget):
    """An interactive map of a fitted :class:`~latentlab.maps.LatentMap`, linked to ``gen``.

    Usually made with ``latent_map.widget(gen, explorer=explorer)``.

    Args:
        latent_map: a fitted map (its ``latents_`` must live in ``gen``'s ``space``).
        gen: the generator that renders clicked latents.
        explorer: optional linked Explorer (anything with a ``.latent`` property and a
            traitlets-style ``.observe``): a click moves it, its moves move the marker.
        color_by: label name (or length-``N`` values) that colours the points.
        size: plot side in CSS pixels.
        space: latent space of ``gen`` (default space when ``None``).

    Attributes:
        selection: ``int64 (K,)`` indices of the last lasso/box selection.
        last_latent: the latent rendered last (``None`` before the first click).

    Example:
        >>> import torch, latentlab as ll
        >>> gen = ll.load("digits")
        >>> m = ll.LatentMap(method="pca").fit(gen.sample(100, seed=0))
        >>> w = m.widget(gen)
        >>> w.click_point(3).shape
        torch.Size([16])
        >>> len(w.select([[-9, -9], [9, -9], [9, 9], [-9, 9]]))
        100
    """

    _esm = _ESM
    _css = _CSS

    xy = traitlets.Bytes(b"").tag(sync=True)
    colors = traitlets.Bytes(b"").tag(sync=True)
    palette = traitlets.List(traitlets.Unicode()).tag(sync=True)
    legend = traitlets.List(traitlets.Unicode()).tag(sync=True)
    marker = traitlets.List(traitlets.Float()).tag(sync=True)
    path = traitlets.List(traitlets.List(traitlets.Float())).tag(sync=True)
    selected = traitlets.List(traitlets.Int()).tag(sync=True)
    image = traitlets.Bytes(b"").tag(sync=True)
    caption = traitlets.Unicode("").tag(sync=True)
    hover_image = traitlets.Bytes(b"").tag(sync=True)
    hover_index = traitlets.Int(-1).tag(sync=True)
    size = traitlets.Int(440).tag(sync=True)
    point_radius = traitlets.Float(2.0).tag(sync=True)

    def __init__(
        self,
        latent_map: LatentMap,
        gen: Generator,
        explorer: Any = None,
        *,
        color_by: Any = None,
        size: int = 440,
        space: str | None = None,
    ) -> None:
        if not hasattr(latent_map, "embedding_"):
            raise InvalidValueError(
                "the map is not fitted", expected="a fitted LatentMap", got="an unfitted LatentMap",
                fix="call latent_map.fit(latents) before .widget(gen)",
            )
        super().__init__()
        self.map = latent_map
        self.gen = gen
        self.space = space
        self.explorer: Any = None
        self.last_latent: torch.Tensor | None = None
        self._click_callbacks: list[ClickCallback] = []
        self._select_callbacks: list[SelectCallback] = []
        self._check_space()
        emb = latent_map.embedding_.astype(np.float64)
        self._lo = emb.min(0)
        self._span = np.maximum(emb.max(0) - self._lo, 1e-12)
        uv = (emb - self._lo) / self._span
        n = len(emb)
        self.size = int(size)
        self.point_radius = float(np.clip(3.0 / np.sqrt(max(n, 1) / 1000.0), 1.0, 3.0))
        self._set_colors(color_by)
        self.xy = uv.astype(np.float32).tobytes()
        self.on_msg(self._on_msg)
        if explorer is not None:
            self.link(explorer)

    # -- setup ------------------------------------------------------------------
    def _check_space(self) -> None:
        space = self.gen.space(self.space)
        if tuple(space.shape) != tuple(self.map.latent_shape_):
            raise ShapeError(
                f"the map's latents do not fit the {space.name!r} space of {self.gen.name!r}",
                expected=shape_str((len(self.map.embedding_), *space.shape)),
                got=shape_str((len(self.map.embedding_), *self.map.latent_shape_)),
                fix="fit the map on latents of this generator (gen.encode(...) or gen.codes()), or pass space=",
            )

    def _set_colors(self, color_by: Any) -> None:
        from ..maps import _category_colors, _is_categorical

        name, values = self.map._color_values(color_by)
        n = len(self.map.embedding_)
        if values is None:
            self.palette, self.legend, self.colors = ["#3b6ea8"], [], bytes(n)
            return
        if _is_categorical(values) and len(np.unique(values)) <= 255:
            cats, codes = np.unique(values, return_inverse=True)
            self.palette = _category_colors(len(cats))
            self.legend = [str(c) for c in cats]
        else:
            v = values.astype(np.float64)
            bins = 16
            codes = np.clip(((v - v.min()) / max(np.ptp(v), 1e-12) * bins).astype(int), 0, bins - 1)
            self.palette = [_viridis(i / (bins - 1)) for i in range(bins)]
            self.legend = [f"{name or 'value'} {v.min():.3g}"] + [""] * (bins - 2) + [f"{v.max():.3g}"]
        self.colors = codes.astype(np.uint8).tobytes()

    # -- coordinates ---------------------------------------------------------------
    def to_uv(self, points: np.ndarray) -> np.ndarray:
        """Map positions ``(M, 2)`` -> normalised widget coordinates in ``[0, 1]``."""
        return (np.asarray(points, dtype=np.float64) - self._lo) / self._span

    def from_uv(self, uv: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
        """Normalised widget coordinates ``(M, 2)`` -> map positions."""
        return np.asarray(uv, dtype=np.float64) * self._span + self._lo

    # -- actions (what the browser's gestures call) -----------------------------------
    def click_point(self, index: int) -> torch.Tensor:
        """Render fitted point ``index``, move the linked Explorer there, call ``on_click``.

        Returns:
            the latent, shape ``(*space.shape)``.
        """
        n = len(self.map.embedding_)
        if not 0 <= int(index) < n:
            raise InvalidValueError(
                "no map point with that index", expected=f"0 <= index < {n}", got=index,
                fix="click a point of the map, or pass an index of the fitted latents",
            )
        latent = self.map.latents_[int(index)]
        label = ", ".join(f"{k} {v[int(index)]}" for k, v in self.map.labels_.items())
        self._activate(latent, int(index), f"point {int(index)}" + (f" · {label}" if label else ""))
        return latent

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
        idx = self.map.select(polygon)
        self.selected = idx.tolist()
        self.caption = f"{len(idx)} points selected"
        for cb in self._select_callbacks:
            cb(idx)
        return idx

    @property
    def selection(self) -> np.ndarray:
        """``int64 (K,)`` indices of the current selection (empty before any)."""
        return np.asarray(self.selected, dtype=np.int64)

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
                "cannot link this object to the map", expected="an ll.Explorer (with .latent and .observe)",
                got=type(explorer).__name__, fix="pass explorer=ll.Explorer(gen)",
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
        self.hover_index = int(index)
        if index < 0:
            return
        image = self.gen.decode(self.map.latents_[int(index)], space=self.space)
        self.hover_image = png_bytes(image)

    def handle_message(self, content: dict[str, Any]) -> None:
        """Act on one message from the browser (``click``, ``click_empty``, ``select``, ``hover``)."""
        kind = content.get("type")
        if kind == "click":
            self.click_point(int(content["index"]))
        elif kind == "click_empty":
            x, y = self.from_uv([[float(content["u"]), float(content["v"])]])[0]
            self.click_position(float(x), float(y))
        elif kind == "select":
            self.select(self.from_uv(content["polygon"]))
        elif kind == "hover":
            self._hover(int(content["index"]))

    def _on_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict):
            self.handle_message(content)


def _viridis(t: float) -> str:
    """A hex colour along a viridis-like ramp, ``t`` in ``[0, 1]``."""
    stops = [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)]
    pos = min(max(t, 0.0), 1.0) * (len(stops) - 1)
    i = min(int(pos), len(stops) - 2)
    f = pos - i
    r, g, b = (round(a + (c - a) * f) for a, c in zip(stops[i], stops[i + 1]))
    return f"#{r:02x}{g:02x}{b:02x}"
