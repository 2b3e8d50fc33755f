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
float32 bytes, so 50k points cost 400 kB and draw on a canvas. The browser draws them through
the view; gestures come back as fractions of the plot area together with the view they were
made in, and :meth:`MapWidget.from_screen` turns them into map positions.
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
  const main = document.createElement("div");
  main.className = "ll-map-main";
  const bar = document.createElement("div");
  bar.className = "ll-map-bar";
  const button = (label, title, cls) => {
    const b = document.createElement("button");
    b.type = "button"; b.textContent = label; b.title = title; b.className = "ll-map-btn " + cls;
    bar.append(b); return b;
  };
  const selectBtn = button("Select", "drag: lasso · shift-drag: box", "ll-map-select-mode");
  const panBtn = button("Pan", "drag: move the view (middle-drag pans in either mode)", "ll-map-pan-mode");
  const zoomInBtn = button("+", "zoom in (or: mouse wheel over the map)", "ll-map-zoom-in");
  const zoomOutBtn = button("\u2212", "zoom out", "ll-map-zoom-out");
  const resetBtn = button("Reset view", "show every point", "ll-map-reset");
  const zoomText = document.createElement("span");
  zoomText.className = "ll-map-zoom";
  bar.append(zoomText);
  const stage = document.createElement("div");
  stage.className = "ll-map-stage";
  const base = document.createElement("canvas");
  const over = document.createElement("canvas");
  base.className = "ll-map-points"; over.className = "ll-map-overlay";
  const tip = document.createElement("img");
  tip.className = "ll-map-tip";
  stage.append(base, over, tip);
  main.append(bar, stage);
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
  help.textContent = "click: render · drag: lasso · shift-drag: box · wheel: zoom · Pan or middle-drag: move";
  side.append(shown, caption, legend, help);
  root.append(main, side);
  el.append(root);

  let xy = new Float32Array(0), colors = new Uint8Array(0), selected = new Set();
  let grid = new Map(), gridDirty = true, cell = 12, size = 0, dpr = window.devicePixelRatio || 1;
  const pad = 8;
  // the view: the window of the map on show, in u/v units (u, v in [0, 1] hold every point);
  // Python keeps it as `view` in map coordinates, `extent` being the window of every point
  let vw = [0, 1, 0, 1];
  const FULL = [0, 1, 0, 1], MIN_SPAN = 1e-3;
  const inner = () => size - 2 * pad;
  // pixel = o + k * u/v (k for v is negative: v points up)
  const xform = () => {
    const kx = inner() / (vw[1] - vw[0]), ky = -inner() / (vw[3] - vw[2]);
    return [pad - vw[0] * kx, kx, pad + inner() - vw[2] * ky, ky];
  };
  const toPx = (u, v) => { const [ox, kx, oy, ky] = xform(); return [ox + u * kx, oy + v * ky]; };
  // fractions of the plot area (0 at the left/bottom, 1 at the right/top of the view)
  const toScreen = (x, y) => [(x - pad) / inner(), 1 - (y - pad) / inner()];
  const extent = () => { const e = model.get("extent"); return e && e.length === 4 ? e : FULL; };
  const dataView = (w) => {
    const e = extent(), sx = e[1] - e[0], sy = e[3] - e[2];
    return [e[0] + w[0] * sx, e[0] + w[1] * sx, e[2] + w[2] * sy, e[2] + w[3] * sy];
  };
  function readView() {
    const v = model.get("view"), e = extent();
    if (!v || v.length !== 4) { vw = FULL.slice(); return; }
    const sx = (e[1] - e[0]) || 1, sy = (e[3] - e[2]) || 1;
    vw = [(v[0] - e[0]) / sx, (v[1] - e[0]) / sx, (v[2] - e[2]) / sy, (v[3] - e[2]) / sy];
  }

  function setup() {
    size = model.get("size");
    for (const c of [base, over]) {
      c.width = size * dpr; c.height = size * dpr;
      c.style.width = size + "px"; c.style.height = size + "px";
      c.getContext("2d").setTransform(dpr, 0, 0, dpr, 0, 0);
    }
    stage.style.width = size + "px"; stage.style.height = size + "px";
    gridDirty = true;
  }
  const visible = (x, y, m) => x >= -m && x <= size + m && y >= -m && y <= size + m;
  function buildGrid() {
    grid = new Map(); gridDirty = false;
    const [ox, kx, oy, ky] = xform();
    for (let i = 0; i < xy.length / 2; i++) {
      const x = ox + xy[2 * i] * kx, y = oy + xy[2 * i + 1] * ky;
      if (!visible(x, y, cell)) continue;  // off the plot: cannot be hovered or clicked
      const key = Math.floor(x / cell) + "," + Math.floor(y / cell);
      let b = grid.get(key); if (!b) { b = []; grid.set(key, b); } b.push(i);
    }
  }
  function nearest(x, y, maxDist) {
    if (gridDirty) buildGrid();
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
    const [ox, kx, oy, ky] = xform();
    ctx.globalAlpha = n > 5000 ? 0.6 : 0.85;
    const round = n <= 5000;  // circles when few; squares (much faster) for many points
    let drawn = 0;
    for (let c = 0; c < Math.max(1, palette.length); c++) {
      ctx.fillStyle = palette[c] || "#3b6ea8";
      if (round) ctx.beginPath();
      for (let i = 0; i < n; i++) {
        if ((colors[i] || 0) !== c) continue;
        const x = ox + xy[2 * i] * kx, y = oy + xy[2 * i + 1] * ky;
        if (!visible(x, y, r)) continue;  // zoomed in: skip what lies off the canvas
        drawn++;
        if (round) { ctx.moveTo(x + r, y); ctx.arc(x, y, r, 0, 2 * Math.PI); }
        else ctx.fillRect(x - r, y - r, 2 * r, 2 * r);
      }
      if (round) ctx.fill();
    }
    ctx.globalAlpha = 1;
    root.dataset.drawMs = String(performance.now() - t0);
    root.dataset.points = String(n);
    root.dataset.drawn = String(drawn);
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
        if (!visible(x, y, r + 2)) continue;
        ctx.moveTo(x + r + 1, y); ctx.arc(x, y, r + 1, 0, 2 * Math.PI);
      }
      ctx.stroke();
    }
    const path = model.get("path");
    if (path.length > 1) {
      // a dark casing under a light line: visible over points of any colour; dots mark its ends
      const pts = path.map(([u, v]) => toPx(u, v));
      ctx.lineJoin = "round"; ctx.lineCap = "round";
      for (const [colour, width] of [["#111", 4.5], ["#ffd23f", 2]]) {
        ctx.strokeStyle = colour; ctx.lineWidth = width; ctx.beginPath();
        pts.forEach(([x, y], k) => (k ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
        ctx.stroke();
      }
      ctx.fillStyle = "#111";
      for (const [x, y] of [pts[0], pts[pts.length - 1]]) {
        ctx.beginPath(); ctx.arc(x, y, 4, 0, 2 * Math.PI); ctx.fill();
      }
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
    gridDirty = true; drawPoints(); drawOverlay();
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
  // show an image whole, as large as fits in maxW x maxH, never squashed (wide specimen lines stay wide)
  function fitOnLoad(img, maxW, maxH, after) {
    img.addEventListener("load", () => {
      const w = img.naturalWidth, h = img.naturalHeight;
      if (!w || !h) return;
      const k = Math.min(maxW / w, maxH / h);
      img.style.width = Math.round(w * k) + "px"; img.style.height = Math.round(h * k) + "px";
      if (after) after(Math.round(w * k));
    });
  }
  fitOnLoad(shown, 360, 160, (w) => { side.style.width = Math.max(180, w + 4) + "px"; });
  fitOnLoad(tip, 256, 64, () => { if (lastMove) placeTip(); });
  // the hover tip sits below-right of the cursor, flipped left/up where it would leave the map
  function placeTip() {
    const w = parseFloat(tip.style.width) || 64, h = parseFloat(tip.style.height) || 64;
    let x = lastMove[0] + 12, y = lastMove[1] + 12;
    if (x + w > size) x = Math.max(0, lastMove[0] - 12 - w);
    if (y + h > size) y = Math.max(0, lastMove[1] - 12 - h);
    tip.style.left = x + "px"; tip.style.top = y + "px";
  }
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

  // -- zoom and pan: redraw once a frame, then tell Python the new view ------------------
  let frame = 0, viewPending = false, ownChange = false, hoverReq = -1, lastMove = null;
  function showZoom() {
    const z = 1 / Math.max(vw[1] - vw[0], vw[3] - vw[2]);
    zoomText.textContent = Math.abs(z - 1) < 1e-3 ? "" : "zoom " + (z < 10 ? z.toFixed(1) : z.toFixed(0)) + "\u00d7";
    root.dataset.view = dataView(vw).map((t) => t.toPrecision(6)).join(",");
  }
  function redrawView() {
    frame = 0;
    if (viewPending) {
      viewPending = false;
      if (model.set) { ownChange = true; model.set("view", dataView(vw)); model.save_changes(); ownChange = false; }
    }
    gridDirty = true; drawPoints(); drawOverlay(); showZoom();
    if (lastMove) hover();
  }
  function setView(w) {
    vw = w; viewPending = true;
    if (!frame) frame = requestAnimationFrame(redrawView);
  }
  function zoomAt(x, y, f) {
    const w0 = vw[1] - vw[0], h0 = vw[3] - vw[2];
    f = Math.max(f, MIN_SPAN / Math.min(w0, h0));
    if (f > 1 && Math.max(w0, h0) * f >= 1) {  // all the way out: show every point
      if (vw.some((t, k) => t !== FULL[k])) setView(FULL.slice());
      return;
    }
    const [s, t] = toScreen(x, y), u = vw[0] + s * w0, v = vw[2] + t * h0;
    setView([u - (u - vw[0]) * f, u + (vw[1] - u) * f, v - (v - vw[2]) * f, v + (vw[3] - v) * f]);
  }
  function panBy(dx, dy, from) {
    const du = dx / inner() * (from[1] - from[0]), dv = dy / inner() * (from[3] - from[2]);
    setView([from[0] - du, from[1] - du, from[2] + dv, from[3] + dv]);
  }
  let mode = "select";
  function setMode(m) {
    mode = m;
    selectBtn.setAttribute("aria-pressed", String(m === "select"));
    panBtn.setAttribute("aria-pressed", String(m === "pan"));
    over.classList.toggle("ll-map-panning", m === "pan");
    root.dataset.mode = m;
  }
  selectBtn.addEventListener("click", () => setMode("select"));
  panBtn.addEventListener("click", () => setMode("pan"));
  zoomInBtn.addEventListener("click", () => zoomAt(size / 2, size / 2, 1 / 1.5));
  zoomOutBtn.addEventListener("click", () => zoomAt(size / 2, size / 2, 1.5));
  resetBtn.addEventListener("click", () => setView(FULL.slice()));

  // -- gestures ------------------------------------------------------------------------
  let down = null;
  const local = (e) => { const b = over.getBoundingClientRect(); return [e.clientX - b.left, e.clientY - b.top]; };
  function hover() {
    const i = nearest(lastMove[0], lastMove[1], 8);
    placeTip();
    if (i !== hoverReq) {
      hoverReq = i;
      model.send({ type: "hover", index: i });
      if (i < 0) tip.style.display = "none";
    }
  }
  over.addEventListener("mousedown", (e) => { if (e.button === 1) e.preventDefault(); });  // no autoscroll
  over.addEventListener("pointerdown", (e) => {
    if (e.button !== 0 && e.button !== 1) return;  // the right button keeps its context menu
    const p = local(e);
    const pan = e.button === 1 || mode === "pan";
    down = { p, pan, button: e.button, from: vw.slice() };
    if (pan) { over.classList.add("ll-map-grabbing"); lastMove = null; tip.style.display = "none"; }
    else { box = e.shiftKey; lasso = [p]; }
    over.setPointerCapture(e.pointerId);
  });
  let raf = 0;
  over.addEventListener("pointermove", (e) => {
    const p = local(e);
    if (down) {
      if (down.pan) panBy(p[0] - down.p[0], p[1] - down.p[1], down.from);
      else { lasso.push(p); drawOverlay(); }
      return;
    }
    lastMove = p;
    if (!raf) raf = requestAnimationFrame(() => { raf = 0; if (lastMove) hover(); });
  });
  over.addEventListener("pointerleave", () => {
    if (down) return;
    lastMove = null;
    hoverReq = -1; tip.style.display = "none"; model.send({ type: "hover", index: -1 });
  });
  over.addEventListener("pointerup", (e) => {
    if (!down) return;
    const p = local(e), d = down;
    down = null;
    over.classList.remove("ll-map-grabbing");
    const moved = Math.hypot(p[0] - d.p[0], p[1] - d.p[1]);
    // positions go to Python as fractions of the plot area, with the view they were made in
    const inView = dataView(vw);
    if (moved < 4 && d.button === 0) {
      const i = nearest(p[0], p[1], 6);
      if (i >= 0) model.send({ type: "click", index: i });
      else { const [u, v] = toScreen(p[0], p[1]); model.send({ type: "click_empty", u, v, view: inView }); }
    } else if (!d.pan) {
      const pts = box ? boxCorners(d.p, p) : lasso;
      if (pts.length >= 3) model.send({ type: "select", polygon: pts.map(([x, y]) => toScreen(x, y)), view: inView });
    }
    lasso = null; drawOverlay();
  });
  over.addEventListener("pointercancel", () => {
    down = null; lasso = null; over.classList.remove("ll-map-grabbing"); drawOverlay();
  });
  over.addEventListener("wheel", (e) => {
    e.preventDefault();  // zoom the map, not scroll the notebook
    if (down && !down.pan) return;  // a lasso is drawn in pixels: keep the view still under it
    const unit = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? size : 1;
    const p = local(e);
    zoomAt(p[0], p[1], Math.exp(Math.max(-300, Math.min(300, e.deltaY * unit)) * 0.0015));
  }, { passive: false });

  const viewChanged = () => {
    if (ownChange) return;
    readView(); viewPending = false;
    if (!frame) frame = requestAnimationFrame(redrawView);
  };
  model.on("change:xy", loadPoints);
  model.on("change:colors", loadPoints);
  model.on("change:palette", () => { drawPoints(); loadLegend(); });
  model.on("change:legend", loadLegend);
  model.on("change:point_radius", () => { drawPoints(); drawOverlay(); });
  model.on("change:size", () => { setup(); loadPoints(); });
  model.on("change:view", viewChanged);
  model.on("change:extent", viewChanged);
  model.on("change:marker", drawOverlay);
  model.on("change:path", drawOverlay);
  model.on("change:selected", () => { selected = new Set(model.get("selected")); drawOverlay(); });
  model.on("change:image", loadImage);
  model.on("change:caption", loadImage);
  model.on("change:hover_image", loadTip);
  model.on("change:hover_index", loadTip);
  root.redraw = drawPoints;  // for frame-rate measurements
  setup(); setMode("select"); readView(); showZoom();
  loadLegend(); selected = new Set(model.get("selected")); loadPoints(); loadImage();
  return () => {
    if (frame) cancelAnimationFrame(frame);
    if (raf) cancelAnimationFrame(raf);
    if (shownUrl) URL.revokeObjectURL(shownUrl); if (tipUrl) URL.revokeObjectURL(tipUrl);
  };
}
export default { render };
"""

_CSS = """
.ll-map { display: flex; gap: 14px; align-items: flex-start; font: 12px system-ui, sans-serif; }
.ll-map-main { display: flex; flex-direction: column; gap: 5px; flex: none; }
.ll-map-bar { display: flex; gap: 4px; align-items: center; }
.ll-map-btn { font: 12px system-ui, sans-serif; line-height: 1.3; padding: 2px 8px; min-width: 26px;
  border: 1px solid #bbb; border-radius: 3px; background: #f5f5f5; color: #222; cursor: pointer; }
.ll-map-btn:hover { background: #e8e8e8; }
.ll-map-btn[aria-pressed="true"] { background: #3b6ea8; border-color: #2d5786; color: #fff; }
.ll-map-zoom { margin-left: auto; color: #666; }
.ll-map-stage { position: relative; border: 1px solid #ccc; background: #fff; flex: none; }
.ll-map-stage canvas { position: absolute; left: 0; top: 0; }
.ll-map-overlay { cursor: crosshair; touch-action: none; }
.ll-map-overlay.ll-map-panning { cursor: grab; }
.ll-map-overlay.ll-map-grabbing { cursor: grabbing; }
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
    view = traitlets.List(traitlets.Any()).tag(sync=True)
    extent = traitlets.List(traitlets.Float()).tag(sync=True)

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
        hi = self._lo + self._span
        self.extent = [float(self._lo[0]), float(hi[0]), float(self._lo[1]), float(hi[1])]
        self.reset_view()
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
        cats = np.unique(values) if _is_categorical(values) else None
        if cats is not None and len(cats) > 255 and values.dtype.kind not in "iuf":
            raise InvalidValueError(
                f"too many categories to colour the map by{f' {name!r}' if name else ''}",
                expected="at most 255 distinct values (or numbers)", got=f"{len(cats)} distinct values",
                fix="colour by a label with fewer values, e.g. color_by='category' for the glyphs fonts",
            )
        if cats is not None and len(cats) <= 255:
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
                "not a window of the map", expected="[x0, x1, y0, y1], finite, with x0 < x1 and y0 < y1",
                got=value, fix="pass map coordinates, e.g. widget.view = widget.extent, or call widget.reset_view()",
            )
        return view

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
        label = ", ".join(f"{k} {_label_text(v[int(index)])}" for k, v in self.map.labels_.items())
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
        elif kind == "click_empty":  # u, v: fractions of the plot area in the browser's view
            x, y = self.from_screen([[float(content["u"]), float(content["v"])]], content.get("view"))[0]
            self.click_position(float(x), float(y))
        elif kind == "select":
            self.select(self.from_screen(content["polygon"], content.get("view")))
        elif kind == "hover":
            self._hover(int(content["index"]))

    def _on_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict):
            self.handle_message(content)


def _label_text(value: Any) -> str:
    """One label value for a caption: floats to 3 significant digits (``ink 0.123``), the rest as is."""
    if isinstance(value, (float, np.floating)):
        return f"{float(value):.3g}"
    return str(value)


def _viridis(t: float) -> str:
    """A hex colour along a viridis-like ramp, ``t`` in ``[0, 1]``."""
    stops = [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)]
    pos = min(max(t, 0.0), 1.0) * (len(stops) - 1)
    i = min(int(pos), len(stops) - 2)
    f = pos - i
    r, g, b = (round(a + (c - a) * f) for a, c in zip(stops[i], stops[i + 1]))
    return f"#{r:02x}{g:02x}{b:02x}"
