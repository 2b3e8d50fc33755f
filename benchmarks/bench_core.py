"""Foundation rows: digits decode latency (batch 1, 256) and ``import latentlab`` time."""

from __future__ import annotations

import subprocess
import sys

import torch

import latentlab as ll

from ._timing import best_of, ms


def _import_time() -> float:
    code = "import time; t=time.perf_counter(); import latentlab; print(time.perf_counter()-t)"
    runs = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
        for _ in range(3)
    ]
    return min(runs)


def _torch_import_time() -> float:
    code = "import time; t=time.perf_counter(); import torch; print(time.perf_counter()-t)"
    return min(
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
        for _ in range(3)
    )


def run(quick: bool = False) -> list[dict[str, str]]:
    gen = ll.load("digits")
    rows = []
    for n in (1, 256):
        z = gen.sample(n, seed=0)
        t_ll = best_of(lambda z=z: gen.decode(z), repeat=3 if quick else 10)
        with torch.no_grad():
            t_raw = best_of(lambda z=z: gen._decode(z, gen.default_space), repeat=3 if quick else 10)
        rows.append(
            {
                "benchmark": f"digits decode, batch {n}",
                "latentlab": ms(t_ll),
                "baseline": f"{ms(t_raw)} (raw module)",
                "ratio": f"{t_ll / t_raw:.2f}x",
                "note": f"{n / t_ll:,.0f} images/s",
            }
        )
    t_imp, t_torch = _import_time(), _torch_import_time()
    rows.append(
        {
            "benchmark": "import latentlab (cold process)",
            "latentlab": ms(t_imp),
            "baseline": f"{ms(t_torch)} (import torch)",
            "ratio": f"{t_imp / t_torch:.2f}x",
            "note": "",
        }
    )
    return rows
