"""Every notebook in notebooks/ runs top to bottom, headlessly (as a workshop would run it).

Quick mode (``LATENTLAB_QUICK=1``: fewer fonts, frames and steps, the same code paths) by default;
``LATENTLAB_NOTEBOOKS_FULL=1`` (``make test-full``) runs them as a user would, in full
(``LATENTLAB_QUICK=0``), except that notebook 12 renders ``LATENTLAB_AT_SCALE_N`` fonts (3,000 unless set;
its own full run, 100,000, takes hours on one core). The cells assert what they print, so a notebook whose
claim stops holding fails here.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
FULL = os.environ.get("LATENTLAB_NOTEBOOKS_FULL") == "1"


def test_there_are_notebooks() -> None:
    assert any(p.name == "00_quickstart.ipynb" for p in NOTEBOOKS)


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if FULL:
        monkeypatch.setenv("LATENTLAB_QUICK", "0")  # notebook 12 is quick unless told otherwise
        monkeypatch.setenv("LATENTLAB_AT_SCALE_N", os.environ.get("LATENTLAB_AT_SCALE_N", "3000"))
    else:
        monkeypatch.setenv("LATENTLAB_QUICK", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), (
        f"{path.name} was committed with outputs; clear them (scripts/notebooks/make_*.py writes it clean)"
    )
    client = NotebookClient(
        nb, timeout=1800 if FULL else 600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute(env=dict(os.environ))
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert outputs, f"{path.name} produced no output at all"


# ---------------------------------------------------------------------------- the workshop path
WORKSHOP = sorted((Path(__file__).resolve().parent.parent / "notebooks" / "workshop").glob("*.ipynb"))
BLANK = "answer = ..."


def _exercise_cells(nb: nbformat.NotebookNode) -> list[tuple[str, nbformat.NotebookNode]]:
    return [
        (c.metadata["latentlab"]["exercise"], c)
        for c in nb.cells
        if c.cell_type == "code" and "exercise" in c.metadata.get("latentlab", {})
    ]


def _cell_seconds(cell: nbformat.NotebookNode) -> float:
    from datetime import datetime

    ex = cell.metadata.get("execution", {})
    start, end = ex.get("iopub.execute_input"), ex.get("shell.execute_reply")
    if not (start and end):
        return 0.0
    parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


def _check_outputs(cell: nbformat.NotebookNode) -> str:
    return "\n".join(str(o.get("data", {}).get("text/plain", o.get("text", ""))) for o in cell.get("outputs", []))


def test_the_workshop_path_covers_every_exercise() -> None:
    from latentlab.workshop import EXERCISES

    names = [name for p in WORKSHOP for name, _ in _exercise_cells(nbformat.read(p, as_version=4))]
    assert len(WORKSHOP) >= 5 and sorted(names) == sorted(EXERCISES)
    for p in WORKSHOP:
        for name, cell in _exercise_cells(nbformat.read(p, as_version=4)):
            assert BLANK in cell.source and "exercise" in cell.metadata.get("tags", []), (p.name, name)


@pytest.mark.notebook
@pytest.mark.parametrize("mode", ["blank", "solved"])
def test_workshop_path_runs(mode: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The parts in order, in a copy (they share my_gallery.html); blank: nothing fails after an exercise;
    solved (each ``answer = ...`` replaced by its solution): every checker says right. Times go to artifacts/."""
    import json
    import shutil
    import time

    from latentlab.workshop import EXERCISES

    monkeypatch.setenv("LATENTLAB_QUICK", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    src = Path(__file__).resolve().parent.parent / "notebooks"
    shutil.copytree(src / "workshop", tmp_path / "notebooks" / "workshop")
    shutil.copytree(src / "assets", tmp_path / "notebooks" / "assets")
    folder = tmp_path / "notebooks" / "workshop"
    times: dict[str, dict[str, float]] = {}
    for path in WORKSHOP:
        nb = nbformat.read(folder / path.name, as_version=4)
        assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), f"{path.name} has outputs"
        exercises = _exercise_cells(nb)
        if mode == "solved":
            for name, cell in exercises:
                cell.source = cell.source.replace(BLANK, EXERCISES[name].solution)
        start = time.perf_counter()
        NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(folder)}}).execute(
            env=dict(os.environ)
        )
        cells = [_cell_seconds(c) for c in nb.cells if c.cell_type == "code"]
        times[path.stem] = {
            "wall_s": round(time.perf_counter() - start, 1),
            "cells_s": round(sum(cells), 1),
            "slowest_cell_s": round(max(cells), 1),
        }
        for name, cell in exercises:
            said = _check_outputs(cell)
            if mode == "solved":
                assert f"[{name}] right" in said, f"{path.name}: the solution of {name} is not right: {said}"
            else:
                assert f"[{name}] not answered yet" in said, f"{path.name}: blank {name} said {said}"
    gallery = (folder / "my_gallery.html").read_text()
    assert gallery.count(" src='data:image/") >= 5 and (folder / "my_morph.gif").read_bytes()[:4] == b"GIF8"
    artifacts = Path(__file__).resolve().parent.parent / "artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / f"workshop_times_{mode}.json").write_text(json.dumps(times, indent=2))
    print(json.dumps(times, indent=2))
