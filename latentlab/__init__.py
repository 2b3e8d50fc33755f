"""latentlab: explore the latent spaces of pretrained generators, in Jupyter.

Example:
    >>> import latentlab as ll
    >>> gen = ll.load("digits")
    >>> images = gen.decode(gen.sample(8, seed=0))
    >>> tuple(images.shape)
    (8, 3, 32, 32)
"""

from .errors import (
    CapabilityError,
    ChecksumError,
    ExportError,
    IncompatibleLatentError,
    InputImageError,
    InvalidValueError,
    LatentLabError,
    MissingDependencyError,
    ShapeError,
    UnknownModelError,
    UnknownSpaceError,
    UntrustedPickleError,
)
from .generators import Generator, ModelInfo, load, models, register
from .render import grid, grid_image, jpeg_bytes, png_bytes, show, to_pil
from .spaces import LatentSpace

__version__ = "0.1.0"

__all__ = [
    "__version__",
    # models
    "Generator",
    "LatentSpace",
    "ModelInfo",
    "load",
    "models",
    "register",
    # rendering
    "show",
    "grid",
    "grid_image",
    "to_pil",
    "png_bytes",
    "jpeg_bytes",
    # errors
    "LatentLabError",
    "ShapeError",
    "InvalidValueError",
    "UnknownModelError",
    "UnknownSpaceError",
    "IncompatibleLatentError",
    "CapabilityError",
    "ChecksumError",
    "MissingDependencyError",
    "UntrustedPickleError",
    "ExportError",
    "InputImageError",
]
