"""Render a prompt x seed grid of the ``glyphs-text`` prior (a PNG to look at).

Each row is one prompt, each column one noise seed; the rows are labelled. The sampler settings
are those of the bundle, or of a training checkpoint with ``--ckpt`` and ``--option`` (JSON
fields of :class:`TextPriorConfig`, as ``scripts/tune_glyphs_text.py`` takes them).

Usage::

    python scripts/render_glyphs_text_grid.py --out artifacts/glyphs_text_grid.png
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import latentlab as ll  # noqa: E402

#: the grid's prompts: caption words, the prompt of the issue, and two validation words (no test word)
PROMPTS = (
    "a black condensed sans-serif",
    "a monospace font",
    "a light italic serif",
    "a handwriting script",
    "a thin elegant serif",
    "a heavy rounded display face",
    "terminal",
    "calligraphy",
)


def grid_image(prior: ll.Generator, prompts: tuple[str, ...], seeds: int, text: str) -> object:
    from PIL import Image, ImageDraw

    prior.text = text  # type: ignore[attr-defined]
    rows = []
    for p in prompts:
        img = prior.decode(prior.sample(seeds, seed=0), prompt=p)  # (S, 3, H, W)
        rows.append(torch.cat(list(img), dim=2))  # (3, H, S * W)
    label_w, pad = 230, 4
    h, w = rows[0].shape[1], rows[0].shape[2]
    canvas = Image.new("RGB", (label_w + w, len(rows) * (h + pad)), "white")
    draw = ImageDraw.Draw(canvas)
    for i, (p, row) in enumerate(zip(prompts, rows)):
        arr = (row.clamp(0, 1).permute(1, 2, 0).numpy() * 255).astype("uint8")
        canvas.paste(Image.fromarray(arr), (label_w, i * (h + pad)))
        draw.text((4, i * (h + pad) + h // 2 - 6), p, fill="black")
    return canvas


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--ckpt", type=Path, default=None, help="a training checkpoint instead of the bundle")
    ap.add_argument("--option", default="{}", help="sampler settings for --ckpt (JSON)")
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--text", default="Hamburg")
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.ckpt is None:
        prior = ll.load("glyphs-text")
    else:
        from export_glyphs_text import load_prior

        opt = json.loads(args.option)
        weights, guidance = opt.pop("weights", "ema"), float(opt.pop("guidance", 3.0))
        prior, _ = load_prior(args.ckpt, ll.load("glyphs"), 0, 0.05, guidance, weights, **opt)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    grid_image(prior, PROMPTS, args.seeds, args.text).save(args.out)  # type: ignore[attr-defined]
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
