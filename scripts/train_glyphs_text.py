"""Train the ``glyphs-text`` prior: a text-conditioned denoiser over the glyphs training codes.

Data: the bundled ``glyphs`` training codes (posterior means of 2,348 fonts of the training
families; held-out families are not in them) and the captions of
``scripts/build_font_captions.py`` (``data/fonts/captions.json``), embedded once with the
packaged MiniLM encoder (cached in ``data/build/caption_embeddings.pt``).

Each step takes a batch of fonts, one random caption of each (dropped to the null condition
with probability ``--drop`` for classifier-free guidance; the caption embedding jittered with
Gaussian noise of norm ``--emb-noise`` and renormalised), noises the standardised codes at a
random DDPM timestep (diffusers ``DDPMScheduler``) and regresses the noise. EMA weights are kept.
Runs are time-limited (``--minutes``) on one thread, and resume from ``--ckpt``.

``--val`` reports, every ``--eval-every`` steps, the share of samples whose 10 nearest training
codes are mostly of the asked category, for the caption words and for the *validation* words
(never in a caption), the numbers used to choose the recipe.

Usage::

    python scripts/train_glyphs_text.py --minutes 8 --ckpt data/checkpoints/glyphs_text.pt
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from latentlab._atomic import atomic_path  # noqa: E402
from latentlab.generators._weights import sha256_file  # noqa: E402
from latentlab.generators.glyphs_text import TextPriorConfig, TextPriorNet, denoise, make_scheduler  # noqa: E402
from latentlab.generators.glyphs_text_quality import category_hits  # noqa: E402
from latentlab.text import TextEncoder  # noqa: E402

CAPTIONS = ROOT / "data" / "fonts" / "captions.json"
EMB_CACHE = ROOT / "data" / "build" / "caption_embeddings.pt"
GLYPHS = ROOT / "latentlab" / "models" / "glyphs"


def load_codes() -> tuple[torch.Tensor, dict]:
    from safetensors.torch import load_file

    codes = load_file(str(GLYPHS / "codes.safetensors"))["codes"].float()
    labels = json.loads((GLYPHS / "labels.json").read_text())
    return codes, labels


def caption_embeddings(captions: list[list[str]], encoder: TextEncoder) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Unique caption embeddings ``(U, 384)`` and, per font, the indices of its captions (cached on disk;
    a cache of other captions lends the embeddings of the texts they share)."""
    digest = sha256_file(CAPTIONS)
    texts = sorted({c for cs in captions for c in cs})
    cached = torch.load(EMB_CACHE) if EMB_CACHE.is_file() else {}
    emb = cached["emb"] if cached.get("sha256") == digest else None
    if emb is None:
        t0 = time.time()
        known = dict(zip(cached.get("texts", []), cached.get("emb", [])))
        new = [t for t in texts if t not in known]
        if new:
            known.update(zip(new, encoder.encode(new)))
        emb = torch.stack([known[t] for t in texts])
        print(f"embedded {len(new)} of {len(texts)} captions in {time.time() - t0:.0f} s", flush=True)
        EMB_CACHE.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(EMB_CACHE) as tmp:
            torch.save({"sha256": digest, "emb": emb, "texts": texts}, tmp)
    index = {t: i for i, t in enumerate(texts)}
    per_font = [torch.tensor([index[c] for c in cs]) for cs in captions]
    return emb, per_font


def jitter(emb: torch.Tensor, scale: float, gen: torch.Generator) -> torch.Tensor:
    """Unit embeddings plus isotropic noise of expected norm ``scale``, renormalised."""
    if scale <= 0:
        return emb
    noise = torch.randn(emb.shape, generator=gen) * (scale / emb.shape[1] ** 0.5)
    return F.normalize(emb + noise, dim=1)


def evaluate(
    net: TextPriorNet,
    codes: torch.Tensor,
    categories: np.ndarray,
    encoder: TextEncoder,
    guidance: float = 3.0,
    n: int = 24,
) -> dict[str, float]:
    """Category hit rates of the caption words and of the validation words (never in a caption)."""
    from latentlab.generators._font_words import CATEGORY_PROMPTS, VALIDATION_WORDS

    sched = make_scheduler(net.config)
    out = {}
    for label, prompts in (("caption_words", CATEGORY_PROMPTS), ("validation_words", VALIDATION_WORDS)):
        rates = {}
        for text, cat in prompts.items():
            emb = encoder.encode([text]).expand(n, -1)
            noise = torch.randn((n, net.config.latent_dim), generator=torch.Generator().manual_seed(1))
            styles = denoise(net, sched, noise, emb, guidance, net.config.sample_steps)
            rates[text] = float(category_hits(styles, codes, categories, cat).mean())
        out[label] = float(np.mean(list(rates.values())))
        out[label + "_each"] = rates  # type: ignore[assignment]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=8.0)
    ap.add_argument(
        "--steps", type=int, default=0, help="stop after this many steps of this run (0: at --minutes only)"
    )
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--drop", type=float, default=0.12, help="caption dropout (classifier-free guidance)")
    ap.add_argument("--emb-noise", type=float, default=0.3, help="norm of the noise added to caption embeddings")
    ap.add_argument("--center", type=int, default=1, help="condition on the centred, renormalised embedding")
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--blocks", type=int, default=4)
    ap.add_argument("--ema", type=float, default=0.999)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--eval-every", type=int, default=0, help="steps between validation evaluations (0: at the end)")
    ap.add_argument("--ckpt", type=Path, default=ROOT / "data" / "checkpoints" / "glyphs_text.pt")
    ap.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    codes, labels = load_codes()
    captions = json.loads(CAPTIONS.read_text())["train"]
    encoder = TextEncoder()
    emb, per_font = caption_embeddings(captions, encoder)
    categories = np.asarray(labels["category"])

    cfg = TextPriorConfig(hidden=args.hidden, blocks=args.blocks, center=bool(args.center))
    net = TextPriorNet(cfg)
    net.fit_code_stats(codes)
    net.emb_center.copy_(emb.mean(0))
    ema = copy.deepcopy(net)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=1e-4)
    step, minutes_done, history = 0, 0.0, []
    if args.ckpt.is_file() and not args.fresh:
        state = torch.load(args.ckpt, weights_only=False)  # our own checkpoint
        if TextPriorConfig(**state["config"]).training_dict() != cfg.training_dict():
            sys.exit(f"{args.ckpt} was trained with another config; pass --fresh or the same options")
        net.load_state_dict(state["net"], strict=False)  # checkpoints before the code_lo/hi/whiten buffers
        ema.load_state_dict(state["ema"], strict=False)
        net.fit_code_stats(codes)
        ema.fit_code_stats(codes)
        opt.load_state_dict(state["opt"])
        step, minutes_done, history = state["step"], state["minutes"], state["history"]
        print(f"resumed at step {step} ({minutes_done:.1f} min)", flush=True)

    sched = make_scheduler(cfg, "ddpm")
    x0_all = net.standardise(codes)
    rng = torch.Generator().manual_seed(args.seed + step)
    counts = torch.tensor([len(p) for p in per_font])
    flat = torch.cat(per_font)
    offsets = torch.cumsum(counts, 0) - counts
    t0, last_log, losses = time.time(), time.time(), []
    total_minutes = minutes_done + args.minutes
    first_step = step

    def progress() -> float:
        """Share of the whole planned run done (steps with ``--steps``, else minutes): the lr schedule's clock."""
        if args.steps:
            return min(1.0, step / (first_step + args.steps))
        return min(1.0, (minutes_done + (time.time() - t0) / 60) / total_minutes)

    while (time.time() - t0) / 60 < args.minutes and not (args.steps and step - first_step >= args.steps):
        idx = torch.randint(len(codes), (args.batch,), generator=rng)
        pick = offsets[idx] + (torch.rand(args.batch, generator=rng) * counts[idx]).long()
        e = jitter(emb[flat[pick]], args.emb_noise, rng)
        x0 = x0_all[idx]
        noise = torch.randn(x0.shape, generator=rng)
        t = torch.randint(cfg.train_timesteps, (args.batch,), generator=rng)
        xt = sched.add_noise(x0, noise, t)
        drop = torch.rand(args.batch, generator=rng) < args.drop
        cond = torch.where(drop[:, None], net.condition(None, args.batch), net.condition(e))
        # cosine learning-rate decay over the whole planned run
        frac = progress()
        for g in opt.param_groups:
            g["lr"] = float(args.lr * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * frac))))
        loss = F.mse_loss(net(xt, t, cond), noise)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        with torch.no_grad():
            for pe, p in zip(ema.parameters(), net.parameters()):
                pe.lerp_(p, 1 - args.ema)
        losses.append(float(loss.detach()))
        step += 1
        if time.time() - last_log > 30:
            rec = {
                "step": step,
                "minutes": round(minutes_done + (time.time() - t0) / 60, 2),
                "loss": round(float(np.mean(losses)), 4),
                "lr": round(opt.param_groups[0]["lr"], 6),
            }
            history.append(rec)
            print(json.dumps(rec), flush=True)
            losses, last_log = [], time.time()
        if args.eval_every and step % args.eval_every == 0:
            print(json.dumps({"step": step, **evaluate(ema, codes, categories, encoder)}), flush=True)
    minutes_done += (time.time() - t0) / 60
    args.ckpt.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(args.ckpt) as tmp:
        torch.save(
            {
                "net": net.state_dict(),
                "ema": ema.state_dict(),
                "opt": opt.state_dict(),
                "step": step,
                "minutes": minutes_done,
                "history": history,
                "config": cfg.to_dict(),
                "args": {k: str(v) for k, v in vars(args).items()},
                "captions_sha256": sha256_file(CAPTIONS),
            },
            tmp,
        )
    result = evaluate(ema, codes, categories, encoder)
    print(json.dumps({"step": step, "minutes": round(minutes_done, 2), **result}), flush=True)


if __name__ == "__main__":
    main()
