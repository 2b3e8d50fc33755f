"""Build the API reference (pdoc, Google docstrings) into ``build/api`` and fail on any pdoc warning.

A warning is a name that does not resolve, a module that does not import, or a docstring pdoc
cannot read; ``make docs`` (and so ``make test``) fails on it.

Usage::

    python scripts/build_docs.py [--out build/api]
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def public_modules() -> list[str]:
    """``latentlab`` and every module under it whose dotted name has no part starting with ``_``."""
    import pkgutil

    import latentlab

    names = ["latentlab"] + [m.name for m in pkgutil.walk_packages(latentlab.__path__, "latentlab.")]
    listed = {f"latentlab.{n}" for n in latentlab.__all__}  # pdoc adds these with the package itself
    return [n for n in names if n not in listed and not any(part.startswith("_") for part in n.split("."))]


def build(out: Path) -> list[str]:
    """Write the reference into ``out``; return pdoc's warnings (empty when the reference is whole)."""
    import pdoc

    import latentlab
    import latentlab.widgets

    # ll.Explorer & co. are imported on first use (module __getattr__); pdoc reads __dict__
    for name in latentlab._LAZY_WIDGETS:
        setattr(latentlab, name, getattr(latentlab.widgets, name))
    pdoc.render.configure(docformat="google", footer_text=f"latentlab {latentlab.__version__}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pdoc.pdoc(*public_modules(), output_directory=out)
    return [str(w.message) for w in caught if "pdoc" in w.filename]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "build" / "api")
    args = parser.parse_args(argv)
    problems = build(args.out)
    for p in problems:
        print(f"pdoc: {p}", file=sys.stderr)
    if problems:
        print(f"the API reference has {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"API reference: {args.out / 'index.html'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
