"""Morphs that follow music: walk speed from the audio's onset strength, and the audio muxed into the MP4.

:func:`latentlab.save_morph` with ``audio="song.wav"`` makes one frame per ``1/fps`` seconds of the
audio and moves along the morph's path faster where the music has onsets (drum hits, note
attacks) and slower where it is calm: the step from frame ``i - 1`` to ``i`` is proportional to
``base + s_i``, with ``s_i`` the onset strength in that frame's time window (librosa's
``onset_strength``, scaled to ``[0, 1]``). The whole path is still covered, start to end, over the
length of the audio. Then the audio is muxed into the MP4 (AAC, through the ffmpeg of
``imageio-ffmpeg``).

Needs the ``[audio]`` extra (``pip install "latentlab[audio]"``, librosa), imported lazily.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import torch

from ._optional import require
from .errors import ExportError, InvalidValueError

__all__ = ["load_audio", "onset_strength_per_frame", "audio_times", "mux_audio"]

_HOP = 512


def _check_audio_path(path: str | os.PathLike[str]) -> Path:
    p = Path(path).expanduser()
    if not p.is_file():
        raise InvalidValueError(
            f"audio file not found: {p}",
            expected="an existing audio file (.wav, .mp3, .flac ...)",
            got=str(p),
            fix="check the path, or leave out audio=",
        )
    return p


def load_audio(path: str | os.PathLike[str]) -> tuple[np.ndarray, int]:
    """Mono samples ``(T,)`` float32 and the sample rate of an audio file (librosa)."""
    p = _check_audio_path(path)
    librosa = require("librosa", purpose="morphs that follow audio")
    try:
        y, sr = librosa.load(str(p), sr=None, mono=True)
    except Exception as exc:  # librosa raises many kinds for unreadable files
        raise InvalidValueError(
            f"cannot read the audio file {p}",
            expected="a readable audio file (wav, flac, mp3)",
            got=f"{type(exc).__name__}: {exc}",
            fix="convert it to .wav first",
        ) from exc
    if y.size == 0:
        raise InvalidValueError(
            f"the audio file {p} is empty", expected="some audio", got="0 samples", fix="pass a non-empty audio file"
        )
    return np.asarray(y, dtype=np.float32), int(sr)


def onset_strength_per_frame(y: np.ndarray, sr: int, fps: float, n_frames: int) -> np.ndarray:
    """Onset strength in ``[0, 1]`` for each video frame: the peak of librosa's onset envelope in the
    frame's window ``[i / fps, (i + 1) / fps)`` (so no hit between two frames is missed).

    Returns:
        ``(n_frames,)`` float64; all zeros for audio without onsets.
    """
    librosa = require("librosa", purpose="morphs that follow audio")
    env = librosa.onset.onset_strength(y=y, sr=sr, hop_length=_HOP)
    env_t = librosa.times_like(env, sr=sr, hop_length=_HOP)
    out = np.zeros(n_frames)
    idx = np.clip((env_t * fps).astype(int), 0, n_frames - 1)
    np.maximum.at(out, idx, env)
    peak = out.max()
    return out / peak if peak > 0 else out


def audio_times(strength: np.ndarray, duration: float, *, loop: bool = False, base: float = 0.25) -> torch.Tensor:
    """Path times ``(n_frames,)`` in ``[0, duration]`` whose steps follow ``base + strength``.

    Example:
        >>> t = audio_times(np.array([0.0, 0.0, 1.0, 0.0]), 1.0)
        >>> [round(float(x), 3) for x in t]
        [0.0, 0.143, 0.857, 1.0]
    """
    if not base > 0:
        raise InvalidValueError(
            "audio_base must be positive",
            expected="> 0 (e.g. 0.25)",
            got=base,
            fix="keep some motion in calm passages: audio_base=0.25",
        )
    speed = base + np.asarray(strength, dtype=np.float64)
    steps = speed[1:]
    pos = np.concatenate([[0.0], np.cumsum(steps)])
    total = pos[-1] + (speed[0] if loop else 0.0)  # a loop's last step leads back into the first frame
    return torch.from_numpy(pos / total * duration) if total > 0 else torch.zeros(len(speed), dtype=torch.float64)


def mux_audio(video: Path, audio: Path, out: Path) -> None:
    """Copy the video stream of ``video`` and add ``audio`` as AAC into ``out`` (cut to the shorter)."""
    exe = require("imageio_ffmpeg", purpose="adding audio to a video").get_ffmpeg_exe()
    cmd = [
        exe,
        "-y",
        "-v",
        "error",
        "-i",
        os.fspath(video),
        "-i",
        os.fspath(audio),
        "-map",
        "0:v:0",
        "-map",
        "1:a:0",
        "-c:v",
        "copy",
        "-c:a",
        "aac",
        "-b:a",
        "192k",
        "-shortest",
        "-movflags",
        "+faststart",
        "-f",
        "mp4",
        os.fspath(out),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        said = done.stderr.strip().splitlines()
        raise ExportError(
            "ffmpeg could not add the audio",
            expected="a readable audio file",
            got=said[-1] if said else f"exit {done.returncode}",
            fix="convert the audio to .wav, or leave out audio=",
        )
