"""Weights files: safetensors on disk, verified against a sha256 manifest."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from .._atomic import atomic_path
from ..errors import ChecksumError

__all__ = [
    "sha256_file",
    "read_manifest",
    "write_manifest",
    "verify_file",
    "load_weights",
    "save_weights",
    "MANIFEST_NAME",
]

MANIFEST_NAME = "MANIFEST.sha256"


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_manifest(folder: Path) -> dict[str, str]:
    """``{file name: sha256}`` from ``folder/MANIFEST.sha256`` (``sha256  name`` lines)."""
    path = folder / MANIFEST_NAME
    if not path.is_file():
        raise ChecksumError(
            f"model folder {folder} has no {MANIFEST_NAME}",
            expected=f"{MANIFEST_NAME} listing the sha256 of every weights file",
            got="no manifest",
            fix="save models with latentlab (it writes the manifest), or reinstall latentlab",
        )
    entries = {}
    for line in path.read_text().splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            entries[name.strip()] = digest
    return entries


def write_manifest(folder: Path, names: list[str]) -> None:
    """Write ``folder/MANIFEST.sha256`` for ``names`` (atomically)."""
    text = "".join(f"{sha256_file(folder / n)}  {n}\n" for n in sorted(names))
    with atomic_path(folder / MANIFEST_NAME) as tmp:
        tmp.write_text(text)


def verify_file(path: Path, expected_sha256: str, restore_hint: str) -> None:
    """Raise :class:`ChecksumError` if ``path`` does not hash to ``expected_sha256``."""
    if not path.is_file():
        raise ChecksumError(
            f"weights file {path} is missing",
            expected=f"a file with sha256 {expected_sha256[:16]}...",
            got="no file",
            fix=restore_hint,
        )
    got = sha256_file(path)
    if got != expected_sha256:
        raise ChecksumError(
            f"weights file {path} has been changed or truncated ({path.stat().st_size} bytes)",
            expected=f"sha256 {expected_sha256}",
            got=f"sha256 {got}",
            fix=restore_hint,
        )


def load_weights(folder: Path, name: str, restore_hint: str) -> dict[str, torch.Tensor]:
    """Verify ``folder/name`` against the folder's manifest, then load it with safetensors."""
    manifest = read_manifest(folder)
    if name not in manifest:
        raise ChecksumError(
            f"{name} is not listed in {folder / MANIFEST_NAME}",
            expected=f"an entry for {name}",
            got=f"entries for {sorted(manifest)}",
            fix=restore_hint,
        )
    verify_file(folder / name, manifest[name], restore_hint)
    try:
        return load_file(folder / name)
    except SafetensorError as exc:  # pragma: no cover - the checksum catches this first
        raise ChecksumError(
            f"{folder / name} is not a valid safetensors file", expected="safetensors", got=str(exc), fix=restore_hint
        ) from exc


def save_weights(
    folder: Path, name: str, tensors: dict[str, torch.Tensor], metadata: dict[str, Any] | None = None
) -> Path:
    """Save tensors as ``folder/name`` (safetensors, atomically)."""
    meta = {k: json.dumps(v) for k, v in (metadata or {}).items()}
    with atomic_path(folder / name) as tmp:
        save_file({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, str(tmp), metadata=meta)
    return folder / name
