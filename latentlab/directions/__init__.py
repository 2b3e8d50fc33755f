"""Directions in latent space, with provenance: find them, apply them, measure what they do.

A :class:`Direction` is one or more unit vectors in one named space of one model
(``d.space.key`` such as ``"digits:z"``), plus a ``provenance`` dict saying how it was
found (method, parameters, number of samples, scores, created-at, library version).
Applying it to latents of another model, space or shape raises
:class:`~latentlab.errors.IncompatibleLatentError` naming both.

Finders:

* supervised, from labelled codes: :func:`from_labels` with ``mean_diff`` (balanced class
  means, plat-style), ``svm`` (linear SVM on the extreme quantiles, InterFaceGAN),
  ``logistic`` and ``ridge`` (continuous labels); each reports a held-out score;
* :func:`conditional`: a primary direction made orthogonal to any number of conditions;
* unsupervised: :func:`pca` (GANSpace), :func:`sefa` (closed-form factorisation of the
  first latent-facing weight), :func:`jacobian` (local image-changing directions);
* text-conditioned generators: :func:`from_prompts` (mean difference of prompt embeddings) and
  :func:`h_space` (PCA of a diffusion UNet's mid-block activations, applied while decoding).

Evaluation: :func:`preview` (image grids of both extremes), :func:`response` (a measured
image attribute against strength) and :func:`entanglement` (how much each direction moves
every measure). Measures live in :mod:`latentlab.measures`.

Example:
    >>> import torch, latentlab as ll
    >>> gen = ll.load("digits")
    >>> codes = gen.sample(400, seed=0)
    >>> y = codes[:, 3] > 0                      # a planted label along axis 3
    >>> d = ll.directions.from_labels(codes, y, method="mean_diff", space=gen, name="axis3")
    >>> d
    <Direction 'axis3' in digits:z (16,), mean_diff>
    >>> round(float(d.vector[3]), 1)
    1.0
    >>> d.apply(codes[:2], [-2.0, 0.0, 2.0]).shape   # (S, N, *shape)
    torch.Size([3, 2, 16])
"""

from ._common import UNBOUND as UNBOUND
from ._common import SpaceLike as SpaceLike
from .evaluation import EntanglementTable, Response, entanglement, measure_samples, preview, response
from .model import FORMAT as FORMAT
from .model import Direction, DirectionSet
from .supervised import Method as Method
from .supervised import conditional, from_labels
from .text import from_prompts, h_space
from .unsupervised import jacobian, pca, sefa

__all__ = [
    "Direction",
    "DirectionSet",
    "Response",
    "EntanglementTable",
    "from_labels",
    "conditional",
    "pca",
    "sefa",
    "jacobian",
    "from_prompts",
    "h_space",
    "measure_samples",
    "preview",
    "response",
    "entanglement",
]
