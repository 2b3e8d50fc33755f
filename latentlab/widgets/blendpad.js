function render({ model, el }) {
  const size = model.get("size");
  const root = document.createElement("div");
  root.className = "latentlab-pad";
  root.tabIndex = 0;
  root.setAttribute("role", "slider");
  root.setAttribute("aria-label", "blend position (arrow keys move it)");
  Object.assign(root.style, {position: "relative", width: size + "px", height: size + "px",
    background: "#f4f4f4", border: "1px solid #bbb", borderRadius: "6px", touchAction: "none",
    cursor: "crosshair", outline: "none", margin: "48px"});
  const shape = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  shape.setAttribute("width", size); shape.setAttribute("height", size);
  shape.style.position = "absolute"; shape.style.left = "0"; shape.style.top = "0";
  root.appendChild(shape);
  const dot = document.createElement("div");
  Object.assign(dot.style, {position: "absolute", width: "14px", height: "14px", marginLeft: "-7px",
    marginTop: "-7px", borderRadius: "50%", background: "#d33", border: "2px solid white",
    boxShadow: "0 0 2px #000", pointerEvents: "none"});
  root.appendChild(dot);
  const thumbs = [];
  function drawCorners() {
    thumbs.forEach(t => t.remove()); thumbs.length = 0;
    const corners = model.get("corners"), images = model.get("thumbnails");
    shape.innerHTML = "";
    if (corners.length === 3) {
      const pts = corners.map(c => (c[0] * size) + "," + (c[1] * size)).join(" ");
      const poly = document.createElementNS("http://www.w3.org/2000/svg", "polygon");
      poly.setAttribute("points", pts); poly.setAttribute("fill", "white"); poly.setAttribute("stroke", "#999");
      shape.appendChild(poly);
    }
    corners.forEach((c, i) => {
      const img = document.createElement("img");
      img.src = images[i] || ""; img.title = "corner " + (i + 1);
      Object.assign(img.style, {position: "absolute", width: "40px", height: "40px",
        left: (c[0] * size - 20 + (c[0] < 0.5 ? -24 : c[0] > 0.5 ? 24 : 0)) + "px",
        top: (c[1] * size - 20 + (c[1] < 0.5 ? -24 : 24)) + "px", objectFit: "contain",
        border: "1px solid #999", background: "white", pointerEvents: "none"});
      root.appendChild(img); thumbs.push(img);
    });
  }
  function place() {
    dot.style.left = (model.get("x") * size) + "px";
    dot.style.top = (model.get("y") * size) + "px";
  }
  function send(x, y) {
    x = Math.min(1, Math.max(0, x)); y = Math.min(1, Math.max(0, y));
    model.set("x", x); model.set("y", y); model.save_changes(); place();
  }
  let dragging = false;
  function fromEvent(e) {
    const r = root.getBoundingClientRect();
    send((e.clientX - r.left) / r.width, (e.clientY - r.top) / r.height);
  }
  root.addEventListener("pointerdown", e => { dragging = true; root.setPointerCapture(e.pointerId);
    root.focus(); fromEvent(e); });
  root.addEventListener("pointermove", e => { if (dragging) fromEvent(e); });
  root.addEventListener("pointerup", e => { dragging = false; root.releasePointerCapture(e.pointerId); });
  root.addEventListener("keydown", e => {
    const step = e.shiftKey ? 0.1 : 0.02;
    const moves = {ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step]};
    if (!(e.key in moves)) return;
    e.preventDefault(); e.stopPropagation();
    send(model.get("x") + moves[e.key][0], model.get("y") + moves[e.key][1]);
  });
  model.on("change:x", place); model.on("change:y", place);
  model.on("change:thumbnails", drawCorners); model.on("change:corners", drawCorners);
  drawCorners(); place();
  el.appendChild(root);
}
export default { render };
