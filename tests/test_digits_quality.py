"""The bundled digits models are actually trained: measured here, against a mean-image baseline."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

import latentlab as ll
from latentlab.generators.registry import BUNDLED_DIR


def _heldout() -> tuple[torch.Tensor, torch.Tensor]:
    """The same split scripts/train_digits.py uses, at the model's 8x8 resolution."""
    data = load_digits()
    x = 1.0 - data.images.astype(np.float32) / 16.0
    x_tr, x_te = train_test_split(x, test_size=0.2, stratify=data.target, random_state=0)
    return torch.from_numpy(x_tr)[:, None], torch.from_numpy(x_te)[:, None]


@pytest.mark.parametrize("name", ["digits", "digits-2d"])
def test_heldout_reconstruction_beats_mean_image(name: str) -> None:
    gen = ll.load(name)
    train, test = _heldout()
    with torch.no_grad():
        mu, _ = gen.model.encode_stats(test)  # type: ignore[attr-defined]
        recon = torch.sigmoid(gen.model.decode_logits(mu))  # type: ignore[attr-defined]
    mse = float(((recon - test) ** 2).mean())
    baseline = float(((train.mean(0, keepdim=True) - test) ** 2).mean())
    limit = 0.35 if name == "digits" else 0.5
    assert mse < limit * baseline, f"{name}: held-out MSE {mse:.4f} vs mean-image {baseline:.4f}"


CONFIDENT = 0.8  # a read counts when the reader gives its class at least this probability


@pytest.fixture(scope="module")
def reader() -> LogisticRegression:
    """A digit reader trained on the train split only (reads 0.96 of the held-out split)."""
    data = load_digits()
    x = 1.0 - data.images.astype(np.float32) / 16.0
    x_tr, _, y_tr, _ = train_test_split(x, data.target, test_size=0.2, stratify=data.target, random_state=0)
    return LogisticRegression(max_iter=2000).fit(x_tr.reshape(len(x_tr), -1), y_tr)


def _reads(reader: LogisticRegression, images: torch.Tensor) -> tuple[float, np.ndarray]:
    """Share of images read confidently, and how those reads spread over the 10 classes.

    ``images``: ``(N, 1|3, H, W)`` in [0, 1], dark ink on white; area-downsampled to 8x8.
    """
    small = torch.nn.functional.interpolate(images[:, :1].float(), size=(8, 8), mode="area")
    proba = reader.predict_proba(small.reshape(len(small), -1).numpy())
    sure = proba.max(1) >= CONFIDENT
    share = np.bincount(proba.argmax(1)[sure], minlength=10) / max(int(sure.sum()), 1)
    return float(sure.mean()), share


def _look_like_varied_digits(reader: LogisticRegression, images: torch.Tensor) -> tuple[bool, str]:
    """Most images read confidently as a digit, and the confident reads cover all 10 classes evenly enough."""
    sure, share = _reads(reader, images)
    ok = bool(sure >= 0.5 and share.min() >= 0.02 and share.max() <= 0.25)
    return ok, f"confident {sure:.3f} (bar 0.5), class shares {np.round(share, 3).tolist()} (bar 0.02..0.25)"


def test_reader_reads_the_heldout_split(reader: LogisticRegression) -> None:
    """The judge itself: real held-out digits pass the bar below (0.83 confident, every class)."""
    _, test = _heldout()
    ok, why = _look_like_varied_digits(reader, test)
    assert ok, why


@pytest.mark.parametrize("name", ["digits", "digits-2d"])
def test_samples_read_as_varied_digits(reader: LogisticRegression, name: str) -> None:
    """Prior samples read as digits (digits 0.58, digits-2d 0.75 confident, all 10 classes)."""
    gen = ll.load(name)
    ok, why = _look_like_varied_digits(reader, gen.decode(gen.sample(300, seed=0)))
    assert ok, why


@pytest.mark.parametrize("name", ["digits", "digits-2d"])
def test_negative_controls_fail_the_digit_reading_bar(reader: LogisticRegression, name: str) -> None:
    """Uniform noise (0.11 confident), blurred samples (0.24 / 0.26) and the decoded mean code (digits: one class
    read at 1.00; digits-2d: nothing confident) all fail the bar the samples pass."""
    gen = ll.load(name)
    samples = gen.decode(gen.sample(300, seed=0))
    blurred = torch.nn.functional.avg_pool2d(samples, 9, stride=1, padding=4, count_include_pad=False)
    controls = {
        "uniform noise": torch.rand(300, 1, 8, 8, generator=torch.Generator().manual_seed(0)),
        "blurred samples": blurred,
        "decoded mean code": gen.decode(torch.zeros(300, gen.sample(1).shape[1])),
    }
    for control, images in controls.items():
        ok, why = _look_like_varied_digits(reader, images)
        assert not ok, f"{name}: {control} passed the bar: {why}"


def test_model_card_is_complete() -> None:
    for name in ("digits", "digits-2d"):
        card = json.loads((BUNDLED_DIR / name / "card.json").read_text())
        assert {"data", "license", "architecture", "training", "metrics", "config"} <= set(card)
        assert card["training"]["command"].startswith("python scripts/train_digits.py")
        assert (BUNDLED_DIR / name / "card.md").read_text().startswith(f"# Model card: `{name}`")
