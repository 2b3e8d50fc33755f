"""``BlendPad``: drag a point between 3 or 4 corner latents to blend them (anywidget pad + live image)."""

from __future__ import annotations

import base64
import functools
import pathlib
from typing import Any, Literal

import ipywidgets as W
import torch
import traitlets

from ..generators.base import Generator
from ..render import fit_size, png_bytes
from ._image import LiveImage
from ._lifecycle import LiveWidget
from ._render import ImageFormat, check_latents, decode_one, pad_corners, pad_weights

__all__ = ["BlendPad", "pad_class"]

_PAD_JS = pathlib.Path(__file__).parent / "blendpad.js"  # the anywidget front end (package data)


@functools.cache
def pad_class() -> type:
    """The pad widget class (built on first use, so ``import latentlab`` does not pay for anywidget)."""
    import anywidget

    class Pad(anywidget.AnyWidget):
        """A square pad with a draggable point ``(x, y)`` in ``[0, 1]^2`` and corner thumbnails.

        Click or drag to move the point; with the pad focused, arrow keys move it (Shift: bigger steps).
        """

        _esm = _PAD_JS
        x = traitlets.Float(0.5).tag(sync=True)
        y = traitlets.Float(0.5).tag(sync=True)
        size = traitlets.Int(200).tag(sync=True)
        corners = traitlets.List(traitlets.List(traitlets.Float())).tag(sync=True)
        thumbnails = traitlets.List(traitlets.Unicode()).tag(sync=True)

    return Pad


class BlendPad(LiveWidget, W.HBox):
    """Blend 3 or 4 latents by dragging a point between them; the blended image updates live.

    The corners of the pad hold the latents (three: a triangle, four: the square's corners);
    the point's position gives the blend weights (:func:`latentlab.widgets._render.pad_weights`),
    and :func:`latentlab.interpolation.blend` mixes the latents (spherical for Gaussian spaces).

    Args:
        gen: a :class:`~latentlab.Generator`.
        latents: ``(3 or 4, *space.shape)`` corner latents.
        space: their latent space (default: the generator's default space).
        method: ``"auto"`` (``"spherical"`` for normal priors, ``"linear"`` otherwise) or a
            :func:`~latentlab.interpolation.blend` method.
        size: longest display side of the image in px.
        fmt: image transport, ``"jpeg"`` or ``"png"``.

    Attributes:
        pad: the pad, an anywidget (its ``x``/``y`` traits can be observed or set).
        weights: current blend weights ``(K,)``.

    Example:
        >>> import latentlab as ll
        >>> gen = ll.load("digits")
        >>> bp = BlendPad(gen, gen.sample(3, seed=0))
        >>> bp.pad.x, bp.pad.y = 0.0, 0.0          # the first corner
        >>> _ = bp.wait()
        >>> [round(w, 3) for w in bp.weights.tolist()]
        [1.0, 0.0, 0.0]
        >>> bp.close()
    """

    def __init__(
        self,
        gen: Generator,
        latents: Any,
        *,
        space: str | Any = None,
        method: Literal["auto", "spherical", "linear", "norm"] = "auto",
        size: int | None = None,
        fmt: ImageFormat = "jpeg",
    ) -> None:
        self.gen = gen
        self.space = gen.space(space)
        self.latents = check_latents(latents, self.space, count=(3, 4), name="corner latents")
        k = int(self.latents.shape[0])
        self.method = ("spherical" if self.space.prior == "normal" else "linear") if method == "auto" else method
        self.view = LiveImage(gen, self.space, size=size, fmt=fmt, preview=False, to_latent=self._blend_at)
        centre = pad_corners(k).mean(0).tolist()
        self.pad: Any = pad_class()(
            x=centre[0], y=centre[1], corners=pad_corners(k).tolist(), thumbnails=self._thumbnails()
        )
        self.readout = W.HTML("")
        self.pad.observe(self._on_move, names=["x", "y"])
        super().__init__(
            [W.VBox([self.pad, self.readout]), W.VBox([self.view.widget, self.view.error])],
            layout=W.Layout(align_items="center"),
        )
        self.add_class("latentlab-blendpad")
        self._show_weights()
        self.view.show_now((self.pad.x, self.pad.y))

    @property
    def image(self) -> W.Image:
        """The ``ipywidgets.Image`` showing the blend."""
        return self.view.widget

    @property
    def weights(self) -> torch.Tensor:
        """Blend weights ``(K,)`` at the pad's point (non-negative, summing to 1)."""
        return pad_weights(self.pad.x, self.pad.y, int(self.latents.shape[0]))

    @property
    def latent(self) -> torch.Tensor:
        """The blended latent ``(*space.shape)`` at the pad's point."""
        return self._blend_at((self.pad.x, self.pad.y))

    def close(self) -> None:
        """Stop the render thread and close the pad and the widget."""
        pad = getattr(self, "pad", None)  # absent when __init__ raised
        if pad is not None:
            pad.close()
        super().close()

    def _blend_at(self, xy: tuple[float, float]) -> torch.Tensor:
        from ..interpolation import blend

        w = pad_weights(xy[0], xy[1], int(self.latents.shape[0]))
        return blend(self.latents, w, method=self.method)

    def _on_move(self, change: dict[str, Any]) -> None:
        self._show_weights()
        self.view.request((self.pad.x, self.pad.y))

    def _show_weights(self) -> None:
        parts = " · ".join(f"{i + 1}: {w:.0%}" for i, w in enumerate(self.weights.tolist()))
        self.readout.value = f"<span style='font-size:12px;color:#555'>weights {parts}</span>"

    def _thumbnails(self) -> list[str]:
        out = []
        for z in self.latents:
            data = png_bytes(decode_one(self.gen, z, self.space), size=fit_size(self.gen.image_size, 40))
            out.append("data:image/png;base64," + base64.b64encode(data).decode("ascii"))
        return out
