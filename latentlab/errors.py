"""The one error hierarchy of latentlab.

Every error says what was expected, what was got, and how to fix it, so that a
notebook user can act on the message without reading the source. Catch
:class:`LatentLabError` to catch them all; each also subclasses the builtin
that fits (``ValueError``, ``TypeError``, ...), so generic handlers keep working.

Example:
    >>> from latentlab.errors import ShapeError
    >>> err = ShapeError("latents have the wrong shape", expected="(N, 8)", got="(N, 9)",
    ...                  fix="decode latents from this model's space")
    >>> print(err)
    latents have the wrong shape
      expected: (N, 8)
      got:      (N, 9)
      fix:      decode latents from this model's space
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "LatentLabError",
    "ShapeError",
    "InvalidValueError",
    "UnknownModelError",
    "UnknownSpaceError",
    "IncompatibleLatentError",
    "LatentShapeError",
    "CapabilityError",
    "ChecksumError",
    "MissingDependencyError",
    "UntrustedPickleError",
    "ExportError",
    "InputImageError",
    "RenderCancelledError",
    "shape_str",
]


def shape_str(shape: Sequence[object]) -> str:
    """``(8, 16)``, ``(16,)`` or ``(N, 16)`` style text of a shape, for error messages.

    Example:
        >>> shape_str((16,)), shape_str(("N", 18, 512))
        ('(16,)', '(N, 18, 512)')
    """
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


class LatentLabError(Exception):
    """Base class of every latentlab error.

    Args:
        what: one line saying what went wrong.
        expected: what latentlab expected (a shape, a range, a name...).
        got: what it got instead.
        fix: how the user can fix it.
    """

    def __init__(
        self,
        what: str,
        *,
        expected: object = None,
        got: object = None,
        fix: str | None = None,
    ) -> None:
        self.what = what
        self.expected = expected
        self.got = got
        self.fix = fix
        super().__init__(self._format())

    def _format(self) -> str:
        lines = [self.what]
        if self.expected is not None:
            lines.append(f"  expected: {self.expected}")
        if self.got is not None:
            lines.append(f"  got:      {self.got}")
        if self.fix is not None:
            lines.append(f"  fix:      {self.fix}")
        return "\n".join(lines)

    def __reduce__(self) -> tuple[object, ...]:  # keep errors picklable across processes
        return (_rebuild, (type(self), self.what, self.expected, self.got, self.fix))


def _rebuild(cls: type[LatentLabError], what: str, expected: object, got: object, fix: str | None) -> LatentLabError:
    return cls(what, expected=expected, got=got, fix=fix)


class ShapeError(LatentLabError, ValueError):
    """A tensor or array has the wrong shape."""


class InvalidValueError(LatentLabError, ValueError):
    """A value is out of range, NaN/inf, or otherwise unusable."""


class UnknownModelError(LatentLabError, ValueError):
    """No model is registered under that name."""


class UnknownSpaceError(LatentLabError, ValueError):
    """A generator has no latent space of that name."""


class IncompatibleLatentError(LatentLabError, ValueError):
    """A latent, direction or code belongs to another model or space."""


class LatentShapeError(ShapeError, IncompatibleLatentError):
    """Latents (keyframes, codes, direction vectors ...) do not have the shape of the space they are used in.

    Raised by the one check :meth:`latentlab.LatentSpace.check`; a :class:`ShapeError` and an
    :class:`IncompatibleLatentError` (the wrong shape usually means another model or space), so
    handlers of either keep working.
    """


class CapabilityError(LatentLabError, NotImplementedError):
    """The generator does not have an optional capability (e.g. ``encode``)."""


class ChecksumError(LatentLabError, RuntimeError):
    """A weights file does not match its sha256 manifest (changed or truncated)."""


class MissingDependencyError(LatentLabError, ImportError):
    """An optional dependency is not installed; the message names the ``pip install``."""


class UntrustedPickleError(LatentLabError, PermissionError):
    """Loading this file would execute code from it and ``trust=True`` was not given."""


class ExportError(LatentLabError, OSError):
    """Writing an output file failed; nothing partial was left behind."""


class InputImageError(LatentLabError, ValueError):
    """An input image cannot be read or converted (empty, wrong mode, unreadable file)."""


class RenderCancelledError(LatentLabError, RuntimeError):
    """A slow render was stopped part-way because its ``cancel`` callback said so (a newer request won)."""
