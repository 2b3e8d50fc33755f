"""``Scrubber``: play or scrub through an interpolation between two latents, or along a ``Path``."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import ipywidgets as W
import torch

from ..errors import InvalidValueError
from ..generators.base import Generator
from ._image import LiveImage
from ._lifecycle import LiveWidget
from ._render import ImageFormat, check_latents

if TYPE_CHECKING:
    from ..interpolation import Method

__all__ = ["Scrubber"]


class Scrubber(LiveWidget, W.VBox):
    """A play button and a frame slider over a morph, re-rendering the image live.

    Give two latents ``a`` and ``b`` (interpolated with :func:`latentlab.interpolate`)
    or a :class:`latentlab.LatentPath` through several keyframes.

    Args:
        gen: a :class:`~latentlab.Generator`.
        a: start latent ``(*space.shape)`` (or a ``Path``, then leave ``b`` out).
        b: end latent ``(*space.shape)``.
        method: ``"auto"`` (spherical for Gaussian spaces, linear otherwise), ``"spherical"``, ``"linear"``...
        frames: number of frames.
        fps: playback speed.
        space: latent space of ``a`` and ``b`` (default: the generator's default space).
        size: longest display side in px.
        fmt: image transport, ``"jpeg"`` or ``"png"``.

    Attributes:
        latents: ``(frames, *space.shape)``, the morph.
        frame: the frame slider (an ``ipywidgets.IntSlider``).

    Example:
        >>> import latentlab as ll
        >>> gen = ll.load("digits")
        >>> z = gen.sample(2, seed=0)
        >>> sc = Scrubber(gen, z[0], z[1], frames=10)
        >>> sc.latents.shape
        torch.Size([10, 16])
        >>> sc.frame.value = 9
        >>> _ = sc.wait()
        >>> bool(torch.allclose(sc.latent, z[1]))
        True
        >>> sc.close()
    """

    def __init__(
        self,
        gen: Generator,
        a: Any,
        b: Any = None,
        *,
        method: Method = "auto",
        frames: int = 60,
        fps: float = 24,
        space: str | Any = None,
        size: int | None = None,
        fmt: ImageFormat = "jpeg",
    ) -> None:
        self.gen = gen
        self.space = gen.space(space)
        if isinstance(frames, bool) or not isinstance(frames, int) or frames < 2:
            raise InvalidValueError(
                "a scrubber needs at least 2 frames",
                expected="frames >= 2 (an int)",
                got=repr(frames),
                fix="pass frames=60",
            )
        if not fps > 0:
            raise InvalidValueError("fps must be positive", expected="fps > 0", got=fps, fix="pass fps=24")
        self.latents = _morph_latents(a, b, self.space, frames, method)
        self.view = LiveImage(gen, self.space, size=size, fmt=fmt, preview=False)
        self.frame = W.IntSlider(
            value=0,
            min=0,
            max=frames - 1,
            description="frame",
            continuous_update=True,
            style={"description_width": "50px"},
            layout=W.Layout(width="360px"),
        )
        self.play = W.Play(
            value=0,
            min=0,
            max=frames - 1,
            interval=max(1, round(1000 / fps)),
            description="play",
            layout=W.Layout(width="auto"),
        )
        W.jslink((self.play, "value"), (self.frame, "value"))
        self.frame.observe(self._on_frame, names="value")
        super().__init__([self.view.widget, self.view.error, W.HBox([self.play, self.frame])])
        self.add_class("latentlab-scrubber")
        self.view.show_now(self.latents[0])

    @property
    def image(self) -> W.Image:
        """The ``ipywidgets.Image`` showing the current frame."""
        return self.view.widget

    @property
    def latent(self) -> torch.Tensor:
        """The current frame's latent ``(*space.shape)``."""
        return self.latents[int(self.frame.value)]

    def save(self, path: str | os.PathLike[str], *, fps: int | None = None, **kwargs: Any) -> Any:
        """Save the frames as GIF/MP4/WebP (by suffix) with :func:`latentlab.save_morph`; returns its ``Animation``."""
        from ..animate import save_morph

        fps = fps or max(1, round(1000 / self.play.interval))
        kwargs.setdefault("progress", False)
        return save_morph(self.gen, self.latents, path, fps=fps, interpolate=False, space=self.space.name, **kwargs)

    def _on_frame(self, change: dict[str, Any]) -> None:
        self.view.request(self.latents[int(change["new"])])


def _morph_latents(a: Any, b: Any, space: Any, frames: int, method: Any) -> torch.Tensor:
    """``(frames, *space.shape)`` latents from ``a`` to ``b``, or sampled along the ``Path`` ``a``."""
    from ..interpolation import interpolate
    from ..paths import LatentPath

    if isinstance(a, LatentPath):
        if b is not None:
            raise InvalidValueError(
                "give either a Path or two latents",
                expected="Scrubber(gen, path) or Scrubber(gen, a, b)",
                got="a Path and b",
                fix="leave b out",
            )
        return check_latents(a.sample(frames), space, name="path frames")
    if b is None:
        raise InvalidValueError(
            "a scrubber needs an end latent",
            expected="Scrubber(gen, a, b)",
            got="b=None",
            fix="pass two latents, e.g. z = gen.sample(2); Scrubber(gen, z[0], z[1])",
        )
    ends = torch.cat(
        [check_latents(a, space, count=(1,), name="latent a"), check_latents(b, space, count=(1,), name="latent b")]
    )
    return interpolate(ends[0], ends[1], frames, method=method, space=space).float()
