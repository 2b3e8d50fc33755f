"""latentlab: explore the latent spaces of pretrained generators, in Jupyter.

Example:
    >>> import latentlab as ll
    >>> gen = ll.load("digits")
    >>> images = gen.decode(gen.sample(8, seed=0))
    >>> tuple(images.shape)
    (8, 3, 32, 32)
"""

import warnings
from typing import TYPE_CHECKING, Any

from . import dataset, directions, measures, workshop
from ._version import __version__
from .animate import Animation, frames, save_grid_morph, save_morph, show_animation
from .directions import Direction, DirectionSet
from .doctor import doctor
from .encoding import EncodeResult, encode
from .errors import (
    CapabilityError,
    ChecksumError,
    ExportError,
    IncompatibleLatentError,
    InputImageError,
    InvalidValueError,
    LatentLabError,
    LatentShapeError,
    MissingDependencyError,
    ShapeError,
    UnknownModelError,
    UnknownSpaceError,
    UntrustedPickleError,
)
from .generators import Generator, ModelInfo, load, models, register
from .generators.diffusers_vae import from_diffusers_vae
from .generators.diffusion import from_diffusers
from .generators.module import from_module
from .generators.stylegan import from_stylegan
from .images import load_images
from .interpolation import analogy, blend, ease, interpolate, lerp, slerp
from .maps import LatentMap
from .paths import LatentPath
from .render import contact_sheet, grid, grid_image, jpeg_bytes, png_bytes, show, to_pil
from .settings import workshop_mode
from .spaces import LatentSpace
from .training import train

if TYPE_CHECKING:
    from .widgets import BlendPad, Explorer, MapWidget, Scrubber

_LAZY_WIDGETS = frozenset({"Explorer", "Scrubber", "BlendPad", "MapWidget"})


def __getattr__(name: str) -> Any:
    """``ll.Explorer`` & co. import :mod:`latentlab.widgets` on first use (keeps ``import latentlab`` fast).

    ``ll.Path`` is the old name of :class:`LatentPath` (it clashed with :class:`pathlib.Path`); it
    still works, with a :class:`DeprecationWarning`.
    """
    if name in _LAZY_WIDGETS:
        from . import widgets

        return getattr(widgets, name)
    if name == "Path":
        warnings.warn(
            "latentlab.Path is deprecated: use latentlab.LatentPath (same class)", DeprecationWarning, stacklevel=2
        )
        return LatentPath
    raise AttributeError(f"module 'latentlab' has no attribute {name!r}")


__all__ = [
    "__version__",
    # directions (ll.directions.from_labels, pca, sefa, ...; ll.measures)
    "directions",
    "measures",
    # data-set jobs (ll.dataset.render, encode, read; Parquet shards, local or Ray)
    "dataset",
    "Direction",
    "DirectionSet",
    # models
    "Generator",
    "LatentSpace",
    "ModelInfo",
    "load",
    "models",
    "register",
    # adapters for models you bring
    "from_diffusers",
    "from_diffusers_vae",
    "from_stylegan",
    "from_module",
    # encoding real images
    "encode",
    "EncodeResult",
    "load_images",
    # interpolation
    "lerp",
    "slerp",
    "interpolate",
    "blend",
    "analogy",
    "ease",
    "LatentPath",
    "train",
    # rendering
    "show",
    "grid",
    "grid_image",
    "to_pil",
    "png_bytes",
    "jpeg_bytes",
    "contact_sheet",
    # animation
    "save_morph",
    "save_grid_morph",
    "frames",
    "show_animation",
    "Animation",
    # maps
    "LatentMap",
    # live widgets (imported on first use: ipywidgets pulls in IPython)
    "Explorer",
    "Scrubber",
    "BlendPad",
    # teaching: ll.doctor() checks a laptop, ll.workshop has exercises, the gallery and workshop_mode()
    "doctor",
    "workshop",
    "workshop_mode",
    "MapWidget",
    # errors
    "LatentLabError",
    "ShapeError",
    "InvalidValueError",
    "UnknownModelError",
    "UnknownSpaceError",
    "IncompatibleLatentError",
    "LatentShapeError",
    "CapabilityError",
    "ChecksumError",
    "MissingDependencyError",
    "UntrustedPickleError",
    "ExportError",
    "InputImageError",
]
