"""The ``latentlab`` command line: list models, sample grids, render morph animations, train models.

Every subcommand is one :class:`Command` in :data:`COMMANDS` (a name, help text, a function
that adds its arguments and a function that runs it), so adding one is a few lines::

    def _hello_args(p): p.add_argument("name")
    def _hello(args): print("hello", args.name); return 0
    COMMANDS.append(Command("hello", "say hello", _hello_args, _hello, examples=["latentlab hello you"]))

Exit codes: 0 success, 1 a latentlab error (the message, no traceback, on stderr),
2 a usage error (argparse), 130 interrupted with Ctrl-C.

Example:
    >>> main(["sample", "digits", "-n", "4", "-o", "/no/such/folder/grid.png"])
    1
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import CapabilityError, InvalidValueError, LatentLabError

if TYPE_CHECKING:
    import torch

    from .generators.base import Generator

__all__ = ["Command", "COMMANDS", "build_parser", "main"]

PROG = "latentlab"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")


@dataclass(frozen=True)
class Command:
    """One subcommand: ``configure(parser)`` adds its arguments, ``run(args) -> exit code`` does the work."""

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    examples: Sequence[str] = field(default_factory=tuple)


# --------------------------------------------------------------------------- models
def _models_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--names", action="store_true", help="print only the names, one per line")


def _models(args: argparse.Namespace) -> int:
    from .generators import models

    listing = models()
    print("\n".join(listing.names) if args.names else repr(listing))
    return 0


# --------------------------------------------------------------------------- sample
def _sample_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="a model name from `latentlab models`, or a saved model folder")
    p.add_argument("-n", type=_positive_int, default=16, help="number of samples (default 16)")
    p.add_argument("--seed", type=int, default=0, help="random seed; the same seed gives the same grid (default 0)")
    p.add_argument("--temperature", type=float, default=1.0, help="prior scale; < 1 gives more typical samples")
    p.add_argument("--nrow", type=_positive_int, default=None, help="images per row (default: about square)")
    p.add_argument("--scale", type=float, default=None, help="tile scale (default: small tiles to about 96 px)")
    p.add_argument("--device", default=None, help="cpu, cuda, mps ... (default cpu)")
    p.add_argument("-o", "--out", required=True, help="output image: .png, .jpg or .webp")


def _sample(args: argparse.Namespace) -> int:
    from ._atomic import atomic_path
    from .generators import load
    from .render import grid, to_pil

    out = _image_target(args.out)
    gen = load(args.model, device=args.device)
    images = gen.decode(gen.sample(args.n, seed=args.seed, temperature=args.temperature))
    scale = args.scale if args.scale is not None else max(1.0, 96 / max(gen.image_size))
    img = to_pil(grid(images, nrow=args.nrow), scale=scale)
    assert not isinstance(img, list)
    with atomic_path(out) as tmp:
        img.save(tmp, format=_pil_format(out))
    print(f"wrote {out}: {args.n} samples of {gen.name!r}, seed {args.seed}, {img.width}x{img.height} px")
    return 0


def _image_target(out: str) -> Path:
    path = Path(out)
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise InvalidValueError(
            f"cannot tell the image format from {path.name!r}",
            expected="a name ending in " + ", ".join(IMAGE_SUFFIXES),
            got=repr(path.suffix),
            fix=f"write to {path.with_suffix('.png').name!r}",
        )
    return path


def _pil_format(path: Path) -> str:
    return {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP"}[path.suffix.lower()]


# --------------------------------------------------------------------------- morph
def _morph_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help="a model name from `latentlab models`, or a saved model folder")
    keys = p.add_mutually_exclusive_group()
    keys.add_argument(
        "--seeds", type=int, nargs="+", metavar="SEED", help="keyframes from these seeds (at least 2; default 0 1 2)"
    )
    keys.add_argument(
        "--fonts",
        nargs="+",
        metavar="FONT",
        help="keyframes from font files (.ttf, .otf, .woff, .woff2); needs a model that encodes fonts",
    )
    p.add_argument("--seconds", type=_positive_float, default=4.0, help="length in seconds (default 4)")
    p.add_argument("--fps", type=_positive_float, default=30.0, help="frames per second (default 30)")
    p.add_argument("--loop", action="store_true", help="return to the first keyframe (seamless on repeat)")
    p.add_argument("--easing", default="linear", help="linear, ease-in-out, cubic, smoothstep ... (default linear)")
    p.add_argument("--size", type=_positive_int, default=None, help="long side in pixels (default about 256)")
    p.add_argument("--batch-size", type=_positive_int, default=32, help="frames decoded at once (default 32)")
    p.add_argument("--caption", default=None, help="text drawn on every frame")
    p.add_argument("--once", action="store_true", help="GIF/WebP play once instead of repeating forever")
    p.add_argument("--device", default=None, help="cpu, cuda, mps ... (default cpu)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.add_argument("-o", "--out", required=True, help="output: .mp4, .gif, .webp, or a folder for PNG frames")
    text = p.add_argument_group("text-to-image models (a diffusers pipeline folder or hub id as MODEL)")
    text.add_argument(
        "--prompts",
        nargs="+",
        metavar="TEXT",
        help="keyframes from prompts, paired with --seeds (default seeds 0 1 2 ...)",
    )
    text.add_argument("--steps", type=_positive_int, default=None, help="sampler steps (default: the model's)")
    text.add_argument("--guidance", type=float, default=None, help="classifier-free guidance (default: the model's)")
    text.add_argument("--negative", default=None, help="negative prompt")
    p.add_argument(
        "--audio",
        default=None,
        metavar="FILE",
        help="time the walk by this audio's onsets and add it to the MP4 (length = the audio's)",
    )
    p.add_argument(
        "--no-resume",
        action="store_true",
        help="do not keep finished frames for resuming (kept by default for slow models)",
    )


def _open_model(args: argparse.Namespace) -> Generator:
    """A registered/bundled model, or a diffusers pipeline (a folder with model_index.json, or a hub id)."""
    from .generators import load, models

    name = str(args.model)
    folder = Path(name).expanduser()
    is_pipeline = (folder / "model_index.json").is_file() or (
        not folder.exists() and "/" in name and name not in models().names
    )
    if not is_pipeline:
        return load(name, device=args.device)
    from .generators.diffusion import from_diffusers

    return from_diffusers(
        name, steps=args.steps, guidance=args.guidance, device=args.device, negative_prompt=args.negative
    )


def _morph(args: argparse.Namespace) -> int:
    from .animate import format_of, save_morph, seed_keyframes

    if args.seeds is not None and len(args.seeds) < 2 and not args.prompts:
        raise InvalidValueError(
            "a morph needs at least two seeds",
            expected="--seeds 1 5 9",
            got=f"--seeds {args.seeds[0]}",
            fix="add another seed",
        )
    format_of(Path(args.out))  # fail on a bad extension before loading the model
    fonts = [_existing_file(f) for f in args.fonts] if args.fonts else None
    audio = str(_existing_file(args.audio, "audio")) if args.audio else None
    gen = _open_model(args)
    space = None
    if fonts is not None:
        keys = _font_keyframes(gen, fonts)
    elif args.prompts:
        keys, space = _prompt_keyframes(gen, args.prompts, args.seeds), "joint"
    else:
        keys = seed_keyframes(gen, args.seeds if args.seeds is not None else [0, 1, 2])
    anim = save_morph(
        gen,
        keys,
        args.out,
        fps=args.fps,
        seconds=args.seconds,
        easing=args.easing,
        loop=args.loop,
        size=args.size,
        batch_size=args.batch_size,
        caption=args.caption,
        repeat=not args.once,
        progress=not args.quiet,
        space=space,
        audio=audio,
        resume=False if args.no_resume else None,
    )
    print(f"wrote {anim}")
    return 0


def _font_keyframes(gen: Generator, fonts: list[Path]) -> torch.Tensor:
    """``(len(fonts), *space.shape)`` keyframes from a model that can encode font files."""
    import torch

    if not gen.can("encode_font"):
        raise CapabilityError(
            f"model {gen.name!r} cannot turn fonts into latents",
            expected="a model with the 'encode_font' capability (e.g. glyphs)",
            got=f"{gen.name!r} with capabilities {sorted(gen.capabilities) or 'none'}",
            fix="use --seeds 1 5 9 with this model, or `latentlab morph glyphs --fonts a.ttf b.woff2 -o morph.gif`",
        )
    if len(fonts) < 2:
        raise InvalidValueError(
            "a morph needs at least two fonts",
            expected="--fonts a.ttf b.woff2",
            got=f"--fonts {fonts[0]}",
            fix="add another font file",
        )
    shape = gen.default_space.shape
    return torch.cat([gen.encode_font(f).reshape(-1, *shape) for f in fonts])


def _prompt_keyframes(gen: Generator, prompts: list[str], seeds: list[int] | None) -> torch.Tensor:
    """Joint keyframes from ``--prompts`` paired with ``--seeds`` (default 0, 1, 2 ...)."""
    if not gen.can("prompt"):
        raise CapabilityError(
            f"model {gen.name!r} takes no prompts",
            expected="a text-to-image model (a diffusers pipeline)",
            got=f"{gen.name!r} with capabilities {sorted(gen.capabilities) or 'none'}",
            fix="use --seeds with this model, or pass a diffusers pipeline folder / hub id as MODEL",
        )
    seeds = list(range(len(prompts))) if seeds is None else seeds
    if len(seeds) != len(prompts) or len(prompts) < 2:
        raise InvalidValueError(
            "--prompts and --seeds pair up, two or more of each",
            expected="as many seeds as prompts (or no --seeds)",
            got=f"{len(prompts)} prompts, {len(seeds)} seeds",
            fix='e.g. --prompts "a red fox" "a blue bird" --seeds 1 7',
        )
    return gen.keyframes(list(zip(prompts, seeds)))


def _existing_file(path: str, what: str = "font") -> Path:
    p = Path(path)
    if not p.is_file():
        raise InvalidValueError(
            f"{what} file {path!r} does not exist",
            expected=f"an existing {what} file",
            got=path,
            fix="check the path (relative paths start from the current folder)",
        )
    return p


# --------------------------------------------------------------------------- train
def _train_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("folder", help="folder of images (scanned recursively; unreadable files are skipped)")
    p.add_argument("-o", "--out", required=True, help="folder to save the model in (ll.load(OUT) opens it)")
    p.add_argument("--size", type=_positive_int, default=64, help="training resolution, a power of two (default 64)")
    p.add_argument("--latent-dim", type=_positive_int, help="latent size (default: chosen from the data size)")
    p.add_argument("--epochs", type=_positive_int, help="epochs (default: chosen from the data size)")
    p.add_argument("--minutes", type=_positive_float, default=10.0, help="time budget in minutes (default 10)")
    p.add_argument("--fit", choices=("contain", "cover", "stretch"), default="contain", help="resize policy")
    p.add_argument("--augment", choices=("auto", "none", "shift", "flip"), default="auto", help="augmentation")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="continue an interrupted run saved in OUT")


def _train(args: argparse.Namespace) -> int:
    from .training import train

    gen = train(
        args.folder,
        size=args.size,
        latent_dim=args.latent_dim,
        epochs=args.epochs,
        seed=args.seed,
        out=args.out,
        fit=args.fit,
        augment=None if args.augment == "none" else args.augment,
        max_minutes=args.minutes,
        resume=args.resume,
    )
    m = gen.card["metrics"]
    print(
        f"saved {args.out}: {gen.card['data']['n_loaded']} images, test-split reconstruction error "
        f"{m['test_recon_mse']:.4f} (mean image {m['mean_image_baseline_mse']:.4f}); open it with "
        f"ll.load({str(args.out)!r})"
    )
    return 0


# --------------------------------------------------------------------------- doctor
def _doctor_args(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--models", default=None, metavar="DIR", help="folder of model folders to verify (default: the bundled models)"
    )
    p.add_argument("--disk", default=".", metavar="DIR", help="folder whose free space counts (default: here)")
    p.add_argument(
        "--warm",
        action="store_true",
        help="also compile and cache umap's kernels (one tiny map, ~30 s once) so the first UMAP map is fast",
    )


def _doctor(args: argparse.Namespace) -> int:
    from .doctor import doctor

    report = doctor(args.models, disk_path=args.disk, warm=args.warm)
    print(report)
    return 0 if report.ok else 1


# --------------------------------------------------------------------------- the table
COMMANDS: list[Command] = [
    Command(
        "models",
        "list the models latentlab can load",
        _models_args,
        _models,
        examples=["latentlab models", "latentlab models --names"],
    ),
    Command(
        "sample",
        "decode random samples into one grid image",
        _sample_args,
        _sample,
        examples=["latentlab sample digits -n 16 --seed 0 -o grid.png"],
    ),
    Command(
        "morph",
        "render a morph animation through keyframes (MP4, GIF, WebP or PNG frames)",
        _morph_args,
        _morph,
        examples=[
            "latentlab morph digits --seeds 1 5 9 --seconds 6 --loop -o morph.mp4",
            "latentlab morph digits --seeds 3 4 --fps 15 --size 128 -o morph.gif",
            "latentlab morph glyphs --fonts a.ttf b.woff2 -o morph.gif",
            'latentlab morph stabilityai/sd-turbo --prompts "a red fox" "a blue bird" '
            "--seeds 1 7 --audio song.wav -o fox.mp4",
        ],
    ),
    Command(
        "doctor",
        "check this laptop for a workshop (one line per check, with a fix); exit 1 if not ready",
        _doctor_args,
        _doctor,
        examples=["latentlab doctor", "latentlab doctor --warm"],
    ),
    Command(
        "train",
        "train a small generator on a folder of your own images",
        _train_args,
        _train,
        examples=[
            "latentlab train my_drawings/ -o my-model",
            "latentlab train photos/ -o faces --size 128 --minutes 20",
            "latentlab train my_drawings/ -o my-model --resume",
        ],
    ),
]


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _examples(lines: Sequence[str]) -> str:
    return "examples:\n" + "\n".join(f"  {line}" for line in lines) if lines else ""


def build_parser(commands: Sequence[Command] = COMMANDS) -> argparse.ArgumentParser:
    """The ``latentlab`` parser with one subparser per entry of ``commands``."""
    from ._version import __version__

    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Explore the latent spaces of generative models from the shell.",
        epilog=_examples([ex for c in commands for ex in c.examples[:1]]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for cmd in commands:
        p = sub.add_parser(
            cmd.name,
            help=cmd.help,
            description=cmd.help,
            epilog=_examples(cmd.examples),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        cmd.configure(p)
        p.set_defaults(_run=cmd.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 latentlab error, 2 usage error, 130 Ctrl-C)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version (0) and usage errors (2)
        return int(exc.code) if isinstance(exc.code, int) else 2
    try:
        return int(args._run(args))
    except LatentLabError as exc:
        print(f"{PROG} {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG} {args.command}: interrupted; no partial output was left", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
