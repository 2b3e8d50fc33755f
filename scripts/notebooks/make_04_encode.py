"""Write notebooks/04_encode.ipynb: get your own images into a latent space (encoder, optimisation, hybrid)."""

from __future__ import annotations

from _build import code, md, write

CELLS = [
    md("""
# Encode real images

Sampling shows what a model *can* draw. To edit **your** image you first need its latent: the
point in latent space whose decoded image looks like it. This is called *encoding* (or
*inversion*, or *projection*). `ll.encode` does it three ways:

| method | how | speed | quality |
|---|---|---|---|
| `"encoder"` | the model's own encoder network, one forward pass | fastest | only as good as the encoder |
| `"optimize"` | gradient descent on the latent until the decoded image matches | slow | good, can stall |
| `"hybrid"` | the encoder's guess, then a short optimisation | fast | best |

`method="auto"` (the default) picks `hybrid` whenever the model has both an encoder and gradients.
We use the bundled `digits` model (a small VAE trained on scikit-learn's 8x8 hand-written digits).
"""),
    code("""
import os
import torch
from PIL import Image
import latentlab as ll

QUICK = os.environ.get("LATENTLAB_QUICK") == "1"   # CI runs shorter optimisations
STEPS = 40 if QUICK else 150
gen = ll.load("digits")
gen
"""),
    md("""
## A photo of hand-written digits
latentlab ships a test image: the digits 0-9 written with a ballpoint pen on slightly warm,
unevenly lit paper (drawn by `scripts/make_assets.py`, public domain, CC0). It is a single
960x112 RGB picture: ten 96x112 cells side by side.
"""),
    code("""
photo = Image.open("assets/handwritten_digits.png")
print(photo.size, photo.mode, photo.info.get("License"))
photo
"""),
    md("""
## From anything to model-ready tensors
`ll.load_images` turns paths, PIL images, numpy arrays and tensors (alone or in a list) into
`(N, 3, H, W)` floats in `[0, 1]`. With `size=gen.image_size` it resizes by a stated policy:

* `fit="contain"` (default) keeps the aspect ratio and pads with paper, nothing is cut off;
* `fit="cover"` keeps the aspect ratio and crops the centre;
* `fit="stretch"` squashes to the exact size.

Transparent pixels (RGBA, gray+alpha) are composited on `background`, white paper here.
`ll.encode` calls it for you; we call it once to see what the model will be asked to match.
"""),
    code("""
cells = [photo.crop((i * 96, 0, (i + 1) * 96, 112)) for i in range(10)]
for fit in ("contain", "cover", "stretch"):
    print(fit)
    ll.show(ll.load_images(cells[:5], size=gen.image_size, fit=fit), nrow=5, scale=2)
"""),
    md("""
## Encode
`ll.encode(gen, images)` returns an `EncodeResult`. `result.latents` is `(N, 16)`, ready for
`gen.decode`, interpolation or directions. It also keeps the targets it matched
(`result.images`), their `reconstructions`, the final `loss` and `psnr` per image, and the loss
`history` of every step. A progress bar shows the optimisation; press the stop button (or Ctrl-C)
and you get the best latents found so far, with `result.interrupted` set.
"""),
    code("""
result = ll.encode(gen, cells, steps=STEPS)
print(result)
print("PSNR per digit (dB):", [round(p, 1) for p in result.psnr.tolist()])
ll.show(torch.cat([result.images, result.reconstructions]), nrow=10)
# each latent is of its own digit: its reconstruction is nearer its photo than the next digit's reconstruction is
mse_to = lambda recon: ((recon - result.images) ** 2).flatten(1).mean(1)   # noqa: E731
own, other = mse_to(result.reconstructions), mse_to(result.reconstructions.roll(1, 0))
print(f"pixel MSE to the photo: own reconstruction {own.mean():.3f}, the next digit's {other.mean():.3f}")
assert bool((own < other).all()) and own.mean() < 0.7 * other.mean()
"""),
    md("""
Top: the photo's digits as the model sees them. Bottom: what the model can draw closest to
them. The model only ever saw 1,797 tiny 8x8 scans, so its reconstructions are blurry and
some pen styles are pulled towards digits it knows better (look at the 1 and the 8): that gap is
a property of the model, not of the encoding.

## Encoder, optimisation, or both?
The same digits, three ways, same step budget. The encoder is instant but rough; optimisation
from the centre of the space is slow to get going; the hybrid starts from the encoder's guess
and polishes it.
"""),
    code("""
runs = {m: ll.encode(gen, cells, method=m, steps=STEPS, tol=None, progress=False)
        for m in ("encoder", "optimize", "hybrid")}
for m, r in runs.items():
    print(f"{m:9s} mean loss {r.loss.mean():.4f}   mean PSNR {r.psnr.mean():5.1f} dB   {r.seconds:.2f} s")
target = runs["optimize"].loss   # how many hybrid steps to match optimisation's final loss?
steps_needed = runs["hybrid"].steps_to(target)
print("hybrid steps to reach optimize's final loss, per digit:", steps_needed.tolist())
print("(0: the encoder's guess was already as good; -1: not reached)")
assert runs["hybrid"].loss.mean() < runs["optimize"].loss.mean() < runs["encoder"].loss.mean()
assert bool((steps_needed >= 0).all()) and bool((steps_needed < STEPS).all())
ll.show(torch.cat([runs[m].reconstructions for m in runs]), nrow=10)
"""),
    code("""
%matplotlib inline
try:
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 3))
    for m in ("optimize", "hybrid"):
        ax.plot(runs[m].history.mean(1), label=m)
    ax.axhline(float(runs["encoder"].loss.mean()), color="gray", ls="--", label="encoder")
    ax.set(xlabel="step", ylabel="mean loss", yscale="log", title="loss per step (10 digits)")
    ax.legend()
    fig.tight_layout()
    plt.show()
except ImportError:
    print('pip install "latentlab[plot]" for the plot')
"""),
    md("""
## Only part of the image can be trusted: masks
`mask` says which pixels are observed (1) and which to ignore (0); values in between weigh
pixels. The loss never looks at ignored pixels, and the encoder's first guess sees paper there,
so whatever those pixels hold changes nothing. Here a coffee stain lands on five scanned digits
from scikit-learn's dataset (the style this model knows best; as 8x8 arrays of ink 0-16 they
are one `1 - ink / 16` away from images). Encoded as is, the model tries to draw the stain;
with the stain masked out it draws the digit that the visible strokes belong to.
"""),
    code("""
from sklearn.datasets import load_digits

ink = torch.tensor(load_digits().images[[0, 2, 4, 5, 9]], dtype=torch.float32)[:, None] / 16  # (5, 1, 8, 8)
scans = ll.load_images(1 - ink, size=gen.image_size, fit="stretch")       # (5, 3, 32, 32)
yy, xx = torch.meshgrid(torch.arange(32.0), torch.arange(32.0), indexing="ij")
stain = ((yy - 20) ** 2 + (xx - 19) ** 2 < 40).float()                  # (32, 32), 1 = stain
stained = scans * (1 - stain) + torch.tensor([0.45, 0.3, 0.15])[:, None, None] * stain
as_is = ll.encode(gen, stained, steps=STEPS, progress=False)
masked = ll.encode(gen, stained, mask=1 - stain, steps=STEPS, progress=False)
print("rows: the scans, stained, encoded as is, encoded with the stain masked out")
error = {name: float(((r.reconstructions - scans) ** 2).mean()) for name, r in (("as is", as_is), ("masked", masked))}
print("pixel MSE to the clean scans:", {k: round(v, 4) for k, v in error.items()})
assert error["masked"] < error["as is"]
ll.show(torch.cat([scans, stained, as_is.reconstructions, masked.reconstructions]), nrow=5)
"""),
    md("""
## Edit the latent
Once a digit is a latent, editing is arithmetic. Here we walk in a straight line (a *lerp*) from
the encoded hand-written **0** towards the encoded **6**, and from the **4** towards the **9**:
`z = (1 - t) * z_a + t * z_b`. Every point along the way decodes to a plausible digit.
(`ll.lerp` / `ll.slerp` and learned directions do the same with more care; see the interpolation
and directions notebooks.)
"""),
    code("""
t = torch.linspace(0, 1, 8)[:, None]                         # (8, 1)
z = result.latents                                           # (10, 16): one latent per digit 0-9
paths = [(1 - t) * z[a] + t * z[b] for a, b in [(0, 6), (4, 9)]]   # each (8, 16)
ll.show(gen.decode(torch.cat(paths)), nrow=8)
"""),
    md("""
## Fonts: encode a font file
The flagship `glyphs` model encodes whole typefaces: its encoder takes *any set* of glyphs of a
font (with their characters) and returns one latent for the whole font. `gen.encode_font(path)`
renders a font file the way the training data was made (all 62 characters A-Z, a-z, 0-9 at 64 px)
and encodes it. EB Garamond (shipped in `assets/fonts/`, OFL) was never seen in training. We compare
the decoded glyphs with the real ones by IoU (overlap of the ink masks, 1 = identical), and with
how well a random training font would match.
"""),
    code("""
from latentlab.generators.glyphs import CHARS, render_font

fonts = ll.load("glyphs")
FONT = "assets/fonts/EBGaramond-Regular.woff2"
real = torch.from_numpy(render_font(open(FONT, "rb").read())).float() / 255   # (62, 64, 64), 1 = ink
z_font = fonts.encode_font(FONT)                                               # (64,)

def on_paper(ink):
    \"\"\"Glyphs (..., 64, 64), 1 = ink -> images (M, 3, 64, 64), dark ink on white paper.\"\"\"
    return (1 - ink.reshape(-1, 1, 64, 64)).expand(-1, 3, -1, -1)

def iou(a, b):
    \"\"\"IoU of the ink masks (coverage > 0.5) of glyphs (..., 64, 64) -> (...).\"\"\"
    x, y = a > 0.5, b > 0.5
    return (x & y).sum((-2, -1)) / (x | y).sum((-2, -1)).clamp_min(1)

decoded = fonts.glyphs(z_font)                                                 # (62, 64, 64)
codes = fonts.codes()
others = codes[torch.randperm(len(codes), generator=torch.Generator().manual_seed(0))[:50]]
print(f"mean IoU with the real glyphs: encoded font {iou(decoded, real).mean():.3f},"
      f" a random training font {iou(fonts.glyphs(others), real[None]).mean():.3f}")
assert iou(decoded, real).mean() >= iou(fonts.glyphs(others), real[None]).mean() + 0.15
print("rows: real A-Z, decoded A-Z, real a-z, decoded a-z")
ll.show(on_paper(torch.cat([real[:26], decoded[:26], real[26:52], decoded[26:52]])), nrow=26)
"""),
    md("""
## Complete an alphabet from five letters
The set encoder does not need all 62 glyphs: `gen.encode_glyphs({"H": img, ...})` takes any subset.
From the five letters of **H a m b g**, the model has to guess every other glyph of the font. Rows:
the real font, the font completed from those five letters, and the encoding of the whole font for
reference, on the classic type specimen word *Hamburgefonstiv* (its other ten letters were not shown).
"""),
    code("""
SEEN, WORD = "Hambg", "Hamburgefonstiv"
z_five = fonts.encode_glyphs({c: real[CHARS.index(c)] for c in SEEN})
pick = [CHARS.index(c) for c in WORD]
unseen = [i for i, c in enumerate(CHARS) if c not in SEEN]
print(f"IoU on the {len(unseen)} unseen glyphs: from 5 letters {iou(fonts.glyphs(z_five), real)[unseen].mean():.3f},"
      f" from all 62 {iou(decoded, real)[unseen].mean():.3f},"
      f" random training font {iou(fonts.glyphs(others)[:, unseen], real[unseen]).mean():.3f}")
assert iou(decoded, real)[unseen].mean() >= iou(fonts.glyphs(z_five), real)[unseen].mean() \
    >= iou(fonts.glyphs(others)[:, unseen], real[unseen]).mean() + 0.15
ll.show(on_paper(torch.cat([real[pick], fonts.glyphs(z_five, WORD), fonts.glyphs(z_font, WORD)])), nrow=len(WORD))
"""),
    md("""
`ll.encode` works on the glyphs model too: its images are specimen lines (`gen.text`, "Hamburg"),
and for it `mask=` also takes the **observed characters**. Hidden characters are left out of the
encoder's set and out of the loss, whatever their cells hold (here: scribbles over "u" and "r").
The hybrid's optimisation fits the observed letters more closely than the encoder alone; check what
that does to the letters it never saw.
"""),
    code("""
specimen = torch.ones(1, 3, *fonts.image_size)                                 # white paper, 64 x 364
cell = 52                                                                      # specimen cell width
for k, c in enumerate(fonts.text):                                             # the real glyphs, cell by cell
    specimen[0, :, :, k * cell:(k + 1) * cell] = 1 - real[CHARS.index(c), :, 6:58]
scribbled = specimen.clone()
scribbled[..., 4 * cell:6 * cell] = torch.rand(1, 1, 64, 2 * cell, generator=torch.Generator().manual_seed(0)).round()
seen_iou = {}
for method in ("encoder", "hybrid"):
    r = ll.encode(fonts, scribbled, method=method, mask=SEEN, steps=STEPS, progress=False)
    score = iou(fonts.glyphs(r.latents[0]), real)
    seen_iou[method] = float(score[[CHARS.index(c) for c in SEEN]].mean())
    print(f"{method:8s} IoU seen {seen_iou[method]:.3f}   unseen {score[unseen].mean():.3f}")
assert seen_iou["hybrid"] > seen_iou["encoder"]   # it fits the observed letters more closely
ll.show(torch.cat([scribbled, r.reconstructions]), nrow=1, scale=2)
"""),
    md("""
## Your handwriting as a font
The photo of hand-written digits from the start of this notebook is ten glyphs of one "font":
`0`-`9`. We turn each cell into ink coverage (paper 0, pen 1), crop it to its ink, and place it
the way the training data places digits (the size and position of the digits of the rendered
EB Garamond), then encode the ten digits and let the model write letters in that hand.
"""),
    code("""
import torch.nn.functional as F

lum = ll.load_images(cells).mean(1)                                            # (10, 112, 96) luminance
paper = lum.flatten(1).quantile(0.9, dim=1)[:, None, None]
ink = ((paper - lum) / (paper - lum.amin((1, 2), keepdim=True))).clamp(0, 1)
ink = torch.where(ink > 0.25, ink, torch.zeros_like(ink))                      # drop the paper's texture

rows = (real[[CHARS.index(str(d)) for d in range(10)]].sum(2) > 0.5).any(0).nonzero().flatten()
top, height = int(rows.min()), int(rows.max() - rows.min() + 1)                # where digits sit in a font

def place(t):
    ys, xs = (t > 0.3).nonzero(as_tuple=True)
    t = t[ys.min():ys.max() + 1, xs.min():xs.max() + 1]
    new_w = min(60, max(1, round(t.shape[1] * height / t.shape[0])))
    t = F.interpolate(t[None, None], size=(height, new_w), mode="area")[0, 0]
    out = torch.zeros(64, 64)
    out[top:top + height, (64 - new_w) // 2:(64 - new_w) // 2 + new_w] = t
    return out

hand = {str(d): place(ink[d]) for d in range(10)}
z_hand = fonts.encode_glyphs(hand)
print("rows: the photo's digits as glyphs, the model's digits in that hand, letters in that hand")
ll.show(on_paper(torch.cat([torch.stack(list(hand.values())), fonts.glyphs(z_hand, "0123456789"),
                            fonts.glyphs(z_hand, "Hamburgefo")])), nrow=10)
"""),
    md("""
## Edit the encoded font: bolder
A latent is a font, so directions edit fonts. The bold direction comes from the training fonts'
weight labels (heavy >= 600 against light <= 400, difference of the class means; see the
directions notebook). Strengths are in units of the training fonts' spread along it. From lighter
(left) to bolder (right), EB Garamond:
"""),
    code("""
from latentlab import directions as dirs

labels = fonts.labels()
w = labels["weight"]
keep = (w >= 600) | (w <= 400)
bold = dirs.from_labels(codes[keep], w[keep] >= 600, method="mean_diff", space=fonts, name="bold")
step = float((codes.double() @ bold.vector.double()).std())
units = [-1.0, -0.5, 0.0, 0.5, 1.0, 1.5]
strip = bold.apply(z_font, [u * step for u in units])                         # (6, 64)
weight = ll.measures.stroke_weight(on_paper(fonts.glyphs(strip, "Hamburg"))).view(len(units), -1).mean(1)
print("strength (spreads):", units)
print("stroke weight:     ", [round(float(v), 3) for v in weight])
assert bool((weight.diff() > 0).all()), "bolder at every step"
ll.show(dirs.preview(fonts, bold, z=z_font, strengths=[u * step for u in units]))
"""),
    md("""
## Your own pictures
Anything `ll.load_images` reads works: `ll.encode(gen, "my_scan.png")`, a folder, a list of PIL
images, a numpy array from OpenCV (`(H, W, C)`, channel-last) or a torch tensor (`(N, C, H, W)`,
channel-first). Mistakes fail early with a message saying what was expected and how to fix it:
"""),
    code("""
import numpy as np
try:
    ll.encode(gen, np.zeros((32, 32, 5), np.uint8))
except ll.InputImageError as err:
    print(err)
else:
    raise AssertionError("expected ll.InputImageError: this call must be refused")
"""),
]

if __name__ == "__main__":
    print(write("04_encode", CELLS))
