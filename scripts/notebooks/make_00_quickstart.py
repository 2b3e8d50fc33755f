"""Write notebooks/00_quickstart.ipynb: the first lesson (bundled digits model, offline, CPU)."""

from __future__ import annotations

from _build import code, md, write

CELLS = [
    md("""
# latentlab quickstart

A generative model turns a short list of numbers, a **latent**, into an image. latentlab wraps such
models behind one interface so you can *sample*, *decode*, *encode* and walk around their latent
spaces, right here in the notebook. Everything below runs offline on a laptop CPU.
"""),
    code("""
import torch
import latentlab as ll

ll.models()   # the models this installation knows
"""),
    md("""
## Load a model
`digits` is a small variational autoencoder (VAE) trained by latentlab on scikit-learn's 8x8
hand-written digits. Its latent space `z` has 16 dimensions with a standard normal prior.
"""),
    code("""
gen = ll.load("digits")
gen
"""),
    md("""
## Sample and decode
`sample` draws latents from the prior, `(N, 16)`; `decode` renders them as images `(N, 3, H, W)`
with values in `[0, 1]`. The same `seed` always gives the same latents.
"""),
    code("""
z = gen.sample(16, seed=0)
images = gen.decode(z)
print("latents", tuple(z.shape), "-> images", tuple(images.shape))
assert z.shape == (16, 16) and images.shape == (16, 3, *gen.image_size) and 0 <= images.min() <= images.max() <= 1
assert torch.equal(gen.sample(16, seed=0), z)   # the same seed, the same latents
ll.show(images, nrow=8)
"""),
    md("""
## The whole space of a 2-D model
`digits-2d` has a 2-D latent, so we can lay its entire space out on a grid: each tile is the image
at one point `(z0, z1)`. Neighbouring points give similar digits; that smoothness is what makes
latent spaces fun to explore.
"""),
    code("""
gen2 = ll.load("digits-2d")
ticks = torch.linspace(-2.2, 2.2, 12)
zz = torch.stack(torch.meshgrid(ticks, -ticks, indexing="xy"), dim=-1).reshape(-1, 2)
ll.show(gen2.decode(zz), nrow=12, scale=1.5)
"""),
    md("""
## Encode a real image
A VAE also has an encoder: it maps an image to the latent that best explains it. Here are five
real digits (top) and their reconstructions through the latent space (bottom).
"""),
    code("""
from sklearn.datasets import load_digits

real = torch.from_numpy(1 - load_digits().images[:5] / 16).float()[:, None]      # ink on paper, 8x8
real = torch.nn.functional.interpolate(real, size=gen.image_size, mode="bilinear").clamp(0, 1).expand(-1, 3, -1, -1)
codes = gen.encode(real)
ll.show(torch.cat([real, gen.decode(codes)]), nrow=5)
"""),
    md("""
## Walk between two digits
Latents are plain tensors: a straight line between two codes is a morph between two digits.
(The interpolation notebook shows better paths than this straight line.)
"""),
    code("""
t = torch.linspace(0, 1, 10)[:, None]
walk = (1 - t) * codes[0] + t * codes[3]
ll.show(gen.decode(walk), nrow=10)
"""),
    md("""
## The flagship: a latent space of typefaces
`glyphs` is the same idea at a larger scale: every point of its 64-D latent space is a whole font
(A-Z, a-z, 0-9), learned from about 2,300 open Google Fonts. Here are four fonts sampled from it
and a walk from the first to the last. Notebook `01_glyphs_tour` goes on from here.
"""),
    code("""
fonts = ll.load("glyphs")
zf = fonts.sample(4, seed=3)
ll.show(fonts.decode(zf), nrow=1, scale=0.8)
ll.show(fonts.decode(ll.slerp(zf[0], zf[3], steps=5)), nrow=1, scale=0.8)
"""),
    md("""
## Where next
The numbered notebooks in this folder go further: the `glyphs` font model, interpolation paths,
directions ("make it bolder"), encoding your own images, morph animations, live sliders, maps of
the latent space, your own models, and training a model on your own pictures.
"""),
]

if __name__ == "__main__":
    print(write("00_quickstart", CELLS))
