"""The one interface every generator speaks: :class:`Generator`.

Only modules under ``latentlab.generators`` know an architecture; everything else
speaks this interface and plain tensors:

* latents are ``torch.Tensor`` of shape ``(N, *space.shape)``; a single latent of
  shape ``space.shape`` is accepted and the batch dim is dropped again on output;
* images are ``float (N, 3, H, W)`` in ``[0, 1]``;
* outputs follow the input's device and floating dtype (numpy input gives tensors
  on the generator's device).

Subclasses implement :meth:`Generator._decode` (and optionally ``_encode``,
``_map``) on already-checked, batched float32 tensors on ``self.device``.

Optional capabilities are declared, typed methods of this class: ``codes``, ``labels``,
``preview``, ``sefa_weight``, ``encode_font``, ``embed`` ... A generator that has one lists it
in :attr:`Generator.capabilities` and overrides the method; on any other generator the method
raises :class:`~latentlab.errors.CapabilityError`. Callers ask ``gen.can(name)`` first, never
``hasattr``. :func:`latentlab.testing.check_generator` checks that the two agree.
"""

from __future__ import annotations

import abc
import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import torch

from .._checks import as_batched_images, as_batched_latents, check_finite, check_int
from ..errors import CapabilityError, InvalidValueError, UnknownSpaceError
from ..spaces import LatentSpace

__all__ = ["Generator", "CAPABILITIES"]

G = TypeVar("G", bound="Generator")

#: Optional capabilities a generator may declare; ask with ``gen.can(name)``.
CAPABILITIES = frozenset({"encode", "encode_font", "map", "codes", "labels", "sefa", "preview", "prompt"})


class Generator(abc.ABC):
    """A pretrained generator behind one interface.

    Attributes:
        name: model id (``"digits"``, ``"glyphs"``, ``"sd-vae"`` ...).
        spaces: the latent spaces, the default first.
        image_size: ``(H, W)`` of decoded images.
        capabilities: which optional methods work (see :data:`CAPABILITIES`).

    Example:
        >>> import latentlab as ll
        >>> gen = ll.load("digits")
        >>> z = gen.sample(4, seed=0)
        >>> gen.decode(z).shape
        torch.Size([4, 3, 32, 32])
        >>> gen.decode(z[0]).shape            # one latent, no batch dim
        torch.Size([3, 32, 32])
        >>> gen.can("encode")
        True
    """

    name: str = "generator"
    capabilities: frozenset[str] = frozenset()
    #: Brightness of the empty image ("paper") in ``[0, 1]``: encoders pad and paint masked
    #: pixels with it (white for digits and glyphs).
    background: float = 1.0
    #: The current text of a text-conditioned generator (``"prompt"`` in :attr:`capabilities`):
    #: what ``decode`` of noise latents uses when no prompt is given. ``None`` for the others.
    prompt: str | None = None

    def __init__(self, spaces: Sequence[LatentSpace], image_size: tuple[int, int]) -> None:
        if not spaces:
            raise ValueError("a generator needs at least one latent space")
        self._spaces = tuple(spaces)
        self.image_size = (int(image_size[0]), int(image_size[1]))
        self._device = torch.device("cpu")

    # -- spaces ---------------------------------------------------------------
    @property
    def spaces(self) -> tuple[LatentSpace, ...]:
        """All latent spaces; the first is the default."""
        return self._spaces

    @property
    def default_space(self) -> LatentSpace:
        """The space used when ``space=`` is not given."""
        return self._spaces[0]

    def space(self, name: str | LatentSpace | None = None) -> LatentSpace:
        """Look up a space by name (``None`` -> the default space)."""
        if name is None:
            return self.default_space
        if isinstance(name, LatentSpace):
            if name in self._spaces:
                return name
            name_str = name.key
        else:
            name_str = name
            for s in self._spaces:
                if s.name == name:
                    return s
        raise UnknownSpaceError(
            f"model {self.name!r} has no latent space {name_str!r}",
            expected=" or ".join(repr(s.name) for s in self._spaces),
            got=repr(name_str),
            fix=f"pass space={self.default_space.name!r} or leave it out for the default",
        )

    # -- capabilities ---------------------------------------------------------
    def can(self, capability: str) -> bool:
        """Whether the optional ``capability`` (``"encode"``, ``"map"``, ...) is available."""
        return capability in self.capabilities

    def _require(self, capability: str, hint: str) -> None:
        if not self.can(capability):
            raise CapabilityError(
                f"model {self.name!r} cannot {capability}",
                expected=f"a generator with the {capability!r} capability",
                got=f"capabilities {sorted(self.capabilities) or 'none'}",
                fix=hint,
            )

    def _unimplemented(self, capability: str, hint: str) -> NotImplementedError:
        """The error of a base capability method: CapabilityError if undeclared, else a missing override."""
        self._require(capability, hint)
        return NotImplementedError(f"{type(self).__name__} declares {capability!r} but does not implement it")

    # -- device ---------------------------------------------------------------
    @property
    def device(self) -> torch.device:
        """Device the model's weights live on."""
        return self._device

    def to(self: G, device: str | torch.device) -> G:
        """Move the model to ``device`` and return ``self``."""
        self._device = torch.device(device)
        self._move(self._device)
        return self

    def _move(self, device: torch.device) -> None:  # noqa: B027 - optional hook, not abstract
        """Move weights; subclasses with modules override this."""

    # -- sampling -------------------------------------------------------------
    def sample(
        self,
        n: int,
        seed: int | torch.Generator | None = None,
        space: str | LatentSpace | None = None,
        temperature: float = 1.0,
    ) -> torch.Tensor:
        """Draw ``n`` latents from the prior of ``space``.

        Args:
            n: number of latents.
            seed: an int or a ``torch.Generator``; the same seed gives the same latents.
                ``None`` draws fresh randomness (without touching torch's global state).
            space: space name; default space when ``None``.
            temperature: scale of the prior (``< 1`` gives more typical samples).

        Returns:
            ``(n, *space.shape)`` float32 tensor on ``self.device``.
        """
        s = self.space(space)
        n = check_int(n, "n", 1, fix="pass n=1 or more", message="sample() needs at least one latent")
        if not temperature > 0:
            raise InvalidValueError(
                "temperature must be positive",
                expected="temperature > 0",
                got=temperature,
                fix="use 1.0 for the prior, smaller for more typical samples",
            )
        rng = as_generator(seed)
        z = self._sample(int(n), s, rng, float(temperature))
        return z.to(self.device)

    def _sample(self, n: int, space: LatentSpace, rng: torch.Generator, temperature: float) -> torch.Tensor:
        """``n`` prior draws in ``space`` at ``temperature`` (``(n, *space.shape)``, CPU or ``self.device``).

        The default scales a standard normal by ``temperature``; generators with another prior
        (a fitted mixture, a joint space) override it and decide what the temperature scales.
        """
        if space.prior != "normal":
            raise CapabilityError(
                f"space {space.name!r} of {self.name!r} has no prior to sample from",
                expected="a space with a normal prior",
                got=f"prior {space.prior!r}",
                fix=f"sample in {self.default_space.name!r} and map, or encode real images",
            )
        return torch.randn((n, *space.shape), generator=rng) * temperature

    # -- decode / encode / map ------------------------------------------------
    def decode(self, latents: Any, space: str | LatentSpace | None = None) -> torch.Tensor:
        """Render latents as images.

        Args:
            latents: ``(N, *space.shape)`` or ``(*space.shape)``; tensor or numpy.
            space: the space the latents live in (default space when ``None``).

        Returns:
            ``(N, 3, H, W)`` (or ``(3, H, W)``) float in ``[0, 1]``, on the input's
            device and floating dtype.
        """
        return self._run_decoder(self._decode, latents, space)

    def _run_decoder(
        self,
        decoder: Callable[[torch.Tensor, LatentSpace], torch.Tensor],
        latents: Any,
        space: str | LatentSpace | None,
    ) -> torch.Tensor:
        """What :meth:`decode` does around ``decoder`` (``_decode`` or a variant such as a preview):
        check and batch the latents, run without gradients, clamp, follow the input's device and dtype."""
        s = self.space(space)
        z, batched = as_batched_latents(latents, s)
        out_device, out_dtype = _output_placement(latents, self.device)
        with torch.no_grad():
            images = decoder(z.to(self.device, torch.float32), s)
        images = images.clamp(0, 1).to(out_device, out_dtype)  # not clamp_: _decode may return an expand()ed view
        return images if batched else images[0]

    @abc.abstractmethod
    def _decode(self, latents: torch.Tensor, space: LatentSpace) -> torch.Tensor:
        """Decode checked ``(N, *space.shape)`` float32 latents on ``self.device`` to ``(N, 3, H, W)``."""

    def measure_views(self, latents: torch.Tensor, space: str | LatentSpace | None = None) -> tuple[torch.Tensor, int]:
        """The images that image measures (:mod:`latentlab.measures`) should see, ``K`` per latent.

        Measures such as slant or stroke weight describe one object; a generator whose image
        shows several (a line of glyphs) returns them one by one, and callers average the ``K``
        values of each latent. By default this is :meth:`decode` with ``K = 1``.

        Returns:
            ``(images (N * K, 3, h, w), K)``, the ``K`` views of each latent consecutive.
        """
        return self.decode(latents, space=space), 1

    def decode_differentiable(self, latents: torch.Tensor, space: str | LatentSpace | None = None) -> torch.Tensor:
        """Like :meth:`decode` but keeps the autograd graph (for encoding by optimisation, Jacobians).

        Args:
            latents: ``(N, *space.shape)`` float tensor on ``self.device``.

        Returns:
            ``(N, 3, H, W)`` in ``[0, 1]``.
        """
        s = self.space(space)
        z, _ = as_batched_latents(latents, s)
        return self._decode(z, s)

    def encode(self, images: Any, space: str | LatentSpace | None = None) -> torch.Tensor:
        """Encode images with the model's own encoder (where it has one).

        Args:
            images: ``(N, 3, H, W)`` or ``(3, H, W)`` in ``[0, 1]`` (uint8 is scaled),
                at ``self.image_size``.

        Returns:
            ``(N, *space.shape)`` latents (posterior means for VAEs).
        """
        self._require("encode", "use latentlab.encode(gen, images, method='optimize') instead")
        s = self.space(space)
        x, batched = as_batched_images(images, self.image_size)
        out_device, out_dtype = _output_placement(images, self.device)
        with torch.no_grad():
            z = self._encode(x.to(self.device, torch.float32), s)
        z = check_finite(z, name="encoded latents").to(out_device, out_dtype)
        return z if batched else z[0]

    def _encode(self, images: torch.Tensor, space: LatentSpace) -> torch.Tensor:
        raise NotImplementedError

    def map(self, latents: Any, src: str | LatentSpace, dst: str | LatentSpace) -> torch.Tensor:
        """Map latents from one space to another (e.g. StyleGAN ``z -> w``).

        Returns:
            ``(N, *dst.shape)`` latents.
        """
        self._require("map", "this model has a single space; no mapping is needed")
        s_src, s_dst = self.space(src), self.space(dst)
        z, batched = as_batched_latents(latents, s_src)
        out_device, out_dtype = _output_placement(latents, self.device)
        with torch.no_grad():
            w = self._map(z.to(self.device, torch.float32), s_src, s_dst)
        w = w.to(out_device, out_dtype)
        return w if batched else w[0]

    def _map(self, latents: torch.Tensor, src: LatentSpace, dst: LatentSpace) -> torch.Tensor:
        raise NotImplementedError

    # -- optional capabilities ------------------------------------------------
    def codes(self) -> torch.Tensor:
        """Latents of the model's own training set, ``(F, *default_space.shape)`` (capability ``"codes"``).

        Row ``i`` belongs to ``labels()[key][i]``; PCA of these gives the model's own directions.
        """
        raise self._unimplemented("codes", "this model ships no training codes: sample or encode latents instead")

    def labels(self) -> dict[str, Any]:
        """Labels of the training set behind :meth:`codes`: name -> length-``F`` array (capability ``"labels"``)."""
        raise self._unimplemented(
            "labels", "this model ships no labels: measure samples instead (ll.directions.measure_samples)"
        )

    def preview(self, latents: Any, space: str | LatentSpace | None = None) -> torch.Tensor:
        """A cheaper, smaller rendering than :meth:`decode` for dragging in widgets (capability ``"preview"``).

        Returns:
            ``(N, 3, h, w)`` (``h, w`` at most ``image_size``) in ``[0, 1]``, like :meth:`decode`.
        """
        raise self._unimplemented("preview", "use decode(); widgets do so when a model has no preview")

    def sefa_weight(self, space: LatentSpace) -> torch.Tensor:
        """The weight ``(out, D)`` applied first to latents of ``space``, for SeFa (capability ``"sefa"``)."""
        raise self._unimplemented("sefa", "use ll.directions.pca(gen) or ll.directions.jacobian(gen) instead")

    def encode_font(self, path: str | os.PathLike[str], chars: str | None = None) -> torch.Tensor:
        """The latent ``(*default_space.shape)`` of a font file (capability ``"encode_font"``, glyph models)."""
        raise self._unimplemented("encode_font", "load a glyph model: ll.load('glyphs')")

    def pixel_mask(self, mask: Any) -> Any:
        """Turn a model-specific mask (e.g. observed characters of a specimen) into a pixel mask.

        :func:`latentlab.encode` calls it on every ``mask=``; the default returns ``mask`` as given
        (already a pixel mask ``(H, W)``, ``(N, H, W)`` or ``(N, 1|3, H, W)``).
        """
        return mask

    # -- text conditioning (generators with the "prompt" capability) ----------
    def embed(self, prompts: str | Sequence[str]) -> torch.Tensor:
        """Prompt latents for ``prompts``: ``(N, *prompt.shape)`` in the ``prompt`` space.

        Only text-conditioned generators (``gen.can("prompt")``) have it; they cache the
        embedding of each text, so a long morph between a few prompts encodes each once.

        Args:
            prompts: one text or a list of texts (non-empty strings).
        """
        self._require("prompt", "only text-conditioned generators (ll.from_diffusers, 'glyphs-text') take prompts")
        return self._embed(as_prompt_list(prompts))

    def _embed(self, texts: list[str]) -> torch.Tensor:
        raise NotImplementedError

    def compose(
        self,
        noise: Any = None,
        prompt: str | Sequence[str] | torch.Tensor | None = None,
        *,
        seed: int | torch.Generator | None = None,
    ) -> torch.Tensor:
        """Joint latents ``(N, D)`` of the ``joint`` space from a noise and a prompt.

        Args:
            noise: ``(N, *noise.shape)`` latents; ``None`` draws one from ``seed``.
            prompt: a text, a list of texts (one per noise, or one for all), or prompt latents
                ``(N, *prompt.shape)``; ``None`` uses the generator's current ``prompt``.
            seed: the seed of the noise when ``noise`` is ``None``.

        ``gen.space("joint").split(z)`` takes them apart again.
        """
        self._require("prompt", "only text-conditioned generators have a joint noise + prompt space")
        if noise is None:
            noise = self.sample(1, seed=seed, space="noise")
        noise_t, _ = as_batched_latents(noise, self.space("noise"), name="noise")
        prompt_t = self._prompt_latents(prompt)
        return self.space("joint").join({"noise": noise_t.to(prompt_t.device), **self._prompt_parts(prompt_t)})

    def keyframes(self, pairs: Sequence[tuple[str, int]]) -> torch.Tensor:
        """Joint latents ``(K, D)`` from ``(prompt text, seed)`` pairs: the keyframes of a morph.

        Example (any text-conditioned generator)::

            keys = gen.keyframes([("a red fox", 1), ("a blue bird", 7)])
            ll.save_morph(gen, keys, "fox_to_bird.mp4", space="joint")
        """
        if not pairs:
            raise InvalidValueError(
                "keyframes() needs at least one (prompt, seed) pair",
                expected="a list such as [('a red fox', 1), ('a blue bird', 7)]",
                got="an empty list",
                fix="pass two or more pairs for a morph",
            )
        return torch.cat([self.compose(prompt=str(text), seed=int(seed)) for text, seed in pairs])

    def _prompt_latents(self, prompt: str | Sequence[str] | torch.Tensor | None) -> torch.Tensor:
        """Prompt latents from text (embedded, cached) or as given (checked against the ``prompt`` space)."""
        if prompt is None:
            prompt = self.prompt
            if prompt is None:
                raise InvalidValueError(
                    "no prompt given and the generator has no current prompt",
                    expected="a text, a list of texts or prompt latents",
                    got="None",
                    fix="pass prompt='...' or set gen.prompt = '...'",
                )
        if isinstance(prompt, str) or (isinstance(prompt, Sequence) and not isinstance(prompt, torch.Tensor)):
            return self.embed(prompt)
        t, _ = as_batched_latents(prompt, self.space("prompt"), name="prompt latents")
        return t

    def _prompt_parts(self, prompt: torch.Tensor) -> dict[str, torch.Tensor]:
        """The joint space's parts made from ``(N, *prompt.shape)`` prompt latents (SDXL splits off its pooled part)."""
        return {"prompt": prompt}

    def __repr__(self) -> str:
        spaces = ", ".join(s.describe() for s in self.spaces)
        h, w = self.image_size
        return f"<{type(self).__name__} {self.name!r}: {spaces}; images {h}x{w}; device {self.device}>"


def as_generator(seed: int | torch.Generator | None) -> torch.Generator:
    """A ``torch.Generator`` from a seed (int), itself, or fresh OS randomness for ``None``."""
    if isinstance(seed, torch.Generator):
        return seed
    rng = torch.Generator()
    if seed is None:
        rng.seed()
    else:
        rng.manual_seed(int(seed))
    return rng


def as_prompt_list(prompts: str | Sequence[str]) -> list[str]:
    """``prompts`` as a non-empty list of non-empty texts, or a clear error."""
    texts = [prompts] if isinstance(prompts, str) else list(prompts) if isinstance(prompts, Sequence) else None
    if texts is None or not texts or not all(isinstance(t, str) and t.strip() for t in texts):
        raise InvalidValueError(
            "prompts must be a non-empty text or a non-empty list of non-empty texts",
            expected="'a red fox' or ['a red fox', 'a blue bird']",
            got=repr(prompts)[:80],
            fix="pass words describing the image",
        )
    return texts


def _output_placement(original: Any, default: torch.device) -> tuple[torch.device, torch.dtype]:
    """Outputs follow a tensor input's device and floating dtype; numpy goes to ``default``."""
    if isinstance(original, torch.Tensor):
        dtype = original.dtype if original.is_floating_point() else torch.float32
        return original.device, dtype
    return default, torch.float32


_as_generator = as_generator  # the old private name, for code written before it became public
