"""Model registry: ``load(name)``, ``models()``, ``register(name, factory)``.

Bundled models live in ``latentlab/models/<name>/`` (``card.json`` + safetensors
weights + ``MANIFEST.sha256``) and register themselves from their cards. Any other
generator registers a factory. ``load`` also opens a model folder by path.
"""

from __future__ import annotations

import contextlib
import difflib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..errors import InvalidValueError, UnknownModelError
from .base import Generator

__all__ = ["ModelInfo", "ModelList", "load", "models", "register", "BUNDLED_DIR"]

BUNDLED_DIR = Path(__file__).resolve().parent.parent / "models"


@dataclass(frozen=True)
class ModelInfo:
    """What ``ll.models()`` lists about a model, known without loading it."""

    name: str
    description: str
    spaces: str
    image_size: tuple[int, int] | None
    license: str
    source: str
    factory: Callable[[], Generator] = field(repr=False, compare=False)


class ModelList(list[ModelInfo]):
    """A list of :class:`ModelInfo` that prints as a table (and as HTML in Jupyter)."""

    _COLUMNS = ("name", "description", "spaces", "image_size", "license", "source")

    def _rows(self) -> list[list[str]]:
        return [[str(getattr(m, c)) for c in self._COLUMNS] for m in self]

    def __repr__(self) -> str:
        rows = [list(self._COLUMNS), *self._rows()]
        widths = [max(len(r[i]) for r in rows) for i in range(len(self._COLUMNS))]
        return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths)) for r in rows)

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{c}</th>" for c in self._COLUMNS)
        body = "".join("<tr>" + "".join(f"<td>{_escape(c)}</td>" for c in r) + "</tr>" for r in self._rows())
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    @property
    def names(self) -> list[str]:
        return [m.name for m in self]


def _escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_REGISTRY: dict[str, ModelInfo] = {}


def register(
    name: str,
    factory: Callable[[], Generator],
    *,
    description: str = "",
    spaces: str = "",
    image_size: tuple[int, int] | None = None,
    license: str = "unknown",
    source: str = "user",
    overwrite: bool = False,
) -> None:
    """Register a generator factory under ``name`` so that ``ll.load(name)`` builds it.

    Args:
        name: the id users pass to ``ll.load``.
        factory: a function with no arguments that returns a :class:`Generator`.
        description, spaces, image_size, license, source: shown by ``ll.models()``.
        overwrite: replace an existing entry of the same name.

    Example:
        >>> import latentlab as ll
        >>> ll.register("my-digits", lambda: ll.load("digits"), description="digits again", overwrite=True)
        >>> ll.load("my-digits").image_size
        (32, 32)
    """
    if not callable(factory):
        raise InvalidValueError(
            "register() needs a factory function",
            expected="a callable returning a Generator",
            got=type(factory).__name__,
            fix="pass lambda: MyGenerator(...)",
        )
    if name in _REGISTRY and not overwrite:
        raise InvalidValueError(
            f"a model named {name!r} is already registered",
            expected="a new name",
            got=repr(name),
            fix="choose another name or pass overwrite=True",
        )
    _REGISTRY[name] = ModelInfo(name, description, spaces, image_size, license, source, factory)


def models() -> ModelList:
    """All registered models (bundled ones and adapters/user registrations), sorted by name.

    Example:
        >>> import latentlab as ll
        >>> "digits" in ll.models().names
        True
    """
    _register_bundled()
    return ModelList(sorted(_REGISTRY.values(), key=lambda m: (m.source != "bundled", m.name)))


def load(name: str | Path, device: str | torch.device | None = None) -> Generator:
    """Load a registered model by name, or a saved model folder by path.

    Args:
        name: a name from ``ll.models()`` or a folder saved by ``ll.train(..., out=...)``.
        device: where to put the model (``"cpu"``, ``"cuda"``...); CPU when ``None``.

    Returns:
        A :class:`Generator`.

    Example:
        >>> import latentlab as ll
        >>> ll.load("digits")
        <VAEGenerator 'digits': z (16,) normal prior; images 32x32; device cpu>
    """
    _register_bundled()
    key = str(name)
    if key in _REGISTRY:
        gen = _REGISTRY[key].factory()
    elif Path(key).is_dir() and (Path(key) / "card.json").is_file():
        gen = _load_folder(Path(key))
    else:
        known = sorted(_REGISTRY)
        close = difflib.get_close_matches(key, known, n=1, cutoff=0.5)
        fix = f"did you mean {close[0]!r}?" if close else "list models with ll.models(), or pass a model folder path"
        raise UnknownModelError(f"no model named {key!r}", expected=f"one of {known}", got=repr(key), fix=fix)
    _stamp_load_ref(gen, key if key in _REGISTRY else str(Path(key).resolve()))
    return gen.to(device) if device is not None else gen


def _stamp_load_ref(gen: Generator, ref: str) -> None:
    """Record how ``ll.load`` made ``gen`` (``gen.load_ref``), so worker processes can load it again
    (:mod:`latentlab.dataset` on Ray). A generator class may define ``load_ref`` itself; it is kept."""
    if getattr(gen, "load_ref", None) is None:
        with contextlib.suppress(AttributeError):  # a read-only property of the class
            gen.load_ref = ref  # type: ignore[attr-defined]


def _load_folder(folder: Path) -> Generator:
    card = json.loads((folder / "card.json").read_text())
    hint = f"the files in {folder} were changed; save the model again or restore them from a backup"
    return _open_folder(folder, card, card.get("name", folder.name), hint)


def _open_folder(folder: Path, card: dict, name: str, restore_hint: str) -> Generator:
    """Open a model folder from its card: the VAE family directly, others through their ``module``."""
    if card.get("family") == "vae":
        from .vae import load_vae

        return load_vae(folder, name=name, restore_hint=restore_hint)
    if card.get("module"):
        from importlib import import_module

        module = import_module(f"latentlab.generators.{card['module']}")
        gen: Generator = module.load_bundled(folder, restore_hint=restore_hint)
        return gen
    raise UnknownModelError(
        f"cannot open the model folder {folder}",
        expected="a card.json with family 'vae' or a generator 'module'",
        got=f"family {card.get('family')!r}, no module",
        fix="save models with latentlab (ll.train(..., out=...)), or register a factory",
    )


def _register_bundled() -> None:
    for card_path in sorted(BUNDLED_DIR.glob("*/card.json")):
        name = card_path.parent.name
        if name in _REGISTRY:
            continue
        card = json.loads(card_path.read_text())
        register(
            name,
            _bundled_factory(card_path.parent, card),
            description=card.get("description", ""),
            spaces=card.get("spaces", ""),
            image_size=tuple(card["image_size"]) if "image_size" in card else None,
            license=card.get("license", "unknown"),
            source="bundled",
        )


def _bundled_factory(folder: Path, card: dict) -> Callable[[], Generator]:
    hint = (
        f"the bundled model files in {folder} are damaged; reinstall latentlab "
        "(pip install --force-reinstall latentlab) or, in a checkout, `git checkout -- latentlab/models`"
    )

    def factory() -> Generator:
        return _open_folder(folder, card, folder.name, hint)

    return factory
