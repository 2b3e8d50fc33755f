"""Write notebooks/02_interpolation.ipynb: lerp vs slerp, blends, analogies, keyframe loops, constant speed."""

from __future__ import annotations

from _build import code, md, write

CELLS = [
    md("""
# Interpolation and latent paths

The first thing everyone does with a latent space is walk from one point to another and watch the
image morph. This notebook shows how to do it *well* with `latentlab.interpolation`:

1. **lerp vs slerp**: why straight lines between Gaussian latents give washed-out middles;
2. **blends** of three latents and **analogies** `a - b + c`;
3. **keyframe paths**: easing, smooth curves, seamless loops and random walks;
4. **constant speed**: frames that change the image by equal amounts (no pauses, no jumps).

Everything runs offline on a CPU with the bundled `digits` model (16-D latent, 32x32 images).
"""),
    code("""
%matplotlib inline
import math
import os

import matplotlib.pyplot as plt
import torch

import latentlab as ll

QUICK = os.environ.get("LATENTLAB_QUICK") == "1"   # CI sets this: fewer frames
FRAMES = 10 if QUICK else 14
gen = ll.load("digits")
z = gen.sample(8, seed=3)
# the two latents with the widest angle between them: there lerp and slerp differ most
cos = torch.nn.functional.cosine_similarity(z[:, None], z[None], dim=-1)
i, j = divmod(int(cos.argmin()), len(z))
a, b = z[i], z[j]
print(gen)
print(f"morphing z[{i}] -> z[{j}], angle {math.degrees(math.acos(float(cos[i, j]))):.0f} degrees")
"""),
    md("""
## 1. lerp vs slerp

`ll.lerp(a, b, steps=T)` walks the straight line, `ll.slerp(a, b, steps=T)` the great circle. Both
return `(T, 16)` here, start exactly at `a` and end exactly at `b`.

Gaussian latents in `D` dimensions have norms close to `sqrt(D)`: they live on a thin shell. The
middle of the straight line between two of them is shorter by about `1/sqrt(2)`, a region the model
rarely saw in training, so the middle frames look faint and generic. slerp stays on the shell.
Top row lerp, bottom row slerp:
"""),
    code("""
path_lerp = ll.lerp(a, b, steps=FRAMES)
path_slerp = ll.slerp(a, b, steps=FRAMES)
print("path shape", tuple(path_slerp.shape))
assert path_lerp.shape == path_slerp.shape == (FRAMES, 16)
assert all(torch.equal(p[0], a) and torch.equal(p[-1], b) for p in (path_lerp, path_slerp))
ll.show(gen.decode(torch.cat([path_lerp, path_slerp])), nrow=FRAMES)
"""),
    md("""
The norm along each path tells the story. Left, our two 16-D digit latents: the lerp norm sags
deep into the middle. Classic slerp sags a little too, because these two latents have different
norms and a wide angle; `norm="linear"` moves the direction along the great circle and the norm
linearly from `|a|` to `|b|` (the norm-aware option; `ll.interpolate(..., method="spherical-norm")`).
Right, the 512-D latents of large GANs: the shell is thin, every sample sits on it, and only lerp
leaves it.
"""),
    code("""
t = torch.linspace(0, 1, FRAMES)
big = torch.randn(2, 512, generator=torch.Generator().manual_seed(0))
fig, axes = plt.subplots(1, 2, figsize=(9, 3))
for ax, (p, q), d in ((axes[0], (a, b), 16), (axes[1], big, 512)):
    ax.plot(t, ll.lerp(p, q, steps=FRAMES).norm(dim=-1), "o-", label="lerp")
    ax.plot(t, ll.slerp(p, q, steps=FRAMES).norm(dim=-1), "s-", label="slerp")
    ax.plot(t, ll.slerp(p, q, steps=FRAMES, norm="linear").norm(dim=-1), "^-", label="slerp, norm='linear'")
    ax.axhline(math.sqrt(d), color="gray", ls="--", label="sqrt(D)")
    ax.set_title(f"{d}-D latents"); ax.set_xlabel("t"); ax.set_ylabel("norm")
axes[0].legend(); plt.tight_layout(); plt.show()
# what the plot shows: lerp sags deep, slerp a little, norm="linear" not at all; at 512-D only lerp leaves the shell
shortest = min(float(a.norm()), float(b.norm()))
assert ll.lerp(a, b, steps=FRAMES).norm(dim=-1).min() < 0.6 * shortest       # deep
assert ll.slerp(a, b, steps=FRAMES).norm(dim=-1).min() > 0.9 * shortest       # a little
linear_norms = ll.slerp(a, b, steps=FRAMES, norm="linear").norm(dim=-1)
torch.testing.assert_close(linear_norms, torch.linspace(float(a.norm()), float(b.norm()), FRAMES))
shell = math.sqrt(512)
assert ll.lerp(*big, steps=FRAMES).norm(dim=-1).min() < 0.8 * shell
assert ((ll.slerp(*big, steps=FRAMES).norm(dim=-1) / shell - 1).abs() < 0.1).all()
"""),
    md("""
`ll.interpolate(a, b, steps, space=gen)` picks the geometry from the space's prior: `"spherical"`
(slerp) for a `normal` prior (like this one), `"linear"` (lerp) for spaces without one (StyleGAN's
`w`). Easing slows the morph down at both ends.

Everything is batched: for `(N, 16)` inputs, `slerp` works **per sample** and returns
`(T, N, 16)`, time first. (A common slerp snippet flattens the whole batch into one vector and
gives every row the wrong angle.)
"""),
    code("""
eased = ll.interpolate(a, b, FRAMES, space=gen, easing="ease-in-out")
batch = ll.slerp(z[:4], z[4:], steps=FRAMES)            # 4 morphs at once
print("batched path", tuple(batch.shape))
assert batch.shape == (FRAMES, 4, 16)
for k in range(4):   # per sample: each column is the morph of its own pair
    torch.testing.assert_close(batch[:, k], ll.slerp(z[k], z[4 + k], steps=FRAMES))
ll.show(gen.decode(torch.cat([eased[None], batch.transpose(0, 1)]).reshape(-1, 16)), nrow=FRAMES)
"""),
    md("""
## 2. Blending three latents, and analogies

`ll.blend(latents, weights)` mixes `K` latents with barycentric weights. The default
`method="spherical"` takes the weighted mean of the directions on the sphere and the weighted
mean of the norms, so blends stay as crisp as the corners. Here is the triangle between three
digits (corners in the top-left, bottom-left and bottom-right):
"""),
    code("""
corners = z[[2, 3, 5]]
n = 5 if QUICK else 7
weights, slots = [], []
for i in range(n):                       # row i holds i + 1 blends
    for j in range(n):
        if j <= i:
            w_top = 1 - i / (n - 1)
            w_right = j / (n - 1)
            weights.append([w_top, 1 - w_top - w_right, w_right])
        slots.append(j <= i)
mixed = gen.decode(ll.blend(corners, torch.tensor(weights)))
tiles = torch.ones(len(slots), *mixed.shape[1:])       # white where the triangle has no tile
tiles[torch.tensor(slots)] = mixed
ll.show(tiles, nrow=n)
"""),
    md("""
The analogy `a - b + c` ("what is to `c` as `a` is to `b`", the corners of plat's J-diagram)
adds three Gaussian latents, so its norm is about `sqrt(3)` too large. `norm_correct=True` (the
default) rescales it to the mean norm of the inputs. Left to right: `a`, `b`, `c`, uncorrected,
corrected.
"""),
    code("""
pa, pb, pc = z[5], z[6], z[7]
raw = ll.analogy(pa, pb, pc, norm_correct=False)
fixed = ll.analogy(pa, pb, pc)
print(f"norms: inputs {pa.norm():.2f} {pb.norm():.2f} {pc.norm():.2f}")
print(f"       raw {raw.norm():.2f}, corrected {fixed.norm():.2f}")
torch.testing.assert_close(fixed.norm(), (pa.norm() + pb.norm() + pc.norm()) / 3)
assert raw.norm() > 1.3 * fixed.norm()   # three latents added: about sqrt(3) too long
ll.show(gen.decode(torch.stack([pa, pb, pc, raw, fixed])), nrow=5)
"""),
    md("""
## 3. Keyframe paths and loops

A `LatentPath` goes through keyframes with per-segment `durations` and `easing`. Its `curve` is
`"piecewise"` or `"smooth"` and its `geometry` `"linear"` or `"spherical"`; `curve="smooth",
geometry="spherical"` is a smooth spline for Gaussian spaces (Catmull-Rom on the sphere for the
directions, and on the log-norms), so the morph turns smoothly at each keyframe instead of changing direction abruptly.
With `loop=True` the last frame leads into the first, so the animation can play on repeat.
"""),
    code("""
keys = z[:4]
loop = ll.LatentPath(keys, curve="smooth", geometry="spherical", loop=True, durations=[1, 1, 2, 1])
frames = loop.sample(4 * FRAMES)
print(loop, "->", tuple(frames.shape))
assert frames.shape == (4 * FRAMES, 16)
ll.show(gen.decode(frames), nrow=FRAMES)
"""),
    md("""
How far each frame moves from the one before, in latent space. The piecewise linear path has kinks at
each keyframe (the direction and speed jump); the spherical spline is smooth, including across
the seam where the loop wraps around (the last point is the step from the last frame back to the
first).
"""),
    code("""
def steps(frames):
    ring = torch.cat([frames, frames[:1]])          # include the wrap-around step
    return (ring[1:] - ring[:-1]).norm(dim=-1)

linear = ll.LatentPath(keys, curve="piecewise", geometry="linear", loop=True, durations=[1, 1, 2, 1]).sample(4 * FRAMES)
fig, ax = plt.subplots(figsize=(7, 2.8))
ax.plot(steps(linear), "o-", ms=3, label="piecewise linear")
ax.plot(steps(frames), "s-", ms=3, label="smooth spherical")
ax.set_xlabel("frame"); ax.set_ylabel("latent step"); ax.legend(); plt.tight_layout(); plt.show()
def sharpest_turn(frames):   # the largest change of the step vector, seam included
    ring = torch.cat([frames, frames[:2]])
    return float(ring.diff(dim=0).diff(dim=0).norm(dim=-1).max())
assert sharpest_turn(linear) > 2 * sharpest_turn(frames), "the spline should turn much more gently"
"""),
    md("""
`LatentPath.random_walk` makes a reproducible loop from a seed: keyframes are prior samples, each a step
away from the last (`step=1` gives independent keyframes, smaller steps stay in one region).
"""),
    code("""
walk = ll.LatentPath.random_walk(gen, n_keyframes=5, seed=7, step=0.8)
ll.show(gen.decode(walk.sample(2 * FRAMES)), nrow=FRAMES)
"""),
    md("""
## 4. Constant speed

Equal steps in *time* are not equal steps in *what you see*: some stretches of latent space barely
change the image (the morph seems to pause), others flip it in one frame (a jump).
`path.sample(n, constant_speed="image", gen=gen)` re-times the same curve so that consecutive frames
differ by the same amount in pixels (`"latent"` does the same with latent distance, without decoding).
Top: naive timing; bottom: constant image speed.
"""),
    code("""
path = ll.LatentPath(z[[0, 1, 2]], curve="smooth", geometry="spherical")
naive = path.sample(2 * FRAMES)
even = path.sample(2 * FRAMES, constant_speed="image", gen=gen)
ll.show(gen.decode(torch.cat([naive, even])), nrow=2 * FRAMES)
"""),
    code("""
def image_steps(latents):
    images = gen.decode(latents)
    return (images[1:] - images[:-1]).flatten(1).norm(dim=-1)

fig, ax = plt.subplots(figsize=(7, 2.8))
unevenness = {}
for name, frames_ in (("naive", naive), ("constant image speed", even)):
    s = image_steps(frames_)
    unevenness[name] = float(s.std() / s.mean())
    ax.plot(s, "o-", ms=3, label=f"{name} (std/mean {unevenness[name]:.2f})")
ax.set_xlabel("frame"); ax.set_ylabel("image change"); ax.legend(); plt.tight_layout(); plt.show()
assert unevenness["constant image speed"] < 0.1 < unevenness["naive"], unevenness
"""),
    md("""
## Where next

- `05_morph_animation` turns paths like these into GIF/MP4 files.
- For StyleGAN `w+` codes `(N, 18, 512)`, `slerp` works per row by default; pass `per_row=False`
  for one angle per whole code.
"""),
]

if __name__ == "__main__":
    print(write("02_interpolation", CELLS))
