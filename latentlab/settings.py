"""Process-wide settings that keep an old laptop responsive: :func:`workshop_mode` and :func:`settings`.

A leaf module (torch and :mod:`latentlab.errors` only): the live widgets read :func:`settings`
to cap their image size and preview while dragging; :mod:`latentlab.workshop` re-exports both.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import torch

from ._checks import check_int

__all__ = ["WorkshopSettings", "settings", "workshop_mode"]


@dataclasses.dataclass
class WorkshopSettings:
    """What :func:`workshop_mode` sets; read it with :func:`settings`.

    Attributes:
        on: workshop mode is on.
        threads: torch threads (half the cores, at most 4: one core stays free for the browser).
        display_size: cap on the longest side of live widget images in px (``None``: no cap).
        previews: live widgets render low-resolution previews while dragging.
        gif_size: long side of GIFs made in the notebooks.
        gif_fps: frames per second of those GIFs.
    """

    on: bool = False
    threads: int | None = None
    display_size: int | None = None
    previews: bool | None = None
    gif_size: int = 256
    gif_fps: int = 24


_SETTINGS = WorkshopSettings()
_SAVED: dict[str, Any] = {}


def settings() -> WorkshopSettings:
    """The current workshop settings (a copy)."""
    return dataclasses.replace(_SETTINGS)


class _Mode:
    """Returned by :func:`workshop_mode`; a context manager that switches back on exit."""

    def __init__(self, previous: bool) -> None:
        self.previous = previous

    def __enter__(self) -> WorkshopSettings:
        return settings()

    def __exit__(self, *exc: object) -> None:
        workshop_mode(self.previous)

    def __repr__(self) -> str:
        s = _SETTINGS
        if not s.on:
            return "workshop mode off (torch threads and widget sizes as before)"
        return (
            f"workshop mode on: {s.threads} torch thread(s), live images {s.display_size} px with "
            f"low-resolution previews while dragging, GIFs {s.gif_size} px at {s.gif_fps} fps "
            "(ll.workshop_mode(False) switches back)"
        )


def workshop_mode(on: bool = True, *, threads: int | None = None, display_size: int = 320) -> _Mode:
    """Settings that keep an old laptop responsive; ``workshop_mode(False)`` restores what was there.

    On: torch uses half the CPU cores (at most 4, at least 1) so the browser keeps one; live
    widgets (Explorer, Scrubber, BlendPad, maps) draw at most ``display_size`` px on the long side
    and render low-resolution previews while a slider moves; notebooks make GIFs at 160 px, 12 fps.

    Args:
        on: switch on (``True``) or back off (``False``).
        threads: torch threads (default: half the cores, 1 to 4).
        display_size: cap on the longest side of live images in px.

    Returns:
        A handle that prints the settings; ``with ll.workshop_mode(): ...`` switches back after the block.

    Example:
        >>> import torch
        >>> before = torch.get_num_threads()
        >>> with workshop_mode(threads=1):
        ...     torch.get_num_threads(), settings().display_size
        (1, 320)
        >>> torch.get_num_threads() == before, settings().on
        (True, False)
    """
    previous = _SETTINGS.on
    if on:
        if not _SETTINGS.on:
            _SAVED["threads"] = torch.get_num_threads()
        n = threads if threads is not None else max(1, min(4, (os.cpu_count() or 2) // 2))
        n = check_int(n, "threads", 1, fix="leave threads=None for half the cores")
        torch.set_num_threads(n)
        _SETTINGS.on, _SETTINGS.threads, _SETTINGS.display_size, _SETTINGS.previews = True, n, display_size, True
        _SETTINGS.gif_size, _SETTINGS.gif_fps = 160, 12
    elif _SETTINGS.on:
        torch.set_num_threads(_SAVED.pop("threads", torch.get_num_threads()))
        fresh = WorkshopSettings()
        for f in dataclasses.fields(fresh):
            setattr(_SETTINGS, f.name, getattr(fresh, f.name))
    return _Mode(previous)
