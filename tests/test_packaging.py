"""The wheel carries what the package needs at run time, and the API reference builds without a warning."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> tuple[zipfile.ZipFile, str]:
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "--no-build-isolation", "-w", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (path,) = out.glob("latentlab-*.whl")
    return zipfile.ZipFile(path), done.stdout + done.stderr


def _tracked(under: str) -> list[str]:
    out = subprocess.run(["git", "ls-files", under], cwd=REPO, capture_output=True, text=True, check=True).stdout
    return out.split()


def test_the_wheel_carries_the_bundled_models_and_widget_assets(wheel: tuple[zipfile.ZipFile, str]) -> None:
    names = set(wheel[0].namelist())
    models = [f for f in _tracked("latentlab/models") if not f.endswith(".py")]
    assets = [f for f in _tracked("latentlab/widgets") if f.endswith((".js", ".css"))]
    assert models and assets
    missing = [f for f in models + assets if f not in names]
    assert not missing, f"the wheel lacks {missing} (package-data in pyproject.toml)"


def test_the_wheel_metadata_uses_an_spdx_license(wheel: tuple[zipfile.ZipFile, str]) -> None:
    archive, log = wheel
    (meta,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
    text = archive.read(meta).decode()
    assert "License-Expression: MIT" in text
    assert "project.license" not in log and "deprecated" not in log.lower(), log[-2000:]


def _docs(out: Path, extra_name: str = "") -> subprocess.CompletedProcess[str]:
    """Run scripts/build_docs.py in a fresh process (pdoc caches what it has read)."""
    code = (
        "import runpy, sys, latentlab\n"
        f"if {extra_name!r}: latentlab.__all__ = [*latentlab.__all__, {extra_name!r}]\n"
        f"sys.argv = ['build_docs', '--out', {str(out)!r}]\n"
        "runpy.run_path('scripts/build_docs.py', run_name='__main__')\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )


def test_the_api_reference_builds_without_warnings_and_fails_on_a_broken_name(tmp_path: Path) -> None:
    ok = _docs(tmp_path / "ok")
    assert ok.returncode == 0, ok.stderr[-3000:]
    assert (tmp_path / "ok" / "latentlab" / "testing.html").is_file()
    broken = _docs(tmp_path / "broken", extra_name="NoSuchName")
    assert broken.returncode == 1 and "NoSuchName" in broken.stderr, broken.stderr[-2000:]
