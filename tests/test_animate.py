"""Morph animations: files read back with imageio/PIL, streaming, atomic failure, previews."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import imageio.v3 as iio
import numpy as np
import pytest
import torch
from PIL import Image

import latentlab as ll
from latentlab import animate
from latentlab.errors import ExportError, InvalidValueError
from latentlab.generators.base import Generator
from latentlab.render import resize, to_uint8
from latentlab.spaces import LatentSpace


@pytest.fixture(scope="module")
def gen() -> Generator:
    return ll.load("digits")


@pytest.fixture(scope="module")
def keys(gen: Generator) -> torch.Tensor:
    return animate.seed_keyframes(gen, [1, 5, 9])


def _decoded(gen: Generator, z: torch.Tensor, size: tuple[int, int]) -> np.ndarray:
    return to_uint8(resize(gen.decode(z), size)).astype(int)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


class ColourGen(Generator):
    """A tiny real Generator with colourful output: each latent picks two colours of a diagonal gradient."""

    name = "colour"

    def __init__(self) -> None:
        super().__init__([LatentSpace("z", (6,), prior="normal", model="colour")], (24, 32))

    def _decode(self, latents: torch.Tensor, space: LatentSpace) -> torch.Tensor:
        a, b = torch.sigmoid(latents[:, :3]), torch.sigmoid(latents[:, 3:])
        h, w = self.image_size
        ramp = (torch.linspace(0, 1, h)[:, None] + torch.linspace(0, 1, w)[None, :]) / 2
        return a[:, :, None, None] * (1 - ramp) + b[:, :, None, None] * ramp


# --------------------------------------------------------------------------- formats read back
def test_gif_frames_size_timing_loop_and_exact_ends(gen: Generator, keys: torch.Tensor, tmp_path: Path) -> None:
    out = tmp_path / "m.gif"
    anim = ll.save_morph(gen, keys, out, fps=10, seconds=2, size=64, progress=False)
    assert (anim.path, anim.format, anim.frames, anim.fps, anim.size, anim.duration) == (
        out,
        "gif",
        20,
        10.0,
        (64, 64),
        2.0,
    )
    frames = iio.imread(out, index=None)
    assert frames.shape == (20, 64, 64, 3)
    meta = iio.immeta(out)
    assert meta["loop"] == 0  # NETSCAPE loop forever
    assert meta["duration"] == 100  # ms per frame at 10 fps
    ends = _decoded(gen, keys[[0, -1]], (64, 64))
    assert np.abs(frames[0].astype(int) - ends[0]).max() <= 2  # grey digits fit a 256-colour palette exactly
    assert np.abs(frames[-1].astype(int) - ends[1]).max() <= 2
    assert np.abs(frames[10].astype(int) - frames[0]).mean() > 5  # it moves


def test_gif_plays_once_when_repeat_is_false(gen: Generator, keys: torch.Tensor, tmp_path: Path) -> None:
    ll.save_morph(gen, keys, tmp_path / "once.gif", fps=5, seconds=1, size=32, repeat=False, progress=False)
    ll.save_morph(gen, keys, tmp_path / "loop.gif", fps=5, seconds=1, size=32, progress=False)
    assert "loop" not in Image.open(tmp_path / "once.gif").info
    assert Image.open(tmp_path / "loop.gif").info["loop"] == 0


def test_gif_palette_keeps_colours(tmp_path: Path) -> None:
    cg = ColourGen()
    z = cg.sample(2, seed=3) * 2
    ll.save_morph(cg, z, tmp_path / "c.gif", fps=6, seconds=1, size=(48, 64), progress=False)
    frames = iio.imread(tmp_path / "c.gif", index=None).astype(int)
    ref = to_uint8(resize(cg.decode(animate.frame_latents(cg, z, fps=6, seconds=1)), (48, 64))).astype(int)
    assert frames.shape == ref.shape == (6, 48, 64, 3)
    assert np.abs(frames - ref).mean() < 3  # per-frame adaptive palette + dithering


def test_mp4_frames_size_fps_and_ends(gen: Generator, keys: torch.Tensor, tmp_path: Path) -> None:
    out = tmp_path / "m.mp4"
    anim = ll.save_morph(gen, keys, out, fps=12, seconds=1.5, size=(63, 63), progress=False)
    assert anim.size == (64, 64)  # H.264 needs even sides
    frames = iio.imread(out, index=None)
    assert frames.shape == (18, 64, 64, 3)
    assert iio.immeta(out, plugin="FFMPEG")["fps"] == pytest.approx(12)
    ends = _decoded(gen, keys[[0, -1]], (64, 64))
    assert np.abs(frames[0].astype(int) - ends[0]).mean() < 3  # lossy, but the same picture
    assert np.abs(frames[-1].astype(int) - ends[1]).mean() < 3


def test_webp_frames_loop_and_ends(gen: Generator, keys: torch.Tensor, tmp_path: Path) -> None:
    out = tmp_path / "m.webp"
    ll.save_morph(gen, keys, out, fps=8, seconds=1, size=48, progress=False)
    frames = np.stack([f[..., :3] for f in iio.imiter(out)])
    assert frames.shape == (8, 48, 48, 3)
    with Image.open(out) as im:
        assert im.is_animated and im.info["loop"] == 0
    ends = _decoded(gen, keys[[0, -1]], (48, 48))
    assert np.abs(frames[0].astype(int) - ends[0]).mean() < 4
    assert np.abs(frames[-1].astype(int) - ends[1]).mean() < 4


def test_png_folder_is_exact(gen: Generator, keys: torch.Tensor, tmp_path: Path) -> None:
    out = tmp_path / "frames"
    anim = ll.save_morph(gen, keys, out, fps=5, seconds=1, size=32, progress=False)
    names = _leftovers(out)
    assert anim.format == "png" and names == [f"frame_{i:05d}.png" for i in range(5)]
    first, last = (np.asarray(Image.open(out / n)).astype(int) for n in (names[0], names[-1]))
    ends = _decoded(gen, keys[[0, -1]], (32, 32))
    assert np.array_equal(first, ends[0]) and np.array_equal(last, ends[1])
    assert _leftovers(tmp_path) == ["frames"]
    assert anim._repr_html_() is None  # a folder is not embedded; Jupyter shows the text


def test_png_folder_refuses_a_full_folder(gen: Generator, keys: torch.Tensor, tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    with pytest.raises(ExportError, match="not an empty folder"):
        ll.save_morph(gen, keys, tmp_path / "full", fps=5, seconds=1, progress=False)
    assert _leftovers(tmp_path / "full") == ["keep.txt"]


# --------------------------------------------------------------------------- what gets decoded
def test_loop_starts_on_the_first_keyframe_and_comes_back(gen: Generator, keys: torch.Tensor) -> None:
    lat = animate.frame_latents(gen, keys, fps=10, seconds=3, loop=True)
    assert lat.shape == (30, 16)
    assert torch.allclose(lat[0], keys[0])
    step = (lat[1:] - lat[:-1]).norm(dim=1)
    assert (lat[-1] - lat[0]).norm() < 3 * step.mean()  # the last frame leads back into the first


def test_interpolate_false_uses_rows_as_frames(gen: Generator, keys: torch.Tensor) -> None:
    rows = keys[0] + torch.linspace(0, 1, 7)[:, None] * (keys[1] - keys[0])  # any (N, 16) latents
    fs = list(ll.frames(gen, rows, interpolate=False, size=32))
    assert len(fs) == 7
    assert np.array_equal(fs[3], _decoded(gen, rows[3:4], (32, 32))[0])


def test_path_source_and_its_own_settings(gen: Generator, keys: torch.Tensor) -> None:
    path = ll.LatentPath(keys, easing="ease-in-out", loop=True)
    lat = animate.frame_latents(gen, path, fps=10, seconds=2)
    assert torch.allclose(lat, path.sample(20).float())
    with pytest.raises(InvalidValueError, match="belong to the Path") as err:
        animate.frame_latents(gen, path, easing="linear")
    assert "fix:" in str(err.value)


def test_frames_streams_in_batches(gen: Generator, keys: torch.Tensor) -> None:
    decoded: list[int] = []
    original = gen.decode

    def counting_decode(latents: Any, space: Any = None) -> torch.Tensor:
        out = original(latents, space=space)
        decoded.append(int(out.shape[0]))
        return out

    gen.decode = counting_decode  # type: ignore[method-assign]
    try:
        stream = ll.frames(gen, keys, fps=20, seconds=5, size=32, batch_size=8)
        for taken, _ in enumerate(stream, start=1):
            assert sum(decoded) <= taken + 8 - 1  # never more than one batch ahead of the consumer
            if taken == 20:
                break
    finally:
        del gen.decode
    assert sum(decoded) == 24 and max(decoded) == 8  # 100 frames planned, only 3 batches decoded


def test_caption_is_drawn(gen: Generator, keys: torch.Tensor) -> None:
    plain = next(iter(ll.frames(gen, keys, fps=4, seconds=1, size=64)))
    texts: list[tuple[int, int]] = []
    labelled = list(
        ll.frames(gen, keys, fps=4, seconds=1, size=64, caption=lambda i, n: texts.append((i, n)) or f"{i}/{n}")
    )
    assert texts == [(0, 4), (1, 4), (2, 4), (3, 4)]
    assert not np.array_equal(plain[-10:], labelled[0][-10:])
    assert np.array_equal(plain[:32], labelled[0][:32])  # only the bottom band changes


def test_grid_morph_tiles_the_single_morphs(gen: Generator, tmp_path: Path) -> None:
    sources = [gen.sample(2, seed=s) for s in range(3)]
    anim = ll.save_grid_morph(
        gen, sources, tmp_path / "g", nrow=3, padding=2, fps=4, seconds=1, size=32, progress=False
    )
    assert anim.size == (36, 104) and anim.frames == 4
    frame = np.asarray(Image.open(tmp_path / "g" / "frame_00002.png"))
    single = list(ll.frames(gen, sources[1], fps=4, seconds=1, size=32))[2]
    assert np.abs(frame[2:34, 36:68].astype(int) - single).max() <= 1
    assert (frame[:2] == 255).all()  # white padding


# --------------------------------------------------------------------------- failures leave nothing behind
class _FailAfter:
    def __init__(self, inner: animate.FrameWriter, n: int, exc: BaseException) -> None:
        self.inner, self.n, self.exc, self.aborted = inner, n, exc, False

    def write(self, frame: np.ndarray) -> None:
        if self.n == 0:
            raise self.exc
        self.n -= 1
        self.inner.write(frame)

    def close(self) -> None:
        self.inner.close()

    def abort(self) -> None:
        self.aborted = True
        self.inner.abort()


@pytest.mark.parametrize("name", ["m.mp4", "m.gif", "frames"])
@pytest.mark.parametrize("exc", [RuntimeError("boom"), KeyboardInterrupt()])
def test_failure_in_the_middle_leaves_no_file(
    gen: Generator, keys: torch.Tensor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, exc: BaseException
) -> None:
    real = animate.open_writer
    made: list[_FailAfter] = []

    def failing(*args: Any, **kwargs: Any) -> _FailAfter:
        made.append(_FailAfter(real(*args, **kwargs), 5, exc))
        return made[-1]

    monkeypatch.setattr(animate, "open_writer", failing)
    with pytest.raises(type(exc)):
        ll.save_morph(gen, keys, tmp_path / name, fps=10, seconds=2, size=32, batch_size=4, progress=False)
    assert made and made[0].aborted
    assert _leftovers(tmp_path) == []


def test_ffmpeg_failure_is_an_export_error(
    gen: Generator, keys: torch.Tensor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(animate, "_ffmpeg_args", lambda fmt, repeat: ["-c:v", "no-such-codec", "-f", "mp4"])
    with pytest.raises(ExportError) as err:
        ll.save_morph(gen, keys, tmp_path / "m.mp4", fps=10, seconds=1, size=32, progress=False)
    msg = str(err.value)
    assert "ffmpeg" in msg and "no-such-codec" in msg and "fix:" in msg
    assert _leftovers(tmp_path) == []


def test_unknown_extension(gen: Generator, keys: torch.Tensor, tmp_path: Path) -> None:
    with pytest.raises(InvalidValueError) as err:
        ll.save_morph(gen, keys, tmp_path / "m.avi", progress=False)
    msg = str(err.value)
    assert "'.avi'" in msg and ".gif, .mp4, .webp" in msg and "m.mp4" in msg
    assert _leftovers(tmp_path) == []


def test_missing_or_unwritable_folder(gen: Generator, keys: torch.Tensor, tmp_path: Path) -> None:
    with pytest.raises(ExportError) as err:
        ll.save_morph(gen, keys, tmp_path / "nope" / "m.gif", fps=4, seconds=1, progress=False)
    assert "does not exist" in str(err.value) and "mkdir" in str(err.value)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ExportError):
        ll.save_morph(gen, keys, tmp_path / "file" / "m.gif", fps=4, seconds=1, progress=False)
    assert _leftovers(tmp_path) == ["file"]


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"fps": 0}, "fps must be a positive number"),
        ({"seconds": -1}, "seconds must be a positive number"),
        ({"batch_size": 0}, "batch_size must be a positive integer"),
        ({"size": (0, 10)}, "positive whole numbers"),
    ],
)
def test_bad_arguments(gen: Generator, keys: torch.Tensor, tmp_path: Path, kwargs: dict, words: str) -> None:
    with pytest.raises(InvalidValueError, match=words) as err:
        ll.save_morph(gen, keys, tmp_path / "m.gif", progress=False, **kwargs)
    assert "expected:" in str(err.value) and "fix:" in str(err.value)
    assert _leftovers(tmp_path) == []


def test_frames_checks_arguments_before_the_first_frame(gen: Generator, keys: torch.Tensor) -> None:
    with pytest.raises(InvalidValueError, match="batch_size"):
        ll.frames(gen, keys, batch_size=0)  # raised at the call, not at the first next()
    with pytest.raises(InvalidValueError, match="size"):
        animate.grid_frames(gen, [keys, keys], size=-1)


def test_one_keyframe_is_not_a_morph(gen: Generator, keys: torch.Tensor) -> None:
    with pytest.raises(InvalidValueError, match="at least two keyframes"):
        animate.frame_latents(gen, keys[0])


def test_latents_from_another_space(gen: Generator, tmp_path: Path) -> None:
    with pytest.raises(ll.ShapeError, match="keyframes"):
        ll.save_morph(gen, torch.randn(3, 8), tmp_path / "m.gif", progress=False)


# --------------------------------------------------------------------------- previews
def test_preview_html(gen: Generator, keys: torch.Tensor, tmp_path: Path) -> None:
    mp4 = ll.save_morph(gen, keys, tmp_path / "m.mp4", fps=4, seconds=1, size=32, progress=False)
    html = animate.animation_html(mp4, width=200)
    assert html.startswith('<video width="200" autoplay loop muted')
    data = html.split("base64,")[1].split('"')[0]
    assert base64.b64decode(data) == (tmp_path / "m.mp4").read_bytes()
    gif = ll.save_morph(gen, keys, tmp_path / "m.gif", fps=4, seconds=1, size=32, progress=False)
    assert gif._repr_html_().startswith('<img src="data:image/gif;base64,')
    assert ll.show_animation(str(tmp_path / "m.gif")) is None  # outside Jupyter: nothing shown, no error
    with pytest.raises(InvalidValueError, match="cannot preview"):
        animate.animation_html(tmp_path / "missing.gif")


def test_animation_is_a_path(gen: Generator, keys: torch.Tensor, tmp_path: Path) -> None:
    anim = ll.save_morph(gen, keys, tmp_path / "m.gif", fps=4, seconds=1, size=32, progress=False)
    assert Path(anim) == tmp_path / "m.gif"
    assert "4 frames, 32x32 px, 4 fps, 1.00 s" in str(anim)
