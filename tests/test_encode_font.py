"""``GlyphsGenerator.encode_font`` on fonts built here with fontTools: symbol fonts, empty outlines,
subsets, bad paths and repeated characters each get a clear error (each test fails on the old code)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import latentlab as ll
from latentlab.errors import InputImageError, InvalidValueError
from latentlab.generators._glyphs_net import CHARS

pytest.importorskip("fontTools")
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen

DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def _latin_name(c: str) -> str:
    return DIGITS[int(c)] if c.isdigit() else c


def _shape(i: int, empty: bool) -> object:
    pen = TTGlyphPen(None)
    if not empty:  # a bar of a size that depends on the character, with a notch: glyphs differ
        w, h = 180 + (i % 7) * 50, 450 + (i % 5) * 70
        pen.moveTo((100, 0))
        pen.lineTo((100, h))
        pen.lineTo((100 + w, h))
        pen.lineTo((100 + w, h // 2))
        pen.lineTo((100 + w // 2, h // 2))
        pen.lineTo((100 + w // 2, 0))
        pen.closePath()
    return pen.glyph()


def build_font(
    path: Path, chars: str = CHARS, names: dict[str, str] | None = None, empty: str = "", notdef: int = 600
) -> Path:
    """A TrueType font with one glyph per character of ``chars``, named ``names[c]`` (Latin names by default)."""
    names = names or {c: _latin_name(c) for c in chars}
    order = [".notdef"] + [names[c] for c in chars]
    fb = FontBuilder(1000, isTTF=True)
    fb.setupGlyphOrder(order)
    fb.setupCharacterMap({ord(c): names[c] for c in chars})
    box = TTGlyphPen(None)
    for x, y in ((0, 0), (0, notdef), (notdef // 2, notdef), (notdef // 2, 0)):
        (box.moveTo if (x, y) == (0, 0) else box.lineTo)((x, y))
    box.closePath()
    glyphs = {".notdef": box.glyph(), **{names[c]: _shape(CHARS.index(c), c in empty) for c in chars}}
    fb.setupGlyf(glyphs)
    fb.setupHorizontalMetrics({n: (700, 0) for n in order})
    fb.setupHorizontalHeader(ascent=800, descent=-200)
    fb.setupNameTable({"familyName": "LatentlabTest", "styleName": "Regular"})
    fb.setupOS2()
    fb.setupPost()
    fb.save(str(path))
    return path


@pytest.fixture(scope="module")
def gen() -> ll.Generator:
    return ll.load("glyphs")


def test_a_latin_font_built_here_encodes(gen: ll.Generator, tmp_path: Path) -> None:
    z = gen.encode_font(build_font(tmp_path / "latin.ttf"))
    assert z.shape == gen.default_space.shape and bool(torch.isfinite(z).all())


def test_symbol_fonts_are_refused(gen: ll.Generator, tmp_path: Path) -> None:
    greek = {
        c: f"sym{i:02d}" if not c.isalpha() else ("Alpha" if c == "A" else f"greek{i:02d}") for i, c in enumerate(CHARS)
    }
    with pytest.raises(InputImageError, match="symbol or dingbat font"):
        gen.encode_font(build_font(tmp_path / "symbol.ttf", names=greek))


def test_empty_outlines_are_named(gen: ll.Generator, tmp_path: Path) -> None:
    font = build_font(tmp_path / "holes.ttf", empty="Hx")
    with pytest.raises(InputImageError, match="empty outlines") as info:
        gen.encode_font(font)
    assert "'Hx'" in str(info.value) and "chars=" in str(info.value)
    assert gen.encode_font(font, chars="abc").shape == gen.default_space.shape  # the others still encode


def test_a_font_with_none_of_the_characters_suggests_no_empty_chars(gen: ll.Generator, tmp_path: Path) -> None:
    font = build_font(tmp_path / "digits.ttf", chars="0123456789")
    with pytest.raises(InputImageError, match="lacks 3") as info:
        gen.encode_font(font, chars="Hab")
    assert "chars=''" not in str(info.value) and "none of the requested" in str(info.value)


def test_bad_paths_get_clear_errors(gen: ll.Generator, tmp_path: Path) -> None:
    with pytest.raises(InputImageError, match="is a folder"):
        gen.encode_font(tmp_path)
    for bad in (None, b"font.ttf", 3):
        with pytest.raises(InputImageError, match="string or a path"):
            gen.encode_font(bad)  # type: ignore[arg-type]


def test_repeated_characters_are_refused(gen: ll.Generator, tmp_path: Path) -> None:
    font = build_font(tmp_path / "latin.ttf")
    with pytest.raises(InvalidValueError, match="repeats") as info:
        gen.encode_font(font, chars="HHHHa")
    assert "chars='Ha'" in str(info.value)


def test_a_subset_font_is_scaled_by_the_characters_it_has(gen: ll.Generator, tmp_path: Path) -> None:
    # the fallback (.notdef) box of a subset font must not set the point size
    small = gen.encode_font(build_font(tmp_path / "a.ttf", chars="Hamburg", notdef=300), chars="Hamburg")
    huge = gen.encode_font(build_font(tmp_path / "b.ttf", chars="Hamburg", notdef=2400), chars="Hamburg")
    assert torch.allclose(small, huge, atol=1e-5)
