"""The one training loop of the VAE family (bundled ``digits`` and ``latentlab.train``).

:class:`VAETrainer` trains epoch by epoch, evaluates on held-out images, keeps the best
weights so far, and can be checkpointed and resumed (its state is plain tensors and numbers,
so checkpoints load with ``torch.load(weights_only=True)``). No UI here: callers add
progress bars and live views around :meth:`VAETrainer.run_epoch`.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

import torch

from .vae import VAE, vae_loss

__all__ = ["VAETrainer", "fit_vae", "evaluate_vae", "Augment"]

Augment = Callable[[torch.Tensor, torch.Generator], torch.Tensor]


class VAETrainer:
    """Train a :class:`VAE` on images ``(N, C, S, S)`` in [0, 1].

    Args:
        model: the VAE (moved to the data's device).
        train, val: training and held-out images on the same device.
        epochs: planned epochs (the learning-rate schedule spans them; stopping earlier is fine).
        batch_size, lr, beta: Adam learning rate (one-cycle schedule), KL weight.
        seed: seeds batch order and reparameterisation noise (a local generator: global RNG untouched).
        augment: optional ``f(batch, generator) -> batch`` applied to training batches.
        free_bits: per-dimension KL floor in nats (0 = plain ELBO); see :func:`vae_loss`.
        kl_warmup: fraction of the planned steps over which the KL weight ramps from 0 to ``beta``.
    """

    def __init__(
        self,
        model: VAE,
        train: torch.Tensor,
        val: torch.Tensor,
        *,
        epochs: int,
        batch_size: int = 64,
        lr: float = 2e-3,
        beta: float = 1.0,
        seed: int = 0,
        augment: Augment | None = None,
        free_bits: float = 0.0,
        kl_warmup: float = 0.0,
    ) -> None:
        self.model = model.to(train.device)
        self.train, self.val = train, val
        self.epochs, self.batch_size, self.beta, self.augment = epochs, batch_size, beta, augment
        self.free_bits, self.kl_warmup = free_bits, kl_warmup
        self.rng = torch.Generator(device="cpu").manual_seed(seed)
        self.opt = torch.optim.Adam(model.parameters(), lr=lr)
        self.steps_per_epoch = max(1, math.ceil(len(train) / batch_size))
        self.total_steps = epochs * self.steps_per_epoch
        self.sched = torch.optim.lr_scheduler.LambdaLR(self.opt, self._lr_factor)
        self.epoch = 0
        self.history: list[dict[str, float]] = []
        self.best_val = math.inf
        self.best_state: dict[str, torch.Tensor] = copy.deepcopy(model.state_dict())

    @property
    def done(self) -> bool:
        return self.epoch >= self.epochs

    def _lr_factor(self, step: int) -> float:
        """Warm-up over at most 50 steps, then cosine decay to 2% at the planned last step."""
        warm = max(1, min(50, self.total_steps // 10))
        if step < warm:
            return (step + 1) / warm
        progress = min(1.0, (step - warm) / max(1, self.total_steps - warm))
        return 0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * progress))

    def _beta_now(self) -> float:
        warm_steps = self.kl_warmup * self.total_steps
        step = self.sched.last_epoch
        return self.beta if step >= warm_steps else self.beta * step / warm_steps

    def replan(self, epochs: int) -> None:
        """Change the planned number of epochs (the learning-rate decay follows), e.g. to fit a time budget."""
        self.epochs = max(self.epoch + 1, int(epochs))
        self.total_steps = self.epochs * self.steps_per_epoch

    def run_epoch(self) -> dict[str, float]:
        """Train one epoch, evaluate, keep the best weights; return the epoch's record."""
        self.model.train()
        total = 0.0
        for idx in torch.randperm(len(self.train), generator=self.rng).split(self.batch_size):
            batch = self.train[idx.to(self.train.device)]
            if self.augment is not None:
                batch = self.augment(batch, self.rng)
            loss, _ = vae_loss(self.model, batch, self._beta_now(), self.rng, self.free_bits)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            self.sched.step()
            total += float(loss.detach()) * len(idx)
        self.epoch += 1
        record = {
            "epoch": float(self.epoch),
            "train_loss": total / len(self.train),
            **evaluate_vae(self.model, self.val),
        }
        self.history.append(record)
        if record["val_loss"] < self.best_val:
            self.best_val = record["val_loss"]
            self.best_state = copy.deepcopy(self.model.state_dict())
        return record

    def best_model(self) -> VAE:
        """A copy of the model with the best held-out weights so far (in eval mode)."""
        best = copy.deepcopy(self.model)
        best.load_state_dict(self.best_state)
        return best.eval()

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume: weights, optimiser, schedule, RNG, history, best weights."""
        return {
            "model": self.model.state_dict(),
            "opt": self.opt.state_dict(),
            "sched": self.sched.state_dict(),
            "rng": self.rng.get_state(),
            "epoch": self.epoch,
            "epochs": self.epochs,
            "total_steps": self.total_steps,
            "history": self.history,
            "best_val": self.best_val,
            "best_state": self.best_state,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.opt.load_state_dict(state["opt"])
        self.sched.load_state_dict(state["sched"])
        self.rng.set_state(state["rng"])
        self.epoch, self.history = int(state["epoch"]), list(state["history"])
        self.epochs, self.total_steps = int(state["epochs"]), int(state["total_steps"])
        self.best_val, self.best_state = float(state["best_val"]), state["best_state"]


def fit_vae(
    model: VAE,
    train: torch.Tensor,
    val: torch.Tensor,
    *,
    epochs: int,
    batch_size: int = 64,
    lr: float = 2e-3,
    beta: float = 1.0,
    seed: int = 0,
    on_epoch: Callable[[int, dict[str, float]], object] | None = None,
) -> list[dict[str, float]]:
    """Train ``model`` for ``epochs`` and leave it with its final weights; return the history.

    ``on_epoch(epoch_index, record)`` may return ``False`` to stop early.
    """
    trainer = VAETrainer(model, train, val, epochs=epochs, batch_size=batch_size, lr=lr, beta=beta, seed=seed)
    while not trainer.done:
        record = trainer.run_epoch()
        if on_epoch is not None and on_epoch(trainer.epoch - 1, record) is False:
            break
    model.eval()
    return trainer.history


@torch.no_grad()
def evaluate_vae(model: VAE, images: torch.Tensor, batch_size: int = 512) -> dict[str, float]:
    """Held-out negative ELBO (nats/image, beta=1, posterior mean) and reconstruction MSE per pixel."""
    was_training = model.training
    model.eval()
    loss_sum, mse_sum = 0.0, 0.0
    for chunk in images.split(batch_size):
        loss, _ = vae_loss(model, chunk, 1.0)
        logits, _, _ = model(chunk)
        mse_sum += float(((torch.sigmoid(logits) - chunk) ** 2).mean((1, 2, 3)).sum())
        loss_sum += float(loss) * len(chunk)
    model.train(was_training)
    return {"val_loss": loss_sum / len(images), "val_mse": mse_sum / len(images)}
