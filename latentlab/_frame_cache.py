"""Resumable renders: the frames of a morph kept in a side folder until the final file is written.

:func:`latentlab.save_morph` with ``resume=True`` stores every finished frame as a lossless PNG in
``.<out name>.frames-<key>/`` beside the output, where ``key`` is a hash of everything that fixes
the pixels (the generator and its render settings, each frame's latent, size, caption, format).
Running the same call again after a crash or Ctrl-C loads those frames instead of decoding them;
any change of arguments gives another key, so stale frames are never reused. The folder is
removed once the output file has been written (atomically, as always).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

__all__ = ["FrameCache", "render_key"]


def render_key(gen: Any, latents: torch.Tensor, **settings: Any) -> str:
    """A hex digest of the generator, its render settings, the frame latents and ``settings``.

    A generator may describe what else changes its pixels with ``gen.render_settings() -> dict``
    (a diffusion pipeline: steps, guidance, negative prompt, scheduler).
    """
    h = hashlib.sha256()
    own = gen.render_settings() if callable(getattr(gen, "render_settings", None)) else {}
    meta = {
        "generator": type(gen).__qualname__,
        "name": str(getattr(gen, "name", "")),
        "image_size": list(getattr(gen, "image_size", ())),
        "own": own,
        **settings,
    }
    h.update(json.dumps(meta, sort_keys=True, default=repr).encode())
    h.update(latents.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    return h.hexdigest()


class FrameCache:
    """PNG frames ``frame_00000.png`` ... of one render, each written atomically (a crash mid-write
    leaves no half frame).

    Example:
        >>> import tempfile, pathlib
        >>> out = pathlib.Path(tempfile.mkdtemp()) / "morph.mp4"
        >>> cache = FrameCache(out, "abc123")
        >>> cache.put(0, np.zeros((4, 4, 3), np.uint8))
        >>> cache.get(0).shape, cache.get(1)
        ((4, 4, 3), None)
        >>> cache.clear(); cache.folder.exists()
        False
    """

    def __init__(self, out: Path, key: str) -> None:
        self.folder = Path(out).parent / f".{Path(out).name}.frames-{key[:16]}"
        self.reused = 0  #: frames loaded from the cache (rather than rendered) in this run

    def _frame(self, i: int) -> Path:
        return self.folder / f"frame_{i:05d}.png"

    def get(self, i: int) -> np.ndarray | None:
        """Frame ``i`` as ``uint8 (H, W, 3)``, or ``None`` when it was not rendered yet."""
        path = self._frame(i)
        if not path.is_file():
            return None
        try:
            with Image.open(path) as im:
                frame = np.asarray(im.convert("RGB"))
        except OSError:  # damaged (should not happen: frames are renamed into place)
            return None
        self.reused += 1
        return frame

    def has(self, i: int) -> bool:
        return self._frame(i).is_file()

    def put(self, i: int, frame: np.ndarray) -> None:
        """Store frame ``i`` (write to a temporary file in the folder, then rename)."""
        self.folder.mkdir(exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".frame-", suffix=".png", dir=self.folder)
        os.close(fd)
        try:
            Image.fromarray(np.ascontiguousarray(frame, dtype=np.uint8)).save(name, format="PNG", compress_level=1)
            os.replace(name, self._frame(i))
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise

    def clear(self) -> None:
        """Remove the folder (after the output was written)."""
        shutil.rmtree(self.folder, ignore_errors=True)
