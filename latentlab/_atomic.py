"""Atomic writes of files and folders: build beside the target, then rename onto it.

One rule for both (:func:`atomic_path`, :func:`atomic_folder`): the target's folder must exist;
the work happens in a hidden ``.<name>.partial*`` sibling; on success it is renamed onto the
target in one step; on any exception (``KeyboardInterrupt``, a full disk) it is removed and
nothing is left at the target. ``OSError`` becomes :class:`~latentlab.errors.ExportError`
naming the target.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from .errors import ExportError

__all__ = ["atomic_folder", "atomic_path", "atomic_write_bytes"]


def _existing_folder(target: Path) -> Path:
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise ExportError(
            f"cannot write {target}: its folder does not exist",
            expected="an existing, writable folder",
            got=str(folder),
            fix=f"create it first (mkdir -p {folder}) or choose another path",
        )
    return folder


def _make_temporary(folder: Path, make: Callable[[], Path]) -> Path:
    try:
        return make()
    except OSError as exc:
        raise ExportError(
            f"cannot write into {folder}",
            expected="a writable folder",
            got=f"{type(exc).__name__}: {exc}",
            fix="check permissions and free space, or choose another folder",
        ) from exc


@contextlib.contextmanager
def _replace_on_success(
    tmp: Path, target: Path, mode: int, remove: Callable[[Path], None], what: str
) -> Iterator[Path]:
    try:
        yield tmp
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except OSError as exc:
        remove(tmp)
        if isinstance(exc, ExportError):
            raise
        raise ExportError(
            f"writing {target} failed; no partial {what} was left",
            expected="enough free space and a writable folder",
            got=f"{type(exc).__name__}: {exc}",
            fix="free some disk space or choose another folder, then run again",
        ) from exc
    except BaseException:
        remove(tmp)
        raise


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str], *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary file path in the target's folder; rename it onto ``target`` on success.

    Example:
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> with atomic_path(d / "a.txt") as tmp:
        ...     _ = tmp.write_text("hi")
        >>> (d / "a.txt").read_text()
        'hi'
    """
    target = Path(target)
    folder = _existing_folder(target)
    suffix = target.suffix if suffix is None else suffix

    def make() -> Path:
        fd, name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".partial{suffix}", dir=folder)
        os.close(fd)
        return Path(name)

    tmp = _make_temporary(folder, make)
    # mkstemp makes 0600 files; give the usual permissions
    with _replace_on_success(tmp, target, 0o666 & ~_umask(), lambda t: t.unlink(missing_ok=True), "file") as t:
        yield t


@contextlib.contextmanager
def atomic_folder(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary folder beside ``target`` (new or empty); rename it onto ``target`` on success.

    Example:
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> with atomic_folder(d / "frames") as tmp:
        ...     _ = (tmp / "0.png").write_bytes(b"png")
        >>> sorted(p.name for p in (d / "frames").iterdir())
        ['0.png']
    """
    target = Path(target)
    folder = _existing_folder(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ExportError(
            f"{target} exists and is not an empty folder",
            expected="a new or empty folder",
            got=str(target),
            fix="remove it, or choose another folder name",
        )
    tmp = _make_temporary(folder, lambda: Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=folder)))
    with _replace_on_success(
        tmp, target, 0o777 & ~_umask(), lambda t: shutil.rmtree(t, ignore_errors=True), "folder"
    ) as t:
        yield t


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_bytes(target: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically and return the path."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)
