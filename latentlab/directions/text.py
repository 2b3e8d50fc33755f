"""Directions for text-conditioned generators: from prompts, and in a diffusion UNet's h-space.

* :func:`from_prompts`: the mean difference of the embeddings of two sets of texts, a
  :class:`~latentlab.directions.Direction` in the generator's ``prompt`` space (any generator with
  ``gen.embed``: a diffusion pipeline, the words-to-fonts prior). ``provenance["norm"]`` is the
  length of that difference: ``strength=norm`` carries the negative texts' mean to the positive's.
* :func:`h_space`: principal directions of a diffusion UNet's mid-block activations ("h-space",
  Kwon et al. 2022; Haas et al. 2023), found with the PCA finder :func:`~latentlab.directions.pca`.
  They are not latent vectors: pass them to ``gen.decode(z, h_edit=[(direction, strength)],
  h_steps=...)``, which adds ``strength * direction`` to the output of ``unet.mid_block`` at the
  chosen denoising steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from ..errors import CapabilityError, InvalidValueError
from ..generators.base import Generator, as_prompt_list
from ..spaces import LatentSpace
from ._common import base_provenance
from .model import Direction, DirectionSet
from .unsupervised import pca

__all__ = ["from_prompts", "h_space"]


def from_prompts(
    gen: Generator, positive: str | Sequence[str], negative: str | Sequence[str], *, name: str | None = None
) -> Direction:
    """The direction from the mean embedding of ``negative`` texts to that of ``positive`` texts.

    Args:
        gen: a text-conditioned generator (``gen.can("prompt")``).
        positive: texts with the attribute, e.g. ``["a smiling face", "a laughing face"]``.
        negative: matching texts without it, e.g. ``["a face", "a serious face"]``.
        name: the direction's name (default: the first positive text).

    Returns:
        A unit :class:`Direction` in ``gen.space("prompt")``; ``provenance`` records both text lists and
        ``norm``, the length of the mean difference.

    Example:
        >>> import latentlab as ll                                                  # doctest: +SKIP
        >>> gen = ll.from_diffusers("stabilityai/sd-turbo")                         # doctest: +SKIP
        >>> smile = ll.directions.from_prompts(gen, ["a smiling face"], ["a face"])  # doctest: +SKIP
        >>> p = smile.apply(gen.embed("a portrait"), smile.provenance["norm"])      # doctest: +SKIP
        >>> gen.decode(p, space="prompt", seed=1)                                   # doctest: +SKIP
    """
    if not gen.can("prompt"):
        raise CapabilityError(
            f"model {gen.name!r} takes no prompts",
            expected="a text-conditioned generator",
            got=f"capabilities {sorted(gen.capabilities) or 'none'}",
            fix="use ll.directions.from_labels / pca for unconditional models",
        )
    pos, neg = as_prompt_list(positive), as_prompt_list(negative)
    space = gen.space("prompt")
    diff = gen.embed(pos).double().mean(0) - gen.embed(neg).double().mean(0)
    norm = float(diff.norm())
    if norm < 1e-12:
        raise InvalidValueError(
            "the two sets of texts embed to the same mean",
            expected="texts that differ",
            got={"positive": pos, "negative": neg},
            fix="describe the attribute in one set only",
        )
    prov = base_provenance(
        "from_prompts",
        params={"positive": pos, "negative": neg, "space": space.name},
        n_samples=len(pos) + len(neg),
        norm=norm,
    )
    return Direction(diff.float().cpu(), space, name=name or pos[0], provenance=prov)


class _HSpace(Generator):
    """A generator's UNet h-space as a space of its own, for the PCA finder (it does not decode)."""

    def __init__(self, gen: Any, shape: tuple[int, ...]) -> None:
        space = LatentSpace("h", shape, "none", model=gen.name, description="UNet mid-block output (h-space)")
        super().__init__([space], gen.image_size)
        self.name = gen.name

    def _decode(self, latents: torch.Tensor, space: LatentSpace) -> torch.Tensor:
        raise CapabilityError(
            "h-space activations are not latents",
            expected="gen.decode(z, h_edit=[(d, s)])",
            got="decode of an h-space vector",
            fix="apply h-space directions as decode options",
        )


def h_space(
    gen: Any,
    n_samples: int = 64,
    n_components: int = 8,
    *,
    prompt: Any = None,
    step: int = 0,
    steps: int | None = None,
    seed: int = 0,
    name: str = "h",
) -> DirectionSet:
    """Principal directions of a diffusion UNet's mid-block activations at one denoising step.

    Samples ``n_samples`` noises (from ``seed``), runs the sampler to step ``step`` with ``prompt``
    and collects ``unet.mid_block``'s output, then runs :func:`~latentlab.directions.pca` on them.

    Args:
        gen: a :class:`~latentlab.generators.diffusion.DiffusionGenerator`.
        n_samples: activations to collect (one per noise).
        n_components: principal directions to keep.
        prompt: the text (default ``gen.prompt``).
        step: the denoising step they are read at (0: the noisiest; Asyrp edits the early steps).
        steps: sampler steps (default ``gen.steps``).
        seed: seed of the noises.
        name: prefix of the direction names.

    Returns:
        A :class:`DirectionSet` in the space ``h`` of shape ``gen.h_shape()``. Use them as
        ``gen.decode(z, h_edit=[(d, 20.0)], h_steps=slice(0, gen.steps // 2))``.
    """
    if not callable(getattr(gen, "h_activations", None)):
        raise CapabilityError(
            f"model {gen.name!r} has no UNet h-space",
            expected="a diffusion pipeline generator",
            got=type(gen).__name__,
            fix="load one with ll.from_diffusers(...)",
        )
    noise = gen.sample(n_samples, seed=seed, space="noise")
    acts = gen.h_activations(noise, prompt=prompt, step=step, steps=steps)
    view = _HSpace(gen, tuple(acts.shape[1:]))
    found = pca(view, n_components=n_components, codes=acts, name=name)
    for d in found:
        d.provenance["params"].update(
            {
                "step": int(step),
                "steps": steps or gen.steps,
                "prompt": prompt or gen.prompt,
                "seed": int(seed),
                "where": "output of unet.mid_block",
            }
        )
        d.provenance["method"] = "h_space_pca"
    return found
