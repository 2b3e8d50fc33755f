"""Latent spaces: a name, a per-sample shape, a prior and the model they belong to."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

__all__ = ["LatentSpace", "Prior"]

Prior = Literal["normal", "none"]


@dataclass(frozen=True)
class LatentSpace:
    """One latent space of one generator.

    Latents in this space are tensors of shape ``(N, *shape)``.

    Args:
        name: short name such as ``"z"``, ``"w"``, ``"w+"`` or ``"vae"``.
        shape: shape of one latent, e.g. ``(16,)`` or ``(18, 512)``.
        prior: ``"normal"`` when latents are drawn from a standard Gaussian,
            ``"none"`` when the space has no sampling prior of its own.
        model: id of the model the space belongs to.
        description: one line for people.

    Example:
        >>> s = LatentSpace("z", (16,), "normal", model="digits")
        >>> s.dim, s.key
        (16, 'digits:z')
    """

    name: str
    shape: tuple[int, ...]
    prior: Prior = "normal"
    model: str = ""
    description: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", tuple(int(s) for s in self.shape))

    @property
    def dim(self) -> int:
        """Number of scalars in one latent (the product of ``shape``)."""
        return math.prod(self.shape)

    @property
    def key(self) -> str:
        """``"model:space"``, the identity used to tell spaces of different models apart."""
        return f"{self.model}:{self.name}"

    def describe(self) -> str:
        """One line such as ``"z (16,) normal prior"``."""
        prior = "normal prior" if self.prior == "normal" else "no prior"
        return f"{self.name} {self.shape} {prior}"
