"""Specimen text people type: spaces are gaps of the font's width, other characters get the nearest ASCII fix.

Most tests run on a tiny untrained bundle (see ``tests/test_glyphs.py``); the width of a space is
checked on the shipped model against the real fonts of its evaluation sample.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import latentlab as ll
from latentlab.errors import InvalidValueError
from latentlab.generators._glyphs_net import CHARS, GlyphsConfig, GlyphsNet
from latentlab.generators.glyphs import (
    CELL,
    GlyphsGenerator,
    load_bundled,
    load_eval_sample,
    nearest_ascii,
    save_bundle,
)

SMALL = GlyphsConfig(latent_dim=8, char_dim=8, enc_width=8, hidden=32, dec_widths=(32, 16, 8, 8, 8))


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    codes = np.random.default_rng(0).normal(size=(5, 8)).astype(np.float32)
    labels = {"family": np.array(list("abcde")), "weight": np.array([100, 300, 400, 700, 900])}
    card = {"name": "glyphs", "family": "glyphs", "module": "glyphs", "config": SMALL.to_dict(), "text": "Hamburg"}
    return save_bundle(tmp_path_factory.mktemp("glyphs"), GlyphsNet(SMALL), card, codes, labels)


@pytest.fixture()
def gen(bundle: Path) -> GlyphsGenerator:
    g = load_bundled(bundle)
    g.space_width = 20
    return g


def test_a_space_is_a_gap_of_paper_between_the_same_glyph_cells(gen: GlyphsGenerator) -> None:
    z = gen.sample(2, seed=1)
    gen.text = "Ab1"
    solid = gen.decode(z)
    gen.text = "Ab 1"
    spaced = gen.decode(z)
    assert gen.image_size == (64, 3 * CELL + 20) and spaced.shape == (2, 3, 64, 3 * CELL + 20)
    assert torch.equal(spaced[..., : 2 * CELL], solid[..., : 2 * CELL])
    assert torch.equal(spaced[..., 2 * CELL + 20 :], solid[..., 2 * CELL :])
    assert float(spaced[..., 2 * CELL : 2 * CELL + 20].min()) == 1.0  # plain paper
    gen.text = "Ab  1"  # two spaces, two gaps
    assert gen.image_size == (64, 3 * CELL + 40)


def test_preview_and_encode_follow_the_spaced_text(gen: GlyphsGenerator) -> None:
    gen.text = "Ab 1"
    z = gen.sample(2, seed=2)
    assert gen.preview(z).shape == (2, 3, 32, (3 * CELL + 20) // 2)
    spaced_codes = gen.encode(gen.decode(z))
    gen.text = "Ab1"
    assert torch.allclose(spaced_codes, gen.encode(gen.decode(z)), atol=1e-5)


def test_pixel_mask_and_measures_skip_spaces(gen: GlyphsGenerator) -> None:
    gen.text = "Ab 1"
    m = gen.pixel_mask("b1")
    assert m.shape == (64, 3 * CELL + 20)
    assert float(m[:, :CELL].max()) == 0.0 and float(m[:, CELL : 2 * CELL].min()) == 1.0
    assert float(m[:, 2 * CELL : 2 * CELL + 20].max()) == 0.0 and float(m[:, 2 * CELL + 20 :].min()) == 1.0
    views, per_latent = gen.measure_views(gen.sample(1, seed=0))
    assert per_latent == 3 and views.shape == (3, 3, 64, 64)


def test_space_width_must_be_even(gen: GlyphsGenerator) -> None:
    with pytest.raises(InvalidValueError, match="even"):
        gen.space_width = 21


def test_a_space_is_the_width_of_n_in_real_fonts() -> None:
    """The measured gap is the width of a lowercase n; the real fonts of the eval sample say how wide that is."""
    g = ll.load("glyphs")
    real = load_eval_sample(g.folder)["glyphs"].float() / 255

    def median_width(ch: str) -> float:
        cols = (real[:, CHARS.index(ch)] > 0.5).any(1)
        widths = [int(c.nonzero().max() - c.nonzero().min() + 1) for c in cols if c.any()]
        return float(np.median(widths))

    width = g.space_width
    assert abs(width - median_width("n")) <= 4, (width, median_width("n"))
    assert abs(width - median_width("m")) > 8 and abs(width - median_width("i")) > 8  # controls: other letters
    g.text = "Hello World"
    assert g.image_size == (64, 10 * CELL + width)


@pytest.mark.parametrize(("text", "suggestion"), [("Café", "'Cafe'"), ("Straße", "'Strasse'"), ("Ærø", "'AEro'")])
def test_an_accented_letter_suggests_the_nearest_ascii(gen: GlyphsGenerator, text: str, suggestion: str) -> None:
    with pytest.raises(InvalidValueError, match="no glyph for") as info:
        gen.text = text
    assert info.value.fix is not None and suggestion in info.value.fix
    assert gen.text == "Hamburg"  # a refused text changes nothing


def test_punctuation_is_left_out_of_the_suggestion(gen: GlyphsGenerator) -> None:
    with pytest.raises(InvalidValueError) as info:
        gen.text = "Hi, you!"
    assert info.value.fix is not None and "leave out" in info.value.fix and "'Hi you'" in info.value.fix


def test_text_needs_a_glyph_and_glyphs_refuse_spaces(gen: GlyphsGenerator) -> None:
    with pytest.raises(InvalidValueError, match="at least one letter"):
        gen.text = "   "
    with pytest.raises(InvalidValueError, match="space is not a glyph"):
        gen.glyphs(gen.sample(1, seed=0), "a b")


def test_nearest_ascii() -> None:
    assert [nearest_ascii(c) for c in "éÅçñ①ß?"] == ["e", "A", "c", "n", "1", "ss", ""]
