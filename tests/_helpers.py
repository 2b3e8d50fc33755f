"""Helpers shared by the tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


def raises(exc: type[BaseException], match: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> str:
    """Call ``fn``; it must raise ``exc`` with a message holding ``match`` and latentlab's expected / got / fix.

    Returns the message, for further checks.
    """
    with pytest.raises(exc) as info:
        fn(*args, **kwargs)
    text = str(info.value)
    assert "expected:" in text and "got:" in text and "fix:" in text, text
    assert match in text, text
    return text
