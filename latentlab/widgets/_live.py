"""Latest value wins: a background render loop that drops stale slider states.

Slider events arrive faster than images render. :class:`LatestWins` keeps only the
newest pending state: the event handler stores it and returns at once (the kernel
stays responsive), and one worker thread renders whatever is newest when it is free.
A 1,000-event burst therefore renders the state being drawn when it started plus the
last one, never a queue of 1,000.

With ``settle_s`` set, states submitted while the user is dragging render as cheap
previews, and the last state is rendered again at full quality once no new state has
arrived for ``settle_s`` seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

__all__ = ["LatestWins"]

S = TypeVar("S")
_EMPTY: Any = object()


class LatestWins(Generic[S]):
    """Render the newest submitted state in a worker thread, dropping older pending ones.

    Args:
        work: ``work(state, preview)`` does the rendering (and shows the result).
        settle_s: when not ``None``, render submissions as previews (``preview=True``) and
            re-render the last one with ``preview=False`` after ``settle_s`` seconds of quiet.
        on_error: called with the exception when ``work`` raises (the loop keeps running).

    Example:
        >>> seen = []
        >>> loop = LatestWins(lambda state, preview: seen.append(state))
        >>> for i in range(100):
        ...     loop.submit(i)
        >>> loop.wait_idle()
        True
        >>> seen[-1], len(seen) <= 100
        (99, True)
        >>> loop.close()
    """

    def __init__(
        self,
        work: Callable[[S, bool], None],
        *,
        settle_s: float | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        self._work = work
        self._settle_s = settle_s
        self._on_error = on_error
        self._cond = threading.Condition()
        self._pending: Any = _EMPTY
        self._unsettled: Any = _EMPTY
        self._busy = False
        self._closed = False
        self._thread: threading.Thread | None = None
        self.renders = 0  #: number of times ``work`` ran (for tests and benchmarks)

    def submit(self, state: S) -> None:
        """Make ``state`` the newest pending state (replacing any older pending one); returns at once."""
        with self._cond:
            self._pending = state
            self._unsettled = _EMPTY
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="latentlab-render", daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def has_pending(self) -> bool:
        """Whether a newer state waits (a slow render checks this between its steps and gives up)."""
        with self._cond:
            return self._pending is not _EMPTY or self._closed

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until nothing is pending, unsettled or rendering; ``False`` on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._busy or self._pending is not _EMPTY or self._unsettled is not _EMPTY:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def close(self) -> None:
        """Stop the worker thread (pending states are dropped)."""
        with self._cond:
            self._closed = True
            self._pending = self._unsettled = _EMPTY
            self._cond.notify_all()

    def _next_job(self) -> tuple[Any, bool] | None:
        with self._cond:
            self._busy = False
            self._cond.notify_all()
            deadline: float | None = None
            while not self._closed:
                if self._pending is not _EMPTY:
                    state, self._pending = self._pending, _EMPTY
                    preview = self._settle_s is not None
                    if preview:
                        self._unsettled = state
                    self._busy = True
                    return state, preview
                if self._unsettled is not _EMPTY and self._settle_s is not None:
                    now = time.monotonic()
                    deadline = now + self._settle_s if deadline is None else deadline
                    if now >= deadline:
                        state, self._unsettled = self._unsettled, _EMPTY
                        self._busy = True
                        return state, False
                    self._cond.wait(deadline - now)
                else:
                    self._cond.wait()
            return None

    def _loop(self) -> None:
        while (job := self._next_job()) is not None:
            state, preview = job
            try:
                self._work(state, preview)
            except Exception as exc:  # keep the loop alive; the widget shows the error
                if self._on_error is not None:
                    self._on_error(exc)
            finally:
                self.renders += 1
