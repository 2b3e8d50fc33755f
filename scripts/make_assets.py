"""Draw the test images the project ships (no download, no third-party data).

Usage:
    python scripts/make_assets.py                  # writes notebooks/assets/handwritten_digits.png
    python scripts/make_assets.py --out /tmp/assets --seed 1

``handwritten_digits.png`` imitates a phone photo of the digits 0-9 written with a
ballpoint pen: ten 96x112 cells side by side (960x112 RGB), blue-black strokes of varying
width and slant on slightly warm, unevenly lit paper with sensor noise. Each digit is a
few pen strokes (lines and elliptic arcs) perturbed by a seeded random slant, scale and
wobble, drawn with PIL, so the output is deterministic for a seed.

Licence: the script is MIT like the project; the image it draws is dedicated to the
public domain under CC0 1.0 (https://creativecommons.org/publicdomain/zero/1.0/); the
licence is also written into the PNG's metadata.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from PIL.PngImagePlugin import PngInfo

from latentlab._atomic import atomic_path

CELL = (96, 112)  # width, height of one digit
LICENSE = "CC0 1.0 (public domain), drawn by latentlab scripts/make_assets.py"

Stroke = list[tuple[float, float]]


def arc(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float, n: int = 40) -> Stroke:
    """Points on an ellipse from angle ``a0`` to ``a1`` (degrees; 0 = right, 90 = down in image coords)."""
    return [(cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a))) for a in np.linspace(a0, a1, n)]


def digit_strokes(d: int) -> list[Stroke]:
    """Pen strokes of digit ``d`` in unit coordinates (x right, y down)."""
    shapes: dict[int, list[Stroke]] = {
        0: [arc(0.5, 0.5, 0.27, 0.4, -80, 285)],
        1: [[(0.33, 0.28), (0.55, 0.1), (0.55, 0.9)]],
        2: [[*arc(0.5, 0.32, 0.26, 0.22, 190, 390), (0.22, 0.9), (0.8, 0.88)]],
        3: [arc(0.48, 0.3, 0.24, 0.2, 200, 450) + arc(0.48, 0.7, 0.28, 0.2, 270, 520)],
        4: [[(0.58, 0.1), (0.2, 0.64), (0.84, 0.64)], [(0.62, 0.36), (0.62, 0.92)]],
        5: [[(0.76, 0.12), (0.33, 0.12), (0.29, 0.46), *arc(0.5, 0.67, 0.27, 0.23, 225, 520)]],
        6: [arc(0.72, 0.62, 0.44, 0.52, 265, 180) + arc(0.5, 0.7, 0.22, 0.2, 180, 540)],
        7: [[(0.2, 0.12), (0.8, 0.12), (0.42, 0.92)]],
        8: [arc(0.5, 0.3, 0.2, 0.19, 90, 450), arc(0.5, 0.7, 0.25, 0.21, -90, 270)],
        9: [arc(0.48, 0.33, 0.23, 0.21, 0, 360), [(0.71, 0.33), (0.7, 0.6), (0.64, 0.9)]],
    }
    return shapes[d]


def _hand(strokes: list[Stroke], rng: np.random.Generator) -> list[Stroke]:
    """Slant, scale and wobble the strokes like a hand would."""
    slant, sx, sy = rng.normal(0.12, 0.05), rng.uniform(0.9, 1.05), rng.uniform(0.92, 1.02)
    dx, dy = rng.normal(0, 0.02, size=2)
    out = []
    for stroke in strokes:
        pts = np.array(stroke)
        wobble = np.cumsum(rng.normal(0, 0.004, size=pts.shape), axis=0)
        x, y = pts[:, 0] - 0.5, pts[:, 1] - 0.5
        x, y = sx * (x - slant * y) + dx + wobble[:, 0], sy * y + dy + wobble[:, 1]
        out.append([(float(a) + 0.5, float(b) + 0.5) for a, b in zip(x, y)])
    return out


def draw_cell(d: int, rng: np.random.Generator, supersample: int = 4) -> Image.Image:
    """One digit as an ``L`` ink mask (255 = ink), drawn supersampled then reduced for smooth edges."""
    w, h = CELL[0] * supersample, CELL[1] * supersample
    img = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(img)
    width = int(rng.uniform(0.12, 0.15) * CELL[0] * supersample)
    for stroke in _hand(digit_strokes(d), rng):
        pts = [(x * w, y * h) for x, y in stroke]
        draw.line(pts, fill=255, width=width, joint="curve")
        r = width / 2
        for x, y in (pts[0], pts[-1]):  # round pen caps
            draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    return img.resize(CELL, Image.Resampling.LANCZOS)


def handwritten_digits(seed: int = 0) -> Image.Image:
    """The ten digits as a 960x112 RGB 'photo' of ink on paper."""
    rng = np.random.default_rng(seed)
    ink = Image.new("L", (CELL[0] * 10, CELL[1]), 0)
    for d in range(10):
        ink.paste(draw_cell(d, rng), (d * CELL[0], 0))
    alpha = np.asarray(ink.filter(ImageFilter.GaussianBlur(0.8)), dtype=np.float32)[..., None] / 255.0
    h, w = alpha.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    light = 1.0 - 0.05 * ((xx / w - 0.3) ** 2 + (yy / h - 0.4) ** 2)  # uneven lighting
    paper = np.array([0.99, 0.975, 0.95], dtype=np.float32) * light[..., None]
    pen = np.array([0.1, 0.12, 0.3], dtype=np.float32)
    rgb = paper * (1 - alpha) + pen * alpha + rng.normal(0, 0.012, size=(h, w, 3)).astype(np.float32)
    return Image.fromarray((np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.uint8), "RGB")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "notebooks" / "assets")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    info = PngInfo()
    info.add_text("License", LICENSE)
    info.add_text("Software", "latentlab scripts/make_assets.py")
    target = args.out / "handwritten_digits.png"
    with atomic_path(target) as tmp:
        handwritten_digits(args.seed).save(tmp, format="PNG", pnginfo=info, optimize=True)
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
