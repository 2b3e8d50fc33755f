"""Train-your-own rows: seconds per epoch and images/s at 64 and 128 px on this machine's CPU;
held-out reconstruction error after 1, 5 and 10 minutes against the mean-image baseline.

Data: the 150 doodle faces shipped in notebooks/assets/doodle_faces.
"""

from __future__ import annotations

import time
from pathlib import Path

import torch

from latentlab.generators.vae import VAE, VAEConfig
from latentlab.generators.vae_training import VAETrainer, evaluate_vae
from latentlab.training import _split, collect_images, default_settings

FOLDER = Path(__file__).resolve().parent.parent / "notebooks" / "assets" / "doodle_faces"


def _trainer(size: int, seed: int = 0) -> tuple[VAETrainer, torch.Tensor, torch.Tensor]:
    data, summary = collect_images(FOLDER, size=size)
    train, val = _split(data, 0.1, seed)
    s = default_settings(len(data), size)
    torch.manual_seed(seed)
    model = VAE(VAEConfig(size, summary.channels, s["latent_dim"], s["width"]))
    return VAETrainer(model, train, val, epochs=s["epochs"], batch_size=s["batch_size"], seed=seed), train, val


def _epoch_speed(size: int, epochs: int) -> dict[str, str]:
    trainer, train, _ = _trainer(size)
    trainer.run_epoch()  # warm-up
    t0 = time.perf_counter()
    for _ in range(epochs):
        trainer.run_epoch()
    per_epoch = (time.perf_counter() - t0) / epochs
    return {"benchmark": f"train {size} px: s/epoch ({len(train)} images)", "latentlab": f"{per_epoch:.2f} s",
            "baseline": "-", "ratio": "-", "note": f"{len(train) / per_epoch:.0f} images/s"}


def _quality_over_time(marks_min: tuple[float, ...]) -> list[dict[str, str]]:
    trainer, train, val = _trainer(64)
    baseline = float(((train.mean(0, keepdim=True) - val) ** 2).mean())
    rows, t0 = [], time.perf_counter()
    for mark in marks_min:
        while time.perf_counter() - t0 < mark * 60 and not trainer.done:
            trainer.run_epoch()
        mse = evaluate_vae(trainer.best_model(), val)["val_mse"]
        rows.append({"benchmark": f"train 64 px: held-out MSE after {mark:g} min", "latentlab": f"{mse:.4f}",
                     "baseline": f"{baseline:.4f} (mean image)", "ratio": f"{mse / baseline:.2f}x",
                     "note": f"epoch {trainer.epoch}/{trainer.epochs}"})
    return rows


def run(quick: bool = False) -> list[dict[str, str]]:
    rows = [_epoch_speed(64, 2 if quick else 5), _epoch_speed(128, 1 if quick else 3)]
    rows += _quality_over_time((0.25, 0.5) if quick else (1, 5, 10))
    return rows
