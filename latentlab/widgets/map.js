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

  let xy = new Float32Array(0), colors = new Uint8Array(0), selected = new Int32Array(0);
  let size = 0, dpr = window.devicePixelRatio || 1;
  // the spatial index, built once per point set: the points sorted into G x G cells of u/v
  // (row-major, so each row of cells in view is one contiguous run of `order`)
  const G = 256;
  let cellStart = new Int32Array(G * G + 1), order = new Int32Array(0);
  // the positions and colour codes again, in cell order: a frame reads contiguous memory
  let su = new Float32Array(0), sv = new Float32Array(0), sc = new Uint8Array(0);
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
  }
  const visible = (x, y, m) => x >= -m && x <= size + m && y >= -m && y <= size + m;
  const cellOf = (t) => Math.min(G - 1, Math.max(0, Math.floor(t * G)));
  function buildIndex() {
    const n = xy.length / 2, counts = new Int32Array(G * G + 1), cellIdx = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const c = cellOf(xy[2 * i + 1]) * G + cellOf(xy[2 * i]);
      cellIdx[i] = c; counts[c + 1]++;
    }
    for (let c = 0; c < G * G; c++) counts[c + 1] += counts[c];
    cellStart = counts.slice();
    order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[counts[cellIdx[i]]++] = i;
    su = new Float32Array(n); sv = new Float32Array(n); sc = new Uint8Array(n);
    for (let j = 0; j < n; j++) { const i = order[j]; su[j] = xy[2 * i]; sv[j] = xy[2 * i + 1]; sc[j] = colors[i] || 0; }
  }
  // cells overlapping the u/v window [u0, u1] x [v0, v1]: [cx0, cx1, cy0, cy1]
  const cellsOf = (u0, u1, v0, v1) => [cellOf(u0), cellOf(u1), cellOf(v0), cellOf(v1)];
  // how many points lie in the cells the view touches (the cost of drawing them); O(G)
  function countInView() {
    const [cx0, cx1, cy0, cy1] = cellsOf(vw[0], vw[1], vw[2], vw[3]);
    let k = 0;
    for (let cy = cy0; cy <= cy1; cy++) k += cellStart[cy * G + cx1 + 1] - cellStart[cy * G + cx0];
    return k;
  }
  // the runs [a, b) of the cell-ordered arrays that hold the points in those cells, one per row of cells
  function runsInView() {
    const [cx0, cx1, cy0, cy1] = cellsOf(vw[0], vw[1], vw[2], vw[3]);
    const runs = [];
    for (let cy = cy0; cy <= cy1; cy++) runs.push([cellStart[cy * G + cx0], cellStart[cy * G + cx1 + 1]]);
    return runs;
  }
  function countExact(runs) {
    let k = 0;
    for (const [a, b] of runs) for (let j = a; j < b; j++) {
      if (su[j] >= vw[0] && su[j] <= vw[1] && sv[j] >= vw[2] && sv[j] <= vw[3]) k++;
    }
    return k;
  }
  function nearest(x, y, maxDist) {
    const [ox, kx, oy, ky] = xform();
    const u = (x - ox) / kx, v = (y - oy) / ky, ru = maxDist / kx, rv = -maxDist / ky;
    const [cx0, cx1, cy0, cy1] = cellsOf(u - ru, u + ru, v - rv, v + rv);
    let best = -1, bestD = maxDist * maxDist;
    for (let cy = cy0; cy <= cy1; cy++) {
      for (let j = cellStart[cy * G + cx0], b = cellStart[cy * G + cx1 + 1]; j < b; j++) {
        const px = ox + su[j] * kx, py = oy + sv[j] * ky;
        const d = (px - x) ** 2 + (py - y) ** 2;
        if (d <= bestD) { bestD = d; best = order[j]; }
      }
    }
    return best;
  }
  // "#rrggbb" -> [r, g, b]
  const rgb = (hex) => { const h = (hex || "#3b6ea8").replace("#", ""); return [0, 2, 4].map((k) => parseInt(h.slice(k, k + 2), 16) || 0); };
  // the density's colour ramp (one colour for all points): light blue -> dark blue
  const RAMP = [[198, 219, 239], [107, 174, 214], [33, 113, 181], [8, 48, 107]];
  const ramp = (t) => {
    const p = Math.min(0.9999, Math.max(0, t)) * (RAMP.length - 1), i = Math.floor(p), f = p - i;
    return RAMP[i].map((a, k) => a + (RAMP[i + 1][k] - a) * f);
  };
  let binBuf = null, binSide = 0, binCanvas = null;
  // draw the points in view, or their density when more than `density_above` are in view
  function drawPoints() {
    const ctx = base.getContext("2d");
    const t0 = performance.now();
    ctx.clearRect(0, 0, size, size);
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, size, size);
    const n = xy.length / 2;
    const runs = runsInView();
    // points in the cells the view touches; counted exactly when that is cheap (zoomed in)
    let inCells = countInView();
    if (inCells <= 4 * model.get("density_above")) inCells = countExact(runs);
    const dense = inCells > model.get("density_above");
    // few points in view (zoomed in on a big map): draw them as large as a small map would
    const r = Math.max(model.get("point_radius"), Math.min(3, 3 / Math.sqrt(Math.max(inCells, 1) / 1000)));
    const drawn = dense ? drawDensity(ctx, runs) : drawDots(ctx, runs, n, r);
    let thumbs = 0;
    root.dataset.thumbsWanted = "0";
    if (!dense && inCells <= model.get("thumbnails_below")) thumbs = drawThumbs(ctx, runs);
    frames += 1;
    root.dataset.drawMs = String(performance.now() - t0);
    root.dataset.points = String(n);
    root.dataset.drawn = String(drawn);
    root.dataset.draw = dense ? "density" : "points";
    root.dataset.thumbs = String(thumbs);
    root.dataset.inView = String(inCells);
    root.dataset.frames = String(frames);
  }
  function drawDots(ctx, runs, n, r) {
    const palette = model.get("palette");
    const [ox, kx, oy, ky] = xform();
    ctx.globalAlpha = n > 5000 ? 0.6 : 0.85;
    const round = n <= 5000;  // circles when few; squares (much faster) for many points
    let drawn = 0;
    for (let c = 0; c < Math.max(1, palette.length); c++) {
      ctx.fillStyle = palette[c] || "#3b6ea8";
      if (round) ctx.beginPath();
      for (const [a, b] of runs) for (let j = a; j < b; j++) {
        if (sc[j] !== c) continue;
        const x = ox + su[j] * kx, y = oy + sv[j] * ky;
        if (!visible(x, y, r)) continue;  // zoomed in: skip what lies off the canvas
        drawn++;
        if (round) { ctx.moveTo(x + r, y); ctx.arc(x, y, r, 0, 2 * Math.PI); }
        else ctx.fillRect(x - r, y - r, 2 * r, 2 * r);
      }
      if (round) ctx.fill();
    }
    ctx.globalAlpha = 1;
    return drawn;
  }
  // a 2-D histogram of the points in view, binned per frame (2 CSS px a bin), log colour scale;
  // coloured points give each bin the mean colour of its points, faded by its count
  function drawDensity(ctx, runs) {
    const B = Math.max(8, Math.round(inner() / 2));
    if (binSide !== B) {
      binSide = B;
      binBuf = { count: new Float32Array(B * B), r: new Float32Array(B * B), g: new Float32Array(B * B), b: new Float32Array(B * B) };
      binCanvas = document.createElement("canvas"); binCanvas.width = B; binCanvas.height = B;
    }
    const { count, r, g, b } = binBuf;
    count.fill(0);
    const palette = model.get("palette"), tinted = palette.length > 1;
    const pr = new Float32Array(256), pg = new Float32Array(256), pb = new Float32Array(256);
    palette.forEach((hex, c) => { [pr[c], pg[c], pb[c]] = rgb(hex); });
    if (tinted) { r.fill(0); g.fill(0); b.fill(0); }
    const fu = B / (vw[1] - vw[0]), fv = B / (vw[3] - vw[2]), u0 = vw[0], v1 = vw[3];
    let drawn = 0;
    for (const [a, e] of runs) for (let j = a; j < e; j++) {
      let bx = Math.floor((su[j] - u0) * fu), by = Math.floor((v1 - sv[j]) * fv);
      if (bx === B) bx = B - 1;  // a point on the right or bottom edge of the view
      if (by === B) by = B - 1;
      if (bx < 0 || bx >= B || by < 0 || by >= B) continue;
      const q = by * B + bx;
      count[q] += 1; drawn++;
      if (tinted) { const c = sc[j]; r[q] += pr[c]; g[q] += pg[c]; b[q] += pb[c]; }
    }
    let max = 0;
    for (let q = 0; q < B * B; q++) if (count[q] > max) max = count[q];
    const bctx = binCanvas.getContext("2d");
    const img = bctx.createImageData(B, B), px = img.data, norm = Math.log1p(max) || 1;
    for (let q = 0; q < B * B; q++) {
      const c = count[q];
      if (!c) { px[4 * q] = px[4 * q + 1] = px[4 * q + 2] = 255; px[4 * q + 3] = 255; continue; }
      const t = Math.log1p(c) / norm;
      let col;
      if (tinted) {
        // faint for a lone point, full colour and a little darker at the densest bins
        const a = 0.3 + 0.7 * Math.min(1, 1.5 * t), dark = 1 - 0.45 * t * t;
        col = [r[q], g[q], b[q]].map((s) => (255 + (s / c - 255) * a) * dark);
      } else col = ramp(t);
      px[4 * q] = col[0]; px[4 * q + 1] = col[1]; px[4 * q + 2] = col[2]; px[4 * q + 3] = 255;
    }
    bctx.putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(binCanvas, pad, pad, inner(), inner());
    ctx.imageSmoothingEnabled = true;
    return drawn;
  }
  // -- thumbnails: spread-out points in view, asked from Python in small batches, cached -----
  const THUMB_H = 36, MAX_THUMBS = 100, BATCH = 24, CACHE = 3000;  // 100 of 36 px fill a 440 px map
  const thumbImg = new Map(), pendingThumbs = new Set();
  let thumbQueue = [];
  function drawThumbs(ctx, runs) {
    const h = THUMB_H, w = Math.min(120, Math.round(h * (model.get("thumb_aspect") || 1)));
    const [ox, kx, oy, ky] = xform();
    // cells of thumbnail size in u/v units: pan moves points, never which point a cell keeps
    const cu = w * 1.15 / kx, cv = -h * 1.15 / ky;
    const taken = new Map(), chosen = [];
    for (const [a, b] of runs) for (let j = a; j < b && chosen.length < MAX_THUMBS; j++) {
      const i = order[j];
      const x = ox + su[j] * kx, y = oy + sv[j] * ky;
      if (x < pad || x > size - pad || y < pad || y > size - pad) continue;
      const gx = Math.floor(su[j] / cu), gy = Math.floor(sv[j] / cv);
      let free = true;
      for (let dx = -1; dx <= 1 && free; dx++) for (let dy = -1; dy <= 1 && free; dy++) {
        const o = taken.get((gx + dx) + "," + (gy + dy));
        if (o !== undefined && Math.abs(o[0] - x) < w * 1.1 && Math.abs(o[1] - y) < h * 1.1) free = false;
      }
      if (!free) continue;
      taken.set(gx + "," + gy, [x, y]);
      chosen.push([i, x, y]);
    }
    let drawnThumbs = 0;
    const want = [];
    for (const [i, x, y] of chosen) {
      const img = thumbImg.get(i);
      if (!img) { if (!pendingThumbs.has(i)) want.push(i); continue; }
      const iw = Math.min(w, h * img.naturalWidth / img.naturalHeight);
      ctx.fillStyle = "#fff"; ctx.strokeStyle = "#888"; ctx.lineWidth = 1;
      ctx.fillRect(x - iw / 2 - 1, y - h / 2 - 1, iw + 2, h + 2);
      ctx.drawImage(img, x - iw / 2, y - h / 2, iw, h);
      ctx.strokeRect(x - iw / 2 - 1.5, y - h / 2 - 1.5, iw + 3, h + 3);
      drawnThumbs++;
    }
    if (want.length) requestThumbs(want);
    root.dataset.thumbsWanted = String(chosen.length);
    return drawnThumbs;
  }
  function requestThumbs(indices) {
    thumbQueue = indices;  // the newest view wins: older wishes are dropped
    pumpThumbs();
  }
  function pumpThumbs() {
    if (pendingThumbs.size || !thumbQueue.length) return;  // one batch in flight at a time
    const batch = thumbQueue.slice(0, BATCH);
    thumbQueue = thumbQueue.slice(BATCH);
    batch.forEach((i) => pendingThumbs.add(i));
    model.send({ type: "thumbnails", indices: batch });
  }
  function gotThumbs(msg, buffers) {
    if (!msg || msg.type !== "thumbnails") return;
    let left = msg.indices.length;
    const done = () => { if (--left <= 0) { pumpThumbs(); if (!frame) frame = requestAnimationFrame(redrawView); } };
    msg.indices.forEach((i, j) => {
      const img = new Image();
      const url = URL.createObjectURL(new Blob([buffers[j]], { type: "image/png" }));
      img.onload = () => { URL.revokeObjectURL(url); pendingThumbs.delete(i); thumbImg.set(i, img); trimThumbs(); done(); };
      img.onerror = () => { URL.revokeObjectURL(url); pendingThumbs.delete(i); done(); };
      img.src = url;
    });
  }
  function trimThumbs() {
    while (thumbImg.size > CACHE) thumbImg.delete(thumbImg.keys().next().value);
  }
  let lasso = null, box = false;
  function drawOverlay() {
    const ctx = over.getContext("2d");
    ctx.clearRect(0, 0, size, size);
    const r = model.get("point_radius");
    if (selected.length && selected.length <= 50000) {  // a ring per selected point (the caption counts more)
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
    buildIndex(); drawPoints(); drawOverlay();
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
  let frames = 0;  // redraws so far (for frame-rate measurements)
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
    drawPoints(); drawOverlay(); showZoom();
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
  model.on("change:selected", () => { selected = view(model.get("selected"), Int32Array); drawOverlay(); });
  model.on("change:density_above", () => drawPoints());
  model.on("change:thumbnails_below", () => drawPoints());
  model.on("msg:custom", gotThumbs);
  model.on("change:image", loadImage);
  model.on("change:caption", loadImage);
  model.on("change:hover_image", loadTip);
  model.on("change:hover_index", loadTip);
  root.redraw = drawPoints;  // for frame-rate measurements
  setup(); setMode("select"); readView(); showZoom();
  loadLegend(); selected = view(model.get("selected"), Int32Array); loadPoints(); loadImage();
  return () => {
    if (frame) cancelAnimationFrame(frame);
    if (raf) cancelAnimationFrame(raf);
    if (shownUrl) URL.revokeObjectURL(shownUrl); if (tipUrl) URL.revokeObjectURL(tipUrl);
    model.off("msg:custom", gotThumbs);
  };
}
export default { render };
