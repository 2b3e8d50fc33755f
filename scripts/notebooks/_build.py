"""Tiny helpers to write clean (output-free) notebooks from Python: ``md``, ``code``, ``write``."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat

#: Where notebooks are written: the repository's notebooks/ (LATENTLAB_NOTEBOOK_DIR overrides it, so a
#: test can rebuild them elsewhere and compare with the committed ones).
NOTEBOOKS = Path(os.environ.get("LATENTLAB_NOTEBOOK_DIR") or Path(__file__).resolve().parents[2] / "notebooks")
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def md(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_markdown_cell(text.strip())


def code(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell(text.strip())


def write(name: str, cells: list[nbformat.NotebookNode]) -> Path:
    """Write ``notebooks/<name>.ipynb`` with the python3 kernel and no outputs."""
    nb = nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": KERNELSPEC, "language_info": {"name": "python"}})
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{name[:2]}-{i:02d}"
    path = NOTEBOOKS / f"{name}.ipynb"
    nbformat.validate(nb)
    nbformat.write(nb, path)
    return path
