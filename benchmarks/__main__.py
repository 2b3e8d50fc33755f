"""Run benchmarks and print one table.

Usage:
    python -m benchmarks                 # every benchmarks/bench_*.py
    python -m benchmarks core interpolate --quick

Each ``benchmarks/bench_<topic>.py`` defines ``run(quick: bool = False) -> list[dict[str, str]]``
returning rows with keys ``benchmark``, ``latentlab``, ``baseline``, ``ratio`` (and optional ``note``),
all measured in the same run.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import platform
import sys
from pathlib import Path

COLUMNS = ("benchmark", "latentlab", "baseline", "ratio", "note")


def topics() -> list[str]:
    here = Path(__file__).parent
    return sorted(m.name[len("bench_") :] for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("bench_"))


def format_table(rows: list[dict[str, str]]) -> str:
    table = [list(COLUMNS)] + [[str(r.get(c, "")) for c in COLUMNS] for r in rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(COLUMNS))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in table]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def machine_state() -> str:
    """One line saying what the figures were measured on: CPUs, torch threads, load average."""
    import torch

    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return (
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__} with "
        f"{torch.get_num_threads()} threads (benchmarks that fix their own say so), load average {load}"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("topics", nargs="*", help=f"subset of {topics()}")
    p.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    args = p.parse_args(argv)
    unknown = set(args.topics) - set(topics())
    if unknown:
        p.error(f"unknown benchmark(s) {sorted(unknown)}; choose from {topics()}")
    rows: list[dict[str, str]] = []
    for topic in args.topics or topics():
        print(f"running {topic} ...", file=sys.stderr, flush=True)
        module = importlib.import_module(f"benchmarks.bench_{topic}")
        rows.extend(module.run(quick=args.quick))
    print(machine_state())
    print(format_table(rows))
    print(f"after the run: {machine_state()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
