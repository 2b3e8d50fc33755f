"""Small timing helpers shared by the benchmark scripts."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def best_of(fn: Callable[[], object], repeat: int = 5, number: int = 1) -> float:
    """Best wall time (seconds) per call of ``fn`` over ``repeat`` rounds of ``number`` calls."""
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t0) / number)
    return min(times)


def best_of_pair(fn_a: Callable[[], object], fn_b: Callable[[], object], repeat: int = 9) -> tuple[float, float]:
    """Best wall times (seconds) of ``fn_a`` and ``fn_b`` timed in alternation, so that load that
    comes and goes on a shared machine falls on both alike."""
    fn_a(), fn_b()  # warm-up
    a, b = [], []
    for _ in range(repeat):
        for fn, times in ((fn_a, a), (fn_b, b)):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
    return min(a), min(b)


def median_of(fn: Callable[[], object], repeat: int = 7) -> float:
    """Median wall time (seconds) of ``fn`` over ``repeat`` calls after one warm-up."""
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms"


def on_one_thread(fn: Callable[[], T]) -> T:
    """Run ``fn`` with torch on one thread (restored after), so figures compare run to run.

    On a shared, oversubscribed CPU two threads spend most of their time waiting for each other.
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return fn()
    finally:
        torch.set_num_threads(threads)
