"""Prompt-and-seed morphs of a tiny SD-style pipeline: endpoints, resumable renders, music-timed walks."""

from __future__ import annotations

import re
import subprocess
import wave
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import numpy as np
import pytest
import torch
from PIL import Image

import latentlab as ll
from latentlab import animate
from latentlab.errors import InvalidValueError
from latentlab.generators.diffusion import DiffusionGenerator
from latentlab.render import resize, to_uint8

from ._tiny_diffusion import PROMPTS, sd_folder

__all__ = ["sd_folder"]  # fixture used here


@pytest.fixture(scope="module")
def gen(sd_folder: Path) -> DiffusionGenerator:
    return ll.from_diffusers(sd_folder, steps=2, guidance=2.0)


@pytest.fixture(scope="module")
def keys(gen: DiffusionGenerator) -> torch.Tensor:
    return gen.keyframes([(PROMPTS[0], 1), (PROMPTS[1], 7), (PROMPTS[2], 3)])


def _frames(folder: Path) -> list[np.ndarray]:
    return [np.asarray(Image.open(p).convert("RGB")).astype(int) for p in sorted(folder.glob("frame_*.png"))]


def test_morph_endpoints_are_the_keyframe_images(gen: DiffusionGenerator, keys: torch.Tensor, tmp_path: Path) -> None:
    anim = ll.save_morph(gen, keys, tmp_path / "frames", space="joint", fps=4, seconds=2, size=32, progress=False)
    frames = _frames(anim.path)
    assert anim.frames == len(frames) == 8
    for frame, key in [(frames[0], keys[0]), (frames[-1], keys[2])]:
        image = to_uint8(resize(gen.decode(key[None], space="joint"), (32, 32)))[0].astype(int)
        assert np.abs(frame - image).max() <= 1  # rounding of a 1e-6 batch difference at most
    assert np.abs(frames[0] - frames[-1]).mean() > 2  # the control: the two prompts give other images
    assert sorted(p.name for p in tmp_path.iterdir()) == ["frames"]  # the resume cache is gone


class Interrupt(KeyboardInterrupt):
    """Stands for a crash or Ctrl-C in the middle of a render."""


def _failing_after(gen: DiffusionGenerator, batches: int) -> Any:
    real = gen.decode
    calls = {"n": 0}

    def decode(latents: Any, space: Any = None, **kw: Any) -> torch.Tensor:
        calls["n"] += 1
        if calls["n"] > batches:
            raise Interrupt
        return real(latents, space, **kw)

    return decode


def test_an_interrupted_render_resumes_and_gives_the_same_file(
    gen: DiffusionGenerator, keys: torch.Tensor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean, crashed = tmp_path / "clean", tmp_path / "crashed"
    clean.mkdir()
    crashed.mkdir()
    args: dict[str, Any] = {"space": "joint", "fps": 6, "seconds": 2, "size": 32, "batch_size": 4, "progress": False}
    reference = ll.save_morph(gen, keys, clean / "morph.mp4", **args)

    monkeypatch.setattr(gen, "decode", _failing_after(gen, 2))
    with pytest.raises(Interrupt):
        ll.save_morph(gen, keys, crashed / "morph.mp4", **args)
    monkeypatch.undo()
    left = [p for p in crashed.iterdir()]
    assert [p.name.startswith(".morph.mp4.frames-") for p in left] == [True]  # no partial mp4, only the cache
    assert len(list(left[0].glob("frame_*.png"))) == 8  # two batches of 4 were finished

    decoded: list[int] = []
    real = gen.decode
    monkeypatch.setattr(gen, "decode", lambda z, space=None, **kw: decoded.append(len(z)) or real(z, space, **kw))
    resumed = ll.save_morph(gen, keys, crashed / "morph.mp4", **args)
    assert decoded == [4]  # only the last batch of 12 frames was rendered again
    assert (crashed / "morph.mp4").read_bytes() == (clean / "morph.mp4").read_bytes()
    assert resumed.frames == reference.frames == 12
    assert [p.name for p in crashed.iterdir()] == ["morph.mp4"]


def test_changed_arguments_do_not_reuse_frames(
    gen: DiffusionGenerator, keys: torch.Tensor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    args: dict[str, Any] = {"space": "joint", "fps": 4, "seconds": 1, "size": 32, "batch_size": 2, "progress": False}
    monkeypatch.setattr(gen, "decode", _failing_after(gen, 1))
    with pytest.raises(Interrupt):
        ll.save_morph(gen, keys, tmp_path / "m.gif", **args)
    monkeypatch.undo()
    gen.steps = 3  # another sampler setting: other pixels, so another cache key
    try:
        decoded: list[int] = []
        real = gen.decode
        monkeypatch.setattr(gen, "decode", lambda z, space=None, **kw: decoded.append(len(z)) or real(z, space, **kw))
        ll.save_morph(gen, keys, tmp_path / "m.gif", **args)
    finally:
        gen.steps = 2
    assert decoded == [2, 2]


def click_track(path: Path, clicks: list[float], seconds: float = 3.0, sr: int = 22050) -> Path:
    """A silent WAV with short clicks (5 ms decaying bursts) at ``clicks`` seconds."""
    y = np.zeros(int(seconds * sr))
    burst = np.sin(np.arange(int(0.005 * sr)) * 2 * np.pi * 2000 / sr) * np.exp(-np.arange(int(0.005 * sr)) / 30)
    for t in clicks:
        i = int(t * sr)
        y[i : i + len(burst)] += burst
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes((y * 0.8 * 32767).astype("<i2").tobytes())
    return path


def test_walk_speed_follows_a_click_track(tmp_path: Path) -> None:
    digits = ll.load("digits")
    keys = digits.sample(3, seed=0)
    clicks = [0.5, 1.5, 2.5]
    fps = 20
    lat = animate.audio_frame_latents(digits, keys, click_track(tmp_path / "clicks.wav", clicks), fps=fps)
    assert lat.shape == (60, 16)
    steps = (lat[1:] - lat[:-1]).norm(dim=1)  # steps[i - 1] leads into frame i
    click_frames = [int(t * fps) for t in clicks]
    fast = steps[[f - 1 for f in click_frames]]
    assert float(fast.min()) > 3 * float(steps.median())  # the walk jumps on each click ...
    big = torch.topk(steps, 3).indices + 1
    assert sorted(int(i) for i in big) == click_frames  # ... and only there
    even = animate.frame_latents(digits, keys, fps=fps, seconds=3)  # the control: no audio, no peaks
    even_steps = (even[1:] - even[:-1]).norm(dim=1)
    assert float(even_steps[[f - 1 for f in click_frames]].min()) < 1.5 * float(even_steps.median())


def _streams(path: Path) -> str:
    done = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True
    )
    return done.stderr


def test_audio_is_muxed_into_the_mp4(gen: DiffusionGenerator, keys: torch.Tensor, tmp_path: Path) -> None:
    wav = click_track(tmp_path / "song.wav", [0.25, 0.75], seconds=1.0)
    anim = ll.save_morph(gen, keys, tmp_path / "song.mp4", space="joint", fps=8, size=32, audio=wav, progress=False)
    assert anim.frames == 8 and anim.duration == 1.0
    info = _streams(anim.path)
    assert "Video: h264" in info and "Audio: aac" in info
    duration = re.search(r"Duration: (\d+):(\d+):([\d.]+)", info)
    assert duration is not None and abs(float(duration.group(3)) - 1.0) < 0.15
    assert sorted(p.name for p in tmp_path.iterdir()) == ["song.mp4", "song.wav"]


def test_bad_audio_arguments(gen: DiffusionGenerator, keys: torch.Tensor, tmp_path: Path) -> None:
    with pytest.raises(InvalidValueError, match="audio file not found"):
        ll.save_morph(gen, keys, tmp_path / "a.mp4", space="joint", audio=tmp_path / "missing.wav", progress=False)
    with pytest.raises(InvalidValueError, match="only MP4"):
        ll.save_morph(gen, keys, tmp_path / "a.gif", space="joint", audio=tmp_path / "missing.wav", progress=False)
    assert list(tmp_path.iterdir()) == []
