"""Generators: the interface, the registry, bundled models and adapters."""

from .base import CAPABILITIES, Generator
from .registry import ModelInfo, load, models, register
from .vae import VAE, VAEConfig, VAEGenerator, load_vae, save_vae

__all__ = [
    "CAPABILITIES",
    "Generator",
    "ModelInfo",
    "load",
    "models",
    "register",
    "VAE",
    "VAEConfig",
    "VAEGenerator",
    "load_vae",
    "save_vae",
]
