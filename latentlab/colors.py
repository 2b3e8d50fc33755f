"""Colours for labelled points, shared by the matplotlib map (:mod:`latentlab.maps`) and the map widget.

A leaf module: numpy and the standard library only.

Example:
    >>> import numpy as np
    >>> is_categorical(np.array(["serif", "sans"])), is_categorical(np.linspace(0, 1, 50))
    (True, False)
    >>> category_colors(2)
    ['#1f77b4', '#ff7f0e']
    >>> viridis(0.0), viridis(1.0)
    ('#440154', '#fde725')
"""

from __future__ import annotations

import colorsys

import numpy as np

__all__ = ["MAX_LEGEND", "MAX_INTEGER_CATEGORIES", "category_colors", "is_categorical", "viridis"]

#: Categorical labels with more values than this get no legend (and are no default colour).
MAX_LEGEND = 20
#: Integer labels with at most this many distinct values are categories (digit classes); more are numbers.
MAX_INTEGER_CATEGORIES = 20

_TAB10 = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
_VIRIDIS_STOPS = [(68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37)]


def is_categorical(values: np.ndarray) -> bool:
    """Whether ``values (N,)`` are categories (text, booleans, a few integers) rather than numbers."""
    if values.dtype.kind in "OUSb":
        return True
    return values.dtype.kind in "iu" and len(np.unique(values)) <= MAX_INTEGER_CATEGORIES


def category_colors(n: int) -> list[str]:
    """``n`` distinct hex colours (tab10 up to 10, then evenly spaced hues)."""
    if n <= len(_TAB10):
        return _TAB10[:n]
    return [
        "#%02x%02x%02x" % tuple(int(255 * c) for c in colorsys.hsv_to_rgb(i / n, 0.65, 0.85))  # noqa: UP031
        for i in range(n)
    ]


def viridis(t: float) -> str:
    """A hex colour along a viridis-like ramp, ``t`` in ``[0, 1]`` (clipped)."""
    pos = min(max(t, 0.0), 1.0) * (len(_VIRIDIS_STOPS) - 1)
    i = min(int(pos), len(_VIRIDIS_STOPS) - 2)
    f = pos - i
    r, g, b = (round(a + (c - a) * f) for a, c in zip(_VIRIDIS_STOPS[i], _VIRIDIS_STOPS[i + 1]))
    return f"#{r:02x}{g:02x}{b:02x}"
