"""Shared fixtures: the shipped ``glyphs`` model, and a running JupyterLab driven by Debian Chromium
through Playwright.

``shipped_glyphs`` (session scope) loads the bundled glyphs model once for every module that
measures it; tests must not change it (set ``text`` on a fresh ``ll.load("glyphs")`` instead).

The ``lab`` fixture (session scope) serves a *copy* of ``notebooks/`` (so running cells in
the browser never writes outputs into the committed notebooks) and gives tests:

* ``lab.open("notebooks/NAME.ipynb") -> Page``: opens it and waits for an idle kernel;
* ``lab.run_all(page)``: Run -> Run All Cells, then waits until every cell has run;
* ``lab.wait_stable(page, js, arg)``: waits until ``js(arg)`` returns the same value for a few frames;
* ``lab.screenshot(page, name)``: saves ``artifacts/NAME.png`` (kept as a CI artifact).

Recipe: docs/recipes/BROWSER_TESTING.md. Chromium must be Debian's (``apt-get install chromium``);
browser downloads are impossible here, so a missing browser fails loudly rather than skipping.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "artifacts"
FONTS = REPO / "notebooks" / "assets" / "fonts"  # held-out OFL font files (EB Garamond, Barlow Bold)
CHROMIUM = os.environ.get("LATENTLAB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def shipped_glyphs() -> Any:
    """The bundled ``glyphs`` model (a :class:`~latentlab.generators.glyphs.GlyphsGenerator`)."""
    import latentlab as ll
    from latentlab.generators.glyphs import GlyphsGenerator

    g = ll.load("glyphs")
    assert isinstance(g, GlyphsGenerator)
    return g


# -- peak memory of a job, measured in a fresh process -------------------------------
#: A tiny 256-d generator (a seeded linear decoder to 8x8 RGB), for memory tests where decoding costs nothing.
TINY256_SOURCE = """
import torch
from torch import nn
import latentlab as ll
torch.manual_seed(0)
dec = nn.Sequential(nn.Linear(256, 3 * 8 * 8), nn.Sigmoid(), nn.Unflatten(1, (3, 8, 8)))
gen = ll.from_module(dec, latent_shape=256, output_range=(0, 1), name="tiny")
"""

# VmHWM: the peak of this process image (ru_maxrss would include the forked pytest process before exec)
_PRINT_PEAK = """
print(next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM")) // 1024)
"""


def peak_rss_mb(script: str, *args: object) -> int:
    """Run ``script`` after :data:`TINY256_SOURCE` in a new Python, ``sys.argv[1:] = args``; its peak RSS in MB."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]), "OMP_NUM_THREADS": "1"}
    code = "import sys\n" + TINY256_SOURCE + script + _PRINT_PEAK
    done = subprocess.run(
        [sys.executable, "-c", code, *map(str, args)], env=env, capture_output=True, text=True, timeout=600, check=True
    )
    return int(done.stdout.split()[-1])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _quiet_settings(settings_dir: Path) -> None:
    path = settings_dir / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))


# True once ``(src)(arg)`` has returned the same non-null value for ``frames`` animation frames running
_STABLE_JS = """([src, arg, frames]) => {
  const v = (0, eval)(src)(arg);
  const all = window.__llStable || (window.__llStable = {});
  const id = src + "\\u0000" + JSON.stringify(arg);
  if (v === null || v === undefined || v === false) { delete all[id]; return false; }
  const key = JSON.stringify(v);
  if (all[id] && all[id].key === key) all[id].n += 1; else all[id] = {key, n: 0};
  if (all[id].n < frames) return false;
  delete all[id];
  return true;
}"""


class Lab:
    """Handle on a running JupyterLab and a Chromium context."""

    def __init__(self, base_url: str, token: str, context: Any, root: Path) -> None:
        self.base_url, self.token, self.context, self.root = base_url, token, context, root
        self._pages = 0

    def url(self, path: str) -> str:
        """A URL in a fresh, reset workspace, so earlier tests' tabs are never restored into this page."""
        self._pages += 1
        return f"{self.base_url}/lab/workspaces/test{self._pages}/tree/{path}?token={self.token}&reset"

    def open(self, path: str, timeout_s: float = 120) -> Any:
        page = self.context.new_page()
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(self.url(path))
        self.wait_idle(page, timeout_s)
        return page

    def wait_idle(self, page: Any, timeout_s: float = 120) -> None:
        status = page.locator(".jp-StatusBar-TextItem[title^='Change kernel']").first
        status.wait_for(timeout=timeout_s * 1000)
        deadline = time.monotonic() + timeout_s
        while "Idle" not in (status.text_content() or ""):
            if time.monotonic() > deadline:
                raise TimeoutError(f"kernel not idle after {timeout_s}s: {status.text_content()!r}")
            page.wait_for_timeout(200)

    def run_all(self, page: Any, timeout_s: float = 300) -> None:
        """Run -> Run All Cells; retry the menu click if no cell started (a click lost while the page settles)."""
        started_js = """() => [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]
            .some(p => /^\\[(\\*|\\d+)\\]:$/.test(p.textContent.trim()))"""
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        for _attempt in range(3):
            page.locator(".jp-Notebook").first.click(position={"x": 5, "y": 5})
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
            try:
                page.wait_for_function(started_js, timeout=20_000)
                break
            except PlaywrightTimeout:
                page.keyboard.press("Escape")
        deadline = time.monotonic() + timeout_s
        js = """() => {
            const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]
                .map(p => p.textContent.trim());
            return prompts.length > 0 && prompts.every(t => /^\\[\\d+\\]:$/.test(t));
        }"""
        while not page.evaluate(js):
            if time.monotonic() > deadline:
                shot = self.screenshot(page, "run_all-timeout", full_page=False)
                prompts = page.locator(".jp-CodeCell .jp-InputArea-prompt").all_text_contents()
                raise TimeoutError(f"cells still running after {timeout_s}s; prompts {prompts}; see {shot}")
            page.wait_for_timeout(250)
        self.wait_idle(page, timeout_s)
        errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
        tracebacks = [t for t in errors.all_text_contents() if "Traceback" in t or "Error" in t]
        assert not tracebacks, f"a cell raised in the browser: {tracebacks[0][:2000]}"

    def wait_stable(self, page: Any, js: str, arg: Any = None, frames: int = 5, timeout_s: float = 30) -> Any:
        """Wait until the page function ``js(arg)`` returns a value (not null/false) that stays the same for
        ``frames`` animation frames in a row, and return it: wait for a condition, never for a fixed time."""
        page.wait_for_function(_STABLE_JS, arg=[js, arg, frames], polling="raf", timeout=timeout_s * 1000)
        return page.evaluate(js, arg)

    def screenshot(self, page: Any, name: str, full_page: bool = True) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path


@contextlib.contextmanager
def running_lab(root: Path, tmp: Path, env: dict[str, str] | None = None) -> Iterator[Lab]:
    """Start JupyterLab serving ``root`` (its state under ``tmp``) and a headless Chromium; stop both after.

    Shared by the ``lab`` fixture and ``benchmarks/bench_widgets.py``.
    """
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"real-browser tests need Debian chromium at {CHROMIUM}: apt-get install -y chromium "
            "chromium-driver (.ci/run does this), or deselect them with -m 'not browser'"
        )
    from playwright.sync_api import sync_playwright

    env = {**os.environ, **(env or {})}
    for var in ("JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTERLAB_WORKSPACES_DIR", "JUPYTERLAB_SETTINGS_DIR"):
        env[var] = str(tmp / var.lower())
        Path(env[var]).mkdir(parents=True, exist_ok=True)
    _quiet_settings(Path(env["JUPYTERLAB_SETTINGS_DIR"]))
    port, token = _free_port(), "latentlab-test-token"
    jupyter = Path(sys.executable).parent / "jupyter"
    log = open(tmp / "jupyter.log", "w")  # noqa: SIM115 - closed in the finally below
    proc = subprocess.Popen(
        [
            str(jupyter),
            "lab",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={port}",
            f"--ServerApp.token={token}",
            "--allow-root",
            f"--ServerApp.root_dir={root}",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for_server(f"{base}/api/status?token={token}", proc, tmp / "jupyter.log")
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                str(tmp / "chromium"), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            try:
                yield Lab(base, token, context, root)
            finally:
                context.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    tmp = tmp_path_factory.mktemp("lab")
    root = tmp / "root"
    shutil.copytree(REPO / "notebooks", root / "notebooks")
    with running_lab(root, tmp, {"LATENTLAB_QUICK": "1"}) as handle:
        yield handle


def _wait_for_server(url: str, proc: subprocess.Popen[bytes], log: Path, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter lab exited early:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"jupyter lab did not answer within {timeout_s}s:\n{log.read_text()[-3000:]}")
