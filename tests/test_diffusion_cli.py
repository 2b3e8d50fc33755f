"""``latentlab morph`` on a diffusers pipeline folder: prompt keyframes, sampler options, audio."""

from __future__ import annotations

from pathlib import Path

import pytest

from latentlab.cli import main

from ._tiny_diffusion import sd_folder
from .test_diffusion_morph import _streams, click_track

__all__ = ["sd_folder"]  # fixture used here


def test_cli_morph_between_prompts_with_audio(
    sd_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "fox.mp4"
    wav = click_track(tmp_path / "song.wav", [0.3], seconds=1.0)
    code = main(
        [
            "morph",
            str(sd_folder),
            "--prompts",
            "a red fox",
            "a blue bird",
            "--seeds",
            "1",
            "7",
            "--steps",
            "2",
            "--guidance",
            "2",
            "--fps",
            "6",
            "--size",
            "32",
            "--audio",
            str(wav),
            "-q",
            "-o",
            str(out),
        ]
    )
    assert code == 0 and "6 frames" in capsys.readouterr().out
    assert "Audio: aac" in _streams(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fox.mp4", "song.wav"]


def test_cli_morph_prompt_errors(sd_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["morph", str(sd_folder), "--steps", "1", "-q", "-o", str(tmp_path / "m.gif")]
    assert main([*args, "--prompts", "a red fox", "a blue bird", "--seeds", "1"]) == 1
    assert "pair up" in capsys.readouterr().err
    assert main(["morph", "digits", "--prompts", "a one", "a seven", "-o", str(tmp_path / "d.gif")]) == 1
    assert "takes no prompts" in capsys.readouterr().err
    assert main([*args, "--prompts", "a", "b", "--audio", str(tmp_path / "none.wav")]) == 1
    assert "audio file" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
