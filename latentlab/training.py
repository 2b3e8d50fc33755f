"""Train your own generator from a folder of images, on a laptop CPU: :func:`train`.

The result is a VAE of the same family as the bundled ``digits`` model (same code:
:mod:`latentlab.generators.vae`), so every latentlab tool works on it: sample, encode,
interpolate, directions, sliders, maps and morph animations.

Example:
    >>> import numpy as np, latentlab as ll
    >>> rng = np.random.default_rng(0)
    >>> imgs = (rng.random((40, 16, 16, 1)) > 0.5).astype(np.uint8) * 255   # 40 gray noise images
    >>> gen = ll.train(imgs, size=16, epochs=2, progress=False)
    >>> gen.decode(gen.sample(3, seed=0)).shape
    torch.Size([3, 3, 16, 16])
"""

from __future__ import annotations

import datetime as dt
import io
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from PIL import Image, ImageDraw

from ._atomic import atomic_path
from .errors import InputImageError, InvalidValueError, LatentLabError
from .generators.vae import VAE, VAEConfig, VAEGenerator, save_vae
from .generators.vae_training import VAETrainer, evaluate_vae
from .images import IMAGE_SUFFIXES, Fit, load_images
from .render import grid, png_bytes

__all__ = ["train", "collect_images", "DataSummary", "default_settings", "MIN_IMAGES"]

#: Fewer images than this cannot be split into training and held-out sets sensibly.
MIN_IMAGES = 16
CHECKPOINT_NAME = "checkpoint.pt"


@dataclass
class DataSummary:
    """What :func:`collect_images` found: counts, skipped files with reasons, channels, size."""

    source: str
    n_found: int
    n_loaded: int
    channels: int
    size: int
    fit: str
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def __str__(self) -> str:
        kind = "grayscale" if self.channels == 1 else "RGB"
        text = (
            f"{self.n_loaded} of {self.n_found} images loaded from {self.source} ({kind}, "
            f"{self.size}x{self.size}, fit={self.fit!r})"
        )
        if self.skipped:
            shown = "; ".join(f"{Path(p).name}: {why}" for p, why in self.skipped[:5])
            more = f" and {len(self.skipped) - 5} more" if len(self.skipped) > 5 else ""
            text += f"; skipped {len(self.skipped)}: {shown}{more}"
        return text


def collect_images(images: Any, size: int = 64, fit: Fit = "contain") -> tuple[torch.Tensor, DataSummary]:
    """Load training images from a folder (recursively), a list of paths, PIL images or an array.

    Unreadable files are skipped and listed in the summary, never fatal. Grayscale is detected
    (all images with equal R, G and B) and reported as ``channels=1``.

    Returns:
        ``(images (N, C, size, size) float in [0, 1] on the CPU, summary)`` with ``C`` 1 or 3.
    """
    paths = _image_paths(images)
    if paths is None:
        x = load_images(images, size=size, fit=fit).cpu()
        summary = DataSummary(type(images).__name__, len(x), len(x), 3, size, fit)
    else:
        x, summary = _load_paths(paths, size, fit, str(images) if isinstance(images, (str, Path)) else "paths")
    channels = 1 if bool((x.amax(1) - x.amin(1) < 1.5 / 255).all()) else 3
    summary.channels = channels
    return (x[:, :1] if channels == 1 else x).contiguous(), summary


def _image_paths(images: Any) -> list[Path] | None:
    if isinstance(images, (str, Path)):
        root = Path(images)
        if root.is_dir():
            return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if not root.exists():
            raise InputImageError(
                f"no such folder or file: {root}",
                expected="a folder of images",
                got=str(root),
                fix="check the path (relative paths start at the notebook's folder)",
            )
        return [root]
    if isinstance(images, (list, tuple)) and images and all(isinstance(p, (str, Path)) for p in images):
        return [Path(p) for p in images]
    return None


def _load_paths(paths: list[Path], size: int, fit: Fit, source: str) -> tuple[torch.Tensor, DataSummary]:
    loaded, skipped = [], []
    for path in paths:
        try:
            loaded.append(load_images(path, size=size, fit=fit).cpu())
        except (LatentLabError, OSError, ValueError) as exc:
            skipped.append((str(path), str(exc).splitlines()[0]))
    summary = DataSummary(source, len(paths), len(loaded), 3, size, fit, skipped)
    if not loaded:
        raise InputImageError(
            f"no readable images in {source}",
            expected=f"image files ({', '.join(sorted(IMAGE_SUFFIXES))})",
            got=str(summary),
            fix="point train() at a folder that holds images",
        )
    return torch.cat(loaded), summary


def default_settings(n_images: int, size: int) -> dict[str, int]:
    """Settings chosen by data size so that 50-500 images train in minutes on 2 CPU cores.

    A narrow conv net (width 16: about 70 ms per step of 16 images at 64 px on 2 cores) and about
    4,000 optimiser steps; a 16-D latent for small sets, 32-D for larger ones.

    Example:
        >>> default_settings(200, 64)
        {'latent_dim': 16, 'width': 16, 'batch_size': 16, 'epochs': 334}
    """
    batch_size = 16 if n_images < 500 else 32 if n_images < 2000 else 64
    steps_per_epoch = max(1, math.ceil(n_images * 0.9 / batch_size))
    return {
        "latent_dim": 16 if n_images < 400 else 32,
        "width": 16 if size <= 64 else 12,
        "batch_size": batch_size,
        "epochs": int(min(1000, max(20, math.ceil(4000 / steps_per_epoch)))),
    }


def make_augment(kind: str | bool | None, size: int) -> Any:
    """``"shift"``: random shifts up to size/16 px; ``"flip"``/``True``: shifts and horizontal flips."""
    if not kind:
        return None
    if kind not in ("shift", "flip", True):
        raise InvalidValueError(
            "unknown augmentation",
            expected="None, 'shift', 'flip' or True",
            got=repr(kind),
            fix="use augment='shift' for drawings/letters, 'flip' where mirror images are fine",
        )
    flips, pad = kind in ("flip", True), max(1, size // 16)

    def augment(batch: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
        padded = torch.nn.functional.pad(batch, (pad,) * 4, value=1.0)
        dy, dx = (int(v) for v in torch.randint(0, 2 * pad + 1, (2,), generator=rng))
        out = padded[..., dy : dy + size, dx : dx + size]
        if flips and bool(torch.rand((), generator=rng) < 0.5):
            out = out.flip(-1)
        return out.contiguous()

    return augment


def train(
    images: Any,
    size: int = 64,
    latent_dim: int | None = None,
    epochs: int | None = None,
    seed: int = 0,
    device: str | torch.device | None = None,
    out: str | Path | None = None,
    *,
    fit: Fit = "contain",
    augment: str | bool | None = "auto",
    batch_size: int | None = None,
    lr: float = 1e-3,
    beta: float = 1.0,
    free_bits: float = 0.25,
    kl_warmup: float = 0.2,
    max_minutes: float | None = 10.0,
    val_fraction: float = 0.1,
    test_fraction: float = 0.1,
    name: str | None = None,
    resume: bool | str | Path = False,
    progress: bool = True,
    live: bool | None = None,
) -> VAEGenerator:
    """Train a small VAE generator on your own images and return it (optionally saved to ``out``).

    Args:
        images: a folder (scanned recursively), a list of paths, PIL images, or an array/tensor.
        size: training resolution (a power of two: 32, 64, 128).
        latent_dim, epochs, batch_size: ``None`` picks them from the data size (:func:`default_settings`).
        seed: seeds the split, the initial weights, batch order and noise (global RNG untouched).
        device: ``None`` uses a GPU when there is one, else the CPU.
        out: folder to save the model into (weights + model card + manifest; ``ll.load(out)`` opens it)
            and to write resumable checkpoints to while training.
        fit: how images are resized: ``"contain"`` (pad), ``"cover"`` (crop) or ``"stretch"``.
        augment: ``"auto"`` (small shifts when there are fewer than 200 images), ``"shift"``,
            ``"flip"``/``True`` (shifts and mirror images) or ``None``.
        lr: Adam's peak learning rate (a short warm-up, then cosine decay over the planned epochs).
        beta, free_bits, kl_warmup: the KL term: its weight, a per-dimension floor in nats, and the
            fraction of training over which its weight ramps up from 0. The floor and the ramp keep
            small sets of line drawings from collapsing onto one mean image (every sample alike).
        max_minutes: wall-clock budget; the plan is shortened after the first epoch so the learning
            rate decays within it, and training stops there keeping the best model so far.
        val_fraction, test_fraction: the seeded shares of the images held out for validation (it picks
            the best epoch) and for test (only the card's ``test_*`` figures read it, so no decision
            has seen them).
        resume: ``True`` continues from ``out/checkpoint.pt``; or a checkpoint path.
        progress: a progress bar in terminals; a live view (loss curve, reconstructions,
            samples) in notebooks (``live=False`` turns the live view off).

    Returns:
        The generator with the best validation weights. Ctrl-C (or the notebook's stop button)
        stops training early and still returns (and saves) the best model so far.
    """
    t0 = time.perf_counter()
    data, summary = collect_images(images, size=size, fit=fit)
    _check_enough(len(data), summary)
    settings = {
        **default_settings(len(data), size),
        **{
            k: v
            for k, v in {"latent_dim": latent_dim, "epochs": epochs, "batch_size": batch_size}.items()
            if v is not None
        },
    }
    dev = torch.device(device) if device is not None else _auto_device()
    trainer, aug_kind, test_x = make_trainer(
        data,
        settings,
        size=size,
        seed=seed,
        device=dev,
        augment=augment,
        lr=lr,
        beta=beta,
        free_bits=free_bits,
        kl_warmup=kl_warmup,
        val_fraction=val_fraction,
        test_fraction=test_fraction,
    )
    config, train_x = trainer.model.config, trainer.train
    out_dir = Path(out) if out is not None else None
    _maybe_resume(trainer, resume, out_dir)
    view = _make_view(progress, live, trainer)
    interrupted = _run(trainer, view, out_dir, config, max_minutes)
    view.close()
    gen = VAEGenerator(trainer.best_model().cpu(), name or (out_dir.name if out_dir else "mymodel"))
    gen.card = _card(gen, summary, settings, trainer, aug_kind, seed, lr, beta, train_x, test_x, interrupted, t0)
    if out_dir is not None:
        save_vae(gen, out_dir)
    return gen.to(dev)


def make_trainer(
    data: torch.Tensor,
    settings: dict[str, int],
    *,
    size: int,
    seed: int = 0,
    device: torch.device | None = None,
    augment: str | bool | None = "auto",
    lr: float = 1e-3,
    beta: float = 1.0,
    free_bits: float = 0.25,
    kl_warmup: float = 0.2,
    val_fraction: float = 0.1,
    test_fraction: float = 0.1,
) -> tuple[VAETrainer, str | bool | None, torch.Tensor]:
    """The seeded split, VAE and :class:`VAETrainer` that :func:`train` runs (benchmarks reuse it).

    Returns the trainer (its ``val`` images choose the best epoch), the augmentation actually chosen
    (``"auto"`` resolved) and the test images, which only the final figures may read.
    """
    train_x, val_x, test_x = _split(data, val_fraction, test_fraction, seed)
    if device is not None:
        train_x, val_x, test_x = train_x.to(device), val_x.to(device), test_x.to(device)
    config = VAEConfig(
        image_size=size,
        channels=data.shape[1],
        latent_dim=settings["latent_dim"],
        width=settings["width"],
        input_offset=round(float(train_x.mean()), 4),
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = VAE(config)
    aug_kind = ("shift" if len(data) < 200 else None) if augment == "auto" else augment
    trainer = VAETrainer(
        model,
        train_x,
        val_x,
        epochs=settings["epochs"],
        batch_size=settings["batch_size"],
        lr=lr,
        beta=beta,
        seed=seed,
        augment=make_augment(aug_kind, size),
        free_bits=free_bits,
        kl_warmup=kl_warmup,
    )
    return trainer, aug_kind, test_x


def _check_enough(n: int, summary: DataSummary) -> None:
    if n < MIN_IMAGES:
        raise InputImageError(
            "too few images to learn from",
            expected=f"at least {MIN_IMAGES} images (50-500 work well)",
            got=str(summary),
            fix="add more images to the folder (drawings, photos, scans); augment='flip' helps small sets",
        )


def _auto_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _split(
    data: torch.Tensor, val_fraction: float, test_fraction: float, seed: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Seeded ``(train, validation, test)`` images; at least 2 images each in validation and test."""
    for what, frac in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0 < frac < 0.5:
            raise InvalidValueError(
                f"{what} must be between 0 and 0.5", expected="e.g. 0.1", got=frac, fix=f"pass {what}=0.1"
            )
    if val_fraction + test_fraction >= 0.6:
        raise InvalidValueError(
            "val_fraction + test_fraction leaves too little to train on",
            expected="a sum below 0.6",
            got=val_fraction + test_fraction,
            fix="pass val_fraction=0.1, test_fraction=0.1",
        )
    perm = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))
    n_val = max(2, round(len(data) * val_fraction))
    n_test = max(2, round(len(data) * test_fraction))
    return data[perm[n_val + n_test :]], data[perm[:n_val]], data[perm[n_val : n_val + n_test]]


def _maybe_resume(trainer: VAETrainer, resume: bool | str | Path, out_dir: Path | None) -> None:
    if resume is False:
        return
    if resume is True:
        if out_dir is None:
            raise InvalidValueError(
                "resume=True needs out=",
                expected="out='the folder of the interrupted run'",
                got="out=None",
                fix="pass the same out= as the run you want to continue",
            )
        path = out_dir / CHECKPOINT_NAME
    else:
        path = Path(resume)
    if not path.is_file():
        raise InvalidValueError(
            "no checkpoint to resume from",
            expected=f"a file {path}",
            got="nothing there",
            fix="check the path, or start afresh with resume=False",
        )
    state = torch.load(path, map_location=trainer.train.device, weights_only=True)
    if state.get("config") != asdict(trainer.model.config):
        raise InvalidValueError(
            "the checkpoint was made with other settings",
            expected=str(asdict(trainer.model.config)),
            got=str(state.get("config")),
            fix="resume with the same size, latent_dim and images",
        )
    trainer.load_state_dict(state["trainer"])


def _save_checkpoint(trainer: VAETrainer, out_dir: Path, config: VAEConfig) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(out_dir / CHECKPOINT_NAME) as tmp:
        torch.save({"trainer": trainer.state_dict(), "config": asdict(config)}, tmp)


def _run(trainer: VAETrainer, view: _View, out_dir: Path | None, config: VAEConfig, max_minutes: float | None) -> bool:
    """Train until done, the time budget, or Ctrl-C; return whether it was interrupted."""
    start, last_ckpt, first_epoch, planned = time.perf_counter(), time.perf_counter(), trainer.epoch, trainer.epochs
    budget = None if max_minutes is None else max_minutes * 60
    first_done = start
    try:
        while not trainer.done:
            record = trainer.run_epoch()
            now = time.perf_counter()
            ran = trainer.epoch - first_epoch
            if budget is not None and ran == 1:  # a first guess (the first epoch is slower: warm-up)
                first_done = now
                _fit_to_budget(trainer, view, now - start, now - start, budget, planned)
            elif budget is not None and ran == 4:  # the steady pace of epochs 2-4
                _fit_to_budget(trainer, view, now - start, (now - first_done) / 3, budget, planned)
            view.update(record)
            if out_dir is not None and (now - last_ckpt > 30 or trainer.done):
                _save_checkpoint(trainer, out_dir, config)
                last_ckpt = time.perf_counter()
            if budget is not None and time.perf_counter() - start > budget:
                view.note(f"stopped at the {max_minutes:g}-minute budget after epoch {trainer.epoch}")
                break
    except KeyboardInterrupt:
        view.note(f"interrupted after epoch {trainer.epoch}: keeping the best model so far")
        if out_dir is not None:
            _save_checkpoint(trainer, out_dir, config)
        return True
    return False


def _fit_to_budget(
    trainer: VAETrainer, view: _View, elapsed: float, epoch_seconds: float, budget: float, cap: int
) -> None:
    """Re-plan the epochs (at most ``cap``) to what fits the budget, so the learning rate decays in time."""
    fits = min(cap, trainer.epoch + int(max(0.0, budget - elapsed) / max(epoch_seconds, 1e-6)))
    if fits != trainer.epochs:
        view.note(
            f"{cap} epochs would take about {cap * epoch_seconds / 60:.0f} min; "
            f"planning {fits} to fit the {budget / 60:g}-minute budget (max_minutes=)"
        )
        trainer.replan(fits)
        view.bar.total = trainer.epochs
        view.bar.refresh()


def _card(
    gen: VAEGenerator,
    summary: DataSummary,
    settings: dict[str, int],
    trainer: VAETrainer,
    augment: Any,
    seed: int,
    lr: float,
    beta: float,
    train_x: torch.Tensor,
    test_x: torch.Tensor,
    interrupted: bool,
    t0: float,
) -> dict[str, Any]:
    """The model card: figures on the test images, which no decision (best epoch: validation) has read."""
    final = evaluate_vae(trainer.best_model(), test_x)
    baseline = float(((train_x.mean(0, keepdim=True) - test_x) ** 2).mean())
    return {
        "description": f"VAE trained with latentlab.train on {summary.n_loaded} images",
        "license": "the license of your images",
        "spaces": f"z ({gen.config.latent_dim},) normal prior",
        "image_size": list(gen.image_size),
        "data": {
            **asdict(summary),
            "skipped": summary.skipped[:50],
            "n_train": len(train_x),
            "n_val": len(trainer.val),
            "n_test": len(test_x),
        },
        "training": {
            **settings,
            "epochs_run": trainer.epoch,
            "seed": seed,
            "lr": lr,
            "beta": beta,
            "free_bits": trainer.free_bits,
            "kl_warmup": trainer.kl_warmup,
            "augment": augment,
            "interrupted": interrupted,
            "seconds": round(time.perf_counter() - t0, 1),
            "device": str(train_x.device),
            "torch": torch.__version__,
            "date": dt.date.today().isoformat(),
            "history": [{k: round(v, 5) for k, v in r.items()} for r in trainer.history],
        },
        "metrics": {
            "best_validation_neg_elbo_nats": round(trainer.best_val, 3),
            "test_neg_elbo_nats": round(final["val_loss"], 3),
            "test_recon_mse": round(final["val_mse"], 5),
            "mean_image_baseline_mse": round(baseline, 5),
        },
    }


# -- live view ---------------------------------------------------------------------------------------


class _View:
    """Progress display: a tqdm bar, plus a live widget (loss curve, reconstructions, samples) in notebooks."""

    def __init__(self, trainer: VAETrainer, progress: bool, live: bool) -> None:
        from tqdm.auto import tqdm

        self.trainer, self.live, self.last_draw = trainer, live, 0.0
        self.bar = tqdm(
            total=trainer.epochs, initial=trainer.epoch, desc="training", unit="epoch", disable=not progress
        )
        self.widgets: Any = None
        if live:
            self._make_widgets()

    def _make_widgets(self) -> None:
        from .notebook import LivePanel

        self.widgets = LivePanel()
        self.status = self.widgets.html("starting ...")
        self.curve, self.pictures = self.widgets.png(), self.widgets.png()
        self.widgets.show()

    def update(self, record: dict[str, float]) -> None:
        self.bar.update(1)
        self.bar.set_postfix(train=f"{record['train_loss']:.1f}", validation=f"{record['val_loss']:.1f}")
        if self.widgets is not None and (time.perf_counter() - self.last_draw > 1.0 or self.trainer.done):
            self.last_draw = time.perf_counter()
            self.status.value = (
                f"epoch {self.trainer.epoch}/{self.trainer.epochs} &nbsp; train loss "
                f"{record['train_loss']:.2f} &nbsp; validation loss {record['val_loss']:.2f}"
            )
            self.curve.value = loss_curve_png(self.trainer.history)
            self.pictures.value = progress_grid_png(self.trainer)

    def note(self, text: str) -> None:
        self.bar.write(text)
        if self.widgets is not None:
            self.status.value += f"<br>{text}"

    def close(self) -> None:
        self.bar.close()


def _make_view(progress: bool, live: bool | None, trainer: VAETrainer) -> _View:
    from .notebook import in_notebook

    return _View(trainer, progress, (progress and in_notebook()) if live is None else live)


def loss_curve_png(history: list[dict[str, float]], width: int = 320, height: int = 200) -> bytes:
    """A small PNG of training (blue) and validation (orange) loss per epoch, drawn with PIL."""
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    series = [[r["train_loss"] for r in history], [r["val_loss"] for r in history]]
    values = [v for s in series for v in s]
    if len(history) >= 2:
        lo, hi = min(values), max(values)
        span = (hi - lo) or 1.0
        for s, colour in zip(series, ("#1f77b4", "#ff7f0e")):
            pts = [
                (30 + i * (width - 40) / (len(s) - 1), 10 + (hi - v) / span * (height - 40)) for i, v in enumerate(s)
            ]
            draw.line(pts, fill=colour, width=2)
        draw.text((32, height - 24), f"epochs 1-{len(history)}   loss {lo:.1f}-{hi:.1f}", fill="black")
    draw.text((32, 2), "train", fill="#1f77b4")
    draw.text((80, 2), "validation", fill="#ff7f0e")
    draw.rectangle([29, 9, width - 9, height - 29], outline="#999999")
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


@torch.no_grad()
def progress_grid_png(trainer: VAETrainer, n: int = 6) -> bytes:
    """PNG grid: validation images (row 1), their reconstructions (row 2), prior samples (row 3)."""
    model = trainer.model
    was_training = model.training
    model.eval()
    real = trainer.val[:n]
    recon = torch.sigmoid(model(real)[0])
    z = torch.randn(len(real), model.config.latent_dim, generator=torch.Generator().manual_seed(0)).to(real.device)
    samples = torch.sigmoid(model.decode_logits(z))
    model.train(was_training)
    rows = torch.cat([real, recon, samples]).float().cpu()
    rows = rows.expand(-1, 3, -1, -1) if rows.shape[1] == 1 else rows
    scale = max(1, 48 // rows.shape[-1])
    big = torch.nn.functional.interpolate(rows, scale_factor=scale, mode="nearest") if scale > 1 else rows
    return png_bytes(grid(big, nrow=len(real)))
