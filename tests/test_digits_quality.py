"""The bundled digits models are actually trained: measured here, against a mean-image baseline."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
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


def test_samples_look_like_different_digits() -> None:
    """Prior samples are diverse: a nearest-class-mean classifier on real digits finds many classes."""
    gen = ll.load("digits")
    data = load_digits()
    x = torch.from_numpy(1 - data.images.astype(np.float32) / 16)[:, None]
    means = torch.stack([x[data.target == c].mean(0) for c in range(10)]).flatten(1)
    imgs = torch.nn.functional.interpolate(gen.decode(gen.sample(200, seed=0))[:, :1], size=(8, 8), mode="area")
    classes = torch.cdist(imgs.flatten(1), means).argmin(1)
    assert len(set(classes.tolist())) >= 8


def test_model_card_is_complete() -> None:
    for name in ("digits", "digits-2d"):
        card = json.loads((BUNDLED_DIR / name / "card.json").read_text())
        assert {"data", "license", "architecture", "training", "metrics", "config"} <= set(card)
        assert card["training"]["command"].startswith("python scripts/train_digits.py")
        assert (BUNDLED_DIR / name / "card.md").read_text().startswith(f"# Model card: `{name}`")
