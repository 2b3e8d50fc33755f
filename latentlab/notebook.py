"""The one place outside :mod:`latentlab.widgets` that talks to Jupyter: is there a notebook, show this.

A leaf module: IPython is imported inside the functions, so ``import latentlab`` stays free of
it and scripts never need it. Interactive controls (sliders, pads, maps) are widgets and live
in :mod:`latentlab.widgets`; what is here only *displays*: an image, some HTML, and
:class:`LivePanel`, a block of text and pictures redrawn in place (the training progress view).

Example:
    >>> in_notebook()
    False
    >>> panel = LivePanel()
    >>> status, picture = panel.html("starting ..."), panel.png()
    >>> status.value += " epoch 1"
    >>> "starting ... epoch 1" in panel.to_html()
    True
"""

from __future__ import annotations

import base64
from typing import Any

__all__ = ["LivePanel", "display", "display_html", "in_notebook"]


def in_notebook() -> bool:
    """Whether code runs in an IPython kernel or shell (where :func:`display` shows things)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return get_ipython() is not None


def display(obj: Any) -> None:
    """Show ``obj`` (a PIL image, anything IPython can display) in the notebook."""
    from IPython.display import display as ipython_display

    ipython_display(obj)


def display_html(markup: str) -> None:
    """Show a piece of HTML in the notebook."""
    from IPython.display import HTML
    from IPython.display import display as ipython_display

    ipython_display(HTML(markup))


class _Field:
    """One part of a :class:`LivePanel`; setting :attr:`value` redraws the panel."""

    def __init__(self, panel: LivePanel, kind: str, value: Any) -> None:
        self._panel, self.kind, self._value = panel, kind, value

    @property
    def value(self) -> Any:
        """HTML text (``html`` fields) or PNG bytes (``png`` fields)."""
        return self._value

    @value.setter
    def value(self, new: Any) -> None:
        self._value = new
        self._panel.redraw()

    def to_html(self) -> str:
        if self.kind == "html":
            return f"<div>{self._value}</div>"
        if not self._value:
            return ""
        data = base64.b64encode(bytes(self._value)).decode("ascii")
        return f'<img src="data:image/png;base64,{data}" style="margin-right:8px"/>'


class LivePanel:
    """Text lines over a row of PNG pictures, displayed once and redrawn in place when a field changes.

    It uses IPython's display handles (``display_id``), so it needs no widget library and works in
    every Jupyter front end; outside a notebook :meth:`show` does nothing.
    """

    def __init__(self) -> None:
        self._fields: list[_Field] = []
        self._handle: Any = None

    def html(self, text: str = "") -> _Field:
        """Add a line of HTML text; returns the field (set ``field.value`` to change it)."""
        return self._add("html", text)

    def png(self, data: bytes = b"") -> _Field:
        """Add a picture (PNG bytes) to the row; returns the field."""
        return self._add("png", data)

    def _add(self, kind: str, value: Any) -> _Field:
        field = _Field(self, kind, value)
        self._fields.append(field)
        return field

    def to_html(self) -> str:
        """The panel as HTML: the text lines, then the pictures side by side."""
        lines = "".join(f.to_html() for f in self._fields if f.kind == "html")
        pictures = "".join(f.to_html() for f in self._fields if f.kind == "png")
        return f'<div class="latentlab-live">{lines}<div style="display:flex">{pictures}</div></div>'

    def show(self) -> None:
        """Display the panel in the notebook (once); later changes redraw it in place."""
        if not in_notebook():
            return
        from IPython.display import HTML
        from IPython.display import display as ipython_display

        self._handle = ipython_display(HTML(self.to_html()), display_id=True)

    def redraw(self) -> None:
        """Update the displayed panel (no-op before :meth:`show` or outside a notebook)."""
        if self._handle is not None:
            from IPython.display import HTML

            self._handle.update(HTML(self.to_html()))
