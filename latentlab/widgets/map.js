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
