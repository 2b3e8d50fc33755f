"""Committed notebooks are exactly what their ``scripts/notebooks/make_*.py`` write (``make notebooks``).

Each script runs with ``LATENTLAB_NOTEBOOK_DIR`` pointing at a temporary folder; every notebook
it writes must match the committed one byte for byte, and every committed notebook must come
from a script.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPTS = sorted((REPO / "scripts" / "notebooks").glob("make_*.py"))
COMMITTED = REPO / "notebooks"


def _build(script: Path, out: Path) -> list[Path]:
    env = {**os.environ, "LATENTLAB_NOTEBOOK_DIR": str(out), "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, str(script)], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return sorted(out.rglob("*.ipynb"))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[Path, Path]]]:
    """Script name -> (written notebook, its path relative to notebooks/) for every script."""
    out: dict[str, list[tuple[Path, Path]]] = {}
    for script in SCRIPTS:
        folder = tmp_path_factory.mktemp(script.stem)
        out[script.name] = [(p, p.relative_to(folder)) for p in _build(script, folder)]
    return out


@pytest.mark.parametrize("script", [s.name for s in SCRIPTS])
def test_committed_notebooks_match_their_script(script: str, built: dict[str, list[tuple[Path, Path]]]) -> None:
    written = built[script]
    assert written, f"{script} wrote no notebook"
    for path, rel in written:
        committed = COMMITTED / rel
        assert committed.is_file(), f"{script} writes notebooks/{rel}, which is not committed (run make notebooks)"
        assert path.read_bytes() == committed.read_bytes(), (
            f"notebooks/{rel} differs from what scripts/notebooks/{script} writes: edit the script, then run "
            "make notebooks"
        )


def test_every_committed_notebook_has_a_script(built: dict[str, list[tuple[Path, Path]]]) -> None:
    made = {str(rel) for written in built.values() for _, rel in written}
    committed = {
        str(p.relative_to(COMMITTED)) for p in COMMITTED.rglob("*.ipynb") if ".ipynb_checkpoints" not in str(p)
    }
    assert committed <= made, f"notebooks without a scripts/notebooks/make_*.py: {sorted(committed - made)}"


def test_a_changed_notebook_is_caught(tmp_path: Path) -> None:
    script = REPO / "scripts" / "notebooks" / "make_00_quickstart.py"
    (path,) = _build(script, tmp_path)
    committed = COMMITTED / path.name
    edited = committed.read_text().replace("latentlab", "latentIab", 1)
    assert edited != committed.read_text() and path.read_bytes() == committed.read_bytes()
    assert edited.encode() != path.read_bytes()
