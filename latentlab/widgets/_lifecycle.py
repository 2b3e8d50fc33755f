"""What every live widget does the same way: show it, wait for its image, close it (and its render thread)."""

from __future__ import annotations

from typing import Any

from ._image import LiveImage

__all__ = ["LiveWidget"]


class LiveWidget:
    """Mixin for an ``ipywidgets`` box that shows a :class:`~latentlab.widgets._image.LiveImage` as ``self.view``.

    Put it first among the bases (``class Explorer(LiveWidget, W.VBox)``); ``close`` then stops the
    render thread before the box closes, also when ``__init__`` raised before ``view`` existed.
    """

    view: LiveImage

    def show(self) -> None:
        """Display the widget in the notebook."""
        from IPython.display import display

        display(self)

    def wait(self, timeout: float = 10.0) -> bool:
        """Block until the image shows the newest state at full quality (for scripts and tests)."""
        return self.view.wait(timeout)

    def close(self) -> None:
        """Stop the render thread and close the widget."""
        view: Any = getattr(self, "view", None)  # absent when __init__ raised
        if view is not None:
            view.close()
        super().close()  # type: ignore[misc]
