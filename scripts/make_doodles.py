"""Draw the `doodle_faces` image folder that notebooks/09_train_your_own.ipynb trains on.

150 small grayscale PNGs (64x64) of hand-drawn-looking faces: head shape, eye size and spacing,
smile curvature, and hair vary at random. Made by this script, dedicated to the public domain
(CC0 1.0), so workshops can use and share them freely.

Usage: python scripts/make_doodles.py [--n 150] [--out notebooks/assets/doodle_faces]
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

SIZE, SUPER = 64, 4  # drawn at 4x and downsampled for smooth strokes

LICENSE = """The images in this folder were drawn by scripts/make_doodles.py (latentlab).
They are dedicated to the public domain under CC0 1.0:
https://creativecommons.org/publicdomain/zero/1.0/
"""


def draw_face(rng: np.random.Generator) -> Image.Image:
    s = SIZE * SUPER
    img = Image.new("L", (s, s), 255)
    d = ImageDraw.Draw(img)
    w = int(rng.uniform(2.0, 3.5) * SUPER)
    cx, cy = s / 2 + rng.uniform(-3, 3) * SUPER, s / 2 + rng.uniform(-2, 3) * SUPER
    rx, ry = rng.uniform(17, 24) * SUPER, rng.uniform(18, 23) * SUPER
    d.ellipse([cx - rx, cy - ry, cx + rx, cy + ry], outline=0, width=w)
    _hair(d, rng, cx, cy, rx, ry, w)
    eye_dx, eye_y, eye_r = rng.uniform(0.28, 0.45) * rx, cy - rng.uniform(0.1, 0.3) * ry, rng.uniform(1.5, 4.5) * SUPER
    for sign in (-1, 1):
        ex = cx + sign * eye_dx
        d.ellipse([ex - eye_r, eye_y - eye_r, ex + eye_r, eye_y + eye_r], fill=0)
    smile = rng.uniform(-1.0, 1.0)  # -1 frown .. 1 big smile
    mw, my = rng.uniform(0.3, 0.55) * rx, cy + rng.uniform(0.35, 0.5) * ry
    pts = [(cx + mw * x, my - smile * 0.35 * ry * (1 - x * x) + smile * 0.1 * ry) for x in np.linspace(-1, 1, 16)]
    d.line(pts, fill=0, width=w, joint="curve")
    small = img.resize((SIZE, SIZE), Image.Resampling.LANCZOS)
    return small


def _hair(d: ImageDraw.ImageDraw, rng: np.random.Generator, cx: float, cy: float, rx: float, ry: float, w: int) -> None:
    style = rng.integers(0, 3)
    if style == 0:
        return
    n = int(rng.integers(3, 8))
    for k in range(n):
        a = math.pi * (0.25 + 0.5 * (k + 0.5) / n)
        x0, y0 = cx - rx * math.cos(a), cy - ry * math.sin(a)
        length = rng.uniform(3, 6) * SUPER if style == 1 else rng.uniform(2, 3.5) * SUPER
        x1, y1 = x0 - length * math.cos(a) * 0.6, y0 - length * math.sin(a)
        d.line([(x0, y0), (x1, y1)], fill=0, width=w)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=150)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--out", type=Path, default=Path(__file__).resolve().parent.parent / "notebooks" / "assets" / "doodle_faces"
    )
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    for i in range(args.n):
        draw_face(rng).save(args.out / f"face_{i:03d}.png", optimize=True)
    (args.out / "LICENSE.txt").write_text(LICENSE)
    print(f"wrote {args.n} faces to {args.out}")


if __name__ == "__main__":
    main()
