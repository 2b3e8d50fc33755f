"""Write notebooks/08_bring_your_own_model.ipynb: the three adapters (torch module, diffusers VAE, StyleGAN)."""

from __future__ import annotations

from _build import code, md, write

CELLS = [
    md("""
# Bring your own model

latentlab's tools (sampling, interpolation, directions, widgets, maps, animations) speak one small
interface, `Generator`. Three **adapters** turn models you already have into one:

| you have | one line |
|---|---|
| any PyTorch decoder | `ll.from_module(decoder, latent_shape, output_range=(-1, 1))` |
| a diffusers `AutoencoderKL` (Stable Diffusion VAEs) | `ll.from_diffusers_vae("stabilityai/sd-vae-ft-mse")` |
| an NVlabs StyleGAN2-ADA / StyleGAN3 pickle | `ll.from_stylegan("network.pkl", trust=True)` |

So that this notebook runs offline in a few seconds, each section builds a **tiny local model** and
shows, in a comment, the exact line you change to use a real checkpoint.
"""),
    code("""
import math
import pickle
import tempfile
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

import latentlab as ll

workdir = Path(tempfile.mkdtemp())
ll.models()   # the adapters are listed too (source "adapter")
"""),
    md("""
## 1. Any PyTorch decoder: `ll.from_module`

A decoder maps latents `(N, *latent_shape)` to images. Tell latentlab the latent shape and the range
of the decoder's output (`(-1, 1)` for a `tanh` output, `(0, 1)` for a sigmoid, `"logits"` for raw
logits); it converts to its own layout, `(N, 3, H, W)` in `[0, 1]`, and turns grayscale into RGB.

As "your" model we borrow the decoder of the bundled `digits` VAE, which outputs 8x8 logits.
An optional `encoder` (images in the decoder's own range and channels -> latents, or
`(mean, logvar)`) enables `gen.encode`.
"""),
    code("""
vae = ll.load("digits").model          # stand-in for your own trained nn.Module
# With your own model, change these lines, e.g.:
#   decoder = MyDecoder(); decoder.load_state_dict(torch.load("decoder.pt", weights_only=True))
#   gen = ll.from_module(decoder, latent_shape=128, output_range=(-1, 1), name="my-model")
gen = ll.from_module(vae.decode_logits, latent_shape=16, output_range="logits",
                     encoder=vae.encode_stats, name="my-decoder")
z = gen.sample(16, seed=0)
print(gen)
ll.show(gen.decode(z), nrow=8, scale=4)
"""),
    md("""
Everything else in latentlab now works on it. Here: encode real digits (scikit-learn's 8x8 scans,
dark ink on white as the model was trained), and walk between two of them on a great circle.
"""),
    code("""
from sklearn.datasets import load_digits

scans = 1 - torch.tensor(load_digits().images[:8], dtype=torch.float32).unsqueeze(1) / 16   # (8, 1, 8, 8)
codes = gen.encode(scans)                       # (8, 16) posterior means
path = ll.slerp(codes[0], codes[1], steps=8)    # (8, 16), exact endpoints
ll.show(torch.cat([scans.expand(-1, 3, -1, -1), gen.decode(codes), gen.decode(path)]), nrow=8, scale=4)
"""),
    md("""
If the decoder returns the wrong layout, the error says what to change, e.g. for channels-last output:
"""),
    code("""
channels_last = lambda z: torch.zeros(len(z), 8, 8, 3)   # (N, H, W, 3): a common mistake
try:
    ll.from_module(channels_last, latent_shape=16)
except ll.ShapeError as err:
    print(err)
else:
    raise AssertionError("expected ll.ShapeError: this call must be refused")
"""),
    md("""
## 2. A diffusers VAE: `ll.from_diffusers_vae`

Stable Diffusion's VAE encodes an image into a small latent *image* `(C, h, w)` (4x64x64 for 512 px).
The adapter applies the model's `scaling_factor` (and `shift_factor`, or per-channel
`latents_mean`/`latents_std`) both ways, so latents are exactly what a diffusion model sees, with
about unit variance. Encoding gives the posterior mean (or a seeded sample), and `tiled=True` decodes
large images in overlapping tiles.

Offline, we build a tiny **untrained** `AutoencoderKL` and save it the way hub models are stored,
so its images are noise: the point here is the wiring. Change the one line to load a real VAE.
"""),
    code("""
from diffusers import AutoencoderKL

tiny = AutoencoderKL(block_out_channels=(8, 16), down_block_types=("DownEncoderBlock2D",) * 2,
                     up_block_types=("UpDecoderBlock2D",) * 2, latent_channels=4, norm_num_groups=4,
                     sample_size=32)
tiny.save_pretrained(workdir / "tiny-vae")       # a folder like the hub's: config.json + safetensors

# For a real VAE (needs the download once, or a local folder), change this line to e.g.
#   vae_gen = ll.from_diffusers_vae("stabilityai/sd-vae-ft-mse", dtype=torch.float16, device="cuda")
#   vae_gen = ll.from_diffusers_vae("path/to/stable-diffusion", subfolder="vae", image_size=512)
vae_gen = ll.from_diffusers_vae(workdir / "tiny-vae")
print(vae_gen, "\\nscaling_factor:", vae_gen.scaling_factor)
"""),
    code("""
z = vae_gen.sample(4, seed=0)                     # (4, 4, 16, 16): scaled latents, normal prior
images = vae_gen.decode(z)                        # (4, 3, 32, 32) in [0, 1]
again = vae_gen.encode(images)                    # (4, 4, 16, 16) posterior means
drawn = vae_gen.encode(images, posterior="sample", seed=0)
print(tuple(z.shape), "->", tuple(images.shape), "->", tuple(again.shape))
assert z.shape == again.shape == drawn.shape == (4, 4, 16, 16) and images.shape == (4, 3, 32, 32)

big = ll.from_diffusers_vae(workdir / "tiny-vae", image_size=64, tiled=True)   # larger than sample_size
print("tiled decode:", tuple(big.decode(big.sample(1, seed=0)).shape))
assert big.decode(big.sample(1, seed=0)).shape == (1, 3, 64, 64)
ll.show(images, scale=2)
"""),
    md("""
## 3. StyleGAN2 / StyleGAN3: `ll.from_stylegan`

NVlabs networks have a mapping network `z -> w` and a synthesis network that takes one `w` row per
layer (`w+`, `num_ws` rows: StyleGAN3 has 16 where StyleGAN2 has 8 at the same size). The adapter
gives three spaces: **`w`** (the default; sampled by mapping `z`), **`w+`** and **`z`**, plus
truncation, noise mode, style mixing, class labels (`c`) and SeFa directions from the
modulation (`*.affine`) weights.

Below is a tiny randomly initialised network with the same interface as NVlabs' `G_ema`
(`mapping`, `mapping.w_avg`, `synthesis`, `z_dim`, `w_dim`, `num_ws`, `c_dim`, `img_resolution`).
It draws smooth colour fields rather than faces, enough to see each feature at work.
"""),
    code("""
class Affine(nn.Module):            # NVlabs' FullyConnectedLayer: w -> one style (scale) per channel
    def __init__(self, w_dim, channels):
        super().__init__()
        self.weight, self.bias = nn.Parameter(torch.randn(channels, w_dim)), nn.Parameter(torch.ones(channels))
        self.weight_gain = 1 / math.sqrt(w_dim)

    def forward(self, w):
        return F.linear(w, self.weight * self.weight_gain, self.bias)


class Layer(nn.Module):             # a modulated conv: scale the input channels by the style
    def __init__(self, w_dim, c_in, c_out, up):
        super().__init__()
        k = 3 if c_out > 3 else 1
        self.up, self.affine = up, Affine(w_dim, c_in)
        self.conv = nn.Conv2d(c_in, c_out, k, padding=k // 2, padding_mode="reflect")
        nn.init.normal_(self.conv.weight, std=1.5 / math.sqrt(c_in * k * k))

    def forward(self, x, w):
        x = F.interpolate(x, scale_factor=2, mode="bilinear") if self.up else x
        return self.conv(x * self.affine(w)[:, :, None, None])


class Mapping(nn.Module):
    def __init__(self, z_dim, w_dim, num_ws):
        super().__init__()
        self.num_ws = num_ws
        self.net = nn.Sequential(nn.Linear(z_dim, w_dim), nn.LeakyReLU(0.2), nn.Linear(w_dim, w_dim))
        self.register_buffer("w_avg", torch.zeros(w_dim))

    def forward(self, z, c, truncation_psi=1, truncation_cutoff=None):
        return self.net(z).unsqueeze(1).repeat(1, self.num_ws, 1)     # (N, num_ws, w_dim)


class Synthesis(nn.Module):
    def __init__(self, w_dim, resolution, channels=32):
        super().__init__()
        self.const = nn.Parameter(torch.randn(channels, 4, 4))
        n_up = int(math.log2(resolution)) - 2
        self.layers = nn.ModuleList([Layer(w_dim, channels, channels, up=i > 0) for i in range(n_up + 1)])
        self.torgb = Layer(w_dim, channels, 3, up=False)
        self.num_ws = len(self.layers) + 1

    def forward(self, ws, noise_mode="const"):
        x = self.const.expand(len(ws), -1, -1, -1)
        for i, layer in enumerate(self.layers):
            x = torch.sin(layer(x, ws[:, i]))
        return torch.tanh(self.torgb(x, ws[:, -1]))                    # (N, 3, H, W) in [-1, 1]


class TinyG(nn.Module):
    def __init__(self, z_dim=32, w_dim=32, resolution=64):
        super().__init__()
        self.z_dim, self.w_dim, self.c_dim, self.img_resolution = z_dim, w_dim, 0, resolution
        self.synthesis = Synthesis(w_dim, resolution)
        self.num_ws = self.synthesis.num_ws
        self.mapping = Mapping(z_dim, w_dim, self.num_ws)
        with torch.no_grad():   # NVlabs tracks w_avg during training; here: the mean of many mapped z
            self.mapping.w_avg.copy_(self.mapping(torch.randn(4096, z_dim), None)[:, 0].mean(0))


torch.manual_seed(0)
with open(workdir / "tiny-stylegan.pkl", "wb") as f:     # NVlabs pickles are dicts with "G_ema"
    pickle.dump({"G_ema": TinyG()}, f)
"""),
    md("""
**Pickles run code when loaded**, so `from_stylegan` refuses a path unless you pass `trust=True`
(do that only for files from a source you trust, like NVlabs' own downloads):
"""),
    code("""
try:
    ll.from_stylegan(workdir / "tiny-stylegan.pkl")
except ll.UntrustedPickleError as err:
    print(err)
else:
    raise AssertionError("expected ll.UntrustedPickleError: this call must be refused")
"""),
    md("""
Real NVlabs pickles also need NVlabs' own code (`torch_utils`, `dnnlib`), which is not a pip
package: clone https://github.com/NVlabs/stylegan3 and pass its folder as `code_path=`. While
unpickling, latentlab supplies `pkg_resources.parse_version` if your setuptools no longer ships
`pkg_resources` (StyleGAN3's `torch_utils` imports it); StyleGAN3 also needs `pip install scipy`.
"""),
    code("""
# For a real network, change this line to e.g.
#   sg = ll.from_stylegan("stylegan3-t-ffhqu-256x256.pkl", trust=True, code_path="stylegan3", device="cuda")
sg = ll.from_stylegan(workdir / "tiny-stylegan.pkl", trust=True)
print(sg)
w = sg.sample(8, seed=0)                 # (8, w_dim): z ~ N(0, 1) mapped through the mapping network
ll.show(sg.decode(w), nrow=8)
"""),
    md("""
**Truncation** pulls `w` towards the average `w_avg`: `w_avg + psi * (w - w_avg)`. Rows below:
`psi = 1, 0.7, 0.4, 0`. Set `sg.truncation_psi = 0.7` to apply it to every `sample` and `z -> w`
mapping (`truncation_cutoff` limits it to the first rows of `w+`).
"""),
    code("""
ll.show(torch.cat([sg.decode(sg.truncate(w[:6], psi=psi)) for psi in (1, 0.7, 0.4, 0)]), nrow=6)
"""),
    md("""
**Style mixing**: `w+` latents whose rows in `layers` come from a second latent. Early rows hold the
coarse layout, late rows the fine detail and colour. Row 1: sources A; row 2: sources B; row 3: A's
coarse rows with B's fine rows.
"""),
    code("""
a, b = sg.sample(6, seed=1), sg.sample(6, seed=2)
mixed = sg.mix(a, b, layers=range(3, sg.num_ws))        # (6, num_ws, w_dim) in "w+"
ll.show(torch.cat([sg.decode(a), sg.decode(b), sg.decode(mixed, space="w+")]), nrow=6)
"""),
    md("""
**Directions.** SeFa factorises the modulation weights (`sg.affine_layers()`) in closed form, no
sampling needed; GANSpace-style PCA samples `w`. Each row moves one latent along one direction.
"""),
    code("""
found = ll.directions.sefa(sg, n_components=3)
start = sg.sample(1, seed=3)[0]            # one latent (w_dim,)
strengths = torch.linspace(-4, 4, 7)
ll.show(torch.cat([sg.decode(d.apply(start, strength=strengths)) for d in found]), nrow=7)
"""),
    md("""
For a class-conditional network (`c_dim > 0`) choose the class with `ll.from_stylegan(..., c=3)` or
`sg.c = 3`. Every other notebook of this course works with `sg`, `vae_gen` and `gen` as with the
bundled models: try `ll.Explorer` or `ll.save_morph` on them.
"""),
]


if __name__ == "__main__":
    print(write("08_bring_your_own_model", CELLS))
