"""The ``glyphs-text`` sampler's settings: projection into the training codes' region, rescaled guidance,
prompt ensembling, snapping prompts onto caption anchors (and its gate), and which settings a training
checkpoint resumes across.

Tiny real :class:`TextPriorNet` instances with random weights (their samples stray far, which is
what the projections must catch); a deterministic stand-in encoder for the ensembling arithmetic.
"""

from __future__ import annotations

import hashlib

import pytest
import torch
import torch.nn.functional as F

from latentlab.errors import InvalidValueError
from latentlab.generators.glyphs_text import (
    GlyphsTextGenerator,
    TextPriorConfig,
    TextPriorNet,
    denoise,
    ensemble_texts,
    make_scheduler,
)

TINY = {"hidden": 32, "cond_dim": 16, "blocks": 1, "sample_steps": 8}


def tiny_net(codes: torch.Tensor, **settings: object) -> TextPriorNet:
    torch.manual_seed(0)
    net = TextPriorNet(TextPriorConfig(**{**TINY, **settings}))  # type: ignore[arg-type]
    with torch.no_grad():  # the last layer starts at zero; random weights make it predict (bad) noise
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.5)
    net.fit_code_stats(codes)
    return net.eval()


@pytest.fixture(scope="module")
def codes() -> torch.Tensor:
    g = torch.Generator().manual_seed(1)
    return torch.randn(400, 64, generator=g) * torch.linspace(0.5, 2.0, 64) + 1.0


def run(net: TextPriorNet, guidance: float = 3.0, seen: list | None = None) -> torch.Tensor:
    g = torch.Generator().manual_seed(2)
    noise = torch.randn(16, 64, generator=g)
    emb = F.normalize(torch.randn(16, 384, generator=g), dim=1)
    on_step = None if seen is None else (lambda i, x0: seen.append(x0))
    return denoise(net, make_scheduler(net.config), noise, emb, guidance, net.config.sample_steps, on_step)


def test_code_box_keeps_every_step_inside_the_training_quantiles(codes: torch.Tensor) -> None:
    net = tiny_net(codes, code_box=0.01)
    lo, hi = codes.quantile(0.01, dim=0), codes.quantile(0.99, dim=0)
    seen: list[torch.Tensor] = []
    out = run(net, seen=seen)
    tol = 1e-4
    assert bool(((out >= lo - tol) & (out <= hi + tol)).all())
    assert all(bool(((x0 >= lo - tol) & (x0 <= hi + tol)).all()) for x0 in seen)
    # control: the same net without the projection leaves the box
    free = run(tiny_net(codes))
    assert float(((free < lo - tol) | (free > hi + tol)).float().mean()) > 0.05


def test_code_radius_caps_the_mahalanobis_distance(codes: torch.Tensor) -> None:
    net = tiny_net(codes, code_radius=9.0)

    def radius(z: torch.Tensor) -> torch.Tensor:
        return (net.standardise(z) @ net.code_whiten.T).norm(dim=1)

    own = radius(codes)
    assert 6.0 < float(own.median()) < 10.0  # whitened: about sqrt(64) for Gaussian codes
    assert float(radius(run(net)).max()) <= 9.0 + 1e-3
    assert float(radius(run(tiny_net(codes))).max()) > 9.0  # control: unprojected samples go further


def test_guidance_rescale_only_acts_where_guidance_extrapolates(codes: torch.Tensor) -> None:
    plain, rescaled = tiny_net(codes), tiny_net(codes, guidance_rescale=1.0)
    # at guidance 1 the guided prediction is the text-conditioned one: rescaling it to its own std changes nothing
    assert torch.allclose(run(plain, guidance=1.0), run(rescaled, guidance=1.0), atol=1e-5)
    assert not torch.allclose(run(plain, guidance=4.0), run(rescaled, guidance=4.0), atol=1e-3)


def test_settings_off_reproduce_the_plain_sampler(codes: torch.Tensor) -> None:
    a = run(tiny_net(codes))
    b = run(tiny_net(codes, code_box=0.0, code_radius=0.0, guidance_rescale=0.0))
    assert torch.equal(a, b)


class HashEncoder:
    """A deterministic stand-in for MiniLM: each text -> a fixed random unit vector."""

    dim = 384

    def __init__(self) -> None:
        self.calls: list[str] = []

    def encode(self, texts: list[str]) -> torch.Tensor:
        self.calls += list(texts)
        out = []
        for t in texts:
            seed = int(hashlib.sha256(t.encode()).hexdigest()[:8], 16)
            out.append(F.normalize(torch.randn(384, generator=torch.Generator().manual_seed(seed)), dim=0))
        return torch.stack(out)


def test_prompt_ensembling_embeds_the_unit_mean_of_the_templates(codes: torch.Tensor) -> None:
    templates = ("a {} font", "{} lettering")
    enc = HashEncoder()
    gen = GlyphsTextGenerator(tiny_net(codes, prompt_templates=templates), encoder=enc)  # type: ignore[arg-type]
    got = gen.embed(["a bold serif", "typeface"])
    texts = ensemble_texts("a bold serif", templates)
    assert texts == ["a bold serif", "a bold serif font", "bold serif lettering"]
    want = F.normalize(enc.encode(texts).mean(0), dim=0)
    assert got.shape == (2, 384) and torch.allclose(got[0], want, atol=1e-6)
    assert torch.allclose(got.norm(dim=1), torch.ones(2), atol=1e-5)
    # control: without templates the prompt latent is the text's own embedding, another vector
    plain = GlyphsTextGenerator(tiny_net(codes), encoder=HashEncoder())  # type: ignore[arg-type]
    assert torch.allclose(plain.embed("a bold serif")[0], enc.encode(["a bold serif"])[0], atol=1e-6)
    assert float(plain.embed("a bold serif")[0] @ got[0]) < 0.9


def test_a_checkpoint_resumes_across_sampler_settings_only() -> None:
    base = TextPriorConfig()
    assert base.training_dict() == TextPriorConfig(code_box=0.01, guidance_rescale=0.7, sample_steps=50).training_dict()
    assert base.training_dict() != TextPriorConfig(hidden=128).training_dict()  # control: a training setting
    assert TextPriorConfig(prompt_templates=["a {} font"]).prompt_templates == ("a {} font",)  # a list from JSON


def snapping_net(**settings: object) -> TextPriorNet:
    """A tiny net with 8 random unit anchors (the caption anchors of the real model)."""
    net = TextPriorNet(TextPriorConfig(**{**TINY, "anchors": 8, "snap_tau": 0.01, **settings}))  # type: ignore[arg-type]
    net.anchors.copy_(F.normalize(torch.randn(8, 384, generator=torch.Generator().manual_seed(3)), dim=1))
    return net.eval()


def near(net: TextPriorNet, cos: float) -> torch.Tensor:
    """A unit embedding at cosine ``cos`` from the first anchor (and far from the others)."""
    a = net.anchors[0]
    other = torch.randn(384, generator=torch.Generator().manual_seed(4))
    other = F.normalize(other - (other @ a) * a, dim=0)
    return (cos * a + (1 - cos**2) ** 0.5 * other)[None]


def test_snapping_reads_an_unseen_prompt_through_its_nearest_anchor() -> None:
    net = snapping_net()
    e = near(net, 0.6)
    assert float(net.snap(e)[0] @ net.anchors[0]) > 0.99
    half = snapping_net(snap_mix=0.5).snap(e)[0] @ net.anchors[0]
    assert 0.7 < float(half) < 0.99  # a partial snap lands between the prompt and its anchor
    # control: no share, no move
    assert torch.equal(snapping_net(snap_mix=0.0).snap(e), e)


def test_snap_gate_leaves_caption_like_prompts_as_they_are() -> None:
    gated, ungated = snapping_net(snap_gate=(0.75, 0.85)), snapping_net()
    familiar, unseen, between = near(gated, 0.95), near(gated, 0.6), near(gated, 0.8)
    assert torch.equal(gated.snap(familiar), familiar)
    assert float(ungated.snap(familiar)[0] @ familiar[0]) < 0.999  # control: without the gate it moves
    assert torch.allclose(gated.snap(unseen), ungated.snap(unseen), atol=1e-6)  # unseen: the full snap
    assert torch.allclose(gated.snap_share(between), torch.tensor([[0.5]]), atol=1e-4)
    with pytest.raises(InvalidValueError):
        TextPriorConfig(snap_gate=(0.85, 0.75))


def test_snap_settings_do_nothing_without_anchors() -> None:
    e = F.normalize(torch.randn(5, 384, generator=torch.Generator().manual_seed(5)), dim=1)
    plain = TextPriorNet(TextPriorConfig(**TINY))  # type: ignore[arg-type]
    tuned = TextPriorNet(TextPriorConfig(**TINY, snap_mix=0.5, snap_gate=(0.7, 0.8), snap_tau=0.02))  # type: ignore[arg-type]
    assert torch.equal(plain.text_features(e), tuned.text_features(e))
    assert TextPriorConfig(snap_gate=[0.7, 0.8]).snap_gate == (0.7, 0.8)  # a list from JSON
    assert TextPriorConfig().training_dict() == TextPriorConfig(snap_mix=0.7, snap_gate=(0.7, 0.8)).training_dict()
