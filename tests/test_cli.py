"""The ``latentlab`` command line, run as a subprocess the way a shell user runs it (and in-process for the rest)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import pytest
import torch
from PIL import Image

import latentlab as ll
from latentlab import cli
from latentlab.generators import registry
from latentlab.generators.base import Generator
from latentlab.spaces import LatentSpace


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "latentlab.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=300
    )


def test_help_lists_commands_and_examples(tmp_path: Path) -> None:
    r = run_cli("--help", cwd=tmp_path)
    assert r.returncode == 0
    for word in ("models", "sample", "morph", "examples:", "latentlab morph digits --seeds 1 5 9"):
        assert word in r.stdout


def test_models_sample_and_morph(tmp_path: Path) -> None:
    r = run_cli("models", "--names", cwd=tmp_path)
    assert r.returncode == 0 and "digits" in r.stdout.split()

    r = run_cli(
        "sample", "digits", "-n", "6", "--seed", "0", "--nrow", "3", "--scale", "1", "-o", "grid.png", cwd=tmp_path
    )
    assert r.returncode == 0, r.stderr
    assert Image.open(tmp_path / "grid.png").size == (3 * 34 + 2, 2 * 34 + 2)
    assert "wrote grid.png" in r.stdout

    r = run_cli(
        "morph",
        "digits",
        "--seeds",
        "1",
        "5",
        "9",
        "--seconds",
        "1",
        "--fps",
        "12",
        "--loop",
        "--size",
        "64",
        "-q",
        "-o",
        "morph.gif",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    frames = iio.imread(tmp_path / "morph.gif", index=None)
    assert frames.shape == (12, 64, 64, 3)
    assert "12 frames" in r.stdout and r.stderr == ""


def test_same_seed_same_grid(tmp_path: Path) -> None:
    assert cli.main(["sample", "digits", "-n", "4", "--seed", "3", "-o", str(tmp_path / "a.png")]) == 0
    assert cli.main(["sample", "digits", "-n", "4", "--seed", "3", "-o", str(tmp_path / "b.png")]) == 0
    assert cli.main(["sample", "digits", "-n", "4", "--seed", "4", "-o", str(tmp_path / "c.png")]) == 0
    a, b, c = ((tmp_path / n).read_bytes() for n in ("a.png", "b.png", "c.png"))
    assert a == b and a != c


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["sample"],
        ["sample", "digits"],  # -o is required
        ["sample", "digits", "-n", "0", "-o", "x.png"],
        ["morph", "digits", "--seeds", "a", "-o", "x.gif"],
        ["morph", "digits", "--seeds", "1", "2", "--fonts", "a.ttf", "-o", "x.gif"],
        ["morph", "digits", "--seconds", "-2", "-o", "x.gif"],
        ["frobnicate"],
    ],
)
def test_usage_errors_exit_2(args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert "usage: latentlab" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_latentlab_errors_exit_1_with_the_message(tmp_path: Path) -> None:
    font = tmp_path / "a.ttf"
    font.write_bytes(b"not really a font")
    r = run_cli("morph", "digits", "--fonts", "a.ttf", "a.ttf", "-o", "m.gif", cwd=tmp_path)
    assert r.returncode == 1
    assert "cannot turn fonts into latents" in r.stderr and "encode_font" in r.stderr and "--seeds" in r.stderr
    assert "Traceback" not in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.ttf"]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["sample", "nope", "-o", "g.png"], "no model named 'nope'"),
        (["sample", "digits", "-o", "g.bmp"], "'.bmp'"),
        (["morph", "digits", "--seeds", "1", "-o", "m.gif"], "at least two seeds"),
        (["morph", "digits", "-o", "m.avi"], "cannot tell the animation format"),
        (["morph", "digits", "--fonts", "missing.ttf", "b.ttf", "-o", "m.gif"], "does not exist"),
        (["morph", "digits", "--seeds", "1", "2", "-o", "no/such/dir/m.gif"], "folder does not exist"),
    ],
)
def test_error_messages(
    args: list[str], words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli.main([*args, *(["-q"] if args[0] == "morph" else [])]) == 1
    err = capsys.readouterr().err
    assert words in err and "fix:" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


class FontGen(Generator):
    """A tiny generator with the ``encode_font`` capability (stands in for glyphs)."""

    name = "fontish"
    capabilities = frozenset({"encode_font"})

    def __init__(self) -> None:
        super().__init__([LatentSpace("style", (4,), prior="normal", model="fontish")], (16, 16))
        self.encoded: list[Path] = []

    def encode_font(self, path: str | Path) -> torch.Tensor:
        self.encoded.append(Path(path))
        return torch.full((4,), float(len(self.encoded)))

    def _decode(self, latents: torch.Tensor, space: LatentSpace) -> torch.Tensor:
        grey = torch.sigmoid(latents.mean(dim=1))[:, None, None, None]
        return grey.expand(-1, 3, *self.image_size)


def test_fonts_use_encode_font(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[FontGen] = []
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))  # keep the global registry clean
    ll.register("fontish-test", lambda: made.append(FontGen()) or made[-1], overwrite=True)
    for name in ("a.ttf", "b.woff2"):
        (tmp_path / name).write_bytes(b"font")
    monkeypatch.chdir(tmp_path)
    code = cli.main(
        [
            "morph",
            "fontish-test",
            "--fonts",
            "a.ttf",
            "b.woff2",
            "--fps",
            "4",
            "--seconds",
            "1",
            "-q",
            "--size",
            "16",
            "-o",
            "f.gif",
        ]
    )
    assert code == 0
    assert made[0].encoded == [Path("a.ttf"), Path("b.woff2")]
    frames = iio.imread(tmp_path / "f.gif", index=None)
    assert frames.shape == (4, 16, 16, 3) and frames[-1].mean() > frames[0].mean()  # keyframe 1 -> keyframe 2


def test_a_new_command_is_a_few_lines(capsys: pytest.CaptureFixture[str]) -> None:
    def args(p: argparse.ArgumentParser) -> None:
        p.add_argument("folder")
        p.add_argument("-o", "--out", required=True)

    def run(ns: argparse.Namespace) -> int:
        print(f"copy {ns.folder} -> {ns.out}")
        return 0

    parser = cli.build_parser(
        [*cli.COMMANDS, cli.Command("copy", "copy a folder", args, run, examples=["latentlab copy imgs/ -o out"])]
    )
    ns = parser.parse_args(["copy", "imgs", "-o", "out"])
    assert ns._run(ns) == 0
    assert "copy imgs -> out" in capsys.readouterr().out


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child process is POSIX")
def test_ctrl_c_leaves_no_partial_file(tmp_path: Path) -> None:
    import signal
    import time

    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "latentlab.cli",
            "morph",
            "digits",
            "--seeds",
            "1",
            "2",
            "--seconds",
            "600",
            "-q",
            "-o",
            "long.mp4",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".long.*.partial.mp4")):  # wait until it is writing
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.1)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []
