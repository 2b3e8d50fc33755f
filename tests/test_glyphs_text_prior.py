"""The ``glyphs-text`` prior: words -> fonts (issue 19).

Uses the shipped prior and the packaged MiniLM encoder (the ``text`` extra, in ``dev``); the
quality bars that run in seconds are checked here, each beside a negative control that fails it
(guidance 0 ignores the words).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import latentlab as ll
from latentlab.errors import InvalidValueError, LatentLabError, MissingDependencyError, ShapeError
from latentlab.generators import glyphs_text_quality as q
from latentlab.generators._font_words import (
    CATEGORY_PROMPTS,
    FORBIDDEN_STEMS,
    TEST_WORDS,
    VALIDATION_WORDS,
    WEIGHT_PROMPTS,
    caption_leaks,
)
from latentlab.generators._weights import sha256_file
from latentlab.generators.glyphs_text import GlyphsTextGenerator

REPO = Path(__file__).resolve().parent.parent
CAPTIONS = REPO / "data" / "fonts" / "captions.json"


@pytest.fixture(scope="module")
def prior(shipped_glyphs) -> GlyphsTextGenerator:
    return shipped_glyphs.text_prior()


# -- captions ------------------------------------------------------------------------------
def test_no_caption_contains_a_test_or_validation_word() -> None:
    doc = json.loads(CAPTIONS.read_text())
    caps = [c for cs in doc["train"] + doc.get("heldout", []) for c in cs]
    assert len(caps) > 10_000
    assert {"typewrit", "cursiv", "grotesq", "book"} <= set(FORBIDDEN_STEMS)
    assert all(w.split()[0][:6].lower() in " ".join(FORBIDDEN_STEMS) for w in [*TEST_WORDS, *VALIDATION_WORDS])
    leaks = [c for c in caps if caption_leaks(c)]
    assert leaks == []
    # negative control: the check sees a planted test word
    assert caption_leaks("a Cursive script") and caption_leaks("an old book face")


def test_captions_match_their_manifest_and_the_card(prior) -> None:
    digest, name = (REPO / "data" / "fonts" / "captions.sha256").read_text().split()
    assert name == CAPTIONS.name and sha256_file(CAPTIONS) == digest
    assert prior.card["data"]["captions_sha256"] == digest


def test_captions_say_what_the_labels_say() -> None:
    doc = json.loads(CAPTIONS.read_text())
    labels = json.loads((REPO / "latentlab" / "models" / "glyphs" / "labels.json").read_text())
    mono = [i for i, c in enumerate(labels["category"]) if c == "monospace"]
    assert len(doc["train"]) == len(labels["family"])
    assert all(len(doc["train"][i]) >= 4 for i in range(len(doc["train"])))
    said = np.mean(
        [any("mono" in c or "fixed" in c or "cod" in c or "program" in c for c in doc["train"][i]) for i in mono]
    )
    assert said > 0.9


# -- text encoder ------------------------------------------------------------------------------
def test_embeddings_are_deterministic_unit_vectors(prior) -> None:
    a = prior.embed(["a bold serif", "a thin script"])
    prior.encoder._cache.clear()
    b = prior.embed(["a bold serif", "a thin script"])
    assert a.shape == (2, 384)
    assert torch.allclose(a, b, atol=1e-5)
    assert torch.allclose(a.norm(dim=1), torch.ones(2), atol=1e-4)
    assert float(a[0] @ a[1]) < 0.95


@pytest.mark.parametrize("bad", ["", "   ", 3, [], ["ok", None]])
def test_bad_prompts_get_a_clear_error(prior, bad) -> None:
    with pytest.raises(InvalidValueError):
        prior.embed(bad)
    with pytest.raises(InvalidValueError):
        prior.glyphs.from_text(bad)


def test_missing_text_extra_names_the_install(monkeypatch) -> None:
    import sys

    from latentlab.text import TextEncoder

    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # makes the import fail
    with pytest.raises(MissingDependencyError) as err:
        TextEncoder().encode("a bold serif")
    assert 'pip install "latentlab[text]"' in str(err.value)


# -- the API ------------------------------------------------------------------------------------
def test_from_text_gives_style_latents_that_every_glyphs_tool_takes(shipped_glyphs) -> None:
    z = shipped_glyphs.from_text("a heavy rounded display face", n=4, seed=0, guidance=3.0)
    assert z.shape == (4, 64) and torch.isfinite(z).all()
    assert shipped_glyphs.decode(z).shape == (4, 3, 64, 52 * len(shipped_glyphs.text))
    again = shipped_glyphs.from_text("a heavy rounded display face", n=4, seed=0, guidance=3.0)
    assert torch.equal(z, again)
    other = shipped_glyphs.from_text("a heavy rounded display face", n=4, seed=1, guidance=3.0)
    assert not torch.allclose(z, other)
    assert shipped_glyphs.from_text(["a bold serif", "a thin script"], n=2).shape == (4, 64)
    with pytest.raises(InvalidValueError):
        shipped_glyphs.from_text("a bold serif", n=0)


def test_guidance_zero_ignores_the_prompt(prior) -> None:
    noise = prior.sample(3, seed=4)
    a0 = prior.styles(noise, prompt="a black slab serif", guidance=0.0)
    b0 = prior.styles(noise, prompt="a thin italic script", guidance=0.0)
    assert torch.allclose(a0, b0)
    a3 = prior.styles(noise, prompt="a black slab serif", guidance=3.0)
    b3 = prior.styles(noise, prompt="a thin italic script", guidance=3.0)
    assert (a3 - b3).norm(dim=1).min() > 1.0


def test_spaces_follow_the_joint_latent_design(prior) -> None:
    assert [s.name for s in prior.spaces] == ["noise", "prompt", "joint"]
    assert prior.space("noise").shape == (64,) and prior.space("prompt").shape == (384,)
    assert prior.can("prompt")
    noise = prior.sample(2, seed=1)
    by_noise = prior.decode(noise, prompt="a bold sans-serif")
    joint = prior.compose(noise=noise, prompt="a bold sans-serif")
    assert joint.shape == (2, 448)
    assert torch.allclose(prior.decode(joint, space="joint"), by_noise, atol=1e-5)
    parts = prior.space("joint").split(joint)
    assert torch.equal(parts["noise"], noise)
    emb = prior.embed("a bold sans-serif")
    by_prompt = prior.decode(emb.expand(2, -1), space="prompt", noise=noise)
    assert torch.allclose(by_prompt, by_noise, atol=1e-5)
    keys = prior.keyframes([("a serif", 1), ("a script", 7)])
    assert keys.shape == (2, 448)
    path = ll.interpolate(keys[0], keys[1], 3, space=prior.space("joint"))
    assert prior.decode(path, space="joint").shape == (3, 3, 64, 52 * len(prior.text))
    prior.prompt = "a light italic serif"
    z = prior.sample(2, seed=0, space="joint")
    assert torch.allclose(prior.space("joint").split(z)["prompt"], prior.embed("a light italic serif").expand(2, -1))
    prior.prompt = "a regular sans-serif"


def test_bad_latents_get_a_clear_error(prior) -> None:
    with pytest.raises(ShapeError):
        prior.decode(torch.zeros(2, 300), space="prompt")
    with pytest.raises(ShapeError):
        prior.decode(prior.sample(3, seed=0), prompt=["a", "b"])
    with pytest.raises(InvalidValueError):
        prior.styles(prior.sample(1, seed=0), guidance=-1.0)
    with pytest.raises(LatentLabError):
        prior.decode(prior.compose(seed=0, prompt="a serif"), space="joint", prompt="a script")


def test_denoising_steps_end_at_the_result(prior) -> None:
    noise = prior.sample(2, seed=3)
    steps = prior.denoising_steps(noise, prompt="a monospace font", steps=10)
    assert steps.shape == (10, 2, 64)
    assert torch.allclose(steps[-1], prior.styles(noise, prompt="a monospace font", steps=10), atol=1e-4)


def test_registered_and_loadable_by_name() -> None:
    assert "glyphs-text" in ll.models().names
    g = ll.load("glyphs-text")
    assert isinstance(g, GlyphsTextGenerator)
    assert g.card["training"]["steps"] >= 3000  # really trained, not a few steps


# -- quality bars that run in seconds (figures for all bars: the card, from export_glyphs_text.py) ------
def test_bar1_weight_words_order_the_ink(prior) -> None:
    got = q.weight_spearman(prior, WEIGHT_PROMPTS, ("a {} font", "a {} sans-serif"), seeds=2)
    control = q.weight_spearman(prior, WEIGHT_PROMPTS, ("a {} font", "a {} sans-serif"), seeds=2, guidance=0.0)
    assert got["mean"] >= 0.9
    assert control["mean"] < 0.9  # without the words there is nothing to order


def test_bar2_italic_prompts_slant(prior) -> None:
    ref = prior.glyphs.codes()[::12][:150]
    std = float(q.font_measure(prior.glyphs, ref, "slant").std())
    pairs = (("an italic font", "an upright font"), ("an italic serif", "an upright serif"))
    got = q.italic_gap(prior, pairs, std, seeds=4)
    control = q.italic_gap(prior, pairs, std, seeds=4, guidance=0.0)
    assert got["in_std"] >= 1.0
    assert abs(control["in_std"]) < 0.2


def test_bar3_category_from_caption_words(prior) -> None:
    codes, cats = prior.glyphs.codes(), prior.glyphs.labels()["category"]
    got = q.category_rate(prior, CATEGORY_PROMPTS, codes, cats, n=10)
    control = q.category_rate(prior, CATEGORY_PROMPTS, codes, cats, n=10, guidance=0.0)
    assert np.mean(list(got.values())) >= 0.7
    assert np.mean(list(control.values())) < 0.5


def test_bar5_variety_and_legibility(prior) -> None:
    from latentlab.generators.glyphs import eval_reader, load_eval_sample

    codes = prior.glyphs.codes()
    v = q.variety(prior, ["a bold sans-serif", "a handwriting script"], codes, seeds=8)
    assert v["min"] >= 0.5
    # negative control: one noise for all eight "seeds" gives one font eight times
    same = prior.styles(prior.sample(1, seed=1).expand(8, -1), prompt="a bold sans-serif")
    assert q.mean_pairwise(same) / v["train_pairwise"] < 0.5
    reader = eval_reader(load_eval_sample(prior.glyphs.folder))
    samples = prior.styles(prior.sample(8, seed=5), prompt="a regular serif")
    real = reader.accuracy(prior.glyphs.glyphs(prior.glyphs.codes()[::60][:20]))  # the reader on training fonts
    # the absolute bar (card: 0.974 over five prompts, with the code box) and relative to real type
    got = reader.accuracy(prior.glyphs.glyphs(samples))
    assert got >= 0.95 and got / real >= 0.95
    noise_fonts = torch.randn(8, 64, generator=torch.Generator().manual_seed(0)) * 3
    assert reader.accuracy(prior.glyphs.glyphs(noise_fonts)) / real < 0.95


def test_shipped_sampler_settings_are_in_force(prior) -> None:
    """The bundle reads prompts by ensembling over the caption templates and keeps samples in the code box."""
    from latentlab.generators.glyphs_text import ensemble_texts
    from latentlab.text import default_encoder

    cfg = prior.config
    assert cfg.code_box > 0 and len(cfg.prompt_templates) >= 3
    texts = ensemble_texts("a bold serif", cfg.prompt_templates)
    want = torch.nn.functional.normalize(default_encoder().encode(texts).mean(0), dim=0)
    assert torch.allclose(prior.embed("a bold serif")[0].cpu(), want, atol=1e-5)
    assert float(prior.embed("a bold serif")[0].cpu() @ default_encoder().encode("a bold serif")[0]) < 0.999
    net = prior.net
    styles = prior.styles(prior.sample(16, seed=3), prompt="a heavy rounded display face")
    x = net.standardise(styles)
    assert bool(((x >= net.code_lo - 1e-4) & (x <= net.code_hi + 1e-4)).all())
    # control: the box is a real constraint, some training codes lie outside it
    outside = (net.standardise(prior.glyphs.codes()) > net.code_hi).any(1).float().mean()
    assert float(outside) > 0.05


def test_shipped_snap_reads_only_unseen_words_through_the_caption_anchors(prior) -> None:
    """Caption-like prompts pass the gate untouched; a validation word (in no caption) is snapped."""
    from latentlab.generators._font_words import VALIDATION_WORDS, WEIGHT_PROMPTS

    net = prior.net
    assert net.config.anchors > 0 and net.config.snap_gate
    assert torch.allclose(net.anchors.float().norm(dim=1), torch.ones(net.config.anchors), atol=1e-2)
    familiar = prior.embed(
        ["a bold serif", "an italic font", "a monospace font"] + [f"a {w} font" for w in WEIGHT_PROMPTS]
    )
    assert float(net.snap_share(familiar).max()) == 0.0
    assert torch.equal(net.snap(familiar), familiar)
    # control: words no caption contains are moved (the gate is not simply closed)
    unseen = prior.embed(["terminal", "teletype", "helvetica"])
    assert set(["terminal", "teletype", "helvetica"]) <= set(VALIDATION_WORDS)
    share = net.snap_share(unseen)
    assert float(share.min()) > 0.5
    assert float((net.snap(unseen) * unseen).sum(1).max()) < 0.99


def test_the_prior_meets_the_generator_contract(prior, tmp_path) -> None:
    from latentlab.testing import check_generator

    prior.steps = 5  # the contract decodes many batches; fewer DDIM steps keep it to seconds
    try:
        passed = check_generator(prior, workdir=tmp_path)
    finally:
        prior.steps = prior.config.sample_steps
    assert passed


def test_explorer_describe_a_font_box(prior) -> None:
    prior.prompt = "a regular sans-serif"
    ex = ll.Explorer(prior, n_components=2)
    try:
        assert ex.prompt_box in ex.children[0].children[1].children
        before = ex.image.value
        ex.prompt_box.value = "a black slab serif"  # what Enter in the box does
        assert ex.wait(60)
        assert prior.prompt == "a black slab serif" and ex.image.value != before
        ex.sliders[0].value = 1.0  # the sliders keep working from there
        assert ex.wait(60)
    finally:
        ex.close()
        prior.prompt = "a regular sans-serif"


def test_text_direction_from_prompts_moves_the_ink(prior) -> None:
    heavy = ll.directions.from_prompts(
        prior, ["a black sans-serif", "a heavy serif"], ["a thin sans-serif", "a hairline serif"]
    )
    base = prior.embed("a regular sans-serif")
    noise = prior.sample(4, seed=2)
    n = heavy.provenance["norm"]
    ink = [
        float(
            q.font_measure(
                prior.glyphs,
                prior.styles(heavy.apply(base, a * n).expand(4, -1), space="prompt", noise=noise),
                "ink_coverage",
            ).mean()
        )
        for a in (-1.0, 0.0, 1.0)
    ]
    assert ink[0] < ink[1] < ink[2]
    # negative control: a random direction of the same length does not order the ink
    rand = torch.nn.functional.normalize(torch.randn(1, 384, generator=torch.Generator().manual_seed(0)), dim=1)
    rand = rand * n
    flat = [
        float(
            q.font_measure(
                prior.glyphs, prior.styles((base + a * rand).expand(4, -1), space="prompt", noise=noise), "ink_coverage"
            ).mean()
        )
        for a in (-1.0, 0.0, 1.0)
    ]
    assert abs(flat[2] - flat[0]) < abs(ink[2] - ink[0])
