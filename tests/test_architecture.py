"""The architecture rules of docs/ARCHITECTURE.md that import-linter cannot state, checked on the source.

* no module imports a private (``_name``) object from another module;
* every module of ``latentlab`` except ``widgets`` is a source of the "only widgets import
  ipywidgets" contract (so a new module cannot slip past it);
* the import contracts hold (``lint-imports``), and break on a forbidden import.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "latentlab"


def _private_imports(path: Path) -> list[str]:
    """``from x import _name`` lines of ``path`` where ``x`` is a latentlab module."""
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("latentlab")):
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"{path.name}:{node.lineno} imports {alias.name} from {node.module}")
    return found


def test_no_private_name_is_imported_across_modules() -> None:
    offenders = [hit for path in sorted(PACKAGE.rglob("*.py")) for hit in _private_imports(path)]
    assert not offenders, "promote shared helpers to public names (or a small module):\n" + "\n".join(offenders)


def test_the_private_import_check_can_fail(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from .render import _secret\nfrom latentlab.maps import knn, _blend\nfrom os import _exit\n")
    assert len(_private_imports(bad)) == 2


def _contracts() -> list[dict[str, object]]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    return list(config["tool"]["importlinter"]["contracts"])


def _top_level_modules() -> set[str]:
    names = {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"}
    names |= {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    return {f"latentlab.{n}" for n in names}


@pytest.mark.parametrize("forbidden", ["ipywidgets", "IPython"])
def test_every_module_is_a_source_of_the_front_end_contracts(forbidden: str) -> None:
    contract = next(
        c for c in _contracts() if c.get("allow_indirect_imports") and forbidden in c.get("forbidden_modules", [])
    )  # type: ignore[operator]
    allowed = {"latentlab.widgets"} | ({"latentlab.notebook"} if forbidden == "IPython" else set())
    missing = _top_level_modules() - allowed - set(contract["source_modules"])  # type: ignore[arg-type]
    assert not missing, f"add {sorted(missing)} to the source_modules of {contract['name']!r} in pyproject.toml"


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("lint-imports")
    if not exe.exists():
        pytest.fail(f"lint-imports is missing next to {sys.executable}: pip install -e '.[dev]'")
    env = {"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"}
    return subprocess.run([str(exe), "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_import_contracts_hold_and_fail_on_a_forbidden_import(tmp_path: Path) -> None:
    kept = _lint_imports(REPO)
    assert kept.returncode == 0, kept.stdout[-3000:] + kept.stderr[-2000:]
    # the same tree with one function-level import of a widget inside a generator module
    copy = tmp_path / "repo"
    copy.mkdir()
    shutil.copy(REPO / "pyproject.toml", copy / "pyproject.toml")
    shutil.copytree(PACKAGE, copy / "latentlab", ignore=shutil.ignore_patterns("models", "__pycache__"))
    with (copy / "latentlab" / "generators" / "vae.py").open("a") as f:
        f.write("\n\ndef _forbidden() -> None:\n    from ..widgets import Explorer  # noqa: F401\n")
    broken = _lint_imports(copy)
    assert broken.returncode != 0
    assert "latentlab.generators.vae -> latentlab.widgets" in broken.stdout
    assert "BROKEN" in broken.stdout


def test_nothing_in_the_repository_points_outside_it() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout.split()
    outside = ("..", "/shared", "/wo" + "rk/")  # joined so that this file does not match itself
    outside = (outside[0] + outside[1], outside[2])
    hits = []
    for name in tracked:
        path = REPO / name
        if path.suffix not in {".py", ".md", ".toml", ".ipynb", ".txt", ".cfg", ".js", ".css"} and path.name not in {
            "Makefile",
            "run",
        }:
            continue
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        hits += [f"{name}: {marker}" for marker in outside if marker in text]
    assert not hits, "the repository refers to paths outside it:\n" + "\n".join(hits)
