"""Live exploration widgets for Jupyter: sliders, an interpolation scrubber and a blend pad.

Widgets hold state and wire events; the rendering is done by the plain functions in
:mod:`latentlab.widgets._render` (tested without a browser), in a background thread where
the newest slider value always wins (:class:`latentlab.widgets._live.LatestWins`).
"""

from .blendpad import BlendPad
from .explorer import Explorer
from .map import MapWidget
from .scrubber import Scrubber

__all__ = ["Explorer", "Scrubber", "BlendPad", "MapWidget"]
