"""Train the ``glyphs`` set-VAE on ``data/build/glyphs64.npz`` (CPU friendly, resumable).

Each step takes ``--batch`` training fonts; the encoder sees a random subset of each font's glyphs
(1 to 62, so that both completion and full reconstruction are trained) and the decoder redraws
``--targets`` random characters of the same font at 64 px. Loss per font: edge-weighted Bernoulli
likelihood summed over pixels (scaled to all 62 glyphs) + ``--beta`` x KL (with free bits)
+ ``--dice`` x soft-IoU loss per glyph (scaled to all 62 glyphs; 0 = off), which rewards drawing
thin strokes at all rather than fading them to grey. An exponential moving average of the weights
is kept for export.

A new phase can start from a trained checkpoint with a changed architecture: ``--init-from``
loads the matching weights (new parts, e.g. ``--detail-width``, start at zero output) and starts
a fresh optimiser; ``--phase-start`` is the total minute at which its learning-rate schedule starts.

Usage::

    nohup python scripts/train_glyphs.py --minutes 150 --threads 1 --lr 1.5e-3 > data/build/train.log 2>&1 &
    python scripts/train_glyphs.py --resume --minutes 60 --threads 1 --lr 1.5e-3 --decay-minutes 190
    python scripts/train_glyphs.py --init-from data/build/glyphs_ckpt.pt --ckpt data/build/glyphs_ckpt2.pt \
        --detail-width 16 --dice 300 --lr 5e-4 --phase-start 194 --decay-minutes 300 --minutes 100

The bundled model was trained this way on 2 shared CPU cores (one thread: on an oversubscribed
machine two threads mostly wait for each other); see its card for steps and minutes.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from latentlab.generators._glyphs_net import CHARS, GlyphsConfig, GlyphsNet  # noqa: E402

DATA = ROOT / "data" / "build" / "glyphs64.npz"
CKPT = ROOT / "data" / "build" / "glyphs_ckpt.pt"
SUBSET_SIZES = (1, 3, 5, 5, 8, 12, 20, 32, 62, 62)


def load_data(path: Path) -> dict[str, np.ndarray]:
    """The built data set as a dict of arrays (glyphs uint8 ``(F, 62, 64, 64)``)."""
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


def edge_weight(t: torch.Tensor, strength: float) -> torch.Tensor:
    """``1 + strength`` on pixels near an ink edge (morphological gradient of the target), 1 elsewhere."""
    x = t.reshape(-1, 1, *t.shape[-2:])
    grad = F.max_pool2d(x, 3, 1, 1) + F.max_pool2d(-x, 3, 1, 1)
    return (1 + strength * (grad > 0.1).to(t.dtype)).reshape(t.shape)


def soft_iou_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``1 - soft IoU`` per glyph (reduces the last two dims)."""
    p = torch.sigmoid(logits)
    inter = (p * target).sum((-2, -1))
    return 1 - inter / (p + target - p * target).sum((-2, -1)).clamp_min(1.0)


def loss_fn(
    net: GlyphsNet,
    x32: torch.Tensor,
    x64: torch.Tensor,
    n_in: int,
    n_tgt: int,
    beta: float,
    free_bits: float,
    edge: float,
    gen: torch.Generator,
    dice: float = 0.0,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Negative ELBO per font for one batch (``x32`` encoder input, ``x64`` targets, both ``(B, 62, S, S)``)."""
    b = x64.shape[0]
    order = torch.argsort(torch.rand(b, 62, generator=gen), dim=1)
    cin, ctg = order[:, :n_in], torch.argsort(torch.rand(b, 62, generator=gen), dim=1)[:, :n_tgt]
    gin = torch.gather(x32, 1, cin[:, :, None, None].expand(-1, -1, *x32.shape[-2:]))
    tgt = torch.gather(x64, 1, ctg[:, :, None, None].expand(-1, -1, *x64.shape[-2:]))
    mu, logvar = net.encode(gin, cin)
    z = mu + torch.randn(mu.shape, generator=gen) * (0.5 * logvar).exp()
    logits = net.decode(z, ctg)
    w = edge_weight(tgt, edge)
    bce = F.binary_cross_entropy_with_logits(logits, tgt, weight=w, reduction="none").sum((2, 3)).mean(1) * 62
    kl_dim = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar)
    kl = kl_dim.sum(1)
    kl_fb = kl_dim.mean(0).clamp_min(free_bits).sum()  # free bits per dimension (batch-averaged)
    loss = bce.mean() + beta * kl_fb
    if dice > 0:
        loss = loss + dice * soft_iou_loss(logits, tgt).mean(1).mean() * 62
    with torch.no_grad():
        pred, real = logits > 0, tgt > 0.5
        iou = ((pred & real).sum((2, 3)) / (pred | real).sum((2, 3)).clamp_min(1)).mean()
    return loss, {"loss": loss.item(), "bce": bce.mean().item(), "kl": kl.mean().item(), "iou": iou.item()}


@torch.no_grad()
def evaluate(net: GlyphsNet, x32: torch.Tensor, x64: torch.Tensor, chunk: int = 16) -> dict[str, float]:
    """Held-out IoU (ink at 0.5) reconstructing all 62 glyphs from all 62, and the other 57 from 5."""
    net.eval()
    allc = torch.arange(62)
    five = torch.tensor([CHARS.index(c) for c in "Hambg"])
    rest = torch.tensor([i for i in range(62) if i not in five.tolist()])
    ious_full, ious_5 = [], []
    for i in range(0, len(x64), chunk):
        a32, a64 = x32[i : i + chunk], x64[i : i + chunk]
        mu, _ = net.encode(a32, allc)
        pred = net.decode(mu, allc) > 0
        real = a64 > 0.5
        ious_full.append(((pred & real).sum((2, 3)) / (pred | real).sum((2, 3)).clamp_min(1)).mean(1))
        mu5, _ = net.encode(a32[:, five], five)
        pred5 = net.decode(mu5, rest) > 0
        real5 = real[:, rest]
        ious_5.append(((pred5 & real5).sum((2, 3)) / (pred5 | real5).sum((2, 3)).clamp_min(1)).mean(1))
    net.train()
    return {"iou": torch.cat(ious_full).mean().item(), "iou5": torch.cat(ious_5).mean().item()}


def init_from(net: GlyphsNet, path: Path) -> tuple[int, float, list[dict]]:
    """Load a checkpoint's EMA weights into ``net`` (new modules keep their init); its step, minutes, history."""
    st = torch.load(path, weights_only=False)
    missing, unexpected = net.load_state_dict(st["ema"], strict=False)
    if unexpected or any(not k.startswith("detail.") for k in missing):
        raise SystemExit(f"{path} does not fit this architecture: missing {missing}, unexpected {unexpected}")
    print(f"new phase from {path} (step {st['step']}, {st['elapsed'] / 60:.1f} min); new: {missing}", flush=True)
    return st["step"], st["elapsed"], list(st["history"])


def save_checkpoint(path: Path, state: dict) -> None:
    """Write the checkpoint atomically (temp file, then rename)."""
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--ckpt", type=Path, default=CKPT)
    ap.add_argument("--minutes", type=float, default=150.0, help="wall-clock budget of this run")
    ap.add_argument("--batch", type=int, default=12)
    ap.add_argument("--targets", type=int, default=10, help="characters decoded per font per step")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--lr-min", type=float, default=1e-4, help="final learning rate of the cosine decay")
    ap.add_argument(
        "--decay-minutes",
        type=float,
        default=0.0,
        help="total training minutes (counted across resumes) over which the LR decays; 0 = constant",
    )
    ap.add_argument("--beta", type=float, default=1.0)
    ap.add_argument("--free-bits", type=float, default=0.5)
    ap.add_argument("--edge", type=float, default=2.0, help="extra loss weight on edge pixels")
    ap.add_argument("--ema", type=float, default=0.998)
    ap.add_argument("--ckpt-every", type=float, default=180.0, help="seconds between checkpoints")
    ap.add_argument("--eval-every", type=float, default=900.0, help="seconds between held-out evaluations")
    ap.add_argument("--log-every", type=float, default=60.0, help="seconds between log lines")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--dec-widths", type=str, default="128,64,32,16,8")
    ap.add_argument("--detail-width", type=int, default=0, help="channels of the 64 px detail head (0: none)")
    ap.add_argument("--dice", type=float, default=0.0, help="weight of the soft-IoU loss (0: off)")
    ap.add_argument(
        "--init-from",
        type=Path,
        default=None,
        help="start a new phase from this checkpoint's EMA weights (architecture may grow)",
    )
    ap.add_argument(
        "--phase-start",
        type=float,
        default=0.0,
        help="total minutes at which this phase's learning-rate schedule starts",
    )
    args = ap.parse_args()
    if args.decay_minutes > 0 and args.decay_minutes <= args.phase_start:
        ap.error(f"--decay-minutes ({args.decay_minutes}) must be beyond --phase-start ({args.phase_start})")

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    d = load_data(args.data)
    train = d["split"] == "train"
    x64_all = torch.from_numpy(d["glyphs"])
    x32_all = F.avg_pool2d(x64_all.float().reshape(-1, 1, 64, 64), 2).reshape(len(x64_all), 62, 32, 32)
    x32_all = x32_all.round().to(torch.uint8)
    tr_idx = np.flatnonzero(train)
    te_idx = np.flatnonzero(~train)
    rng = np.random.default_rng(args.seed)
    ev_idx = rng.choice(te_idx, size=min(48, len(te_idx)), replace=False)
    ev32 = x32_all[ev_idx].float() / 255
    ev64 = x64_all[ev_idx].float() / 255

    config = GlyphsConfig(dec_widths=tuple(int(v) for v in args.dec_widths.split(",")), detail_width=args.detail_width)
    net = GlyphsNet(config)
    step, elapsed = 0, 0.0
    history: list[dict] = []
    if args.init_from is not None and not (args.resume and args.ckpt.is_file()):
        step, elapsed, history = init_from(net, args.init_from)
        rng = np.random.default_rng(args.seed + step)
    ema = copy.deepcopy(net).requires_grad_(False)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    gen = torch.Generator().manual_seed(args.seed + step)
    if args.resume and args.ckpt.is_file():
        st = torch.load(args.ckpt, weights_only=False)
        net.load_state_dict(st["model"])
        ema.load_state_dict(st["ema"])
        opt.load_state_dict(st["opt"])
        step, elapsed, history = st["step"], st["elapsed"], st["history"]
        gen.set_state(st["gen"])
        rng = np.random.default_rng(args.seed + step)
        print(f"resumed at step {step} ({elapsed / 60:.1f} min trained)", flush=True)
    print(
        f"train fonts {len(tr_idx)}, held-out fonts {len(te_idx)}; params "
        f"{sum(p.numel() for p in net.parameters()) / 1e6:.2f} M; config {config.to_dict()}",
        flush=True,
    )

    phase_step = step if args.init_from is not None else 0
    if args.resume and args.init_from is not None:
        phase_step = next((h["step"] for h in history if "phase" in h), 0)
    if args.init_from is not None and not any("phase" in h for h in history):
        history.append({"step": step, "phase": {k: str(v) for k, v in vars(args).items()}})
    t_start = time.time()
    t_ckpt = t_eval = t_log = t_start
    run = {"loss": 0.0, "bce": 0.0, "kl": 0.0, "iou": 0.0, "n": 0}

    def state() -> dict:
        return {
            "model": net.state_dict(),
            "ema": ema.state_dict(),
            "opt": opt.state_dict(),
            "step": step,
            "elapsed": elapsed + time.time() - t_start,
            "history": history,
            "gen": gen.get_state(),
            "config": config.to_dict(),
            "args": vars(args) | {"data": str(args.data), "ckpt": str(args.ckpt)},
        }

    while time.time() - t_start < args.minutes * 60:
        idx = torch.from_numpy(rng.choice(tr_idx, size=args.batch, replace=False))
        x32 = x32_all[idx].float() / 255
        x64 = x64_all[idx].float() / 255
        n_in = int(SUBSET_SIZES[int(rng.integers(len(SUBSET_SIZES)))])
        total_min = (elapsed + time.time() - t_start) / 60
        lr = args.lr * (0.3 + 0.7 * min(1.0, (step - phase_step) / 200))  # short warm-up
        if args.decay_minutes > 0:
            frac = min(1.0, max(0.0, total_min - args.phase_start) / max(1e-6, args.decay_minutes - args.phase_start))
            lr = args.lr_min + (lr - args.lr_min) * 0.5 * (1 + math.cos(math.pi * frac))
        for g in opt.param_groups:
            g["lr"] = lr
        loss, logs = loss_fn(net, x32, x64, n_in, args.targets, args.beta, args.free_bits, args.edge, gen, args.dice)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1000.0)
        opt.step()
        step += 1
        with torch.no_grad():
            decay = min(args.ema, (1 + step) / (10 + step))
            for pe, pn in zip(ema.parameters(), net.parameters()):
                pe.lerp_(pn, 1 - decay)
        for k in ("loss", "bce", "kl", "iou"):
            run[k] += logs[k]
        run["n"] += 1
        now = time.time()
        if now - t_log > args.log_every:
            n = run["n"]
            rec = {
                "step": step,
                "minutes": round(total_min, 2),
                "lr": round(lr, 6),
                **{k: round(run[k] / n, 4) for k in ("loss", "bce", "kl", "iou")},
            }
            history.append(rec)
            print(json.dumps(rec), flush=True)
            run = {"loss": 0.0, "bce": 0.0, "kl": 0.0, "iou": 0.0, "n": 0}
            t_log = now
        if now - t_eval > args.eval_every:
            ev = evaluate(ema, ev32, ev64)
            history.append({"step": step, "minutes": round(total_min, 2), "eval_ema": ev})
            print(json.dumps(history[-1]), flush=True)
            t_eval = time.time()
        if now - t_ckpt > args.ckpt_every:
            save_checkpoint(args.ckpt, state())
            t_ckpt = time.time()
    ev = evaluate(ema, ev32, ev64)
    history.append({"step": step, "minutes": round((elapsed + time.time() - t_start) / 60, 2), "eval_ema": ev})
    print(json.dumps(history[-1]), flush=True)
    save_checkpoint(args.ckpt, state())
    print(f"done: {step} steps, checkpoint {args.ckpt}", flush=True)


if __name__ == "__main__":
    main()
