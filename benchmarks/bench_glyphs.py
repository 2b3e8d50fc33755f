"""glyphs model: decode throughput (glyph images/s at batch 1 and 64) and encode time for 5 glyphs.

Baseline: the issue-9 baseline architecture (per-glyph conv encoder mean-pooled to a 48-d latent,
character-conditioned transposed-conv decoder), rebuilt here with random weights and timed in
the same run. Uses the shipped ``glyphs`` bundle when present, else the same architecture with
random weights (the timing does not depend on the weights).
"""

from __future__ import annotations

import functools

import torch
from torch import nn

from benchmarks._timing import best_of, best_of_pair, on_one_thread
from latentlab.generators._glyphs_net import CHARS, GlyphsConfig, GlyphsNet
from latentlab.generators.glyphs import GlyphsGenerator


class _BaselineSetVAE(nn.Module):
    """The issue's baseline: conv encoder per glyph, mean-pool, 48-d; char-conditioned deconv decoder."""

    def __init__(self, latent: int = 48, emb: int = 16) -> None:
        super().__init__()
        self.emb = nn.Embedding(62, emb)
        self.enc = nn.Sequential(
            nn.Conv2d(1, 32, 4, 2, 1),
            nn.ReLU(),
            nn.Conv2d(32, 64, 4, 2, 1),
            nn.ReLU(),
            nn.Conv2d(64, 128, 4, 2, 1),
            nn.ReLU(),
            nn.Conv2d(128, 128, 4, 2, 1),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(128 * 16, 256),
        )
        self.head = nn.Linear(256 + emb, 2 * latent)
        self.fc = nn.Linear(latent + emb, 128 * 16)
        self.dec = nn.Sequential(
            nn.ReLU(),
            nn.ConvTranspose2d(128, 128, 4, 2, 1),
            nn.ReLU(),
            nn.ConvTranspose2d(128, 64, 4, 2, 1),
            nn.ReLU(),
            nn.ConvTranspose2d(64, 32, 4, 2, 1),
            nn.ReLU(),
            nn.ConvTranspose2d(32, 1, 4, 2, 1),
        )

    def encode(self, g: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        b, k = g.shape[:2]
        h = self.enc(g.reshape(b * k, 1, 64, 64)).reshape(b, k, -1)
        return self.head(torch.cat([h, self.emb(c).expand(b, k, -1)], -1)).mean(1).chunk(2, -1)[0]

    def decode(self, z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        b, k = z.shape[0], c.shape[0]
        zz = z[:, None].expand(b, k, -1)
        h = self.fc(torch.cat([zz, self.emb(c).expand(b, k, -1)], -1)).reshape(b * k, 128, 4, 4)
        return torch.sigmoid(self.dec(h)).reshape(b, k, 64, 64)


def _generator() -> tuple[GlyphsGenerator, str]:
    import latentlab as ll

    if "glyphs" in ll.models().names:
        gen = ll.load("glyphs")
        assert isinstance(gen, GlyphsGenerator)
        return gen, "shipped weights"
    torch.manual_seed(0)
    return GlyphsGenerator(GlyphsNet(GlyphsConfig(dec_widths=(128, 64, 32, 16, 8)))), "random weights"


def run(quick: bool = False) -> list[dict[str, str]]:
    return on_one_thread(lambda: _run(quick))


def _run(quick: bool) -> list[dict[str, str]]:
    gen, which = _generator()
    base = _BaselineSetVAE().eval()
    repeat = 2 if quick else 5
    rows = []
    dim = gen.space().dim
    for batch in (1, 64):
        fonts, chars = (2, CHARS[:32]) if batch > 1 else (1, "H")
        n = fonts * len(chars)
        z = gen.sample(fonts, seed=0)
        zb = torch.randn(fonts, 48)
        cb = torch.tensor([CHARS.index(c) for c in chars])
        with torch.no_grad():  # timed in alternation, best of 3x repeat: load on a shared machine falls on both
            t_ll, t_b = best_of_pair(
                functools.partial(gen.glyphs, z, chars), functools.partial(base.decode, zb, cb), repeat=3 * repeat
            )
        rows.append(
            {
                "benchmark": f"glyphs decode, glyph images/s (batch {n})",
                "latentlab": f"{n / t_ll:,.0f}",
                "baseline": f"{n / t_b:,.0f}",
                "ratio": f"{t_b / t_ll:.2f}x",
                "note": f"{which}; latent {dim}-d vs baseline 48-d; 1 thread",
            }
        )
    five = gen.glyphs(gen.sample(1, seed=1)[0], "Hambg")
    glyph_dict = {c: five[i] for i, c in enumerate("Hambg")}
    t_enc = best_of(lambda: gen.encode_glyphs(glyph_dict), repeat=repeat)
    g5 = five[None]
    c5 = torch.tensor([CHARS.index(c) for c in "Hambg"])
    with torch.no_grad():
        t_benc = best_of(lambda: base.encode(g5, c5), repeat=repeat)
    rows.append(
        {
            "benchmark": "glyphs encode 5 glyphs (ms)",
            "latentlab": f"{t_enc * 1e3:.2f}",
            "baseline": f"{t_benc * 1e3:.2f}",
            "ratio": f"{t_benc / t_enc:.2f}x",
            "note": "latentlab includes input checks/resizing; baseline is the bare network",
        }
    )
    return rows
