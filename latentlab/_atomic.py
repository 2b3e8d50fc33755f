"""Atomic file writes: write to a temporary file beside the target, then rename."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import ExportError

__all__ = ["atomic_path", "atomic_write_bytes"]


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str], *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; rename it onto ``target`` on success.

    On any exception (including ``KeyboardInterrupt`` and a full disk) the temporary
    file is removed and nothing is left at ``target``. ``OSError`` is re-raised as
    :class:`~latentlab.errors.ExportError` with the target named.

    Example:
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp())
        >>> with atomic_path(d / "a.txt") as tmp:
        ...     _ = tmp.write_text("hi")
        >>> (d / "a.txt").read_text()
        'hi'
    """
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise ExportError(
            f"cannot write {target}: its folder does not exist",
            expected="an existing, writable folder",
            got=str(folder),
            fix=f"create it first (mkdir -p {folder}) or choose another path",
        )
    suffix = target.suffix if suffix is None else suffix
    try:
        fd, name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".partial{suffix}", dir=folder)
    except OSError as exc:
        raise ExportError(
            f"cannot write into {folder}",
            expected="a writable folder",
            got=f"{type(exc).__name__}: {exc}",
            fix="check permissions and free space, or choose another folder",
        ) from exc
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; give the usual permissions
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, ExportError):
            raise
        raise ExportError(
            f"writing {target} failed; no partial file was left",
            expected="enough free space and a writable folder",
            got=f"{type(exc).__name__}: {exc}",
            fix="free some disk space or choose another folder, then run again",
        ) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_bytes(target: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically and return the path."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)
