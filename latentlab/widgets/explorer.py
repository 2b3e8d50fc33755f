"""``Explorer``: one strength slider per latent direction, re-rendering the image as you drag."""

from __future__ import annotations

import contextlib
import html
import math
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import ipywidgets as W
import torch
import traitlets

from .._atomic import atomic_write_bytes
from ..errors import CapabilityError, InvalidValueError
from ..render import png_bytes
from ._image import LiveImage
from ._lifecycle import LiveWidget
from ._render import ImageFormat, check_latents, combine, decode_one, direction_vectors

__all__ = ["Explorer"]

THUMB_PX = 64


class Explorer(LiveWidget, W.VBox):
    """Sliders that move a latent along directions, with the decoded image updating live.

    The image is ``base + sum_k strength_k * direction_k``, where ``base`` is the prior
    sample for ``seed`` scaled by ``temperature`` (or a latent you set). Slider events
    render in a background thread and only the newest value is drawn, so dragging never
    queues up stale frames and the kernel stays responsive.

    Args:
        gen: a :class:`~latentlab.Generator`.
        directions: directions (:class:`latentlab.directions.Direction`, or tensors of shape
            ``space.shape``); ``None`` picks ``n_components`` directions that matter for this model:
            PCA of the model's own training codes where it ships them (``gen.can("codes")``);
            SeFa where the space has an isotropic normal prior and the model declares ``"sefa"``
            (PCA of isotropic prior samples would give arbitrary directions, e.g. on VAEs);
            otherwise PCA of sampled (and mapped) latents, as in GANSpace.
        seed: seed of the starting sample.
        space: latent space to explore (default: the generator's default space).
        size: longest display side in px (``None``: about 256 px for small models).
        n_components: number of default sliders when ``directions`` is ``None``.
        strength_range: sliders go from ``-strength_range`` to ``+strength_range``.
        fmt: image transport, ``"jpeg"`` (fastest) or ``"png"``.
        preview: render cheaper previews while dragging (``None``: when the generator can).
        export_dir: folder for "save image" and "save morph".

    Slow generators (``gen.slow``: diffusion pipelines) get a preview while a slider moves (fewer
    sampler steps, half size), the full render once it settles, a progress bar, and a render in
    flight is abandoned between two denoising steps when a newer value arrives. Text-conditioned
    generators (``gen.can("prompt")``) get a prompt box: Enter sets the prompt (``gen.prompt`` in
    the ``noise`` space, the latent's prompt part in ``joint``/``prompt``) and re-renders.

    Attributes:
        latent: the current latent ``(*space.shape)``; set it to explore from there (the
            sliders go back to 0). ``explorer.observe(fn, names="latent")`` works as for any
            ipywidget.
        bookmarks: bookmarked latents, in order.

    Example:
        >>> import latentlab as ll, torch
        >>> gen = ll.load("digits")
        >>> ex = Explorer(gen, directions=[torch.eye(16)[0], torch.eye(16)[1]])
        >>> ex.sliders[0].value = 2.0
        >>> _ = ex.wait()
        >>> round(float(ex.latent[0] - ex.base[0]), 3)
        2.0
        >>> ex.close()
    """

    latent = traitlets.Instance(torch.Tensor)

    def __init__(
        self,
        gen: Any,
        directions: Sequence[Any] | None = None,
        seed: int = 0,
        space: str | Any = None,
        size: int | None = None,
        *,
        n_components: int = 5,
        strength_range: float = 3.0,
        fmt: ImageFormat = "jpeg",
        preview: bool | None = None,
        export_dir: str | os.PathLike[str] = ".",
    ) -> None:
        self.gen = gen
        self.space = gen.space(space)
        if directions is None:
            directions = _default_directions(gen, self.space, n_components, seed)
        self.directions = list(directions)
        self.vectors = direction_vectors(self.directions, self.space)
        if not strength_range > 0:
            raise InvalidValueError(
                "strength_range must be positive", expected="> 0", got=strength_range, fix="pass strength_range=3.0"
            )
        self.export_dir = Path(export_dir)
        self.bookmarks: list[torch.Tensor] = []
        self._quiet = False
        self._seed = int(seed)
        self._rng = torch.Generator().manual_seed(int(seed))
        self._unit = _start_latent(gen, self.space, self._seed)
        self._saved = 0

        self.view = LiveImage(gen, self.space, size=size, fmt=fmt, preview=preview)
        self.sliders = [self._slider(direction_name(d, i), strength_range) for i, d in enumerate(self.directions)]
        self.seed_box = W.IntText(
            value=self._seed, description="seed", layout=W.Layout(width="160px"), style={"description_width": "40px"}
        )
        self.random_button = W.Button(description="random", icon="random", layout=W.Layout(width="90px"))
        self.temperature = W.FloatSlider(
            value=1.0,
            min=0.05,
            max=2.0,
            step=0.05,
            description="temperature",
            continuous_update=True,
            style={"description_width": "110px"},
            layout=W.Layout(width="380px"),
        )
        self.reset_button = W.Button(description="reset", icon="undo", layout=W.Layout(width="80px"))
        self.bookmark_button = W.Button(description="bookmark", icon="bookmark", layout=W.Layout(width="100px"))
        self.save_button = W.Button(description="save PNG", icon="download", layout=W.Layout(width="100px"))
        self.morph_button = W.Button(
            description="morph GIF",
            icon="film",
            layout=W.Layout(width="110px"),
            tooltip="GIF through the bookmarks (needs 2 or more)",
        )
        self.prompt_box = W.Text(
            value=gen.prompt or "",
            description="prompt",
            continuous_update=False,
            placeholder="describe the image, then Enter",
            style={"description_width": "50px"},
            layout=W.Layout(width="380px"),
        )
        self.status = W.HTML("")
        self.gallery = W.HBox([], layout=W.Layout(overflow="auto hidden", min_height=f"{THUMB_PX + 40}px"))
        self.gallery.add_class("latentlab-gallery")

        super().__init__(self._layout())
        self.add_class("latentlab-explorer")
        self._wire()
        with self._quietly():
            self.latent = self._compose()
        self.view.show_now(self.latent)
        self._set_status()

    # -- public API -------------------------------------------------------------
    @property
    def image(self) -> W.Image:
        """The ``ipywidgets.Image`` showing the current latent."""
        return self.view.widget

    @property
    def base(self) -> torch.Tensor:
        """The latent the sliders start from, ``(*space.shape)``."""
        return self._unit * float(self.temperature.value) if self.space.prior == "normal" else self._unit

    @property
    def strengths(self) -> list[float]:
        """Current slider values, one per direction."""
        return [float(s.value) for s in self.sliders]

    @strengths.setter
    def strengths(self, values: Sequence[float]) -> None:
        """Set every slider at once (rounded to the slider step, so the sliders show what is drawn)."""
        if len(values) != len(self.sliders):
            raise InvalidValueError(
                "one strength per slider is needed",
                expected=len(self.sliders),
                got=len(values),
                fix="pass a list as long as explorer.directions",
            )
        with self._quietly():
            for s, v in zip(self.sliders, values):
                s.value = round(round(float(v) / s.step) * s.step, 10)  # on the slider's grid: shown as set
        self._update()

    def reset(self) -> None:
        """Sliders back to 0 and temperature to 1."""
        with self._quietly():
            for s in self.sliders:
                s.value = 0.0
            self.temperature.value = 1.0
        self._update()

    def randomize(self) -> None:
        """A new random seed (drawn from the explorer's own generator, so runs are repeatable)."""
        self.seed_box.value = int(torch.randint(0, 2**31 - 1, (1,), generator=self._rng))

    def bookmark(self) -> int:
        """Add the current latent to :attr:`bookmarks` and the gallery strip; returns its index."""
        z = self.latent.clone()
        self.bookmarks.append(z)
        self.gallery.children = (*self.gallery.children, self._thumbnail(z, len(self.bookmarks) - 1))
        self._set_status(f"bookmark {len(self.bookmarks)} added")
        return len(self.bookmarks) - 1

    def goto(self, index: int) -> None:
        """Show bookmark ``index`` (sliders go back to 0)."""
        self.latent = self.bookmarks[index].clone()

    def save_image(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Save the current image as PNG at display size (atomically); returns the path."""
        if path is None:
            self._saved += 1
            path = self.export_dir / f"explorer-{self.gen.name}-{self._saved:03d}.png"
        image = decode_one(self.gen, self.latent, self.space)
        out = atomic_write_bytes(path, png_bytes(image, compress_level=6, size=self.view.size))
        self._set_status(f"saved {out.name}")
        return out

    def save_morph(
        self, path: str | os.PathLike[str] | None = None, *, fps: int = 24, seconds: float = 4.0, **kwargs: Any
    ) -> Any:
        """Save a morph through the bookmarks with :func:`latentlab.save_morph`; returns its ``Animation``.

        The format follows the suffix of ``path`` (``.gif``, ``.mp4``, ``.webp``); the default is a GIF
        in ``export_dir``. Extra keyword arguments (``easing=``, ``loop=``, ``size=``...) go to ``save_morph``.
        """
        if len(self.bookmarks) < 2:
            raise InvalidValueError(
                "a morph needs at least two bookmarks",
                expected=">= 2 bookmarks",
                got=len(self.bookmarks),
                fix="press 'bookmark' at two or more places first",
            )
        try:
            from ..animate import save_morph
        except ImportError as exc:
            raise CapabilityError(
                "saving a morph needs latentlab.animate",
                expected="latentlab.animate",
                got=f"ImportError: {exc}",
                fix="update latentlab",
            ) from exc
        path = self.export_dir / f"explorer-{self.gen.name}-morph.gif" if path is None else Path(path)
        keyframes = torch.stack(self.bookmarks)
        kwargs.setdefault("progress", False)
        anim = save_morph(self.gen, keyframes, path, fps=fps, seconds=seconds, space=self.space.name, **kwargs)
        self._set_status(f"saved {Path(anim.path).name}")
        return anim

    def set_prompt(self, text: str) -> None:
        """Render with the prompt ``text``: ``gen.prompt`` for the ``noise`` space, the latent's prompt part
        for the ``joint`` and ``prompt`` spaces (sliders keep their values). The prompt box calls it on Enter."""
        if not self.gen.can("prompt"):
            raise CapabilityError(
                f"model {self.gen.name!r} takes no prompts",
                expected="a text-conditioned model",
                got=f"capabilities {sorted(self.gen.capabilities)}",
                fix="leave the prompt out",
            )
        text = str(text).strip()
        self.gen.embed(text)  # checks the text (and caches it) before it becomes the default
        self.gen.prompt = text  # new seeds keep it
        if self.space.name == "joint":
            noise = self.space.split(self._unit[None])["noise"]
            self._unit = self.gen.compose(noise=noise, prompt=text)[0].detach().float().cpu()
        elif self.space.name == "prompt":
            self._unit = self.gen.embed(text)[0].detach().float().cpu()
        with self._quietly():
            self.prompt_box.value = text
        self._update()
        self._set_status(f"prompt: {text}")

    # -- wiring -------------------------------------------------------------------
    def _slider(self, name: str, limit: float) -> W.FloatSlider:
        s = W.FloatSlider(
            value=0.0,
            min=-limit,
            max=limit,
            step=_nice_step(limit / 30),
            description=name[:18],
            continuous_update=True,
            readout_format=".2f",
            tooltip=name,
            style={"description_width": "110px"},
            layout=W.Layout(width="380px"),
        )
        return s

    def _layout(self) -> list[W.Widget]:
        controls: list[W.Widget] = [*self.sliders]
        if self.space.prior == "normal":
            controls.append(self.temperature)
            controls.append(W.HBox([self.seed_box, self.random_button]))
        else:
            controls.append(W.HBox([self.seed_box, self.random_button]))
        if self.gen.can("prompt"):
            controls.insert(0, self.prompt_box)
        controls += [
            W.HBox([self.reset_button, self.bookmark_button, self.save_button, self.morph_button]),
            self.status,
        ]
        left = W.VBox([self.view.widget, self.view.progress, self.view.error])
        right = W.VBox(controls, layout=W.Layout(margin="0 0 0 16px"))
        return [W.HBox([left, right]), self.gallery]

    def _wire(self) -> None:
        for s in self.sliders:
            s.observe(self._on_control, names="value")
        self.temperature.observe(self._on_control, names="value")
        self.seed_box.observe(self._on_seed, names="value")
        self.random_button.on_click(lambda _: self.randomize())
        self.reset_button.on_click(lambda _: self.reset())
        self.bookmark_button.on_click(lambda _: self.bookmark())
        self.save_button.on_click(lambda _: self._guarded(self.save_image))
        self.morph_button.on_click(lambda _: self._guarded(self.save_morph))
        self.prompt_box.observe(self._on_prompt, names="value")
        self.observe(self._on_latent_set, names="latent")

    def _on_prompt(self, change: dict[str, Any]) -> None:
        if not self._quiet and str(change["new"]).strip():
            self._guarded(lambda: self.set_prompt(change["new"]))

    def _guarded(self, fn: Any) -> None:
        try:
            fn()
        except Exception as exc:
            self._set_status(f"{type(exc).__name__}: {str(exc).splitlines()[0]}", error=True)

    def _on_control(self, change: dict[str, Any]) -> None:
        if not self._quiet:
            self._update()

    def _on_seed(self, change: dict[str, Any]) -> None:
        self._seed = int(change["new"])
        self._unit = _start_latent(self.gen, self.space, self._seed)
        self._update()

    @traitlets.validate("latent")
    def _check_latent(self, proposal: dict[str, Any]) -> torch.Tensor:
        return check_latents(proposal["value"], self.space, count=(1,), name="latent")[0]

    def _on_latent_set(self, change: dict[str, Any]) -> None:
        if self._quiet:
            return
        z = change["new"]
        t = float(self.temperature.value) if self.space.prior == "normal" else 1.0
        self._unit = z / t
        with self._quietly():
            for s in self.sliders:
                s.value = 0.0
        self.view.request(z)
        self._set_status()

    def _compose(self) -> torch.Tensor:
        return combine(self.base, self.vectors, self.strengths)

    def _update(self) -> None:
        z = self._compose()
        with self._quietly():
            self.latent = z
        self.view.request(z)

    @contextlib.contextmanager
    def _quietly(self) -> Iterator[None]:
        old, self._quiet = self._quiet, True
        try:
            yield
        finally:
            self._quiet = old

    def _thumbnail(self, z: torch.Tensor, index: int) -> W.Widget:
        image = decode_one(self.gen, z, self.space)
        h, w = self.view.size
        scale = min(THUMB_PX / h, 3 * THUMB_PX / w)  # wide specimens (glyphs) stay legible: up to 3x wider
        th, tw = max(1, round(h * scale)), max(1, round(w * scale))
        thumb = W.Image(value=png_bytes(image, size=(th, tw)), format="png", width=tw, height=th)
        button = W.Button(
            description=f"go {index + 1}",
            layout=W.Layout(width=f"{max(tw, 56)}px"),
            tooltip=f"show bookmark {index + 1}",
        )
        button.on_click(lambda _: self.goto(index))
        return W.VBox([thumb, button], layout=W.Layout(margin="0 6px 0 0", align_items="center"))

    def _set_status(self, message: str = "", *, error: bool = False) -> None:
        info = f"{html.escape(self.gen.name)} · {html.escape(self.space.describe())} · {len(self.bookmarks)} bookmarks"
        text = f"{info}<br>{html.escape(message)}" if message else info
        color = "#b00" if error else "#555"
        self.status.value = f"<span style='color:{color};font-size:12px'>{text}</span>"


def _start_latent(gen: Any, space: Any, seed: int) -> torch.Tensor:
    """A prior sample ``(*space.shape)`` for ``seed``; spaces without a prior map one from the default space
    (a text-conditioned generator's ``joint`` space samples the noise with the current prompt, its
    ``prompt`` space starts from the embedding of ``gen.prompt``)."""
    if space.prior == "normal" or (space.parts and gen.can("prompt")):
        return gen.sample(1, seed=seed, space=space)[0].detach().float().cpu()
    if space.name == "prompt" and gen.can("prompt"):
        return gen.embed(gen.prompt)[0].detach().float().cpu()
    if gen.can("map"):
        z = gen.sample(1, seed=seed)
        return gen.map(z, gen.default_space, space)[0].detach().float().cpu()
    return torch.zeros(space.shape)


def _nice_step(rough: float) -> float:
    """The 1, 2 or 5 x 10^k step nearest below ``rough``.

    A step such as 5 / 30 makes the browser slider land a hair off 0 when it is drawn; it then
    sends that value back, and ipywidgets drops the kernel's own updates of the slider until the
    echo returns (so values set from Python right after display snapped back to 0).

    Example:
        >>> _nice_step(5 / 30), _nice_step(0.1), _nice_step(0.07)
        (0.1, 0.1, 0.05)
    """
    exp = math.floor(math.log10(rough))
    mant = rough / 10**exp
    nice = 5.0 if mant >= 5 else 2.0 if mant >= 2 else 1.0
    return round(nice * 10**exp, 12)


def direction_name(direction: Any, index: int) -> str:
    """The slider label of a direction: its ``name``, else ``"direction <index>"``."""
    name = getattr(direction, "name", None)
    return str(name) if name else f"direction {index}"


def _default_directions(gen: Any, space: Any, n_components: int, seed: int) -> list[Any]:
    try:
        from .. import directions as dirs
    except ImportError as exc:
        raise CapabilityError(
            "Explorer's default sliders come from latentlab.directions, which is not available",
            expected="latentlab.directions.pca",
            got=f"ImportError: {exc}",
            fix="pass directions=[...] explicitly (Direction objects or tensors of the space's shape)",
        ) from exc
    if gen.can("codes") and space == gen.default_space:
        return list(dirs.pca(gen, n_components=n_components, space=space, codes=gen.codes()))
    if space.prior == "normal" and gen.can("sefa"):
        return list(dirs.sefa(gen, space=space, n_components=n_components))
    if getattr(gen, "slow", False) or space.dim > 4096:
        return _random_directions(space, n_components, seed)
    return list(dirs.pca(gen, n_samples=2000, n_components=n_components, space=space, seed=seed))


def _random_directions(space: Any, n: int, seed: int) -> list[Any]:
    """``n`` orthonormal random directions in the space's normal-prior part (its noise, for joint spaces).

    For an isotropic Gaussian (diffusion noise) PCA of samples only finds random directions too, at
    the cost of a ``D x D`` covariance; these are the same thing, drawn directly.
    """
    gauss = [p for p in space.parts if p.prior == "normal"] if space.parts else []
    where = space.part_slice(gauss[0].name) if gauss else slice(0, space.dim)
    dim = where.stop - where.start
    if dim == 0 or (space.prior != "normal" and not gauss):
        return []
    from ..directions import Direction

    g = torch.Generator().manual_seed(int(seed))
    q, _ = torch.linalg.qr(torch.randn(dim, min(n, dim), generator=g, dtype=torch.float64))
    out = []
    for k in range(q.shape[1]):
        flat = torch.zeros(space.dim, dtype=torch.float32)
        flat[where] = q[:, k].float()
        out.append(
            Direction(
                flat.view(space.shape),
                space,
                name=f"noise {k}",
                provenance={"method": "random_orthonormal", "seed": int(seed), "component": k},
            )
        )
    return out
