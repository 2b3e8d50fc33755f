"""``ll.doctor()`` / ``latentlab doctor``: passes on this installation, names the right fix when something breaks."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from latentlab.cli import main
from latentlab.doctor import EXTRAS, doctor
from latentlab.generators.registry import BUNDLED_DIR


@pytest.fixture()
def models_copy(tmp_path: Path) -> Path:
    """The two small bundled models (digits, digits-2d) copied into a folder the test may damage."""
    root = tmp_path / "models"
    for name in ("digits", "digits-2d"):
        shutil.copytree(BUNDLED_DIR / name, root / name)
    return root


def test_doctor_passes_on_this_installation(tmp_path: Path) -> None:
    report = doctor()
    assert report.ok, str(report)
    assert [c.name for c in report][:6] == ["python", "torch", "models", "jupyterlab", "widgets", "ffmpeg"]
    assert report["models"].ok and "glyphs" in report["models"].detail
    # one line per check, a fix line under each that did not pass (an optional one may warn), and the verdict
    fixes = sum(1 for c in report if not c.ok and c.fix)
    assert len(str(report).splitlines()) == len(report) + fixes + 1


def test_a_copied_model_folder_passes(models_copy: Path) -> None:
    check = doctor(models_copy, checks=["models"])["models"]
    assert check.ok and "2 model(s)" in check.detail


def test_a_tampered_model_file_fails_with_the_reinstall_fix(models_copy: Path) -> None:
    weights = models_copy / "digits-2d" / "weights.safetensors"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte
    weights.write_bytes(bytes(data))
    report = doctor(models_copy, checks=["models", "python"])
    check = report["models"]
    assert not check.ok and check.required and not report.ok
    assert "digits-2d" in check.detail and "changed or truncated" in check.detail and "digits:" not in check.detail
    assert "--force-reinstall" in check.fix and "git checkout -- latentlab/models" in check.fix
    assert "FAIL" in str(report) and "NOT ready" in str(report)


def test_a_missing_model_file_fails(models_copy: Path) -> None:
    (models_copy / "digits" / "weights.safetensors").unlink()
    check = doctor(models_copy, checks=["models"])["models"]
    assert not check.ok and "missing" in check.detail


def test_the_cli_exits_non_zero_on_a_damaged_model(models_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--models", str(models_copy)]) == 0
    (models_copy / "digits" / "MANIFEST.sha256").write_text("0" * 64 + "  weights.safetensors\n")
    assert main(["doctor", "--models", str(models_copy)]) == 1
    out = capsys.readouterr().out
    assert "FAIL  models" in out and "fix:" in out


def test_a_missing_extra_is_a_warning_with_its_pip_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "umap", None)  # makes `import umap` fail
    report = doctor(checks=["extras"])
    maps = report["extra:maps"]
    assert not maps.ok and not maps.required and maps.status == "warn"
    assert maps.fix == 'pip install "latentlab[maps]"'
    assert report.ok  # an optional extra does not fail the workshop
    assert [c.name for c in report] == [f"extra:{e}" for e in EXTRAS]


def test_missing_ffmpeg_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)
    report = doctor(checks=["ffmpeg"])
    assert not report.ok and "latentlab[video]" in report["ffmpeg"].fix


def test_missing_widget_frontends_fail_with_the_reinstall_fix(tmp_path: Path) -> None:
    (tmp_path / "anywidget").mkdir()
    (tmp_path / "anywidget" / "package.json").write_text("{}")
    check = doctor(checks=["widgets"], labextension_dirs=[tmp_path])["widgets"]
    assert not check.ok and "ipywidgets" in check.detail and "anywidget" not in check.detail.split(":")[0]
    assert "pip install --force-reinstall ipywidgets" in check.fix and "restart JupyterLab" in check.fix


def test_too_little_disk_fails() -> None:
    check = doctor(checks=["disk"], min_free_gb=1e9)["disk"]
    assert not check.ok and "free at least" in check.fix


def test_a_crashing_check_is_a_failed_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from latentlab.doctor import CHECKS

    def boom() -> None:
        raise RuntimeError("boom")

    monkeypatch.setitem(CHECKS, "python", boom)
    check = doctor(checks=["python"])["python"]
    assert not check.ok and "boom" in check.detail
