"""A tiny network with the NVlabs StyleGAN2/3 interface, for adapter tests (no downloads, no NVlabs code).

Mirrors the attributes and call signatures of ``training/networks_stylegan2.py``:
``G.z_dim, G.c_dim, G.w_dim, G.num_ws, G.img_resolution, G.img_channels``,
``G.mapping(z, c, truncation_psi=1, truncation_cutoff=None)`` -> ``(N, num_ws, w_dim)``,
``G.mapping.w_avg``, ``G.synthesis(ws, noise_mode=...)`` -> ``(N, C, H, W)`` roughly in ``[-1, 1]``,
and modulation layers named ``*.affine`` (``FullyConnectedLayer`` with ``weight (out, w_dim)``).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class FullyConnectedLayer(nn.Module):
    def __init__(self, in_features: int, out_features: int, bias_init: float = 0.0) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features))
        self.bias = nn.Parameter(torch.full((out_features,), float(bias_init)))
        self.weight_gain = 1 / math.sqrt(in_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight * self.weight_gain, self.bias)


class MappingNetwork(nn.Module):
    def __init__(self, z_dim: int, c_dim: int, w_dim: int, num_ws: int) -> None:
        super().__init__()
        self.z_dim, self.c_dim, self.w_dim, self.num_ws = z_dim, c_dim, w_dim, num_ws
        self.embed = FullyConnectedLayer(c_dim, w_dim) if c_dim else None
        self.fc0 = FullyConnectedLayer(z_dim + (w_dim if c_dim else 0), w_dim)
        self.fc1 = FullyConnectedLayer(w_dim, w_dim)
        self.register_buffer("w_avg", torch.randn(w_dim) * 0.1)

    def forward(
        self,
        z: torch.Tensor,
        c: torch.Tensor,
        truncation_psi: float = 1,
        truncation_cutoff: int | None = None,
        update_emas: bool = False,
    ) -> torch.Tensor:
        x = z * (z.square().mean(1, keepdim=True) + 1e-8).rsqrt()
        if self.c_dim:
            assert c.shape == (len(z), self.c_dim), c.shape
            y = self.embed(c.to(z.dtype))
            x = torch.cat([x, y * (y.square().mean(1, keepdim=True) + 1e-8).rsqrt()], 1)
        x = F.leaky_relu(self.fc1(F.leaky_relu(self.fc0(x), 0.2)), 0.2)
        x = x.unsqueeze(1).repeat(1, self.num_ws, 1)
        if truncation_psi != 1:
            cut = self.num_ws if truncation_cutoff is None else truncation_cutoff
            x[:, :cut] = self.w_avg.lerp(x[:, :cut], truncation_psi)
        return x


class SynthesisLayer(nn.Module):
    def __init__(self, w_dim: int, channels: int, resolution: int, up: bool) -> None:
        super().__init__()
        self.up, self.resolution = up, resolution
        self.affine = FullyConnectedLayer(w_dim, channels, bias_init=1)
        self.weight = nn.Parameter(torch.randn(channels, channels, 3, 3) / math.sqrt(channels * 9))
        self.register_buffer("noise_const", torch.randn(resolution, resolution))
        self.noise_strength = nn.Parameter(torch.tensor(0.1))

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise_mode: str = "random") -> torch.Tensor:
        if self.up:
            x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        x = F.conv2d(x * self.affine(w)[:, :, None, None], self.weight, padding=1)
        if noise_mode == "random":
            x = x + torch.randn(len(x), 1, self.resolution, self.resolution) * self.noise_strength
        elif noise_mode == "const":
            x = x + self.noise_const * self.noise_strength
        return F.leaky_relu(x, 0.2)


class ToRGBLayer(nn.Module):
    def __init__(self, w_dim: int, channels: int, img_channels: int) -> None:
        super().__init__()
        self.affine = FullyConnectedLayer(w_dim, channels, bias_init=1)
        self.weight = nn.Parameter(torch.randn(img_channels, channels, 1, 1) / math.sqrt(channels))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x * self.affine(w)[:, :, None, None], self.weight)


class SynthesisNetwork(nn.Module):
    """Const 4x4 input, one layer at 4x4, upsampling layers to ``img_resolution``, ``extra`` more, ToRGB."""

    def __init__(self, w_dim: int, img_resolution: int, img_channels: int, channels: int = 16, extra: int = 0) -> None:
        super().__init__()
        self.w_dim, self.img_resolution, self.img_channels = w_dim, img_resolution, img_channels
        self.const = nn.Parameter(torch.randn(channels, 4, 4))
        layers = [SynthesisLayer(w_dim, channels, 4, up=False)]
        res = 4
        while res < img_resolution:
            res *= 2
            layers.append(SynthesisLayer(w_dim, channels, res, up=True))
        layers += [SynthesisLayer(w_dim, channels, res, up=False) for _ in range(extra)]
        self.layers = nn.ModuleList(layers)
        self.torgb = ToRGBLayer(w_dim, channels, img_channels)
        self.num_ws = len(layers) + 1

    def forward(self, ws: torch.Tensor, noise_mode: str = "random", force_fp32: bool = False) -> torch.Tensor:
        assert ws.shape[1:] == (self.num_ws, self.w_dim), ws.shape
        x = self.const.unsqueeze(0).expand(len(ws), -1, -1, -1)
        for i, layer in enumerate(self.layers):
            x = layer(x, ws[:, i], noise_mode=noise_mode)
        return torch.tanh(self.torgb(x, ws[:, -1]))


class Generator(nn.Module):
    """``Generator(z_dim, c_dim, w_dim, img_resolution, img_channels)`` like NVlabs' networks."""

    def __init__(
        self,
        z_dim: int = 8,
        c_dim: int = 0,
        w_dim: int = 12,
        img_resolution: int = 16,
        img_channels: int = 3,
        extra: int = 0,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.z_dim, self.c_dim, self.w_dim = z_dim, c_dim, w_dim
        self.img_resolution, self.img_channels = img_resolution, img_channels
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.synthesis = SynthesisNetwork(w_dim, img_resolution, img_channels, extra=extra)
            self.num_ws = self.synthesis.num_ws
            self.mapping = MappingNetwork(z_dim, c_dim, w_dim, self.num_ws)

    def forward(
        self,
        z: torch.Tensor,
        c: torch.Tensor,
        truncation_psi: float = 1,
        truncation_cutoff: int | None = None,
        noise_mode: str = "random",
    ) -> torch.Tensor:
        ws = self.mapping(z, c, truncation_psi=truncation_psi, truncation_cutoff=truncation_cutoff)
        return self.synthesis(ws, noise_mode=noise_mode)
