"""The two README commands on a fresh machine: ``make lab`` opens JupyterLab (also as root), ``make test``
installs the browser it needs. ``scripts/check_lab.py`` is what ``make lab-check`` (part of ``make test``) runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
JUPYTER = Path(sys.executable).with_name("jupyter")


def _dry_run(target: str) -> str:
    if shutil.which("make") is None:
        pytest.fail("these checks need GNU make (apt-get install make)")
    out = subprocess.run(
        ["make", "-n", "-s", target, "BIN=/nonexistent/bin"], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    return out.stdout + out.stderr


def test_make_lab_allows_root_only_when_root() -> None:
    command = next(line for line in _dry_run("lab").splitlines() if "jupyter lab" in line)
    assert ("--allow-root" in command) == (os.getuid() == 0), command
    assert command.endswith("notebooks/00_quickstart.ipynb")


def test_make_test_installs_the_browser_and_checks_the_lab() -> None:
    plan = _dry_run("test")
    assert "apt-get install -y -qq chromium" in plan and "scripts/check_lab.py" in plan
    assert (REPO / ".ci" / "run").read_text().strip().endswith("exec make test")


def test_check_lab_sees_the_server_answer_and_stops_it() -> None:
    flags = ["--allow-root"] if os.getuid() == 0 else []
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "check_lab.py"),
            "--",
            str(JUPYTER),
            "lab",
            *flags,
            "notebooks/00_quickstart.ipynb",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert "answered /api/status" in done.stdout


def test_check_lab_fails_when_nothing_answers() -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "check_lab.py"),
            "--timeout",
            "3",
            "--",
            sys.executable,
            "-c",
            "import time; time.sleep(20)",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1 and "did not answer" in done.stderr
