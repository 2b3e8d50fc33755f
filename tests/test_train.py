"""latentlab.train: learns from a folder of generated images, handles bad data, resumes, saves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

import latentlab as ll
from latentlab.generators.vae import VAEGenerator
from latentlab.training import collect_images, default_settings


def draw_shapes(n: int, size: int = 32, seed: int = 0) -> list[Image.Image]:
    """Dark discs, squares and triangles of random size and place on white paper."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        img = Image.new("L", (size, size), 255)
        d = ImageDraw.Draw(img)
        r = rng.uniform(0.18, 0.35) * size
        cx, cy = rng.uniform(r, size - r, 2)
        box = [cx - r, cy - r, cx + r, cy + r]
        kind = i % 3
        if kind == 0:
            d.ellipse(box, fill=0)
        elif kind == 1:
            d.rectangle(box, fill=0)
        else:
            d.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=0)
        out.append(img)
    return out


def draw_outlines(n: int, size: int = 32, seed: int = 0) -> list[Image.Image]:
    """Thin dark ellipse outlines (2 px strokes) with a dot inside, on white paper: line drawings."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        img = Image.new("L", (size, size), 255)
        d = ImageDraw.Draw(img)
        rx, ry = rng.uniform(0.2, 0.42, 2) * size
        cx, cy = size / 2 + rng.uniform(-0.08, 0.08, 2) * size
        d.ellipse([cx - rx, cy - ry, cx + rx, cy + ry], outline=0, width=2)
        dx, dy = rng.uniform(-0.5, 0.5, 2) * (rx, ry)
        d.ellipse([cx + dx - 2, cy + dy - 2, cx + dx + 2, cy + dy + 2], fill=0)
        out.append(img)
    return out


@pytest.fixture(scope="module")
def shapes_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("shapes")
    (root / "sub").mkdir()
    for i, img in enumerate(draw_shapes(96)):
        img.save(root / ("sub" if i % 2 else ".") / f"shape_{i:03d}.png")
    (root / "broken.png").write_bytes(b"this is not a png")
    (root / "notes.txt").write_text("not an image, ignored")
    Image.new("RGB", (40, 24), "white").save(root / "wide_rgb.jpg")  # another size and mode
    return root


def test_collect_scans_recursively_and_skips_bad_files(shapes_folder: Path) -> None:
    x, summary = collect_images(shapes_folder, size=32)
    assert summary.n_found == 98 and summary.n_loaded == 97 and x.shape == (97, 1, 32, 32)
    assert summary.channels == 1, "all images are gray, so the model should be grayscale"
    assert [Path(p).name for p, _ in summary.skipped] == ["broken.png"]
    assert "skipped 1: broken.png" in str(summary)


def test_rgb_is_detected() -> None:
    rgb = torch.rand(20, 3, 16, 16)
    x, summary = collect_images(rgb, size=16)
    assert summary.channels == 3 and x.shape == (20, 3, 16, 16)


def test_too_few_images_is_a_clear_error(tmp_path: Path) -> None:
    for i, img in enumerate(draw_shapes(5)):
        img.save(tmp_path / f"{i}.png")
    with pytest.raises(ll.InputImageError) as info:
        ll.train(tmp_path, size=32, progress=False)
    assert "at least 16" in str(info.value) and "5 of 5 images" in str(info.value)


def test_folder_without_images(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"junk")
    with pytest.raises(ll.InputImageError, match="no readable images"):
        ll.train(tmp_path, progress=False)
    with pytest.raises(ll.InputImageError, match="no such folder"):
        ll.train(tmp_path / "missing", progress=False)


def test_training_learns_and_saves_and_reloads(shapes_folder: Path, tmp_path: Path) -> None:
    gen = ll.train(shapes_folder, size=32, epochs=40, latent_dim=8, seed=0, out=tmp_path / "m", progress=False)
    metrics = gen.card["metrics"]
    assert metrics["test_recon_mse"] < 0.5 * metrics["mean_image_baseline_mse"], metrics
    assert gen.card["data"]["n_loaded"] == 97 and gen.card["training"]["epochs_run"] == 40
    data = gen.card["data"]
    assert (data["n_train"], data["n_val"], data["n_test"]) == (77, 10, 10)
    again = ll.load(tmp_path / "m")
    assert isinstance(again, VAEGenerator)
    z = gen.sample(4, seed=1)
    assert torch.equal(gen.decode(z), again.decode(z)), "the saved model must reload bit-identically"
    # works with the rest of latentlab like any generator
    assert gen.encode(gen.decode(z)).shape == (4, 8)
    assert ll.slerp(z[0], z[1], steps=5).shape == (5, 8)


def test_train_validation_and_test_images_are_disjoint_and_the_card_reads_only_test() -> None:
    """The best epoch is chosen on the validation images; the card's figures come from the test images."""
    from latentlab.generators.vae_training import evaluate_vae
    from latentlab.training import default_settings, make_trainer

    images = torch.rand(60, 1, 32, 32, generator=torch.Generator().manual_seed(0))
    trainer, _, test = make_trainer(images, default_settings(60, 32), size=32, seed=3)
    rows = lambda x: {tuple(r.flatten()[:8].tolist()) for r in x}  # noqa: E731
    train, val = rows(trainer.train), rows(trainer.val)
    assert len(train) == 48 and len(val) == 6 and len(rows(test)) == 6
    assert not (train & val) and not (train & rows(test)) and not (val & rows(test))
    again = make_trainer(images, default_settings(60, 32), size=32, seed=3)[2]
    assert torch.equal(again, test), "the split is seeded"
    trainer.run_epoch()
    best = trainer.best_model()
    assert trainer.best_val == pytest.approx(evaluate_vae(best, trainer.val)["val_loss"], rel=1e-5)
    assert evaluate_vae(best, test)["val_loss"] != pytest.approx(trainer.best_val, rel=1e-3)


def test_bad_split_fractions_are_clear_errors(shapes_folder: Path) -> None:
    with pytest.raises(ll.InvalidValueError, match=r"test_fraction must be between 0 and 0\.5"):
        ll.train(shapes_folder, test_fraction=0, progress=False)
    with pytest.raises(ll.InvalidValueError, match="too little to train on"):
        ll.train(shapes_folder, val_fraction=0.3, test_fraction=0.3, progress=False)


def test_thin_line_drawings_on_white_do_not_collapse_to_the_mean() -> None:
    """Strokes on a white background once trained to one mean image (every sample alike)."""
    images = draw_outlines(128)
    gen = ll.train(images, size=32, epochs=30, seed=0, augment=None, progress=False)
    metrics = gen.card["metrics"]
    assert metrics["test_recon_mse"] < 0.6 * metrics["mean_image_baseline_mse"], metrics
    assert gen.config.input_offset == pytest.approx(0.85, abs=0.1), "the encoder input is centred"


def test_interrupted_run_resumes(shapes_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from latentlab.generators.vae_training import VAETrainer

    real_run_epoch = VAETrainer.run_epoch

    def interrupt_at_epoch_3(self: VAETrainer) -> dict[str, float]:
        if self.epoch == 3:
            raise KeyboardInterrupt
        return real_run_epoch(self)

    monkeypatch.setattr(VAETrainer, "run_epoch", interrupt_at_epoch_3)
    out = tmp_path / "run"
    first = ll.train(shapes_folder, size=32, epochs=6, latent_dim=4, out=out, progress=False)
    assert first.card["training"]["interrupted"] and first.card["training"]["epochs_run"] == 3
    assert (out / "checkpoint.pt").is_file() and (out / "weights.safetensors").is_file()
    monkeypatch.setattr(VAETrainer, "run_epoch", real_run_epoch)
    resumed = ll.train(shapes_folder, size=32, epochs=6, latent_dim=4, out=out, resume=True, progress=False)
    assert resumed.card["training"]["epochs_run"] == 6
    assert [r["epoch"] for r in resumed.card["training"]["history"]] == [1, 2, 3, 4, 5, 6]
    # a straight 6-epoch run gives the same weights: resuming restores optimiser, schedule and RNG
    straight = ll.train(shapes_folder, size=32, epochs=6, latent_dim=4, progress=False)
    assert resumed.card["training"]["history"][-1]["val_loss"] == pytest.approx(
        straight.card["training"]["history"][-1]["val_loss"], rel=1e-4
    )


def test_time_budget_plans_from_the_steady_epoch_pace(shapes_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first epoch is slow (warm-up); the plan is re-fitted after epoch 4 so the budget is used, not wasted."""
    import latentlab.training as training
    from latentlab.generators.vae_training import VAETrainer

    clock = [0.0]
    real_run_epoch = VAETrainer.run_epoch

    def timed_epoch(self: VAETrainer) -> dict[str, float]:
        clock[0] += 3.0 if self.epoch == 0 else 1.0  # simulated seconds: 3 for the first epoch, then 1
        return real_run_epoch(self)

    monkeypatch.setattr(VAETrainer, "run_epoch", timed_epoch)
    monkeypatch.setattr(training.time, "perf_counter", lambda: clock[0])
    gen = ll.train(shapes_folder, size=32, epochs=100, latent_dim=4, max_minutes=0.5, progress=False)
    # after epoch 1: 3 s/epoch -> 10 epochs; after epoch 4: 1 s/epoch -> 4 + (30 - 6) = 28 epochs
    assert gen.card["training"]["epochs_run"] == 28
    capped = ll.train(shapes_folder, size=32, epochs=12, latent_dim=4, max_minutes=0.5, progress=False)
    assert capped.card["training"]["epochs_run"] == 12, "never more epochs than asked for"


def test_resume_errors(shapes_folder: Path, tmp_path: Path) -> None:
    with pytest.raises(ll.InvalidValueError, match="needs out="):
        ll.train(shapes_folder, size=32, epochs=1, resume=True, progress=False)
    with pytest.raises(ll.InvalidValueError, match="no checkpoint"):
        ll.train(shapes_folder, size=32, epochs=1, out=tmp_path / "x", resume=True, progress=False)


def test_default_settings_scale_with_data() -> None:
    small, large = default_settings(50, 64), default_settings(5000, 64)
    assert small["latent_dim"] < large["latent_dim"]
    assert small["epochs"] > large["epochs"]
    assert 20 <= large["epochs"] <= small["epochs"] <= 1000


def test_command_line_train(shapes_folder: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    out = tmp_path / "cli-model"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "latentlab.cli",
            "train",
            str(shapes_folder),
            "-o",
            str(out),
            "--size",
            "32",
            "--epochs",
            "2",
            "--latent-dim",
            "4",
        ],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert f"saved {out}" in run.stdout and "97 images" in run.stdout
    assert ll.load(out).space().shape == (4,)
    bad = subprocess.run(
        [sys.executable, "-m", "latentlab.cli", "train", str(tmp_path / "nothing"), "-o", str(out)],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 1 and "no such folder" in bad.stderr and "Traceback" not in bad.stderr


def test_very_short_runs_work(shapes_folder: Path) -> None:
    """One or two epochs of a few steps (a smoke run) must not trip the learning-rate schedule."""
    for epochs in (1, 2):
        gen = ll.train(shapes_folder, size=32, epochs=epochs, batch_size=64, progress=False)
        assert gen.card["training"]["epochs_run"] == epochs
