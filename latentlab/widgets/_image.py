"""An ``ipywidgets.Image`` fed by the latest-value-wins render loop (shared by every widget)."""

from __future__ import annotations

import html
import threading
from collections.abc import Callable
from typing import Any

import ipywidgets as W
import torch

from ..errors import RenderCancelledError
from ..generators.base import Generator
from ..render import fit_size
from ..spaces import LatentSpace
from ._live import LatestWins
from ._render import ImageFormat, render_bytes

__all__ = ["LiveImage"]


class LiveImage:
    """One image of a generator's output, re-rendered in the background as its latent changes.

    Args:
        gen: the generator.
        space: the latent space rendered.
        size: longest display side in px (``None``: about 256 px for small models).
        fmt: ``"jpeg"`` or ``"png"``.
        quality: JPEG quality of full renders.
        preview: ``None`` previews while dragging when ``gen.can("preview")``; ``True``
            always previews (half resolution when the generator has no preview mode);
            ``False`` renders every state at full quality.
        settle_s: quiet time after which the last preview is rendered at full quality.
        to_latent: turns a requested state into a latent ``(*space.shape)`` in the render
            thread (for states that are costly to turn into latents, such as blend weights);
            by default the state is the latent.

    For slow generators (``gen.slow``, e.g. diffusion pipelines, whose ``decode`` takes
    ``progress=`` and ``cancel=``) a progress bar under the image follows the denoising steps,
    and a render in flight is abandoned between two steps as soon as a newer state is requested
    (the newest always wins, even when one render takes seconds).
    """

    def __init__(
        self,
        gen: Generator,
        space: LatentSpace,
        *,
        size: int | None = None,
        fmt: ImageFormat = "jpeg",
        quality: int = 90,
        preview: bool | None = None,
        settle_s: float = 0.2,
        to_latent: Callable[[Any], torch.Tensor] | None = None,
    ) -> None:
        self.to_latent = to_latent
        self.gen, self.space, self.fmt, self.quality = gen, space, fmt, quality
        from ..settings import settings as workshop_settings

        workshop = workshop_settings()  # ll.workshop_mode(): live images capped, previews while dragging
        self.size = fit_size(gen.image_size, size)
        if size is None and workshop.display_size is not None and max(self.size) > workshop.display_size:
            self.size = fit_size(gen.image_size, workshop.display_size)
        h, w = self.size
        self.widget = W.Image(
            format=fmt,
            width=w,
            height=h,
            layout=W.Layout(width=f"{w}px", height=f"{h}px", object_fit="contain", border="1px solid #ddd"),
        )
        self.widget.add_class("latentlab-image")
        self.error = W.HTML("")
        self.slow = bool(getattr(gen, "slow", False))
        self.progress = W.FloatProgress(
            value=0.0,
            min=0.0,
            max=1.0,
            bar_style="info",
            layout=W.Layout(width=f"{w}px", display=None if self.slow else "none"),
        )
        self.progress.add_class("latentlab-progress")
        self.cancelled = 0  #: renders abandoned part-way because a newer state arrived
        if preview is None and workshop.previews:
            preview = True
        self.previews = gen.can("preview") if preview is None else bool(preview)
        self._set_lock = threading.Lock()
        self._loop: LatestWins[Any] = LatestWins(
            self._work, settle_s=settle_s if self.previews else None, on_error=self._show_error
        )
        self.latent: torch.Tensor | None = None  #: the latent most recently shown at full quality

    def render(self, latent: torch.Tensor, *, preview: bool = False, **step_options: Any) -> bytes:
        """The encoded image for ``latent`` (``(*space.shape)``), without showing it."""
        return render_bytes(
            self.gen,
            latent,
            self.space,
            size=self.size,
            fmt=self.fmt,
            quality=self.quality,
            preview=preview,
            **step_options,
        )

    def show_now(self, state: Any) -> None:
        """Render ``state`` (a latent unless ``to_latent`` is set) at full quality in the calling thread."""
        self._work(state, False)

    def request(self, state: Any) -> None:
        """Ask for ``state`` to be shown; returns at once, newer requests replace older ones."""
        self._loop.submit(state)

    def wait(self, timeout: float = 10.0) -> bool:
        """Block until the newest requested latent is shown at full quality."""
        return self._loop.wait_idle(timeout)

    @property
    def renders(self) -> int:
        """How many background renders ran (tests check that bursts are coalesced)."""
        return self._loop.renders

    def close(self) -> None:
        self._loop.close()

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.value = done / max(total, 1)

    def _work(self, state: Any, preview: bool) -> None:
        latent = state if self.to_latent is None else self.to_latent(state)
        if self.slow:
            self.progress.value = 0.0
            try:
                data = self.render(latent, preview=preview, progress=self._on_progress, cancel=self._loop.has_pending)
            except RenderCancelledError:
                self.cancelled += 1  # a newer state is waiting: render that one instead
                return
        else:
            data = self.render(latent, preview=preview)
        with self._set_lock:
            self.widget.value = data
            if not preview:
                self.latent = latent
            if self.error.value:
                self.error.value = ""

    def _show_error(self, exc: BaseException) -> None:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        text = html.escape(f"render failed: {type(exc).__name__}: {first}")
        self.error.value = f"<span style='color:#b00'>{text}</span>"
