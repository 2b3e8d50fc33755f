"""The ``glyphs`` model: a latent space of typefaces (A-Z, a-z, 0-9 at 64 px).

Every latent is a whole font. :meth:`GlyphsGenerator.decode` renders a specimen line of
text (dark ink on white paper, one 52-px cell per character), :meth:`GlyphsGenerator.glyphs`
gives the glyph images themselves, and the set encoder turns *any subset* of a font's glyphs
(:meth:`~GlyphsGenerator.encode_glyphs`) or a font file (:meth:`~GlyphsGenerator.encode_font`)
into its latent. ``sample()`` draws from a Gaussian mixture fitted on the training fonts'
codes when the bundle has one (the VAE's normal prior misses where fonts live).
:meth:`~GlyphsGenerator.preview` renders the specimen at half resolution for live widgets.

Glyph arrays use ink coverage in ``[0, 1]`` (1 = ink, 0 = background), shape ``(..., 64, 64)``.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from .._checks import check_finite
from ..errors import InputImageError, InvalidValueError, ShapeError
from ..spaces import LatentSpace
from ._glyphs_net import CHARS, GlyphReader, GlyphsConfig, GlyphsNet
from ._weights import load_weights, save_weights, write_manifest
from .base import Generator

__all__ = [
    "CHARS",
    "GlyphsGenerator",
    "load_bundled",
    "save_bundle",
    "render_font",
    "font_missing_chars",
    "split_heldout_groups",
    "HELDOUT_HALVES",
    "nearest_ascii",
    "glyph_iou",
    "edge_fscore",
    "knn_precision_recall",
]

HELDOUT_HALVES = ("validation", "test")  #: the held-out families' halves: decisions / the reported figures only

GLYPH_SIZE = 64
CELL = 52  # specimen cell width: the glyph canvas minus 6 px margins on both sides
_TRIM = (GLYPH_SIZE - CELL) // 2
WEIGHTS_NAME = "weights.safetensors"
CODES_NAME = "codes.safetensors"
LABELS_NAME = "labels.json"
EVAL_NAME = "eval_sample.safetensors"
SPACE = " "


# -- fonts -> glyph images (the same recipe as the training data) -------------------------------
def split_heldout_groups(groups: list[str], categories: list[str], fonts: list[int]) -> dict[str, str]:
    """Split the held-out family groups into a ``"validation"`` half and a ``"test"`` half.

    Validation fonts serve decisions (checkpoint, sharpness, detail head, thresholds); test fonts
    only the figures a model card reports, so no decision has touched them. The split is by group
    (near-duplicate families stay together), deterministic (largest groups first, ties in sha256 order, each
    to the half that leaves the per-category font counts of the halves closest) and balanced per category. Recorded
    as ``half`` in ``data/fonts/manifest.json`` and ``heldout_half`` in ``glyphs64.npz``.

    Args:
        groups: one group key per held-out family (``build_font_data.group_key``), repeats allowed.
        categories: the category of each of those families.
        fonts: the number of fonts of each of those families.

    Returns:
        ``{group: "validation" | "test"}``.

    Example:
        >>> split_heldout_groups(["a", "b", "c", "c"], ["serif"] * 4, [2, 2, 1, 1])
        {'c': 'validation', 'b': 'test', 'a': 'validation'}
    """
    import hashlib

    counts: dict[str, dict[str, int]] = {}  # group -> fonts per category
    for g, c, n in zip(groups, categories, fonts, strict=True):
        counts.setdefault(g, {})
        counts[g][c] = counts[g].get(c, 0) + int(n)
    cats = sorted({c for per in counts.values() for c in per})
    have = {h: dict.fromkeys(cats, 0) for h in HELDOUT_HALVES}

    def imbalance(half: str, g: str) -> tuple[int, int]:
        after = {h: {c: have[h][c] + (counts[g].get(c, 0) if h == half else 0) for c in cats} for h in HELDOUT_HALVES}
        diff = [after["validation"][c] - after["test"][c] for c in cats]
        return sum(d * d for d in diff), abs(sum(diff))

    out: dict[str, str] = {}
    for g in sorted(counts, key=lambda g: (-sum(counts[g].values()), hashlib.sha256(g.encode()).hexdigest())):
        out[g] = min(HELDOUT_HALVES, key=lambda h: (*imbalance(h, g), HELDOUT_HALVES.index(h)))
        for c, n in counts[g].items():
            have[out[g]][c] += n
    return out


def font_missing_chars(data: bytes, chars: str = CHARS) -> str:
    """Characters of ``chars`` that a font's character map lacks (read with fontTools).

    Args:
        data: the bytes of a ``.ttf`` / ``.otf`` / ``.woff`` / ``.woff2`` file.
    """
    from .._optional import require

    require("fontTools", purpose="reading font files")
    if data[:4] == b"wOF2":
        require("brotli", purpose="reading .woff2 font files")
    from fontTools.ttLib import TTFont

    cmap = TTFont(io.BytesIO(data), lazy=True).getBestCmap() or {}
    return "".join(c for c in chars if ord(c) not in cmap)


_DIGIT_NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def font_foreign_chars(data: bytes, chars: str = CHARS) -> str:
    """Characters of ``chars`` that a font maps to glyphs named for something else (symbol and dingbat fonts).

    Symbol fonts (e.g. URW's Standard Symbols PS) put Greek letters or dingbats on the code points
    of A-z and 0-9; their glyph names (``Alpha``, ``a1`` ...) give them away. Fonts without glyph
    names (``glyph12``, ``gid12``) are not judged: ``""``.
    """
    from fontTools.ttLib import TTFont

    font = TTFont(io.BytesIO(data), lazy=True)
    cmap = font.getBestCmap() or {}
    names = {c: cmap[ord(c)] for c in chars if ord(c) in cmap}
    if not names or all(n.startswith(("glyph", "gid", "cid")) for n in names.values()):
        return ""

    def latin(c: str, name: str) -> bool:
        base = name.split(".")[0].split("_")[0]
        if c.isdigit() and base.startswith(_DIGIT_NAMES[int(c)]):  # zero, zerooldstyle, zero.tf ...
            return True
        return base in {c, f"uni{ord(c):04X}", f"u{ord(c):04X}"}

    return "".join(c for c, name in names.items() if not latin(c, name))


def render_font(
    data: bytes, chars: str = CHARS, size: int = GLYPH_SIZE, oversample: int = 4, fit_chars: str = CHARS
) -> np.ndarray:
    """Render ``chars`` of a font as uint8 ``(len(chars), size, size)`` (255 = ink).

    One point size and one baseline for the whole font (fitted so that every glyph of
    ``fit_chars``, by default the 62 characters, fits with a margin); each glyph is centred
    horizontally on its ink; drawn at ``oversample`` x and box-downsampled. This is how the
    training data was made. For a font that lacks some characters pass the ones it has as
    ``fit_chars``: a missing character would be measured as the font's fallback box.
    """
    from PIL import Image, ImageDraw, ImageFont

    big = size * oversample
    probe = 200
    font = ImageFont.truetype(io.BytesIO(data), probe)
    boxes = [font.getbbox(c, anchor="ls") for c in fit_chars]
    top, bottom = min(b[1] for b in boxes), max(b[3] for b in boxes)
    width = max(b[2] - b[0] for b in boxes)
    usable = big * 0.86
    scale = min(usable / max(bottom - top, 1), usable / max(width, 1))
    font = ImageFont.truetype(io.BytesIO(data), max(4, int(probe * scale)))
    boxes = [font.getbbox(c, anchor="ls") for c in fit_chars]
    top, bottom = min(b[1] for b in boxes), max(b[3] for b in boxes)
    baseline = (big - (bottom - top)) / 2 - top
    out = np.zeros((len(chars), size, size), np.uint8)
    for i, c in enumerate(chars):
        b = font.getbbox(c, anchor="ls")
        img = Image.new("L", (big, big), 0)
        ImageDraw.Draw(img).text((big / 2 - (b[0] + b[2]) / 2, baseline), c, fill=255, font=font, anchor="ls")
        out[i] = np.asarray(img.resize((size, size), Image.Resampling.BOX))
    return out


#: A rendered glyph with fewer ink pixels than this is empty (the data builder's rule).
_MIN_INK_PIXELS = 4


def _font_path(path: Any) -> Path:
    """``path`` as an existing font file, or an InputImageError saying what it is instead."""
    if not isinstance(path, (str, os.PathLike)) or isinstance(path, bytes):
        raise InputImageError(
            "a font path must be a string or a path",
            expected="'fonts/MyFont.ttf'",
            got=type(path).__name__,
            fix="pass the path of a .ttf, .otf, .woff or .woff2 file",
        )
    p = Path(path)
    if p.is_dir():
        raise InputImageError(
            f"{p} is a folder, not a font file",
            expected="a .ttf/.otf/.woff/.woff2 file",
            got=str(p),
            fix="pass one font file inside it",
        )
    if not p.is_file():
        raise InputImageError(
            f"font file {p} does not exist", expected="a .ttf/.otf/.woff/.woff2 file", got=str(p), fix="check the path"
        )
    return p


def _char_indices(chars: str, *, what: str = "chars") -> torch.Tensor:
    if not isinstance(chars, str) or not chars:
        raise InvalidValueError(
            f"{what} must be a non-empty string",
            expected="e.g. 'Hamburg'",
            got=repr(chars),
            fix="pass a string of letters and digits",
        )
    bad = sorted({c for c in chars if c not in CHARS})
    if bad:
        if bad == [SPACE]:
            raise InvalidValueError(
                f"{what} cannot hold a space: a space is not a glyph",
                expected="A-Z, a-z, 0-9",
                got=repr(chars),
                fix=f"drop the spaces: {chars.replace(SPACE, '')!r} (the specimen text gen.text may hold spaces)",
            )
        raise _no_glyph_error(chars, bad, allowed="A-Z, a-z, 0-9")
    return torch.tensor([CHARS.index(c) for c in chars])


# letters that NFKD does not decompose into an ASCII letter
_ASCII_FALLBACK = {
    "ß": "ss",
    "æ": "ae",
    "Æ": "AE",
    "œ": "oe",
    "Œ": "OE",
    "ø": "o",
    "Ø": "O",
    "ł": "l",
    "Ł": "L",
    "đ": "d",
    "Đ": "D",
    "ð": "d",
    "Ð": "D",
    "þ": "th",
    "Þ": "Th",
    "\u0131": "i",
}


def nearest_ascii(char: str) -> str:
    """The nearest letters/digits of A-Z a-z 0-9 for one character (``""`` when there is none).

    Accents are dropped (Unicode NFKD decomposition: ``"é" -> "e"``, ``"①" -> "1"``); a few letters
    without a decomposition have a spelling (``"ß" -> "ss"``, ``"ø" -> "o"``).

    Example:
        >>> nearest_ascii("é"), nearest_ascii("Å"), nearest_ascii("ß"), nearest_ascii("!")
        ('e', 'A', 'ss', '')
    """
    import unicodedata

    if char in _ASCII_FALLBACK:
        return _ASCII_FALLBACK[char]
    return "".join(c for c in unicodedata.normalize("NFKD", char) if c in CHARS)


def _no_glyph_error(text: str, bad: list[str], allowed: str) -> InvalidValueError:
    """The error for characters the model cannot draw, suggesting the nearest ASCII spelling of ``text``."""
    hints = [f"{c!r} -> {nearest_ascii(c)!r}" for c in bad if nearest_ascii(c)]
    drop = [repr(c) for c in bad if not nearest_ascii(c)]
    keep = CHARS + SPACE if SPACE in allowed else CHARS
    suggestion = "".join(c if c in keep else nearest_ascii(c) for c in text)
    parts = ([f"use the nearest ASCII letters ({', '.join(hints)})"] if hints else []) + (
        [f"leave out {', '.join(drop)}"] if drop else []
    )
    fix = "; ".join(parts) + (f": e.g. {suggestion!r}" if suggestion.strip() else "")
    return InvalidValueError(
        f"the glyphs model has no glyph for {''.join(bad)!r}", expected=allowed, got=repr(text), fix=fix
    )


def _text_layout(text: str) -> tuple[torch.Tensor, list[bool]]:
    """Specimen text -> (indices of its glyphs, one flag per character: True for a space).

    The specimen may hold spaces (drawn as gaps); every other character must be a glyph.
    """
    if not isinstance(text, str) or not text.strip():
        raise InvalidValueError(
            "the specimen text must hold at least one letter or digit",
            expected="e.g. 'Hello World'",
            got=repr(text),
            fix="pass a string of letters and digits",
        )
    bad = sorted({c for c in text if c not in CHARS and c != SPACE})
    if bad:
        raise _no_glyph_error(text, bad, allowed="A-Z, a-z, 0-9 and spaces")
    return torch.tensor([CHARS.index(c) for c in text if c != SPACE]), [c == SPACE for c in text]


def _glyph_to_tensor(char: str, img: Any) -> torch.Tensor:
    """One user glyph image -> float ``(64, 64)`` ink coverage (dark-on-light is inverted)."""
    arr = img
    if hasattr(img, "convert") and hasattr(img, "size"):  # a PIL image
        arr = np.asarray(img.convert("L"))
    t = torch.as_tensor(np.asarray(arr) if not isinstance(arr, torch.Tensor) else arr)
    if t.dtype == torch.uint8:
        t = t.float() / 255
    t = t.detach().float().cpu()
    if t.ndim == 3 and t.shape[0] in (1, 3, 4):
        t = t[:3].mean(0)
    elif t.ndim == 3 and t.shape[-1] in (1, 3, 4):
        t = t[..., :3].mean(-1)
    if t.ndim != 2:
        raise ShapeError(
            f"the image for {char!r} is not a single glyph image",
            expected="(H, W), (1|3, H, W) or (H, W, 3)",
            got=str(tuple(t.shape)),
            fix="pass one grayscale or RGB image per character",
        )
    check_finite(t, name=f"glyph image {char!r}")
    if float(t.min()) < -1e-3 or float(t.max()) > 1 + 1e-3:
        raise InvalidValueError(
            f"the image for {char!r} is out of range",
            expected="floats in [0, 1] or uint8",
            got=f"[{float(t.min()):.3g}, {float(t.max()):.3g}]",
            fix="divide by 255",
        )
    if float(t.mean()) > 0.5:  # dark ink on light paper -> ink coverage
        t = 1 - t
    if tuple(t.shape) != (GLYPH_SIZE, GLYPH_SIZE):
        side = max(t.shape)
        pad_h, pad_w = side - t.shape[0], side - t.shape[1]
        t = F.pad(t, (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2))
        mode = "area" if side > GLYPH_SIZE else "bilinear"
        t = F.interpolate(t[None, None], size=(GLYPH_SIZE, GLYPH_SIZE), mode=mode)[0, 0]
    return t.clamp(0, 1)


def _specimen_line(ink: torch.Tensor, spaces: list[bool] | None = None, space_width: int = CELL) -> torch.Tensor:
    """Glyph ink ``(N, K, S, S)`` -> one line, dark on paper: ``(N, 3, S, W)``.

    Each glyph canvas is trimmed to its cell (``CELL`` of ``GLYPH_SIZE`` columns, scaled to ``S``);
    where ``spaces`` flags a space, a gap of paper ``space_width`` columns wide (scaled to ``S``)
    stands in its place, so ``W = K * cell + spaces * gap``.
    """
    s = ink.shape[-1]
    trim, cell = _TRIM * s // GLYPH_SIZE, CELL * s // GLYPH_SIZE
    cells = ink[..., trim : trim + cell]
    if spaces and any(spaces):
        gap = ink.new_zeros((ink.shape[0], 1, s, space_width * s // GLYPH_SIZE))
        parts, k = [], 0
        for is_space in spaces:
            if is_space:
                parts.append(gap)
            else:
                parts.append(cells[:, k : k + 1])
                k += 1
        line = torch.cat(parts, dim=-1)[:, 0]
    else:
        line = cells.permute(0, 2, 1, 3).reshape(ink.shape[0], s, -1)
    return (1 - line)[:, None].expand(-1, 3, -1, -1)


class GlyphsGenerator(Generator):
    """Fonts as latents: a set encoder over (glyph, character) pairs and a FiLM glyph decoder.

    Args:
        net: the trained :class:`GlyphsNet`.
        card: the model card (``card.json``) as a dict.
        codes: ``(F, latent_dim)`` posterior means of the training fonts (or ``None``).
        labels: per-font labels, a dict of numpy arrays of length ``F`` (or ``None``).
        mixture: Gaussian mixture for ``sample()``: ``weights (K,)``, ``means (K, D)``,
            ``chol (K, D, D)`` (lower Cholesky factors of the covariances); ``None`` uses the normal prior.
        text: the specimen text :meth:`decode` renders (letters, digits and spaces; a space is a gap
            :attr:`space_width` px wide).
        sharpness: logits are multiplied by this before the sigmoid (> 1 sharpens edges).

    Example:
        >>> gen = GlyphsGenerator(GlyphsNet(GlyphsConfig(latent_dim=8)), text="Ag")
        >>> z = gen.sample(2, seed=0)
        >>> gen.decode(z).shape, gen.glyphs(z, "Hamburg").shape
        (torch.Size([2, 3, 64, 104]), torch.Size([2, 7, 64, 64]))
    """

    capabilities = frozenset({"encode", "encode_font", "codes", "labels", "preview"})

    def __init__(
        self,
        net: GlyphsNet,
        card: dict[str, Any] | None = None,
        codes: np.ndarray | None = None,
        labels: dict[str, np.ndarray] | None = None,
        mixture: dict[str, torch.Tensor] | None = None,
        text: str = "Hamburg",
        sharpness: float = 1.0,
        name: str = "glyphs",
    ) -> None:
        self.net = net.eval()
        self.config = net.config
        self.name = name
        self.card = card or {}
        self._codes = codes
        self._labels = labels
        self._mixture = mixture
        self._text_prior: Any = None  # the glyphs-text prior, loaded by text_prior()
        self.folder: Path | None = None  # the bundle folder, when loaded from one
        self.sharpness = float(sharpness)
        self._space_width: int | None = None
        _text_layout(text)
        self._text = text
        space = LatentSpace(
            "style",
            (net.config.latent_dim,),
            "normal",
            model=name,
            description="one point per typeface (set-VAE posterior mean)",
        )
        super().__init__([space], (GLYPH_SIZE, CELL))
        self.image_size = self._line_size(text)
        if self._codes is None or self._labels is None:
            self.capabilities = frozenset(self.capabilities - {"codes", "labels"})

    # -- text -----------------------------------------------------------------------
    @property
    def text(self) -> str:
        """The specimen text that :meth:`decode` renders (set it to change ``image_size``).

        Letters, digits and spaces: ``gen.text = "Hello World"``. A space is a gap of paper
        :attr:`space_width` px wide; any other character is refused with the nearest ASCII
        spelling as the fix (``"Café"`` -> ``"Cafe"``).
        """
        return self._text

    @text.setter
    def text(self, value: str) -> None:
        _text_layout(value)
        self._text = value
        self.image_size = self._line_size(value)

    @property
    def space_width(self) -> int:
        """Width in px (at 64 px glyphs) of a space in the specimen: the width of this model's ``n``.

        Measured once, on first use: the median ink width of ``n`` decoded from up to 32 of the
        training fonts' codes (prior samples when the bundle ships none), rounded to an even
        number (so half-resolution previews stay exact) and kept within ``[CELL / 4, CELL]``.
        Set it to override (an even number of px).
        """
        if self._space_width is None:
            self._space_width = self._measure_space_width()
        return self._space_width

    @space_width.setter
    def space_width(self, value: int) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or value < 2 or value % 2:
            raise InvalidValueError(
                "space_width must be an even number of pixels",
                expected="e.g. 26",
                got=repr(value),
                fix="pass an even int >= 2",
            )
        self._space_width = value
        self.image_size = self._line_size(self._text)

    def _measure_space_width(self) -> int:
        if self._codes is not None:
            rows = np.linspace(0, len(self._codes) - 1, min(32, len(self._codes))).round().astype(int)
            z = torch.from_numpy(np.asarray(self._codes[rows], np.float32)).to(self.device)
        else:
            z = Generator.sample(self, 16, seed=0)
        ink = self.glyphs(z, "n") > 0.5  # (N, 1, 64, 64)
        cols = ink[:, 0].any(dim=1)  # (N, 64)
        idx = torch.arange(GLYPH_SIZE, device=cols.device).expand_as(cols)
        first = torch.where(cols, idx, GLYPH_SIZE).min(1).values
        last = torch.where(cols, idx, -1).max(1).values
        widths = (last - first + 1).clamp_min(0).float()
        width = float(widths.median()) if len(widths) else CELL / 2
        return int(min(max(2 * round(width / 2), CELL // 4), CELL))

    def _line_size(self, text: str) -> tuple[int, int]:
        n_spaces = text.count(SPACE)
        return (GLYPH_SIZE, CELL * (len(text) - n_spaces) + (self.space_width * n_spaces if n_spaces else 0))

    def _move(self, device: torch.device) -> None:
        self.net.to(device)
        if self._mixture is not None:
            self._mixture = {k: v.to(device) for k, v in self._mixture.items()}
        if self._text_prior is not None:
            self._text_prior.net.to(device)

    # -- sampling ---------------------------------------------------------------------
    def _sample(self, n: int, space: LatentSpace, rng: torch.Generator, temperature: float) -> torch.Tensor:
        """New fonts ``(n, latent_dim)``: with the fitted mixture, ``temperature`` scales each draw's
        spread around its component mean (``< 1``: more typical fonts); without it, the normal prior."""
        if self._mixture is None:
            return super()._sample(n, space, rng, temperature)
        m = {k: v.cpu() for k, v in self._mixture.items()}
        comp = torch.multinomial(m["weights"], n, replacement=True, generator=rng)
        eps = torch.randn((n, m["means"].shape[1]), generator=rng)
        return m["means"][comp] + temperature * torch.einsum("nij,nj->ni", m["chol"][comp], eps)

    # -- decoding ---------------------------------------------------------------------
    def _glyph_probs(self, z: torch.Tensor, idx: torch.Tensor, half: bool = False) -> torch.Tensor:
        logits = self.net.decode(z, idx.to(z.device), half=half)
        if torch.is_grad_enabled():
            return torch.sigmoid(logits * self.sharpness)
        return logits.mul_(self.sharpness).sigmoid_()  # the decoder's own fresh tensor: in place

    def _decode(self, latents: torch.Tensor, space: LatentSpace) -> torch.Tensor:
        return self._line(latents, half=False)

    def _decode_half(self, latents: torch.Tensor, space: LatentSpace) -> torch.Tensor:
        return self._line(latents, half=True)

    def _line(self, latents: torch.Tensor, half: bool) -> torch.Tensor:
        idx, spaces = _text_layout(self._text)
        gap = self.space_width if any(spaces) else CELL
        return _specimen_line(self._glyph_probs(latents, idx, half=half), spaces, gap)

    def preview(self, latents: Any, space: str | LatentSpace | None = None) -> torch.Tensor:
        """The specimen of :meth:`decode` at half resolution, cheaper to render (for dragging in widgets).

        The decoder's last block runs at 32 px instead of upsampling to 64 px, so a glyph costs
        about two thirds of a full one; the result is close to the full specimen shrunk by two.
        Live widgets show it while a slider moves and render :meth:`decode` once it settles.

        Args:
            latents: ``(N, latent_dim)`` or ``(latent_dim,)``.

        Returns:
            ``(N, 3, 32, W / 2)`` (or ``(3, 32, W / 2)``) in ``[0, 1]`` where ``(64, W)`` is
            :attr:`image_size`, on the input's device and floating dtype.

        Example:
            >>> gen = GlyphsGenerator(GlyphsNet(GlyphsConfig(latent_dim=8)), text="Ag")
            >>> gen.preview(gen.sample(2, seed=0)).shape
            torch.Size([2, 3, 32, 52])
        """
        return self._run_decoder(self._decode_half, latents, space)

    def measure_views(self, latents: torch.Tensor, space: str | LatentSpace | None = None) -> tuple[torch.Tensor, int]:
        """Each glyph of :attr:`text` on its own (dark ink on paper, ``(N * len(text), 3, 64, 64)``).

        Measures of a font (slant, stroke weight, width) are averages over its glyphs, not
        properties of the specimen line's layout.
        """
        chars = self._text.replace(SPACE, "")
        ink = self.glyphs(latents, chars, space=space).reshape(-1, 1, GLYPH_SIZE, GLYPH_SIZE)
        return (1 - ink).expand(-1, 3, -1, -1), len(chars)

    def glyphs(self, latents: Any, chars: str = CHARS, space: str | LatentSpace | None = None) -> torch.Tensor:
        """Glyph images of ``chars`` in the fonts ``latents``.

        Args:
            latents: ``(N, latent_dim)`` or ``(latent_dim,)``.
            chars: characters to draw (letters and digits).

        Returns:
            ``(N, len(chars), 64, 64)`` ink coverage in ``[0, 1]`` (``(len(chars), 64, 64)`` for one latent).
        """
        idx = _char_indices(chars)
        return self._run_decoder(lambda z, _: self._glyph_probs(z, idx), latents, space)

    # -- encoding ---------------------------------------------------------------------
    def _encode_set(self, glyphs: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            mu, _ = self.net.encode(glyphs.to(self.device, torch.float32), idx.to(self.device))
        return check_finite(mu, name="encoded latents")

    def _encode(self, images: torch.Tensor, space: LatentSpace) -> torch.Tensor:
        """Specimen images (as :meth:`decode` makes them) -> latents, cutting one cell per character.

        A cell without ink (less than one pixel's worth, e.g. a character hidden by a mask and
        painted as paper) says nothing about the font, so it is left out of the set; an image
        with no inked cell at all is encoded from all its cells.
        """
        ink = 1 - images.mean(1)  # (N, 64, W)
        idx, spaces = _text_layout(self._text)
        starts = self._cell_starts(spaces)
        cells = torch.stack([ink[..., x : x + CELL] for x in starts], dim=1)  # (N, K, 64, CELL)
        present = cells.sum((-2, -1)) > 1.0  # (N, K)
        present = present | ~present.any(1, keepdim=True)
        cells = F.pad(cells, (_TRIM, GLYPH_SIZE - CELL - _TRIM))
        return self.net.encode(cells, idx.to(ink.device), mask=present)[0]

    def _cell_starts(self, spaces: list[bool]) -> list[int]:
        """Left column of each glyph's cell in the specimen line (spaces skipped)."""
        starts, x = [], 0
        for is_space in spaces:
            if is_space:
                x += self.space_width
            else:
                starts.append(x)
                x += CELL
        return starts

    def pixel_mask(self, mask: Any) -> Any:
        """Observed characters -> observed pixels of the specimen, for ``ll.encode(gen, images, mask=...)``.

        Args:
            mask: a string of the specimen's characters that are observed (e.g. ``"Hamb"`` of
                ``"Hamburg"``), or a list of such strings (one per image); anything else (pixel
                masks) is returned unchanged.

        Returns:
            ``(64, W)`` (or ``(N, 64, W)`` for a list) float mask, 1 on the cells of the observed
            characters, where ``W = 52 * len(text)``.

        Example:
            >>> gen = GlyphsGenerator(GlyphsNet(GlyphsConfig(latent_dim=8)), text="Ag")
            >>> m = gen.pixel_mask("g")
            >>> m.shape, float(m[:, :52].max()), float(m[:, 52:].min())
            (torch.Size([64, 104]), 0.0, 1.0)
        """
        if isinstance(mask, str):
            observed = set(mask) - {SPACE}
            unknown = sorted(observed - set(self._text))
            if not observed or unknown:
                raise InvalidValueError(
                    "a character mask must name characters of the specimen text",
                    expected=f"some of {self._text!r}",
                    got=repr(mask),
                    fix=f"pass the observed characters, e.g. mask={self._text[:3]!r}, or set gen.text first",
                )
            _, spaces = _text_layout(self._text)
            widths = torch.tensor([self.space_width if sp else CELL for sp in spaces])
            cells = torch.tensor([float(c in observed and not sp) for c, sp in zip(self._text, spaces)])
            return cells.repeat_interleave(widths)[None, :].expand(GLYPH_SIZE, -1).clone()
        if isinstance(mask, (list, tuple)) and mask and all(isinstance(m, str) for m in mask):
            return torch.stack([self.pixel_mask(m) for m in mask])
        return mask

    def encode_glyphs(self, glyphs: dict[str, Any]) -> torch.Tensor:
        """Encode some glyphs of one font (any subset, even one letter) to its latent.

        Args:
            glyphs: ``{"H": image, "a": image, ...}``; each image ``(H, W)``, ``(1|3, H, W)``,
                ``(H, W, 3)`` or a PIL image, float in ``[0, 1]`` or uint8. White-on-black ink
                coverage and dark-ink-on-paper both work; other sizes are padded square and resized
                to 64 px. Glyphs should sit like the training data: one scale for the font, centred.

        Returns:
            ``(latent_dim,)`` latent (posterior mean), on ``self.device``.
        """
        if not isinstance(glyphs, dict) or not glyphs:
            raise InvalidValueError(
                "encode_glyphs() needs a dict of glyph images",
                expected="{'H': image, ...}",
                got=type(glyphs).__name__ if not isinstance(glyphs, dict) else "an empty dict",
                fix="pass at least one character and its image",
            )
        chars = "".join(glyphs)
        idx = _char_indices(chars, what="the dict keys")
        stack = torch.stack([_glyph_to_tensor(c, glyphs[c]) for c in chars])
        return self._encode_set(stack[None], idx)[0]

    def encode_font(self, path: str | os.PathLike[str], chars: str | None = None) -> torch.Tensor:
        """Render a font file the way the training data was made and encode it.

        Args:
            path: a ``.ttf``, ``.otf``, ``.woff`` or ``.woff2`` file.
            chars: the characters to use (``None``: all 62; pass fewer when a font lacks some).

        Returns:
            ``(latent_dim,)`` latent.
        """
        chars = CHARS if chars is None else chars
        p = _font_path(path)
        idx = _char_indices(chars)
        repeated = sorted({c for c in chars if chars.count(c) > 1})
        if repeated:
            unique = "".join(dict.fromkeys(chars))
            raise InvalidValueError(
                "chars repeats characters, which would weight their glyphs more than once",
                expected="each character once",
                got=f"{''.join(repeated)!r} repeated in {chars!r}",
                fix=f"encode_font(path, chars={unique!r})",
            )
        data = p.read_bytes()
        try:
            missing_all = font_missing_chars(data, CHARS)
            foreign = font_foreign_chars(data, CHARS)
            missing = "".join(c for c in chars if c in missing_all)
            glyphs = (
                None
                if missing or foreign
                else render_font(data, chars, fit_chars="".join(c for c in CHARS if c not in missing_all) or CHARS)
            )
        except Exception as exc:
            if type(exc).__name__ == "MissingDependencyError":
                raise
            raise InputImageError(
                f"cannot read the font file {p}",
                expected="a valid TrueType/OpenType/WOFF font",
                got=f"{type(exc).__name__}: {exc}",
                fix="pass a .ttf, .otf, .woff or .woff2 file",
            ) from exc
        letters = sum(c.isalpha() for c in CHARS if c not in missing_all)
        if foreign and len(foreign) > letters // 2:
            raise InputImageError(
                f"{p.name} is a symbol or dingbat font: its letters and digits are other glyphs",
                expected="a font with Latin letters and digits",
                got=f"{len(foreign)} of the 62 characters mapped to other glyphs ({foreign[:12]!r}...)",
                fix="pick a text font; the model only knows Latin letters and digits",
            )
        if missing:
            have = "".join(c for c in chars if c not in missing)
            fix = (
                f"encode_font(path, chars={have!r}) uses only the characters it has"
                if have
                else "this font has none of the requested characters: pick other characters or another font"
            )
            raise InputImageError(
                f"the font {p.name} lacks {len(missing)} of the requested characters",
                expected=f"glyphs for {chars!r}",
                got=f"missing {missing!r}",
                fix=fix,
            )
        if glyphs is None:  # a few foreign characters in a text font: leave them out like missing ones
            bad = "".join(c for c in chars if c in foreign)
            have = "".join(c for c in chars if c not in foreign)
            raise InputImageError(
                f"{p.name} maps {bad!r} to glyphs of other characters",
                expected=f"Latin glyphs for {chars!r}",
                got=f"foreign glyphs for {bad!r}",
                fix=f"encode_font(path, chars={have!r})" if have else "pick another font",
            )
        empty = "".join(c for c, g in zip(chars, glyphs) if int((g > 127).sum()) < _MIN_INK_PIXELS)
        if empty:
            have = "".join(c for c in chars if c not in empty)
            raise InputImageError(
                f"{p.name} has empty outlines for {empty!r}",
                expected="ink for every character",
                got=f"blank glyphs for {empty!r}",
                fix=f"encode_font(path, chars={have!r})" if have else "pick another font",
            )
        x = torch.from_numpy(glyphs).float() / 255
        return self._encode_set(x[None], idx)[0]

    # -- words -> fonts (the bundled glyphs-text prior) ----------------------------------
    def text_prior(self) -> Any:
        """The bundled ``glyphs-text`` prior, rendering through this generator (loaded once, on first use).

        Returns:
            a :class:`~latentlab.generators.glyphs_text.GlyphsTextGenerator`.
        """
        if self._text_prior is None:
            from .glyphs_text import BUNDLE_DIR
            from .glyphs_text import load_bundled as load_text_prior

            self._text_prior = load_text_prior(BUNDLE_DIR, glyphs=self).to(self.device)
        return self._text_prior

    def from_text(
        self, text: str | list[str], n: int = 4, seed: int = 0, guidance: float = 3.0, steps: int | None = None
    ) -> torch.Tensor:
        """Fonts described by words: ``n`` style latents per text, from the bundled text-conditioned prior.

        Args:
            text: a description such as ``"a heavy rounded display face"``, or a list of them.
            n: fonts per text (different noise seeds of the sampler).
            seed: seed of the first font's noise; the same text and seed give the same fonts.
            guidance: classifier-free guidance (0 ignores the words; larger follows them more
                closely and varies less).
            steps: DDIM steps (default 25).

        Returns:
            ``(n, 64)`` style latents (``(len(text) * n, 64)`` for a list, text by text), ready for
            :meth:`decode`, :meth:`glyphs`, interpolation and every other glyphs tool.

        Needs the ``text`` extra (``pip install "latentlab[text]"``).

        Example:
            >>> import latentlab as ll
            >>> fonts = ll.load("glyphs")
            >>> fonts.from_text("a heavy rounded display face", n=4, seed=0).shape
            torch.Size([4, 64])
        """
        from ..text import check_texts

        texts = check_texts(text)
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise InvalidValueError(
                "n must be a positive whole number",
                expected="e.g. n=4",
                got=repr(n),
                fix="pass the number of fonts you want per text",
            )
        prior = self.text_prior()
        noise = prior.sample(n, seed=seed)
        return torch.cat([prior.styles(noise, prompt=t, guidance=guidance, steps=steps) for t in texts])

    # -- shipped codes and labels -------------------------------------------------------
    def codes(self) -> torch.Tensor:
        """Posterior-mean latents of the training fonts, ``(F, latent_dim)`` (row ``i`` <-> ``labels()[k][i]``)."""
        self._require("codes", "this glyphs bundle was saved without codes")
        assert self._codes is not None
        return torch.from_numpy(self._codes).to(self.device)

    def labels(self) -> dict[str, np.ndarray]:
        """Labels of the training fonts: a dict of numpy arrays of length ``F``.

        Keys: ``family``, ``category``, ``weight``, ``italic``, ``license`` and the measured
        ``ink``, ``slant``, ``width``, ``contrast``.
        """
        self._require("labels", "this glyphs bundle was saved without labels")
        assert self._labels is not None
        return {k: v.copy() for k, v in self._labels.items()}


# -- bundles on disk ------------------------------------------------------------------------
def save_bundle(
    folder: str | Path,
    net: GlyphsNet,
    card: dict[str, Any],
    codes: np.ndarray,
    labels: dict[str, np.ndarray],
    mixture: dict[str, torch.Tensor] | None = None,
    eval_sample: dict[str, torch.Tensor] | None = None,
) -> Path:
    """Write a glyphs model folder: weights, codes (+ mixture), labels, eval sample, card, manifest."""
    from .._atomic import atomic_path

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    save_weights(
        out,
        WEIGHTS_NAME,
        {k: v.half() if v.is_floating_point() else v for k, v in net.state_dict().items()},
        {"config": net.config.to_dict()},
    )
    tensors = {"codes": torch.from_numpy(np.asarray(codes, np.float32))}
    for k, v in (mixture or {}).items():
        tensors[f"mixture.{k}"] = v.float()
    save_weights(out, CODES_NAME, tensors)
    names = [WEIGHTS_NAME, CODES_NAME, LABELS_NAME]
    if eval_sample is not None:
        save_weights(out, EVAL_NAME, eval_sample)
        names.append(EVAL_NAME)
    with atomic_path(out / LABELS_NAME) as tmp:
        tmp.write_text(json.dumps({k: np.asarray(v).tolist() for k, v in labels.items()}))
    with atomic_path(out / "card.json") as tmp:
        tmp.write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
    write_manifest(out, names)
    return out


def load_bundled(folder: str | Path, restore_hint: str = "reinstall latentlab") -> GlyphsGenerator:
    """Open a glyphs model folder (sha256-verified); the registry calls this for ``ll.load("glyphs")``."""
    folder = Path(folder)
    card = json.loads((folder / "card.json").read_text())
    cfg = card["config"]
    net = GlyphsNet(GlyphsConfig(**{**cfg, "dec_widths": tuple(cfg["dec_widths"])}))
    state = load_weights(folder, WEIGHTS_NAME, restore_hint)
    net.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    extra = load_weights(folder, CODES_NAME, restore_hint)
    mixture = {k.split(".", 1)[1]: v for k, v in extra.items() if k.startswith("mixture.")} or None
    raw = json.loads((folder / LABELS_NAME).read_text())
    labels = {k: np.asarray(v) for k, v in raw.items()}
    gen = GlyphsGenerator(
        net,
        card=card,
        codes=extra["codes"].numpy(),
        labels=labels,
        mixture=mixture,
        text=card.get("text", "Hamburg"),
        sharpness=card.get("sharpness", 1.0),
        name=folder.name,
    )
    gen.folder = folder
    return gen


def load_eval_sample(folder: str | Path, restore_hint: str = "reinstall latentlab") -> dict[str, torch.Tensor]:
    """The held-out evaluation sample shipped with a bundle: ``glyphs`` uint8 ``(M, 62, 64, 64)`` and more."""
    return load_weights(Path(folder), EVAL_NAME, restore_hint)


def eval_reader(sample: dict[str, torch.Tensor]) -> GlyphReader:
    """The legibility judge shipped in an evaluation sample (its ``reader.*`` tensors), ready to ``read``."""
    reader = GlyphReader()
    reader.load_state_dict({k.split(".", 1)[1]: v.float() for k, v in sample.items() if k.startswith("reader.")})
    return reader.eval()


# -- quality measures shared by scripts/export_glyphs.py and tests/test_glyphs_quality.py --------------
def glyph_iou(pred: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Per-glyph IoU of the ink masks (both thresholded at 0.5), ``(..., 64, 64) -> (...)``.

    Example:
        >>> float(glyph_iou(torch.ones(1, 4, 4), torch.ones(1, 4, 4))[0])
        1.0
    """
    p, r = pred > 0.5, real > 0.5
    return (p & r).sum((-2, -1)) / (p | r).sum((-2, -1)).clamp_min(1)


def _boundary(mask: torch.Tensor) -> torch.Tensor:
    """Ink pixels of ``(M, 1, H, W)`` bool masks with a background pixel among their 8 neighbours."""
    m = mask.float()
    return (m - (-F.max_pool2d(-m, 3, 1, 1))) > 0


def edge_fscore(pred: torch.Tensor, real: torch.Tensor, tol: int = 1) -> float:
    """Boundary F-score of the 0.5 ink masks of glyphs ``pred`` vs ``real`` (``(..., 64, 64)``), mean per glyph.

    A boundary pixel counts as matched when the other mask has a boundary pixel within ``tol``
    pixels (Chebyshev). Logit scaling cannot change it (the 0.5 mask stays the same); blurred or
    averaged shapes lose corners and thin strokes and score lower.

    Example:
        >>> g = torch.zeros(1, 16, 16); g[0, 4:12, 4:12] = 1
        >>> edge_fscore(g, g)
        1.0
    """
    bp = _boundary(pred.reshape(-1, 1, *pred.shape[-2:]) > 0.5)
    br = _boundary(real.reshape(-1, 1, *real.shape[-2:]) > 0.5)
    near = lambda b: F.max_pool2d(b.float(), 2 * tol + 1, 1, tol) > 0  # noqa: E731
    precision = (bp & near(br)).sum((1, 2, 3)) / bp.sum((1, 2, 3)).clamp_min(1)
    recall = (br & near(bp)).sum((1, 2, 3)) / br.sum((1, 2, 3)).clamp_min(1)
    return float((2 * precision * recall / (precision + recall).clamp_min(1e-9)).mean())


def knn_precision_recall(real: torch.Tensor, fake: torch.Tensor, k: int = 3) -> tuple[float, float]:
    """Improved precision and recall (Kynkaanniemi et al. 2019) of feature rows ``fake`` vs ``real``.

    Precision: the share of ``fake`` rows inside the k-NN ball of some ``real`` row (realism).
    Recall: the share of ``real`` rows inside the k-NN ball of some ``fake`` row (coverage), so a
    collapsed generator (every sample alike) has recall 0 however real its one sample looks.

    Example:
        >>> x = torch.randn(50, 4, generator=torch.Generator().manual_seed(0))
        >>> knn_precision_recall(x, x)
        (1.0, 1.0)
        >>> knn_precision_recall(x, x[:1].repeat(50, 1))[1] <= 0.1
        True
    """
    real, fake = real.double(), fake.double()
    r_real = torch.cdist(real, real).kthvalue(k + 1, 1).values
    r_fake = torch.cdist(fake, fake).kthvalue(k + 1, 1).values
    cross = torch.cdist(fake, real)
    precision = float((cross <= r_real[None]).any(1).double().mean())
    recall = float((r_fake[None] >= cross.T).any(1).double().mean())
    return precision, recall
