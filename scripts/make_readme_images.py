"""Render the pictures the README shows (docs/images/*.png) from the bundled models."""

from __future__ import annotations

from pathlib import Path

import torch

import latentlab as ll

OUT = Path(__file__).resolve().parent.parent / "docs" / "images"


def quickstart() -> Path:
    gen = ll.load("digits")
    samples = ll.grid_image(gen.decode(gen.sample(16, seed=0)), nrow=8, scale=2)
    gen2 = ll.load("digits-2d")
    ticks = torch.linspace(-2.2, 2.2, 12)
    zz = torch.stack(torch.meshgrid(ticks, -ticks, indexing="xy"), dim=-1).reshape(-1, 2)
    space = ll.grid_image(gen2.decode(zz), nrow=12, scale=1)
    path = OUT / "quickstart_samples.png"
    samples.save(path)
    space.save(OUT / "quickstart_digits2d_space.png")
    return path


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    print(quickstart())
