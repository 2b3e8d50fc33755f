"""Train-your-own rows: seconds per epoch and images/s at 64 and 128 px on this machine's CPU;
test-split reconstruction error (the best epoch is chosen on a separate validation split) after 1, 5
and 10 minutes against the mean-image baseline.

Data: the 150 doodle faces shipped in notebooks/assets/doodle_faces.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

import latentlab as ll
from latentlab.generators.vae_training import VAETrainer
from latentlab.training import collect_images, default_settings, make_trainer

FOLDER = Path(__file__).resolve().parent.parent / "notebooks" / "assets" / "doodle_faces"


def _trainer(size: int, seed: int = 0) -> tuple[VAETrainer, torch.Tensor]:
    """The trainer ``ll.train(FOLDER, size=size)`` would run, with its default settings."""
    data, _ = collect_images(FOLDER, size=size)
    trainer, _, _ = make_trainer(data, default_settings(len(data), size), size=size, seed=seed)
    return trainer, trainer.train


def _epoch_speed(size: int, epochs: int) -> dict[str, str]:
    trainer, train = _trainer(size)
    trainer.run_epoch()  # warm-up
    t0 = time.perf_counter()
    for _ in range(epochs):
        trainer.run_epoch()
    per_epoch = (time.perf_counter() - t0) / epochs
    return {
        "benchmark": f"train {size} px: s/epoch ({len(train)} images)",
        "latentlab": f"{per_epoch:.2f} s",
        "baseline": "-",
        "ratio": "-",
        "note": f"{len(train) / per_epoch:.0f} images/s",
    }


def _quality_after(minutes: float) -> dict[str, str]:
    """What a user gets from ``ll.train(FOLDER, size=64, max_minutes=minutes)`` (the plan fits the budget)."""
    gen = ll.train(FOLDER, size=64, max_minutes=minutes, progress=False)
    m, t = gen.card["metrics"], gen.card["training"]
    mse, baseline = m["test_recon_mse"], m["mean_image_baseline_mse"]
    return {
        "benchmark": f"train 64 px: test-split MSE, max_minutes={minutes:g}",
        "latentlab": f"{mse:.4f}",
        "baseline": f"{baseline:.4f} (mean image)",
        "ratio": f"{mse / baseline:.2f}x",
        "note": f"{t['epochs_run']} epochs in {t['seconds']:.0f} s",
    }


def run(quick: bool = False) -> list[dict[str, str]]:
    rows = [_epoch_speed(64, 2 if quick else 5), _epoch_speed(128, 1 if quick else 3)]
    rows += [_quality_after(m) for m in ((0.25, 0.5) if quick else (1, 5, 10))]
    return rows
