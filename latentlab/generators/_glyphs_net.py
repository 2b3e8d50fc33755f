"""The ``glyphs`` network: a set encoder over (glyph, character) pairs and a FiLM decoder.

* Encoder: each given glyph (downsampled to 32 px) goes through a small conv net; its features and
  the character's embedding make one vector per pair; the vectors are mean-pooled (permutation
  invariant, any subset size) and mapped to the Gaussian posterior ``(mu, logvar)`` of the style.
* Decoder: ``(style z, character)`` -> a 4x4 seed, upsampled to 64x64 by conv blocks; every block is
  modulated (FiLM: per-channel scale and shift) by ``[z, char embedding]``. Output: logits.
* Optional detail head (``detail_width > 0``): a wider FiLM block at 64 px whose logits are added
  to the output; its last conv starts at zero, so adding it to a trained net changes nothing
  until it is fine-tuned.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["CHARS", "GlyphReader", "GlyphsConfig", "GlyphsNet"]

#: The 62 characters every font has, in model order.
CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


@dataclass
class GlyphsConfig:
    """Architecture of :class:`GlyphsNet` (saved in ``card.json``).

    Args:
        latent_dim: size of the style latent.
        char_dim: size of the character embedding.
        enc_width: channels of the first encoder conv (doubled twice).
        hidden: width of the set encoder's MLPs.
        dec_widths: decoder channels at 4, 8, 16, 32, 64 px.
        detail_width: channels of the 64 px detail head (0: no head).
    """

    latent_dim: int = 64
    char_dim: int = 32
    enc_width: int = 32
    hidden: int = 256
    dec_widths: tuple[int, ...] = (192, 128, 64, 32, 16)
    detail_width: int = 0

    def to_dict(self) -> dict:
        d = asdict(self)
        d["dec_widths"] = list(self.dec_widths)
        return d


#: Maps smaller than this take the plain ops: the fused paths save passes over memory but cost
#: ~10 more small ops, a loss at batch 1 (measured: 303 vs 389 glyphs/s) and a gain from batch ~7.
_FUSE_MIN_ELEMENTS = 1 << 18


class _FiLMBlock(nn.Module):
    """Upsample x2, conv, group-norm, FiLM from the condition, SiLU (``extra`` adds a second conv)."""

    def __init__(self, c_in: int, c_out: int, cond: int, extra: bool) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.norm1 = nn.GroupNorm(min(8, c_out // 4), c_out, affine=False)
        self.film1 = nn.Linear(cond, 2 * c_out)
        self.extra = extra
        if extra:
            self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
            self.norm2 = nn.GroupNorm(min(8, c_out // 4), c_out, affine=False)
            self.film2 = nn.Linear(cond, 2 * c_out)
        self._kernel_cache: tuple[tuple[object, ...], torch.Tensor] | None = None

    @staticmethod
    def _norm_modulate(norm: nn.GroupNorm, h: torch.Tensor, film: torch.Tensor) -> torch.Tensor:
        """``silu(norm(h) * (1 + g) + b)`` with ``g, b`` from ``film``.

        Without autograd the group statistics come from per-channel sums and sums of squares, and
        norm and FiLM become one per-(image, channel) multiply-add, in place: one pass less over
        ``h`` than ``group_norm`` then ``addcmul`` (the same function to float rounding, ~1e-6).
        """
        g, b = film.chunk(2, dim=1)
        if torch.is_grad_enabled() or h.numel() < _FUSE_MIN_ELEMENTS:
            x = torch.addcmul(b[:, :, None, None], norm(h), 1 + g[:, :, None, None])
            return F.silu(x, inplace=not torch.is_grad_enabled())
        n, c = h.shape[:2]
        k = c // norm.num_groups
        x = h.flatten(2)  # (n, c, H * W), a view for NCHW and channels-last maps alike
        count = x.shape[2] * k
        mean = x.sum(2).view(n, -1, k).sum(-1) / count
        squares = torch.bmm(x, x.transpose(1, 2)).diagonal(dim1=1, dim2=2)  # Gram diagonal: no h * h copy
        var = squares.reshape(n, -1, k).sum(-1) / count - mean * mean
        rstd = (var.clamp_min(0) + norm.eps).rsqrt()
        scale = ((1 + g) * rstd.repeat_interleave(k, 1))[:, :, None, None]
        shift = (b - mean.repeat_interleave(k, 1) * scale[:, :, 0, 0])[:, :, None, None]
        return F.silu(torch.addcmul(shift, h, scale), inplace=True)

    def forward(self, h: torch.Tensor, cond: torch.Tensor, upsample: bool = True) -> torch.Tensor:
        h = self._upsample_conv(h) if upsample else self.conv1(h)
        h = self._norm_modulate(self.norm1, h, self.film1(cond))
        if self.extra:
            h = h + self._norm_modulate(self.norm2, self.conv2(h), self.film2(cond))
        return h

    def _upsample_conv(self, h: torch.Tensor) -> torch.Tensor:
        """``conv1(nearest_upsample_x2(h))``, computed as one stride-2 transposed conv with a 4x4 kernel.

        Each output pixel of a 3x3 conv over a nearest-upsampled map reads a 2x2 window of the
        small map, so the pair is exactly a transposed conv (the same function up to float
        rounding, ~1e-6): no upsampled copy is made and each output costs 4 taps instead of 9.
        Fed channels-last maps (as :meth:`GlyphsNet.decode` does) oneDNN runs it 3-4x faster than
        in NCHW. The kernel is cached while the weights are unchanged and no gradient is wanted.
        """
        return F.conv_transpose2d(h, self._transposed_kernel(), self.conv1.bias, stride=2, padding=1)

    def _transposed_kernel(self) -> torch.Tensor:
        w = self.conv1.weight
        grad = torch.is_grad_enabled() and w.requires_grad
        key = (w._version, w.data_ptr(), w.dtype, w.device)
        if not grad and self._kernel_cache is not None and self._kernel_cache[0] == key:
            return self._kernel_cache[1]
        taps = _NEAREST_X2_TAPS.to(w.device, w.dtype)
        kernel = torch.einsum("yq,xp,oiqp->ioyx", taps, taps, w).contiguous()
        if not grad:
            self._kernel_cache = (key, kernel)
        return kernel


#: Row ``k`` of a stride-2, padding-1 transposed 4x4 kernel: which of the 3x3 conv's taps (after a
#: nearest x2 upsampling) it sums. Output row ``2Y + a`` reads small rows ``Y - 1, Y`` (a = 0) or
#: ``Y, Y + 1`` (a = 1) through kernel rows ``3, 1`` or ``2, 0``.
_NEAREST_X2_TAPS = torch.tensor([[0.0, 0, 1], [0, 1, 1], [1, 1, 0], [1, 0, 0]])


class _OutConv(nn.Conv2d):
    """The decoder's 3x3, padding-1 conv to one channel (logits); a plain ``nn.Conv2d`` with autograd.

    Without autograd it runs as a matrix product and 9 shifted adds: oneDNN is slow with a single
    output channel (this was the decoder's largest op at 64 px), while contracting the channels
    first with one BLAS call and then summing the 9 shifted tap maps is ~1.5x faster on a CPU, and
    the same function to float rounding (~1e-5 on logits).
    """

    def __init__(self, c_in: int) -> None:
        super().__init__(c_in, 1, 3, padding=1)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        if torch.is_grad_enabled() or h.numel() < _FUSE_MIN_ELEMENTS:
            return super().forward(h)
        return _conv3x3_one_channel(h, self.weight, self.bias)


def _conv3x3_one_channel(h: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """``conv2d(h, weight, bias, padding=1)`` for a ``(1, C, 3, 3)`` weight: ``(N, 1, H, W)``."""
    n, c, hh, ww = h.shape
    taps = torch.matmul(weight.reshape(c, 9).t(), h.flatten(2)).view(n, 3, 3, hh, ww)
    b = bias if bias is not None else torch.zeros(1, dtype=h.dtype, device=h.device)
    out = b.reshape(1, 1, 1).expand(n, hh, ww).clone()
    for dy in range(3):
        for dx in range(3):
            rows_in, rows_out = _shift(dy, hh)
            cols_in, cols_out = _shift(dx, ww)
            out[:, rows_out, cols_out] += taps[:, dy, dx, rows_in, cols_in]
    return out[:, None]


def _shift(tap: int, size: int) -> tuple[slice, slice]:
    """Source and destination slices of conv tap ``tap`` (0, 1, 2 = offset -1, 0, +1), zero padding."""
    off = tap - 1
    return slice(max(0, off), size + min(0, off)), slice(max(0, -off), size + min(0, -off))


class _DetailHead(nn.Module):
    """A FiLM block at full resolution plus a zero-initialised output conv: extra logits for fine strokes."""

    def __init__(self, c_in: int, width: int, cond: int) -> None:
        super().__init__()
        self.block = _FiLMBlock(c_in, width, cond, extra=True)
        self.out = nn.Conv2d(width, 1, 3, padding=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)  # type: ignore[arg-type]  # always set: bias=True

    def forward(self, h: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        return self.out(self.block(h, cond, upsample=False))


class GlyphsNet(nn.Module):
    """Set-VAE over fonts: ``encode(glyphs, chars)`` -> ``(mu, logvar)``, ``decode(z, chars)`` -> logits.

    Glyph images are ink-on-black ``[0, 1]``, 64x64 (1 = ink).
    """

    def __init__(self, config: GlyphsConfig) -> None:
        super().__init__()
        self.config = config
        c, w = config, config.enc_width
        n_chars = len(CHARS)
        self.enc_char = nn.Embedding(n_chars, c.char_dim)
        self.dec_char = nn.Embedding(n_chars, c.char_dim)
        self.enc_conv = nn.Sequential(
            nn.Conv2d(1, w, 3, stride=2, padding=1),
            nn.SiLU(),  # 16
            nn.Conv2d(w, 2 * w, 3, stride=2, padding=1),
            nn.SiLU(),  # 8
            nn.Conv2d(2 * w, 4 * w, 3, stride=2, padding=1),
            nn.SiLU(),  # 4
            nn.Flatten(),
            nn.Linear(4 * w * 16, c.hidden),
            nn.SiLU(),
        )
        self.enc_pair = nn.Sequential(
            nn.Linear(c.hidden + c.char_dim, c.hidden), nn.SiLU(), nn.Linear(c.hidden, c.hidden)
        )
        self.enc_head = nn.Sequential(
            nn.SiLU(), nn.Linear(c.hidden, c.hidden), nn.SiLU(), nn.Linear(c.hidden, 2 * c.latent_dim)
        )
        cond = c.latent_dim + c.char_dim
        self.dec_cond = nn.Sequential(nn.Linear(cond, c.hidden), nn.SiLU(), nn.Linear(c.hidden, c.hidden), nn.SiLU())
        d = c.dec_widths
        self.dec_seed = nn.Linear(c.hidden, d[0] * 16)
        self.blocks = nn.ModuleList(_FiLMBlock(d[i], d[i + 1], c.hidden, extra=i < 2) for i in range(len(d) - 1))
        self.out = _OutConv(d[-1])
        self.detail: nn.Module | None = None
        if c.detail_width > 0:
            self.detail = _DetailHead(d[-1], c.detail_width, c.hidden)

    # -- encoder ------------------------------------------------------------------
    def encode(
        self, glyphs: torch.Tensor, chars: torch.Tensor, mask: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior of the style from a set of glyphs.

        Args:
            glyphs: ``(B, K, 64, 64)`` (or 32x32) in ``[0, 1]``.
            chars: ``(B, K)`` or ``(K,)`` character indices into :data:`CHARS`.
            mask: optional ``(B, K)`` bool, which pairs are present (for ragged sets).

        Returns:
            ``mu, logvar``, each ``(B, latent_dim)``.
        """
        b, k = glyphs.shape[:2]
        x = glyphs.reshape(b * k, 1, *glyphs.shape[2:])
        if x.shape[-1] != 32:
            x = F.interpolate(x, size=(32, 32), mode="area")
        feats = self.enc_conv(x).reshape(b, k, -1)
        if chars.dim() == 1:
            chars = chars.expand(b, k)
        pair = self.enc_pair(torch.cat([feats, self.enc_char(chars)], dim=-1))
        if mask is None:
            pooled = pair.mean(1)
        else:
            m = mask.to(pair.dtype)[..., None]
            pooled = (pair * m).sum(1) / m.sum(1).clamp_min(1)
        mu, logvar = self.enc_head(pooled).chunk(2, dim=-1)
        return mu, logvar.clamp(-12, 6)

    # -- decoder ------------------------------------------------------------------
    def decode(self, z: torch.Tensor, chars: torch.Tensor, half: bool = False) -> torch.Tensor:
        """Glyph logits of characters ``chars`` in styles ``z``.

        Args:
            z: ``(B, latent_dim)``.
            chars: ``(K,)`` (same characters for every style) or ``(B, K)`` character indices.
            half: run the last block without its x2 upsampling: ``(B, K, 32, 32)`` logits close to
                the full ones shrunk by two (a 3x3 conv on a nearest-upsampled map sees mostly
                constant 2x2 cells), at a quarter of that block's cost, without the detail head;
                for live previews.

        Returns:
            ``(B, K, 64, 64)`` logits (ink where positive), or ``(B, K, 32, 32)`` with ``half``.
        """
        b = z.shape[0]
        if chars.dim() == 1:
            chars = chars.expand(b, -1)
        k = chars.shape[1]
        zz = z[:, None, :].expand(b, k, z.shape[1]).reshape(b * k, -1)
        cond = self.dec_cond(torch.cat([zz, self.dec_char(chars.reshape(-1))], dim=-1))
        h = self.dec_seed(cond).reshape(b * k, self.config.dec_widths[0], 4, 4)
        if b * k >= 8:  # oneDNN's transposed convs run 3-4x faster on channels-last maps (no gain at batch 1)
            h = h.contiguous(memory_format=torch.channels_last)
        last = len(self.blocks) - 1
        for i, block in enumerate(self.blocks):
            h = block(h, cond, upsample=not (half and i == last))
        logits = self.out(h)
        if self.detail is not None and not half:
            logits = logits + self.detail(h, cond)
        return logits.reshape(b, k, *h.shape[-2:])


class GlyphReader(nn.Module):
    """A small CNN that reads which of the 62 characters a glyph is: the legibility judge.

    Trained on real glyphs of the training fonts only (``scripts/export_glyphs.py``) and shipped in
    the glyphs bundle's evaluation sample, so legibility bars can be measured offline. Input: glyphs
    ``(M, 64, 64)`` in ``[0, 1]`` (ink = 1), read at 32 px.

    Example:
        >>> reader = GlyphReader()
        >>> reader.read(torch.zeros(2, 64, 64)).shape
        torch.Size([2])
    """

    def __init__(self, width: int = 24) -> None:
        super().__init__()
        w = width
        self.net = nn.Sequential(
            nn.Conv2d(1, w, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 16
            nn.Conv2d(w, 2 * w, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 8
            nn.Conv2d(2 * w, 4 * w, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),  # 4
            nn.Flatten(),
            nn.Linear(4 * w * 16, 128),
            nn.ReLU(),
            nn.Linear(128, len(CHARS)),
        )

    def forward(self, glyphs: torch.Tensor) -> torch.Tensor:
        """Logits ``(M, 62)`` for glyphs ``(M, 64, 64)``."""
        x = glyphs.reshape(-1, 1, *glyphs.shape[-2:]).float()
        if x.shape[-1] != 32:
            x = F.interpolate(x, size=(32, 32), mode="area")
        return self.net(x)

    @torch.no_grad()
    def read(self, glyphs: torch.Tensor, chunk: int = 4096) -> torch.Tensor:
        """Character indices (into :data:`CHARS`) the reader sees in glyphs ``(..., 64, 64)``, flattened."""
        flat = glyphs.reshape(-1, *glyphs.shape[-2:])
        return torch.cat([self(flat[i : i + chunk]).argmax(1) for i in range(0, len(flat), chunk)])

    @torch.no_grad()
    def features(self, fonts: torch.Tensor, chunk: int = 4096) -> torch.Tensor:
        """The reader's 128-d hidden features of every glyph of fonts ``(N, G, 64, 64)``, as ``(N, G * 128)``.

        A space where blur and averaging lose: it was trained to tell characters of crisp real
        fonts apart, so a blurred or averaged glyph lands away from every real font.
        """
        flat = fonts.reshape(-1, 1, *fonts.shape[-2:]).float()
        hidden = self.net[:-1]
        out = []
        for i in range(0, len(flat), chunk):
            x = flat[i : i + chunk]
            out.append(hidden(F.interpolate(x, size=(32, 32), mode="area") if x.shape[-1] != 32 else x))
        return torch.cat(out).reshape(len(fonts), -1)

    def accuracy(self, fonts: torch.Tensor) -> float:
        """Fraction of the glyphs of fonts ``(N, 62, 64, 64)`` (in :data:`CHARS` order) read as their own character."""
        return float((self.read(fonts) == torch.arange(len(CHARS)).repeat(len(fonts))).float().mean())
