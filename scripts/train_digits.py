"""Train the bundled ``digits`` models (VAEs on scikit-learn's 8x8 digits) and write them into the package.

Usage:
    python scripts/train_digits.py                 # both variants, into latentlab/models/
    python scripts/train_digits.py --only digits-2d --epochs 50 --out /tmp/models

Data: ``sklearn.datasets.load_digits`` (1,797 images, bundled with scikit-learn, no download;
a copy of the UCI ML hand-written digits test set, CC BY 4.0). Images are stored as dark ink
on white paper in [0, 1]. Split: stratified 80/20 with seed 0. Deterministic for a given seed
on one machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from latentlab.generators.vae import VAE, VAEConfig, VAEGenerator, save_vae
from latentlab.generators.vae_training import evaluate_vae, fit_vae

VARIANTS = {
    "digits": dict(latent_dim=16, description="VAE on scikit-learn's 8x8 digits, 16-D latent, rendered at 32 px"),
    "digits-2d": dict(latent_dim=2, description="VAE on scikit-learn's 8x8 digits, 2-D latent (draw the whole space)"),
}
DATA_LICENSE = "CC BY 4.0 (UCI ML hand-written digits, via scikit-learn's bundled load_digits)"


def digits_split(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, np.ndarray, np.ndarray]:
    """``(train, test)`` as ``(N, 1, 8, 8)`` ink-on-paper images in [0, 1], plus their labels."""
    data = load_digits()
    x = 1.0 - data.images.astype(np.float32) / 16.0
    x_tr, x_te, y_tr, y_te = train_test_split(x, data.target, test_size=0.2, stratify=data.target, random_state=seed)
    return torch.from_numpy(x_tr)[:, None], torch.from_numpy(x_te)[:, None], y_tr, y_te


def train_variant(name: str, out: Path, epochs: int, seed: int) -> dict:
    spec = VARIANTS[name]
    train, test, _, _ = digits_split(seed)
    torch.manual_seed(seed)
    model = VAE(
        VAEConfig(image_size=8, channels=1, latent_dim=spec["latent_dim"], width=32, hidden=256, display_size=32)
    )
    t0 = time.perf_counter()

    def log(epoch: int, rec: dict) -> None:
        if (epoch + 1) % 25 == 0 or epoch == 0:
            print(
                f"[{name}] epoch {epoch + 1:4d}  train {rec['train_loss']:.2f}  held-out -ELBO {rec['val_loss']:.2f}"
                f"  mse {rec['val_mse']:.4f}",
                flush=True,
            )

    history = fit_vae(model, train, test, epochs=epochs, batch_size=64, lr=3e-3, seed=seed, on_epoch=log)
    seconds = time.perf_counter() - t0
    final = evaluate_vae(model, test)
    baseline_mse = float(((train.mean(0, keepdim=True) - test) ** 2).mean())
    card = {
        "description": spec["description"],
        "license": "MIT (weights); data " + DATA_LICENSE,
        "data": {
            "source": "sklearn.datasets.load_digits",
            "license": DATA_LICENSE,
            "n_train": len(train),
            "n_test": len(test),
            "split": f"stratified 80/20, random_state={seed}",
            "preprocessing": "1 - pixel/16: dark ink on white paper, 8x8",
        },
        "architecture": "conv VAE (VAEConfig below); Bernoulli likelihood; decoder logits upsampled bicubically "
        "to 32 px before the sigmoid",
        "spaces": f"z ({spec['latent_dim']},) normal prior",
        "image_size": [32, 32],
        "training": {
            "command": " ".join(["python", *sys.argv]),
            "epochs": epochs,
            "batch_size": 64,
            "lr": 3e-3,
            "optimizer": "Adam + OneCycle",
            "seed": seed,
            "seconds": round(seconds, 1),
            "torch": torch.__version__,
            "machine": f"{platform.machine()} CPU",
            "date": dt.date.today().isoformat(),
        },
        "metrics": {
            "heldout_neg_elbo_nats": round(final["val_loss"], 3),
            "heldout_recon_mse": round(final["val_mse"], 5),
            "mean_image_baseline_mse": round(baseline_mse, 5),
            "final_train_loss": round(history[-1]["train_loss"], 3),
        },
    }
    gen = VAEGenerator(model, name)
    save_vae(gen, out / name, card)
    write_markdown_card(out / name / "card.md", name, card)
    print(json.dumps({name: card["metrics"]}, indent=2))
    return card


def write_markdown_card(path: Path, name: str, card: dict) -> None:
    m, t, d = card["metrics"], card["training"], card["data"]
    path.write_text(f"""# Model card: `{name}`

{card["description"]}.

- **Data**: `{d["source"]}`, {d["n_train"]} train / {d["n_test"]} held-out images ({d["split"]});
  {d["preprocessing"]}. License: {d["license"]}.
- **Architecture**: {card["architecture"]}. Latent space: {card["spaces"]}.
- **Training**: `{t["command"]}`; {t["epochs"]} epochs, {t["optimizer"]}, seed {t["seed"]};
  {t["seconds"]} s on {t["machine"]}, torch {t["torch"]}, {t["date"]}.
- **Held-out metrics**: negative ELBO {m["heldout_neg_elbo_nats"]} nats/image; reconstruction MSE
  {m["heldout_recon_mse"]} per pixel vs {m["mean_image_baseline_mse"]} for the mean training image.
- **License**: {card["license"]}.
- **Intended use**: teaching and tests. 8x8 digits are tiny: expect soft, smooth shapes.
""")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", choices=sorted(VARIANTS), help="train one variant")
    p.add_argument("--epochs", type=int, default=300)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "latentlab" / "models")
    args = p.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    for name in [args.only] if args.only else list(VARIANTS):
        train_variant(name, args.out, args.epochs, args.seed)


if __name__ == "__main__":
    main()
