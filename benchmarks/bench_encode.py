"""Encoding rows: optimise vs hybrid (steps and seconds to a target loss), latentlab's loss vs a
plain-MSE Adam loop, and encoder throughput vs the raw ``gen.encode`` call.

Data: real hand-written digits from scikit-learn's test split (not decoded samples, so no method
gets a perfect answer for free), as ink-on-paper images at the model's 32x32.
"""

from __future__ import annotations

import torch

import latentlab as ll

from ._timing import best_of


def _digits(n: int) -> torch.Tensor:
    from sklearn.datasets import load_digits

    ink = torch.tensor(load_digits().images[-n:], dtype=torch.float32)[:, None] / 16
    return ll.load_images(1 - ink, size=(32, 32), fit="stretch")


def _first_step(history: torch.Tensor, target: float) -> int:
    """First step at which the mean over images of each image's best-so-far loss is ``<= target``."""
    curve = history.cummin(0).values.mean(1)
    hit = (curve <= target + 1e-12).nonzero()
    return int(hit[0]) if len(hit) else -1


def _plain_adam(gen: ll.Generator, y: torch.Tensor, steps: int, lr: float) -> torch.Tensor:
    """The textbook loop: Adam on z from 0, pixel MSE only, constant lr. Returns per-image MSE."""
    z = torch.zeros(len(y), *gen.default_space.shape, requires_grad=True)
    opt = torch.optim.Adam([z], lr=lr)
    for _ in range(steps):
        loss = ((gen.decode_differentiable(z) - y) ** 2).flatten(1).mean(1).sum()
        (grad,) = torch.autograd.grad(loss, z)
        z.grad = grad
        opt.step()
    with torch.no_grad():
        return ((gen.decode(z) - y) ** 2).flatten(1).mean(1)


def run(quick: bool = False) -> list[dict[str, str]]:
    gen = ll.load("digits")
    n, steps = (16, 100) if quick else (64, 300)
    y = _digits(n)
    rows = []

    opt = ll.encode(gen, y, "optimize", steps=steps, tol=None, progress=False)
    hyb = ll.encode(gen, y, "hybrid", steps=steps, tol=None, progress=False)
    target = float(opt.loss.mean())
    k_opt, k_hyb = _first_step(opt.history, target), _first_step(hyb.history, target)
    rows.append({"benchmark": f"steps to optimize's final mean loss ({n} digits)", "latentlab": f"{k_hyb} (hybrid)",
                 "baseline": f"{k_opt} (optimize only)", "ratio": f"{k_hyb / max(k_opt, 1):.2f}x",
                 "note": f"target loss {target:.4f}; Adam lr 0.05, batch {n}"})
    t_hyb, t_opt = hyb.seconds * k_hyb / steps, opt.seconds * k_opt / steps
    rows.append({"benchmark": f"seconds to that loss ({n} digits, CPU)", "latentlab": f"{t_hyb:.2f} s (hybrid)",
                 "baseline": f"{t_opt:.2f} s (optimize only)", "ratio": f"{t_hyb / t_opt:.2f}x",
                 "note": "wall time of one run, up to the step that reached it"})

    plain_mse = _plain_adam(gen, y, steps, lr=0.05)
    psnr_ll, psnr_plain = float(opt.psnr.mean()), float((10 * torch.log10(1 / plain_mse)).mean())
    rows.append({"benchmark": f"PSNR after {steps} optimize steps ({n} digits)", "latentlab": f"{psnr_ll:.2f} dB",
                 "baseline": f"{psnr_plain:.2f} dB (plain MSE Adam loop)",
                 "ratio": f"{psnr_ll - psnr_plain:+.2f} dB",
                 "note": "same steps and lr; latentlab minimises a multi-scale loss + prior, not pure MSE"})

    m = 256 if quick else 1024
    many = _digits(min(m, 1797)).repeat(max(1, m // 1797) + 1, 1, 1, 1)[:m]
    t_ll = best_of(lambda: ll.encode(gen, many, "encoder", progress=False, batch_size=256), repeat=3)
    t_raw = best_of(lambda: gen.encode(many), repeat=3)
    rows.append({"benchmark": f"encoder throughput ({m} images)", "latentlab": f"{m / t_ll:,.0f} images/s",
                 "baseline": f"{m / t_raw:,.0f} images/s (gen.encode)", "ratio": f"{t_ll / t_raw:.2f}x time",
                 "note": "ll.encode also decodes and scores every image"})
    return rows
