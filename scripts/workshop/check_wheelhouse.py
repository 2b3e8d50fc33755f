"""Check the offline install kit: a fresh venv installs latentlab from the wheelhouse alone, then runs
``latentlab doctor`` and the first workshop notebook.

    python scripts/workshop/check_wheelhouse.py wheelhouse            # after `make wheelhouse`

pip runs with ``--isolated --no-index`` and no pip configuration or ``PIP_*`` variables, so no
index, ``find-links`` folder or cache outside the wheelhouse can stand in for a missing wheel.
Exit code 0 when all three steps pass. Takes a few minutes (torch is a large wheel to unpack).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXTRAS = "lab,video,fonts,maps,plot"
FIRST = REPO / "notebooks" / "workshop" / "1_first_image.ipynb"

RUN_NOTEBOOK = """
import sys, nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": sys.argv[2]}}).execute()
said = [o.get("data", {}).get("text/plain", "") for c in nb.cells for o in c.get("outputs", [])]
print("cells:", sum(c.cell_type == "code" for c in nb.cells), "| checks:", [s for s in said if s.startswith("[")])
"""


def clean_env() -> dict[str, str]:
    """The environment without pip settings, PYTHONPATH or a virtualenv, so nothing outside the kit leaks in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_") and k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["LATENTLAB_QUICK"] = "1"
    env["MPLBACKEND"] = "Agg"
    return env


def step(title: str, cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> float:
    print(f"== {title}: {' '.join(cmd)}", flush=True)
    start = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=cwd, check=True)
    took = time.perf_counter() - start
    print(f"   {took:.0f} s", flush=True)
    return took


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("wheelhouse", type=Path, help="the folder `make wheelhouse` wrote")
    parser.add_argument("--extras", default=EXTRAS, help=f"latentlab extras to install (default {EXTRAS})")
    parser.add_argument("--keep", action="store_true", help="keep the venv (its path is printed)")
    args = parser.parse_args(argv)
    wheels = args.wheelhouse.resolve()
    if not any(wheels.glob("latentlab-*.whl")):
        print(f"no latentlab wheel in {wheels}: run `make wheelhouse` first", file=sys.stderr)
        return 2
    env = clean_env()
    tmp = Path(tempfile.mkdtemp(prefix="wheelhouse-check-"))
    venv, py = tmp / "venv", tmp / "venv" / "bin" / "python"
    try:
        times = {
            "venv": step("fresh venv", [sys.executable, "-m", "venv", str(venv)], env),
            "install": step(
                "install from the wheelhouse only",
                [
                    str(py),
                    "-m",
                    "pip",
                    "install",
                    "--isolated",
                    "--no-index",
                    "--no-cache-dir",
                    "--find-links",
                    str(wheels),
                    f"latentlab[{args.extras}]",
                ],
                env,
            ),
            "doctor": step(
                "latentlab doctor", [str(venv / "bin" / "latentlab"), "doctor", "--disk", str(tmp)], env, cwd=tmp
            ),
        }
        work = tmp / "notebooks"
        shutil.copytree(REPO / "notebooks" / "workshop", work / "workshop")
        times["notebook"] = step(
            "the first workshop notebook",
            [str(py), "-c", RUN_NOTEBOOK, str(work / "workshop" / FIRST.name), str(work / "workshop")],
            env,
            cwd=tmp,
        )
        print("ok: " + ", ".join(f"{k} {v:.0f} s" for k, v in times.items()))
        return 0
    except subprocess.CalledProcessError as exc:
        print(f"FAILED: {' '.join(map(str, exc.cmd))} exited {exc.returncode}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print("venv kept at", venv)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
