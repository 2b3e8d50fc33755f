"""Morph animations: latents -> frames -> GIF / MP4 / WebP / a folder of PNGs, streamed and atomic.

Frames are decoded ``batch_size`` at a time and handed to the writer as they come, so
memory does not grow with the length of the animation (only the latents of every frame,
``(n_frames, *space.shape)``, are held; they are tiny next to images). Files are written
to a temporary file beside the target and renamed on success: an exception, Ctrl-C or
a full disk leaves no partial file.

Formats come from the extension of ``out``:

* ``.mp4``: H.264 (yuv420p, ``+faststart``) through the ffmpeg binary of ``imageio-ffmpeg``;
* ``.gif``: one adaptive 256-colour palette per frame (ffmpeg ``palettegen``/``paletteuse``,
  Sierra dithering), loops forever unless ``repeat=False``;
* ``.webp``: animated lossy WebP (libwebp through ffmpeg);
* no extension (or an existing folder): a folder of ``frame_00000.png`` ...

Example:
    >>> import tempfile, pathlib
    >>> import latentlab as ll
    >>> gen = ll.load("digits")
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "morph.gif"
    >>> anim = ll.save_morph(gen, gen.sample(3, seed=0), out, fps=10, seconds=1, progress=False)
    >>> anim.frames, anim.size, anim.path.name
    (10, (256, 256), 'morph.gif')
"""

from __future__ import annotations

import base64
import contextlib
import math
import os
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

import numpy as np
import torch
from PIL import Image

from ._atomic import atomic_folder, atomic_path
from ._checks import as_batched_latents, check_int
from ._frame_cache import FrameCache, render_key
from ._optional import require
from .errors import ExportError, InvalidValueError
from .generators.base import Generator
from .notebook import display_html, in_notebook
from .render import draw_caption, fit_size, grid, resize, to_uint8

__all__ = [
    "Animation",
    "FORMATS",
    "frames",
    "grid_frames",
    "save_morph",
    "save_grid_morph",
    "show_animation",
    "animation_html",
    "seed_keyframes",
    "audio_frame_latents",
]

#: Output formats by extension (``""``: a folder of PNG frames).
FORMATS = {".gif": "gif", ".mp4": "mp4", ".webp": "webp", "": "png"}

#: Largest file ``show_animation`` / ``Animation._repr_html_`` embeds into a notebook.
MAX_EMBED_BYTES = 25 * 2**20

Caption = str | Sequence[str] | Callable[[int, int], str] | None


@dataclass(frozen=True)
class Animation:
    """What :func:`save_morph` wrote. Usable as a path (``os.fspath(anim)``); shows itself in Jupyter.

    Attributes:
        path: the file (or folder, for PNG frames) written.
        format: ``"gif"``, ``"mp4"``, ``"webp"`` or ``"png"``.
        frames: number of frames.
        fps: frames per second.
        size: ``(H, W)`` of each frame in pixels.
        duration: seconds (``frames / fps``).
    """

    path: Path
    format: str
    frames: int
    fps: float
    size: tuple[int, int]
    duration: float

    def __fspath__(self) -> str:
        return os.fspath(self.path)

    def __str__(self) -> str:
        h, w = self.size
        return f"{self.path}: {self.frames} frames, {w}x{h} px, {self.fps:g} fps, {self.duration:.2f} s"

    def _repr_html_(self) -> str | None:
        if self.format not in _MIME or not self.path.is_file() or self.path.stat().st_size > MAX_EMBED_BYTES:
            return None  # a PNG folder or a big file: Jupyter shows the text instead
        return animation_html(self)


# --------------------------------------------------------------------------- latents for every frame
def seed_keyframes(
    gen: Generator, seeds: Sequence[int], *, space: str | None = None, temperature: float = 1.0
) -> torch.Tensor:
    """One latent per seed, stacked: ``(len(seeds), *space.shape)``; the same seed gives the same keyframe.

    Example:
        >>> import latentlab as ll
        >>> gen = ll.load("digits")
        >>> keys = seed_keyframes(gen, [1, 5, 9])
        >>> keys.shape, torch.equal(keys[1], gen.sample(1, seed=5)[0])
        (torch.Size([3, 16]), True)
    """
    if len(seeds) == 0:
        raise InvalidValueError(
            "seed_keyframes() needs at least one seed",
            expected="seeds like [1, 5, 9]",
            got="[]",
            fix="pass two or more seeds",
        )
    return torch.cat([gen.sample(1, seed=int(s), space=space, temperature=temperature) for s in seeds])


def frame_count(fps: float, seconds: float) -> int:
    """Frames in ``seconds`` at ``fps`` (at least 2), after checking both are positive numbers."""
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not math.isfinite(fps) or fps <= 0:
        raise InvalidValueError(
            "fps must be a positive number",
            expected="fps > 0, e.g. 30",
            got=repr(fps),
            fix="pass fps=30 (video) or fps=15 (small GIFs)",
        )
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds) or seconds <= 0:
        raise InvalidValueError(
            "seconds must be a positive number", expected="seconds > 0, e.g. 4", got=repr(seconds), fix="pass seconds=4"
        )
    return max(2, round(fps * seconds))


def frame_latents(
    gen: Generator,
    source: Any,
    *,
    fps: float = 30,
    seconds: float = 4.0,
    easing: str | None = None,
    loop: bool | None = None,
    curve: str | None = None,
    interpolate: bool = True,
    space: str | None = None,
) -> torch.Tensor:
    """The latent of every frame, ``(n_frames, *space.shape)``, for keyframes, a ``Path`` or ready latents.

    Args:
        gen: the generator (its space checks the shapes).
        source: keyframes ``(K, *space.shape)`` (or a list of latents), an
            :class:`latentlab.LatentPath`, or, with ``interpolate=False``, one latent per frame.
        fps, seconds: ``round(fps * seconds)`` frames are sampled along the path.
        easing: easing name for keyframes (default ``"linear"``); not allowed with a ``Path``.
        loop: return to the first keyframe (seamless on repeat); not allowed with a ``Path``.
        curve: path curve for keyframes, ``"smooth"`` (default for normal priors) or ``"piecewise"``
            (default otherwise); the geometry follows the space (pass a ``LatentPath`` for another).
        interpolate: ``False`` uses the rows of ``source`` as the frames as they are.
        space: the latent space (default space when ``None``).

    Returns:
        ``(n_frames, *space.shape)`` tensor.

    Example:
        >>> import latentlab as ll
        >>> gen = ll.load("digits")
        >>> frame_latents(gen, gen.sample(3, seed=0), fps=10, seconds=2).shape
        torch.Size([20, 16])
    """
    from .paths import LatentPath

    s = gen.space(space)
    if isinstance(source, LatentPath):
        _check_path_options(easing, loop, curve)
        lat, _ = as_batched_latents(source.sample(frame_count(fps, seconds)), s, name="path frames")
        return lat
    if not interpolate:
        return _keyframes(source, s)[0]
    return _keyframe_path(gen, source, easing=easing, loop=loop, curve=curve, space=space).sample(
        frame_count(fps, seconds)
    )


def _check_path_options(easing: str | None, loop: bool | None, curve: str | None) -> None:
    if easing is not None or loop is not None or curve is not None:
        raise InvalidValueError(
            "easing, loop and curve belong to the Path when you pass one",
            expected="save_morph(gen, path, ...) without easing=/loop=/curve=",
            got=f"easing={easing!r}, loop={loop!r}, curve={curve!r}",
            fix="set them when building it: ll.LatentPath(keys, easing='ease-in-out', loop=True)",
        )


def _keyframes(source: Any, s: Any) -> tuple[torch.Tensor, bool]:
    if isinstance(source, (list, tuple)) and source and all(isinstance(x, torch.Tensor) for x in source):
        source = torch.stack(list(source))
    return as_batched_latents(source, s, name="keyframes")


def _keyframe_path(
    gen: Generator, source: Any, *, easing: str | None, loop: bool | None, curve: str | None, space: str | None
) -> Any:
    """The :class:`~latentlab.LatentPath` a morph follows: ``source`` itself, or one through its keyframes."""
    from .paths import LatentPath

    s = gen.space(space)
    if isinstance(source, LatentPath):
        _check_path_options(easing, loop, curve)
        return source
    keys, batched = _keyframes(source, s)
    if not batched or keys.shape[0] < 2:
        raise InvalidValueError(
            "a morph needs at least two keyframes",
            expected=f"(K, {', '.join(map(str, s.shape))}) with K >= 2",
            got=f"{keys.shape[0] if batched else 1} keyframe",
            fix="pass gen.sample(3, seed=0), or seeds 1 5 9",
        )
    curve = curve or ("smooth" if s.prior == "normal" or s.parts else "piecewise")
    return LatentPath(keys, easing=easing or "linear", curve=curve, loop=bool(loop), space=s)  # type: ignore[arg-type]


def audio_frame_latents(
    gen: Generator,
    source: Any,
    audio: str | os.PathLike[str],
    *,
    fps: float = 30,
    easing: str | None = None,
    loop: bool | None = None,
    curve: str | None = None,
    space: str | None = None,
    audio_base: float = 0.25,
) -> torch.Tensor:
    """Frame latents for a morph timed by music: one frame per ``1 / fps`` s of ``audio``, faster at onsets.

    See :mod:`latentlab.audio`. Returns ``(round(fps * audio seconds), *space.shape)``.
    """
    from .audio import audio_times, load_audio, onset_strength_per_frame

    path = _keyframe_path(gen, source, easing=easing, loop=loop, curve=curve, space=space)
    y, sr = load_audio(audio)
    n = frame_count(fps, len(y) / sr)
    times = audio_times(onset_strength_per_frame(y, sr, fps, n), path.duration, loop=path.loop, base=audio_base)
    return path.at(times)


# --------------------------------------------------------------------------- frames
def _check_batch_size(batch_size: int) -> int:
    return check_int(
        batch_size,
        "batch_size",
        1,
        fix="pass batch_size=32 (smaller uses less memory)",
        message="batch_size must be a positive integer",
    )


def _caption_for(caption: Caption, i: int, n: int) -> str:
    if caption is None:
        return ""
    if isinstance(caption, str):
        return caption
    if callable(caption):
        return str(caption(i, n))
    return str(caption[i]) if i < len(caption) else ""


def _stream(
    gen: Generator,
    latent_sets: Sequence[torch.Tensor],
    *,
    size: int | tuple[int, int] | None,
    batch_size: int,
    space: str | None,
    caption: Caption,
    nrow: int | None,
    padding: int,
    even: bool = False,
    cache: FrameCache | None = None,
) -> Iterator[np.ndarray]:
    """Check the arguments now, then return a generator that decodes batch by batch (see :func:`_decode_stream`)."""
    _check_batch_size(batch_size)
    fit_size(gen.image_size, size)
    return _decode_stream(
        gen,
        latent_sets,
        size=size,
        batch_size=batch_size,
        space=space,
        caption=caption,
        nrow=nrow,
        padding=padding,
        even=even,
        cache=cache,
    )


def _decode_stream(
    gen: Generator,
    latent_sets: Sequence[torch.Tensor],
    *,
    size: int | tuple[int, int] | None,
    batch_size: int,
    space: str | None,
    caption: Caption,
    nrow: int | None,
    padding: int,
    even: bool,
    cache: FrameCache | None = None,
) -> Iterator[np.ndarray]:
    """Decode ``latent_sets`` (each ``(n, *shape)``) ``batch_size`` frames at a time; yield ``uint8 (H, W, 3)``.

    With a ``cache``, batches whose frames are all cached are loaded instead of decoded, and every
    decoded frame is stored before it is yielded (resumable renders).
    """
    n = latent_sets[0].shape[0]
    tiled = len(latent_sets) > 1
    tile = gen.image_size
    out_hw = fit_size(tile, size, even=even) if not tiled else None
    for start in range(0, n, batch_size):
        stop = min(n, start + batch_size)
        if cache is not None and all(cache.has(i) for i in range(start, stop)):
            cached = [cache.get(i) for i in range(start, stop)]
            if all(f is not None for f in cached):
                yield from cached  # type: ignore[misc]
                continue
        images = [gen.decode(lat[start : start + batch_size].to(gen.device), space=space) for lat in latent_sets]
        if tiled:
            cells = torch.stack(images, dim=1)  # (b, cells, 3, H, W)
            batch = torch.stack([grid(c, nrow=nrow, padding=padding) for c in cells])
            if out_hw is None:
                cell_h, cell_w = fit_size(tile, size)
                gh, gw = int(batch.shape[-2]), int(batch.shape[-1])
                out_hw = fit_size((gh, gw), (round(gh * cell_h / tile[0]), round(gw * cell_w / tile[1])), even=even)
        else:
            batch = images[0]
        assert out_hw is not None
        pixels = to_uint8(resize(batch, out_hw))
        del images, batch
        for j, frame in enumerate(pixels):
            text = _caption_for(caption, start + j, n)
            final = draw_caption(frame, text) if text else frame
            if cache is not None:
                cache.put(start + j, final)
            yield final


def frames(
    gen: Generator,
    source: Any,
    *,
    fps: float = 30,
    seconds: float = 4.0,
    easing: str | None = None,
    loop: bool | None = None,
    curve: str | None = None,
    interpolate: bool = True,
    size: int | tuple[int, int] | None = None,
    batch_size: int = 32,
    space: str | None = None,
    caption: Caption = None,
) -> Iterator[np.ndarray]:
    """Yield the frames of a morph one by one as ``uint8 (H, W, 3)`` arrays, for your own writer.

    Frames are decoded ``batch_size`` at a time, so memory stays flat however many you take.
    Arguments are those of :func:`save_morph`.

    Example:
        >>> import latentlab as ll
        >>> gen = ll.load("digits")
        >>> fs = list(ll.frames(gen, gen.sample(2, seed=0), fps=5, seconds=1, size=64))
        >>> len(fs), fs[0].shape, fs[0].dtype
        (5, (64, 64, 3), dtype('uint8'))
    """
    lat = frame_latents(
        gen,
        source,
        fps=fps,
        seconds=seconds,
        easing=easing,
        loop=loop,
        curve=curve,
        interpolate=interpolate,
        space=space,
    )
    return _stream(gen, [lat], size=size, batch_size=batch_size, space=space, caption=caption, nrow=None, padding=0)


def _grid_latents(gen: Generator, sources: Sequence[Any], **kwargs: Any) -> list[torch.Tensor]:
    """:func:`frame_latents` for each cell of a grid; all cells must get the same number of frames."""
    if isinstance(sources, torch.Tensor) or len(sources) == 0:
        raise InvalidValueError(
            "grid morphs need a list of sources, one per cell",
            expected="[keys_a, keys_b, ...]",
            got=type(sources).__name__,
            fix="pass a list: [gen.sample(3, seed=0), gen.sample(3, seed=1)]",
        )
    sets = [frame_latents(gen, s, **kwargs) for s in sources]
    counts = {int(s.shape[0]) for s in sets}
    if len(counts) != 1:
        raise InvalidValueError(
            "every cell of a grid morph needs the same number of frames",
            expected="equal frame counts",
            got=sorted(counts),
            fix="give every cell the same number of latents, or use interpolate=True",
        )
    return sets


def grid_frames(
    gen: Generator,
    sources: Sequence[Any],
    *,
    nrow: int | None = None,
    padding: int = 2,
    fps: float = 30,
    seconds: float = 4.0,
    easing: str | None = None,
    loop: bool | None = None,
    curve: str | None = None,
    interpolate: bool = True,
    size: int | tuple[int, int] | None = None,
    batch_size: int = 32,
    space: str | None = None,
    caption: Caption = None,
) -> Iterator[np.ndarray]:
    """Yield ``uint8 (H, W, 3)`` frames of several morphs played side by side in a grid.

    Args:
        sources: one source per cell (keyframes, a ``Path``, or per-frame latents); all are
            sampled to the same number of frames.
        nrow: cells per row (default: close to square).
        padding: white pixels between cells (before scaling).
        size: size of one cell (see :func:`latentlab.render.fit_size`); the grid scales with it.

    Example:
        >>> import latentlab as ll
        >>> gen = ll.load("digits")
        >>> fs = list(grid_frames(gen, [gen.sample(2, seed=0), gen.sample(2, seed=1)], fps=4, seconds=1, size=32))
        >>> len(fs), fs[0].shape
        (4, (36, 70, 3))
    """
    sets = _grid_latents(
        gen,
        sources,
        fps=fps,
        seconds=seconds,
        easing=easing,
        loop=loop,
        curve=curve,
        interpolate=interpolate,
        space=space,
    )
    return _stream(
        gen, sets, size=size, batch_size=batch_size, space=space, caption=caption, nrow=nrow, padding=padding
    )


# --------------------------------------------------------------------------- writers
class FrameWriter(Protocol):
    """Receives ``uint8 (H, W, 3)`` frames one at a time; ``close`` finishes, ``abort`` cleans up."""

    def write(self, frame: np.ndarray) -> None: ...

    def close(self) -> None: ...

    def abort(self) -> None: ...


def _ffmpeg_args(fmt: str, repeat: bool) -> list[str]:
    if fmt == "mp4":
        return [
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-crf",
            "18",
            "-preset",
            "medium",
            "-movflags",
            "+faststart",
            "-f",
            "mp4",
        ]
    if fmt == "gif":
        graph = (
            "split[a][b];[a]palettegen=stats_mode=single:reserve_transparent=0[p];"
            "[b][p]paletteuse=new=1:dither=sierra2_4a"
        )
        return ["-filter_complex", graph, "-loop", "0" if repeat else "-1", "-f", "gif"]
    if fmt == "webp":
        return [
            "-c:v",
            "libwebp_anim",
            "-pix_fmt",
            "yuv420p",
            "-quality",
            "90",
            "-loop",
            "0" if repeat else "1",
            "-f",
            "webp",
        ]
    raise AssertionError(fmt)


class _FfmpegWriter:
    """Pipes raw RGB frames into the ffmpeg binary that ships with ``imageio-ffmpeg``."""

    def __init__(self, path: Path, fmt: str, size: tuple[int, int], fps: float, repeat: bool) -> None:
        exe = require("imageio_ffmpeg", purpose=f"writing .{fmt} files").get_ffmpeg_exe()
        h, w = size
        self.size = size
        self.cmd = [
            exe,
            "-y",
            "-v",
            "error",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-s",
            f"{w}x{h}",
            "-r",
            f"{fps:g}",
            "-i",
            "-",
            "-an",
            *_ffmpeg_args(fmt, repeat),
            os.fspath(path),
        ]
        self._log: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()/abort()
        # ffmpeg gets its own process group so that Ctrl-C reaches only Python, which then aborts cleanly
        group: dict[str, Any] = (
            {"start_new_session": True}
            if os.name == "posix"
            else {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)}
        )
        self._proc = subprocess.Popen(
            self.cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._log, **group
        )

    def write(self, frame: np.ndarray) -> None:
        assert self._proc.stdin is not None
        if frame.shape[:2] != self.size:
            raise InvalidValueError(
                "every frame of a video must have the same size",
                expected=self.size,
                got=frame.shape[:2],
                fix="resize the frames first",
            )
        try:
            self._proc.stdin.write(np.ascontiguousarray(frame, dtype=np.uint8).tobytes())
        except (BrokenPipeError, OSError) as exc:
            self._proc.wait()
            raise self._failure(f"{type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        assert self._proc.stdin is not None
        with contextlib.suppress(BrokenPipeError, OSError):
            self._proc.stdin.close()
        rc = self._proc.wait()
        if rc != 0:
            raise self._failure(f"ffmpeg exit code {rc}")
        self._log.close()

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            if self._proc.stdin is not None:
                self._proc.stdin.close()
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        self._log.close()

    def _failure(self, got: str) -> ExportError:
        self._log.seek(0)
        log = self._log.read().decode(errors="replace").strip().splitlines()[-5:]
        self._log.close()
        return ExportError(
            "ffmpeg could not write the animation",
            expected="ffmpeg to accept every frame",
            got=got + ("; ffmpeg said: " + " | ".join(log) if log else ""),
            fix="check free disk space and the output path; try another format (.gif, .mp4)",
        )


class _PngFolderWriter:
    """Writes ``frame_00000.png``, ``frame_00001.png`` ... into a folder (fast PNG compression)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0

    def write(self, frame: np.ndarray) -> None:
        Image.fromarray(frame).save(self.folder / f"frame_{self.count:05d}.png", compress_level=1)
        self.count += 1

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass


def open_writer(path: Path, fmt: str, size: tuple[int, int], fps: float, repeat: bool = True) -> FrameWriter:
    """A :class:`FrameWriter` for ``fmt`` writing to ``path`` (a file, or a folder for ``"png"``)."""
    if fmt == "png":
        return _PngFolderWriter(path)
    return _FfmpegWriter(path, fmt, size, fps, repeat)


def format_of(out: Path) -> str:
    """``"gif"``, ``"mp4"``, ``"webp"`` from the extension; ``"png"`` (frame folder) for no extension or a folder."""
    suffix = out.suffix.lower()
    if out.is_dir() or suffix == "":
        return "png"
    if suffix not in FORMATS:
        raise InvalidValueError(
            f"cannot tell the animation format from {out.name!r}",
            expected="a name ending in " + ", ".join(k for k in FORMATS if k) + " (or a folder for PNG frames)",
            got=repr(suffix),
            fix=f"write to {out.with_suffix('.mp4').name!r} or {out.with_suffix('.gif').name!r}",
        )
    return FORMATS[suffix]


def write_frames(
    frame_iter: Iterator[np.ndarray],
    out: str | os.PathLike[str],
    *,
    fps: float,
    n_frames: int,
    repeat: bool = True,
    progress: bool = True,
) -> Animation:
    """Write ``uint8 (H, W, 3)`` frames to ``out`` (format from the extension) atomically, one at a time.

    Args:
        frame_iter: frames, all the same size (``.mp4`` needs even sides).
        out: target path.
        fps: frames per second.
        n_frames: expected count (for the progress bar).
        repeat: GIF/WebP play forever (``False``: once).
        progress: show a progress bar.

    Returns:
        The :class:`Animation` written.
    """
    out = Path(out)
    fmt = format_of(out)
    if fmt != "png":
        require("imageio_ffmpeg", purpose=f"writing .{fmt} files")
    frame_count(fps, 1.0)
    from tqdm.auto import tqdm

    target = atomic_folder(out) if fmt == "png" else atomic_path(out)
    count, size = 0, (0, 0)
    with target as tmp, tqdm(total=n_frames, unit="frame", desc=out.name, disable=not progress, leave=False) as bar:
        writer: FrameWriter | None = None
        try:
            for frame in frame_iter:
                if writer is None:
                    size = (int(frame.shape[0]), int(frame.shape[1]))
                    writer = open_writer(tmp, fmt, size, fps, repeat)
                writer.write(frame)
                count += 1
                bar.update(1)
            if writer is None:
                raise InvalidValueError(
                    "no frames to write",
                    expected="at least one frame",
                    got="0 frames",
                    fix="check the keyframes / path",
                )
            writer.close()
        except BaseException:
            if writer is not None:
                writer.abort()
            raise
    return Animation(out, fmt, count, float(fps), size, count / fps)


# --------------------------------------------------------------------------- the one-call API
def save_morph(
    gen: Generator,
    source: Any,
    out: str | os.PathLike[str],
    *,
    fps: float = 30,
    seconds: float = 4.0,
    easing: str | None = None,
    loop: bool | None = None,
    curve: str | None = None,
    interpolate: bool = True,
    size: int | tuple[int, int] | None = None,
    batch_size: int = 32,
    space: str | None = None,
    caption: Caption = None,
    repeat: bool = True,
    progress: bool = True,
    audio: str | os.PathLike[str] | None = None,
    audio_base: float = 0.25,
    resume: bool | None = None,
) -> Animation:
    """Render a morph through latents and write it to ``out`` (``.mp4``, ``.gif``, ``.webp`` or a folder).

    Args:
        gen: the generator.
        source: keyframes ``(K, *space.shape)`` (``K >= 2``; a list of latents works too), an
            :class:`latentlab.LatentPath`, or with ``interpolate=False`` one latent per frame
            (e.g. ``ll.slerp(a, b, steps=60)``). For a text-to-image generator, joint keyframes from
            ``gen.keyframes([("a red fox", 1), ("a blue bird", 7)])`` with ``space="joint"``.
        out: output path; the extension picks the format; no extension writes PNG frames into a folder.
        fps: frames per second.
        seconds: length; ``round(fps * seconds)`` frames (ignored with ``interpolate=False`` or ``audio``).
        easing: easing per segment (``"linear"``, ``"ease-in-out"`` ...), keyframes only.
        loop: go back to the first keyframe at the end (seamless when repeated), keyframes only.
        curve: path curve for keyframes (default ``"smooth"`` in normal-prior spaces, else ``"piecewise"``).
        interpolate: ``False``: the rows of ``source`` are the frames.
        size: frame size: ``None`` enlarges small models to about 256 px, an int sets the long side,
            or ``(H, W)``. MP4 rounds sides up to even numbers.
        batch_size: frames decoded at once (memory use is about ``batch_size`` frames).
        space: latent space of ``source`` (default space when ``None``).
        caption: text drawn on every frame: a string, one string per frame, or ``f(i, n) -> str``.
        repeat: GIF/WebP loop forever (``False``: play once).
        progress: show a progress bar.
        audio: an audio file (MP4 only): the morph lasts as long as the audio, moves faster at its
            onsets (drum hits, attacks) and the audio is muxed in; see :mod:`latentlab.audio`.
        audio_base: speed in calm passages relative to the strongest onset (``1``).
        resume: keep finished frames in ``.<out name>.frames-<hash>/`` beside ``out`` so that running
            the same call again after a crash or Ctrl-C reuses them (the folder goes once ``out`` is
            written). Default: on for generators whose frames are slow (``gen.slow``, e.g. diffusion).

    Returns:
        An :class:`Animation` (path, format, frames, fps, size, duration) that shows itself in Jupyter.

    Raises:
        InvalidValueError: unknown extension, bad fps/seconds/size, too few keyframes, a missing audio
            file or audio with a format other than MP4.
        ExportError: the folder is missing or not writable, or writing failed (nothing partial is left).

    Example:
        >>> import tempfile, pathlib
        >>> import latentlab as ll
        >>> gen = ll.load("digits")
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "loop.mp4"
        >>> anim = ll.save_morph(gen, gen.sample(3, seed=1), out, fps=8, seconds=1, loop=True, size=64,
        ...                      progress=False)
        >>> anim.format, anim.frames, anim.size, anim.duration
        ('mp4', 8, (64, 64), 1.0)
    """
    out = Path(out)
    fmt = format_of(out)
    if audio is not None and fmt != "mp4":
        raise InvalidValueError(
            "only MP4 files carry audio",
            expected="out='....mp4' with audio=",
            got=repr(out.name),
            fix=f"write to {out.with_suffix('.mp4').name!r}",
        )
    if audio is not None:
        lat = audio_frame_latents(
            gen, source, audio, fps=fps, easing=easing, loop=loop, curve=curve, space=space, audio_base=audio_base
        )
    else:
        lat = frame_latents(
            gen,
            source,
            fps=fps,
            seconds=seconds,
            easing=easing,
            loop=loop,
            curve=curve,
            interpolate=interpolate,
            space=space,
        )
    cache = None
    if resume if resume is not None else bool(getattr(gen, "slow", False)):
        cache = FrameCache(out, render_key(gen, lat, space=space, size=size, caption=caption, fmt=fmt, fps=fps))
    stream = _stream(
        gen,
        [lat],
        size=size,
        batch_size=batch_size,
        space=space,
        caption=caption,
        nrow=None,
        padding=0,
        even=fmt == "mp4",
        cache=cache,
    )
    if audio is None:
        anim = write_frames(stream, out, fps=fps, n_frames=int(lat.shape[0]), repeat=repeat, progress=progress)
    else:
        anim = _write_with_audio(stream, out, Path(audio), fps=fps, n_frames=int(lat.shape[0]), progress=progress)
    if cache is not None:
        cache.clear()
    return anim


def _write_with_audio(
    stream: Iterator[np.ndarray], out: Path, audio: Path, *, fps: float, n_frames: int, progress: bool
) -> Animation:
    """Write the video beside ``out``, mux ``audio`` into it, rename onto ``out`` (nothing partial is left)."""
    from .audio import mux_audio

    with atomic_path(out) as tmp:
        video = tmp.with_name(tmp.name + ".video.mp4")
        try:
            anim = write_frames(stream, video, fps=fps, n_frames=n_frames, progress=progress)
            mux_audio(video, audio, tmp)
        finally:
            video.unlink(missing_ok=True)
    return Animation(out, "mp4", anim.frames, anim.fps, anim.size, anim.duration)


def save_grid_morph(
    gen: Generator,
    sources: Sequence[Any],
    out: str | os.PathLike[str],
    *,
    nrow: int | None = None,
    padding: int = 2,
    fps: float = 30,
    seconds: float = 4.0,
    easing: str | None = None,
    loop: bool | None = None,
    curve: str | None = None,
    interpolate: bool = True,
    size: int | tuple[int, int] | None = None,
    batch_size: int = 32,
    space: str | None = None,
    caption: Caption = None,
    repeat: bool = True,
    progress: bool = True,
) -> Animation:
    """Several morphs side by side in one animation (one grid cell per source); see :func:`save_morph`.

    Example:
        >>> import tempfile, pathlib
        >>> import latentlab as ll
        >>> gen = ll.load("digits")
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "grid.gif"
        >>> sources = [gen.sample(2, seed=s) for s in range(4)]
        >>> ll.save_grid_morph(gen, sources, out, nrow=2, fps=5, seconds=1, size=32, progress=False).size
        (70, 70)
    """
    fmt = format_of(Path(out))
    sets = _grid_latents(
        gen,
        sources,
        fps=fps,
        seconds=seconds,
        easing=easing,
        loop=loop,
        curve=curve,
        interpolate=interpolate,
        space=space,
    )
    stream = _stream(
        gen,
        sets,
        size=size,
        batch_size=batch_size,
        space=space,
        caption=caption,
        nrow=nrow,
        padding=padding,
        even=fmt == "mp4",
    )
    return write_frames(stream, out, fps=fps, n_frames=int(sets[0].shape[0]), repeat=repeat, progress=progress)


# --------------------------------------------------------------------------- notebook preview
_MIME = {"gif": "image/gif", "webp": "image/webp", "mp4": "video/mp4"}


def animation_html(anim: Animation | str | os.PathLike[str], *, width: int | None = None) -> str:
    """HTML that plays an animation file inline (``<video>`` for MP4, ``<img>`` for GIF/WebP), data embedded.

    Example:
        >>> import tempfile, pathlib
        >>> import latentlab as ll
        >>> gen = ll.load("digits")
        >>> anim = ll.save_morph(gen, gen.sample(2, seed=0), pathlib.Path(tempfile.mkdtemp()) / "a.gif",
        ...                      fps=4, seconds=1, progress=False)
        >>> animation_html(anim)[:40]
        '<img src="data:image/gif;base64,R0lGODlh'
    """
    path = Path(anim.path if isinstance(anim, Animation) else anim)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt not in _MIME or not path.is_file():
        raise InvalidValueError(
            f"cannot preview {path}",
            expected="an existing .mp4, .gif or .webp file",
            got=str(path),
            fix="preview a file written by ll.save_morph(..., 'morph.gif')",
        )
    nbytes = path.stat().st_size
    if nbytes > MAX_EMBED_BYTES:
        raise InvalidValueError(
            f"{path.name} is too big to embed in a notebook",
            expected=f"<= {MAX_EMBED_BYTES} bytes",
            got=f"{nbytes} bytes",
            fix="open the file in a player, or write a shorter or smaller preview (seconds=, size=)",
        )
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    style = f' width="{int(width)}"' if width else ""
    if fmt == "mp4":
        return f'<video{style} autoplay loop muted playsinline controls src="data:{_MIME[fmt]};base64,{data}"></video>'
    return f'<img src="data:{_MIME[fmt]};base64,{data}"{style} alt="{path.name}"/>'


def show_animation(anim: Animation | str | os.PathLike[str], *, width: int | None = None) -> None:
    """Play an animation file inline in Jupyter (HTML5 video for MP4, an animated image for GIF/WebP).

    Outside Jupyter nothing is shown. Files up to :data:`MAX_EMBED_BYTES` are embedded.

    Example:
        >>> import tempfile, pathlib
        >>> import latentlab as ll
        >>> gen = ll.load("digits")
        >>> anim = ll.save_morph(gen, gen.sample(2, seed=0), pathlib.Path(tempfile.mkdtemp()) / "a.webp",
        ...                      fps=4, seconds=1, progress=False)
        >>> ll.show_animation(anim, width=128)
    """
    html = animation_html(anim, width=width)
    if in_notebook():
        display_html(html)
