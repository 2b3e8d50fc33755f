"""The numba cache of UMAP maps: ``latentlab doctor --warm`` fills it, and a new process then loads, not compiles."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from latentlab.doctor import doctor
from latentlab.maps import _say_first_compile, numba_cache_dir, numba_cache_is_warm

pytest.importorskip("umap")
ROOT = Path(__file__).resolve().parents[1]

# a new process: fit a small map, then ask numba where each of umap's hot kernels came from
_FIT_AND_REPORT = """
import json, torch
from latentlab.maps import LatentMap, numba_cache_is_warm
import latentlab.maps as maps
x = torch.randn(200, 6, generator=torch.Generator().manual_seed(1))
LatentMap(seed=0, n_epochs=10, progress=True).fit(x)
import umap.umap_ as umap_
from latentlab import _umap_layout
kernels = {"layout": _umap_layout.single_epoch,
           "smooth_knn_dist": umap_.smooth_knn_dist,
           "membership": umap_.compute_membership_strengths}
print(json.dumps({name: [len(k.stats.cache_hits), len(k.stats.cache_misses)] for name, k in kernels.items()}
                 | {"warm": numba_cache_is_warm()}))
"""


def _python(code_or_args: list[str], cache: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, NUMBA_CACHE_DIR=str(cache), PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    return subprocess.run(
        [sys.executable, *code_or_args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=900
    )


@pytest.mark.slow
def test_doctor_warm_fills_an_empty_cache_and_the_next_process_loads_from_it(tmp_path: Path) -> None:
    cache = tmp_path / "numba"
    cache.mkdir()
    # before: an empty cache reads as cold, and the doctor says how to fix it
    cold = _python(["-m", "latentlab.cli", "doctor"], cache)
    line = next(x for x in cold.stdout.splitlines() if "map-cache" in x)
    assert line.startswith("warn") and "empty" in line and "doctor --warm" in cold.stdout
    assert not any(cache.iterdir())  # checking compiled nothing

    warm = _python(["-m", "latentlab.cli", "doctor", "--warm"], cache)
    line = next(x for x in warm.stdout.splitlines() if "map-cache" in x)
    assert line.startswith("ok") and "warmed in" in line and str(cache) in line, warm.stdout + warm.stderr
    assert {p.name.split("_")[0] for p in cache.iterdir()} >= {"latentlab", "umap", "pynndescent"}

    # a new process: every hot umap kernel is a cache hit, none is compiled, and no "compiling" notice
    after = _python(["-c", textwrap.dedent(_FIT_AND_REPORT)], cache)
    assert after.returncode == 0, after.stderr
    stats = json.loads(after.stdout.strip().splitlines()[-1])
    assert stats.pop("warm") is True
    for name, (hits, misses) in stats.items():
        assert hits >= 1 and misses == 0, (name, hits, misses)
    assert "compiling umap's kernels once" not in after.stderr


def test_empty_cache_reads_cold_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))
    assert numba_cache_dir() == str(tmp_path)
    assert not numba_cache_is_warm()
    _say_first_compile()
    assert "compiling umap's kernels once" in capsys.readouterr().err
    check = doctor(checks=["map-cache"])["map-cache"]
    assert check.status == "warn" and not check.required
    assert "latentlab doctor --warm" in check.fix and str(tmp_path) in check.detail


def test_cache_folder_is_set_even_when_numba_was_imported_first(tmp_path: Path) -> None:
    # librosa (the audio features) imports numba before any map: numba must still use latentlab's folder
    code = """
    import numba, numba.core.config as config, os
    assert not os.environ.get("NUMBA_CACHE_DIR") and not config.CACHE_DIR
    from latentlab.maps import numba_cache_dir
    folder = numba_cache_dir()
    print(folder == config.CACHE_DIR and folder.endswith(os.path.join("latentlab", "numba")))
    """
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env.update(XDG_CACHE_HOME=str(tmp_path), PYTHONPATH=str(ROOT))
    r = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "True"
