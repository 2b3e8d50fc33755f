"""Quality bars of the shipped ``glyphs`` model (issues 9 and 23), measured offline on its evaluation sample.

The bundle ships 25 fonts of the *test half* of the held-out families (never trained on, and read by
no decision: the logit sharpness is set on training fonts, choices use the validation half), the
IoU that the retrieval baseline "nearest training font by H a m b g" reached on each of them, the
reader's features of all 161 test-half fonts, a CNN reader of characters and a linear category
classifier, both trained on real training fonts only. A missing bundle fails.

Every bar has a negative control that fails it (the mean training font, blurred glyphs, a cross-fade
of pictures). Bars the model misses are ``xfail(strict=True)``: they start failing (XPASS) the day a
better model meets them, so the card and these tests get updated together. Floors marked "regression"
sit a little under today's figures on this sample.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import torch

import latentlab as ll
from latentlab.generators.glyphs import CHARS, GlyphsGenerator, edge_fscore, glyph_iou, knn_precision_recall
from latentlab.generators.registry import BUNDLED_DIR

FOLDER = BUNDLED_DIR / "glyphs"
FIVE = "Hambg"
CATEGORIES = ("serif", "sans-serif", "display", "handwriting", "monospace")  # sample["category"] indexes these
RECON_FLOOR, STYLE_FLOOR, EDGE_FLOOR = 0.57, 0.76, 0.72  # regression floors under today's 0.595, 0.84, 0.751


def test_bundle_is_shipped() -> None:
    """A missing bundle fails here (and in every test below) instead of skipping the quality bars."""
    assert (FOLDER / "card.json").is_file(), f"the glyphs bundle is missing from {FOLDER}"


@pytest.fixture(scope="module")
def gen(shipped_glyphs: GlyphsGenerator) -> Iterator[GlyphsGenerator]:
    """The shipped model, measured on one thread (the shared CI cores); the thread count is restored after."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield shipped_glyphs
    finally:
        torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def sample() -> dict[str, torch.Tensor]:
    from latentlab.generators.glyphs import load_eval_sample

    return load_eval_sample(FOLDER)


@pytest.fixture(scope="module")
def real(sample: dict[str, torch.Tensor]) -> torch.Tensor:
    """The shipped test-half fonts, ``(25, 62, 64, 64)`` in [0, 1]."""
    return sample["glyphs"].float() / 255


@pytest.fixture(scope="module")
def recon(gen: GlyphsGenerator, real: torch.Tensor) -> torch.Tensor:
    """Each shipped font encoded from all 62 glyphs and decoded."""
    return torch.stack([gen.glyphs(gen.encode_glyphs({c: f[i] for i, c in enumerate(CHARS)})) for f in real])


@pytest.fixture(scope="module")
def mean_font(gen: GlyphsGenerator) -> torch.Tensor:
    """The averaging control: the decoded mean of the training codes, ``(1, 62, 64, 64)``."""
    return gen.glyphs(torch.as_tensor(gen.codes()).float().mean(0, keepdim=True))


@pytest.fixture(scope="module")
def samples(gen: GlyphsGenerator) -> torch.Tensor:
    """300 sampled fonts (the same draw as the card's figures)."""
    return gen.glyphs(gen.sample(300, seed=0))


def blur(g: torch.Tensor, k: int = 5) -> torch.Tensor:
    """The blurred-model control: glyphs ``(..., 64, 64)`` box-blurred ``k x k``."""
    flat = g.reshape(-1, 1, *g.shape[-2:]).float()
    return torch.nn.functional.avg_pool2d(flat, k, 1, k // 2, count_include_pad=False).reshape(g.shape)


def read(sample: dict[str, torch.Tensor], fonts: torch.Tensor) -> float:
    from latentlab.generators.glyphs import eval_reader

    return eval_reader(sample).accuracy(fonts)


def _classifier(sample: dict[str, torch.Tensor], name: str) -> dict[str, np.ndarray]:
    return {k.split(".", 1)[1]: v.numpy() for k, v in sample.items() if k.startswith(name + ".")}


def _predict(clf: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    h = (x - clf["mean"]) @ clf["components"].T / clf["scale"]
    return np.asarray(clf["classes"])[np.argmax(h @ clf["coef"].T + clf["intercept"], axis=1)]


def test_loads_with_card(gen: GlyphsGenerator) -> None:
    assert gen.name == "glyphs" and gen.can("encode_font")
    assert gen.card["metrics"]["heldout_fonts"] == {"validation": 161, "test (measured here)": 161}
    assert gen.codes().shape[0] == len(gen.labels()["family"]) > 1000


def test_eval_sample_is_test_half_fonts_of_every_category(sample: dict[str, torch.Tensor]) -> None:
    assert sample["glyphs"].shape[1:] == (62, 64, 64) and len(sample["glyphs"]) >= 24
    assert set(sample["category"].tolist()) == set(range(5))
    assert sample["test_half_reader_features"].shape == (161, 62 * 128)


# -- reconstruction (bar 1) and style kept (bar 4) -----------------------------------------------------


def _style_kept(recon: torch.Tensor, real: torch.Tensor) -> float:
    """Share of reconstructions whose nearest real font (pixels) is their own."""
    return float((torch.cdist(recon.flatten(1), real.flatten(1)).argmin(1) == torch.arange(len(real))).float().mean())


def test_reconstruction_regression_floors(recon: torch.Tensor, real: torch.Tensor, mean_font: torch.Tensor) -> None:
    """Today on this sample: IoU 0.595, style kept 0.84 (of 25); the mean font: IoU 0.386, style kept 0.04."""
    iou = float(glyph_iou(recon, real).mean())
    assert iou >= RECON_FLOOR, iou  # regression
    assert _style_kept(recon, real) >= STYLE_FLOOR
    control = mean_font.expand_as(real)
    assert float(glyph_iou(control, real).mean()) < RECON_FLOOR and _style_kept(control, real) < STYLE_FLOOR


@pytest.mark.xfail(strict=True, reason="missed: reconstruction IoU 0.671 on the test half (card), bar 0.75")
def test_bar1_reconstruction_iou(recon: torch.Tensor, real: torch.Tensor) -> None:
    assert float(glyph_iou(recon, real).mean()) >= 0.75


@pytest.mark.xfail(strict=True, reason="missed: display 0.502 and handwriting 0.215 on the test half (card), bar 0.60")
def test_bar1_every_category(recon: torch.Tensor, real: torch.Tensor, sample: dict[str, torch.Tensor]) -> None:
    per_font = glyph_iou(recon, real).mean(1)
    for c in range(5):
        assert float(per_font[sample["category"] == c].mean()) >= 0.60, c


@pytest.mark.xfail(
    strict=True,
    reason="missed: style kept 0.714 in pixels over the 161 test-half fonts (card); "
    "0.52 for this sample in the reader's features; bar 0.80",
)
def test_bar4_style_kept(recon: torch.Tensor, real: torch.Tensor, sample: dict[str, torch.Tensor]) -> None:
    """Nearest of the 161 test-half fonts in the reader's features (25 candidates in pixels would be too easy: 0.84)."""
    feats = sample["test_half_reader_features"].float()
    from latentlab.generators.glyphs import eval_reader

    mine = eval_reader(sample).features(recon)
    own = eval_reader(sample).features(real)
    own_index = torch.cdist(own, feats).argmin(1)  # where each shipped font sits among the 161
    assert float((torch.cdist(mine, feats).argmin(1) == own_index).float().mean()) >= 0.80


def test_bar2_completion_beats_retrieval(
    gen: GlyphsGenerator, sample: dict[str, torch.Tensor], real: torch.Tensor
) -> None:
    rest = [i for i, c in enumerate(CHARS) if c not in FIVE]
    ious = []
    for font in real:
        z = gen.encode_glyphs({c: font[CHARS.index(c)] for c in FIVE})
        ious.append(float(glyph_iou(gen.glyphs(z), font)[rest].mean()))
    # the sample is stratified (2 of the 4 script fonts): weight each category as in the whole test half
    w = _test_half_weights(gen, sample)
    completion, retrieval = float(np.sum(w * np.array(ious))), float(np.sum(w * sample["retrieval5_iou"].numpy()))
    assert completion >= retrieval + 0.05, (completion, retrieval)
    assert float(np.mean(ious)) > float(sample["retrieval5_iou"].mean())  # unweighted, it still beats retrieval


def _test_half_weights(gen: GlyphsGenerator, sample: dict[str, torch.Tensor]) -> np.ndarray:
    """Per-font weights (sum 1) that give each category its share of the 161 test-half fonts."""
    counts = gen.card["metrics"]["heldout_fonts_by_category"]
    share = np.array([counts[c] for c in CATEGORIES], float) / sum(counts.values())
    cat = sample["category"].numpy()
    return share[cat] / np.bincount(cat, minlength=5)[cat]


# -- crispness (bar 3): the 0.5 ink mask's outline, which logit scaling cannot change ----------------------


def test_crisp_edges_regression_floor(recon: torch.Tensor, real: torch.Tensor, mean_font: torch.Tensor) -> None:
    """Edge F-score today 0.751; controls: reconstructions blurred 5x5 0.675, the mean font 0.584 (regression floor)."""
    assert edge_fscore(recon, real) >= EDGE_FLOOR
    assert edge_fscore(blur(recon), real) < EDGE_FLOOR
    assert edge_fscore(mean_font.expand_as(real), real) < EDGE_FLOOR


@pytest.mark.xfail(strict=True, reason="missed: edge F-score 0.809 vs 0.904 for real glyphs blurred 5x5 (card)")
def test_bar3_outlines_as_exact_as_real_type_blurred_5x5(recon: torch.Tensor, real: torch.Tensor) -> None:
    assert edge_fscore(recon, real) >= edge_fscore(blur(real), real)


@pytest.mark.xfail(strict=True, reason="missed: with sharpness set on training fonts, held-out grey ratio 1.89 (card)")
def test_bar3_grey_ratio(recon: torch.Tensor, real: torch.Tensor) -> None:
    grey = lambda x: float(((x > 0.2) & (x < 0.8)).float().mean())  # noqa: E731
    assert grey(recon) <= 1.5 * grey(real)


# -- legibility, coverage, variety (bar 5) --------------------------------------------------------------


def test_reader_reads_real_heldout_glyphs(sample: dict[str, torch.Tensor], real: torch.Tensor) -> None:
    # 0.868 on this sample (more display and script fonts than before); a judge that cannot read real type
    # would prove nothing
    assert read(sample, real) >= 0.85
    assert read(sample, torch.roll(real, 1, dims=1)) < 0.1  # and it reads the character, not the slot


def _legible_and_covering(sample: dict[str, torch.Tensor], fonts: torch.Tensor) -> tuple[bool, str]:
    """Legible (reader >= 0.95) and spread over the real test fonts (k-NN precision >= 0.5, recall >= 0.15)."""
    from latentlab.generators.glyphs import eval_reader

    acc = read(sample, fonts)
    p, r = knn_precision_recall(sample["test_half_reader_features"].float(), eval_reader(sample).features(fonts))
    return acc >= 0.95 and p >= 0.5 and r >= 0.15, f"legibility {acc:.3f}, precision {p:.3f}, recall {r:.3f}"


def test_bar5_samples_legible_and_covering(sample: dict[str, torch.Tensor], samples: torch.Tensor) -> None:
    """Today: legibility 0.978, k-NN precision 0.640, recall 0.199 (bars 0.95, 0.5, 0.15)."""
    ok, why = _legible_and_covering(sample, samples)
    assert ok, why


def test_bar5_controls_fail_legible_and_covering(
    sample: dict[str, torch.Tensor], samples: torch.Tensor, mean_font: torch.Tensor
) -> None:
    """The mean font reads 1.000 but covers nothing (recall 0); blurred samples: recall 0.006."""
    for name, fonts in (("mean font", mean_font.expand(len(samples), -1, -1, -1)), ("blurred", blur(samples))):
        ok, why = _legible_and_covering(sample, fonts)
        assert not ok, f"{name} passed: {why}"


@pytest.mark.xfail(strict=True, reason="missed: samples' recall 0.199 < 0.9 x 0.398 (real validation-half fonts)")
def test_bar5_samples_cover_the_test_fonts_like_real_fonts_do(
    gen: GlyphsGenerator, sample: dict[str, torch.Tensor], samples: torch.Tensor
) -> None:
    from latentlab.generators.glyphs import eval_reader

    reference = gen.card["metrics"]["coverage_knn3_precision_recall"]["real validation-half fonts (reference)"][1]
    _, r = knn_precision_recall(sample["test_half_reader_features"].float(), eval_reader(sample).features(samples))
    assert r >= 0.9 * reference


def _category_shares_match(sample: dict[str, torch.Tensor], fonts: torch.Tensor) -> tuple[bool, str]:
    """Category shares of ``fonts`` (n >= 300) vs training: TV distance <= 0.15, each >= half its training share."""
    feats = torch.nn.functional.avg_pool2d(fonts.reshape(-1, 1, 64, 64), 8).reshape(len(fonts), -1).numpy()
    share = np.bincount(_predict(_classifier(sample, "cat_clf"), feats), minlength=5) / len(fonts)
    train = sample["train_category_share"].numpy()
    tv = 0.5 * float(np.abs(share - train).sum())
    ok = tv <= 0.15 and bool((share >= 0.5 * train).all())
    return ok, f"shares {share.round(3)} vs {train.round(3)}, TV {tv:.3f}"


def test_bar5_category_shares_of_300_samples(
    sample: dict[str, torch.Tensor], samples: torch.Tensor, mean_font: torch.Tensor
) -> None:
    """Today TV 0.109; the mean font (one category) fails."""
    ok, why = _category_shares_match(sample, samples)
    assert ok, why
    ok, why = _category_shares_match(sample, mean_font.expand(300, -1, -1, -1))
    assert not ok, f"the mean font passed: {why}"


def _midpoints_hold_up(sample: dict[str, torch.Tensor], mid: torch.Tensor, ends: torch.Tensor) -> tuple[bool, str]:
    """Midpoints read as well as their own endpoints (within 0.01) and are at most 1.5x as grey."""
    grey = lambda x: float(((x > 0.2) & (x < 0.8)).float().mean())  # noqa: E731
    a, b = read(sample, mid), read(sample, ends)
    ok = a >= b - 0.01 and grey(mid) <= 1.5 * grey(ends)
    return ok, f"legibility {a:.3f} vs endpoints {b:.3f}, grey {grey(mid):.4f} vs {grey(ends):.4f}"


def test_bar5_slerp_midpoints_as_legible_and_crisp_as_their_endpoints(
    gen: GlyphsGenerator, sample: dict[str, torch.Tensor]
) -> None:
    """Midpoints between training fonts vs those very fonts decoded; the control, a cross-fade of the two
    pictures, is no font at all and fails. Today: legibility 0.981 vs 0.973, grey 0.0364 vs 0.0290 (1.26x);
    cross-fade grey 0.1012 (3.5x)."""
    codes = torch.as_tensor(gen.codes()).float()
    rng = np.random.default_rng(0)
    a, b = codes[rng.choice(len(codes), 40)], codes[rng.choice(len(codes), 40)]
    mid, ea, eb = gen.glyphs(ll.slerp(a, b, 0.5)), gen.glyphs(a), gen.glyphs(b)
    ends = torch.cat([ea, eb])
    ok, why = _midpoints_hold_up(sample, mid, ends)
    assert ok, why
    ok, why = _midpoints_hold_up(sample, 0.5 * (ea + eb), ends)
    assert not ok, f"the cross-fade passed: {why}"
