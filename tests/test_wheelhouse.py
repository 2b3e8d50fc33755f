"""The offline install kit installs in a fresh venv with --no-index and the first workshop notebook runs.

This takes about 2.5 minutes here (building the wheelhouse 26 s, installing 127 wheels 120 s, doctor and
notebook 14 s), more than `make test` allows, so it runs only when ``LATENTLAB_WHEELHOUSE`` names a
wheelhouse (``make wheelhouse && LATENTLAB_WHEELHOUSE=wheelhouse pytest tests/test_wheelhouse.py``,
or ``make check-wheelhouse``, which runs the same script).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "workshop" / "check_wheelhouse.py"


@pytest.mark.slow
def test_the_wheelhouse_installs_offline_and_runs_the_first_notebook() -> None:
    wheelhouse = os.environ.get("LATENTLAB_WHEELHOUSE")
    if not wheelhouse:
        pytest.skip("set LATENTLAB_WHEELHOUSE to a folder made by `make wheelhouse` (takes minutes)")
    done = subprocess.run([sys.executable, str(SCRIPT), wheelhouse], capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "ready for the workshop" in done.stdout and "[latent-size] not answered yet" in done.stdout
