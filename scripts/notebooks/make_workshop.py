"""Write notebooks/workshop/*.ipynb: the 90-minute workshop path (six parts, run in order).

Exercise cells carry ``metadata.latentlab.exercise = NAME`` and the tag ``exercise``; their line
``answer = ...`` is the blank a participant fills in. CI runs the path twice (tests/test_notebooks.py):
as written (blank: every check says "not answered yet" and nothing after fails) and with that line
replaced by ``ll.workshop.EXERCISES[NAME].solution`` (every check must say "right").
The instructor guide is docs/workshop/GUIDE.md.
"""

from __future__ import annotations

import nbformat
from _build import NOTEBOOKS, code, md, write

FOLDER = "workshop"
BLANK = "answer = ..."

SETUP = """
import os
import torch
import latentlab as ll

QUICK = os.environ.get("LATENTLAB_QUICK") == "1"   # CI runs a shorter version
print(ll.workshop_mode())                           # keeps an old laptop responsive (ll.workshop_mode(False) undoes it)
gallery = ll.workshop.Gallery.open("my_gallery.html")   # your page: every part adds to it
"""


def exercise(name: str, intro: str) -> nbformat.NotebookNode:
    """A code cell with the blank ``answer = ...`` and the check (tagged for the CI's filled-in run)."""
    cell = code(f"""
# Exercise "{name}": {intro}
{BLANK}
ll.workshop.check("{name}", answer)
""")
    cell.metadata["tags"] = ["exercise"]
    cell.metadata["latentlab"] = {"exercise": name}
    return cell


def stuck(name: str) -> nbformat.NotebookNode:
    return md(f"""
Stuck? `ll.workshop.solution("{name}")` shows a solution and the idea behind it (in a cell of your own).
The next cells work whether you solved it or not.
""")


PART1 = [
    md("""
# Part 1 - A first image, and the whole space (15 min)

A generative model turns a short list of numbers, a **latent**, into an image. Today you will
walk around the latent spaces of two small models that ship with latentlab, and leave with a GIF
of a font of your own and a web page of the places you found.

Run each cell with **Shift+Enter**. When a cell says **Predict**, write your guess down (or say
it to your neighbour) *before* you run it.
"""),
    code(SETUP),
    md("""
## Sixteen numbers, one digit
`digits` is a small variational autoencoder (VAE) trained on 8x8 hand-written digits.
`sample(n, seed=...)` draws latents, `decode` turns them into images.

**Predict:** if you run the next cell twice, do you get the same digits?
"""),
    code("""
gen = ll.load("digits")
z = gen.sample(8, seed=0)
ll.show(gen.decode(z), nrow=8)
"""),
    exercise("latent-size", "how many numbers make one latent of `digits`?"),
    stuck("latent-size"),
    md("""
## The whole space of a 2-D model
`digits-2d` squeezes the same digits into a latent of only **two** numbers, so we can draw all of
its space: each tile is the image at one point `(z0, z1)` of a grid.

**Predict:** what is at the centre of the grid, `(0, 0)`? And far out in a corner?
"""),
    code("""
gen2 = ll.load("digits-2d")
ticks = torch.linspace(-2.2, 2.2, 10 if QUICK else 12)
grid = torch.stack(torch.meshgrid(ticks, -ticks, indexing="xy"), dim=-1).reshape(-1, 2)
ll.show(gen2.decode(grid), nrow=len(ticks), scale=1.5)
"""),
    md("""
Neighbouring tiles look alike and digits blend into each other across borders: the model has
arranged what it learned into a smooth map. The middle holds the most common shapes, because
training pulls latents towards the centre (a standard normal prior).

## Your first bookmark
Pick a spot you like and put it in your gallery, with a note. `gallery.add` records the model,
the latent and the seed with the image.
"""),
    code("""
favourite = torch.tensor([0.5, -1.0])     # change these two numbers
ll.show(gen2.decode(favourite[None]), scale=4)
gallery.add(gen2, favourite, note="my first spot in digits-2d")
gallery.save()
gallery
"""),
]

PART2 = [
    md("""
# Part 2 - Interpolation: why slerp (15 min)

Between any two latents there is a path, and every point on it is an image: a **morph**.
The straight line is the obvious path. Is it the best one?
"""),
    code(SETUP),
    code("""
gen = ll.load("digits")
a, b = gen.sample(2, seed=0)
line = ll.lerp(a, b, steps=9)      # straight line, (9, 16)
arc = ll.slerp(a, b, steps=9)      # along the sphere, (9, 16)
ll.show(gen.decode(torch.cat([line, arc])), nrow=9)
"""),
    md("""
Top row: straight line (`lerp`). Bottom row: spherical (`slerp`).

**Predict:** how long (the norm) is a typical 16-D latent? How long is the midpoint of the straight line?
"""),
    code("""
print("a, b         ", [round(float(v), 2) for v in (a.norm(), b.norm())])
print("lerp lengths ", [round(float(v), 2) for v in line.norm(dim=1)])
print("slerp lengths", [round(float(v), 2) for v in arc.norm(dim=1)])
samples = gen.sample(2000, seed=1).norm(dim=1)
print(f"2000 samples from the prior: length {samples.mean():.2f} +- {samples.std():.2f}")
assert abs(float(samples.mean()) - 4) < 0.3 and float(samples.std()) < 1       # near the sphere of radius 4
assert float(line.norm(dim=1)[4]) < 0.9 * min(float(a.norm()), float(b.norm()))   # the line cuts inside
assert float(arc.norm(dim=1).min()) > 0.99 * min(float(a.norm()), float(b.norm()))  # the arc does not
"""),
    md("""
In 16 dimensions almost every sample of the prior lies near a sphere of radius about 4 (the
square root of 16). The straight line cuts through the inside, where the model saw almost no
latents in training; `slerp` stays on the sphere.
"""),
    exercise(
        "slerp-midpoint",
        "with `a, b = ll.load('digits').sample(2, seed=0)`, make the midpoint that keeps "
        "the length of a typical latent",
    ),
    stuck("slerp-midpoint"),
    md("""
## Morphing typefaces
`glyphs` is the flagship: every point of its 64-D space is a whole font (A-Z, a-z, 0-9), learned
from about 2,300 open-licensed Google Fonts. Set the specimen to your own words: letters, digits
and spaces (an accented letter is refused, and the message tells you the nearest ASCII letter).
"""),
    code("""
fonts = ll.load("glyphs")
fonts.text = "Hello World"          # your words here
pair = fonts.sample(2, seed=3)
ll.show(fonts.decode(ll.slerp(pair[0], pair[1], steps=4 if QUICK else 5)), nrow=1, scale=0.6)
"""),
    code("""
try:
    fonts.text = "Café"
except ll.InvalidValueError as err:
    print(err)
fonts.text = "Hello World"
"""),
    code("""
gallery.add(fonts, ll.slerp(pair[0], pair[1], steps=3)[1], seed=3, note="half-way between two fonts (slerp)")
gallery.save()
gallery
"""),
]

PART3 = [
    md("""
# Part 3 - Directions and live sliders (20 min)

A **direction** is an arrow in latent space: step along it and one property changes, such as
"bolder". The glyphs model ships the codes of its training fonts with labels (weight, italic,
category ...), so we can find arrows from the labels.
"""),
    code(SETUP),
    code("""
fonts = ll.load("glyphs")
fonts.text = "Type"                  # short words render faster
codes, labels = fonts.codes(), fonts.labels()
print(codes.shape, "codes;", sorted(labels))
"""),
    md("""
`from_labels` takes the codes and one label per font and returns the difference between the mean
code of the top 30% and that of the bottom 30%, as a unit vector, scored on fonts it held out.
"""),
    code("""
italic = ll.directions.from_labels(codes, labels["italic"], space=fonts, name="italic")
scores = italic.provenance["scores"]
print("held-out accuracy of the italic direction:", round(scores["heldout_accuracy"], 2),
      "- balanced (the mean of italic's and upright's):", round(scores["heldout_balanced_accuracy"], 2))
# 80% of the fonts are upright, so "always upright" scores 0.8 accuracy but 0.5 balanced; shuffled labels get 0.51
assert scores["heldout_balanced_accuracy"] >= 0.85
base = fonts.sample(1, seed=5)[0]
ll.show(fonts.decode(torch.stack([base + s * italic.vectors[0] for s in (-3, 0, 3)])), nrow=3, scale=0.7)
"""),
    md("""
**Predict:** what happens at strength +8, far beyond where the training fonts are?
Try it in the cell above, then come back.
"""),
    exercise("bolder", "make a direction that makes fonts bolder (hint: the `weight` label)"),
    stuck("bolder"),
    md("""
## Sliders
The Explorer puts one slider per direction on a font. Drag a slider, or click its handle and use
the arrow keys: the image re-renders as you move (a low-resolution preview while you drag, the
full image when you stop). **bookmark** keeps the current font; your gallery follows along.
"""),
    code("""
bold = ll.directions.from_labels(codes, labels["weight"], space=fonts, name="bold")
ex = ll.Explorer(fonts, directions=[bold, italic], seed=5, strength_range=5)
gallery.follow(ex)                   # every bookmark you make below lands in your gallery
ex
"""),
    md("""
Drag until you find a font you like and press **bookmark** (two or three times, at different
places). The next cell also bookmarks one from code, so your gallery has something in it.
"""),
    code("""
ex.strengths = [2.0, 1.0]            # bold, italic
ex.wait()
ex.bookmark()
gallery.save()
print(len(gallery), "bookmarks in", gallery.path)
"""),
]

PART4 = [
    md("""
# Part 4 - Maps of the space (15 min)

We cannot look at 64 dimensions, but we can flatten them onto a page. A **map** puts every
training font at a point; fonts close on the map are (mostly) close in the space.
"""),
    code(SETUP),
    code("""
fonts = ll.load("glyphs")
codes, labels = fonts.codes(), fonts.labels()
latent_map = ll.LatentMap(method="pca").fit(codes, labels=labels)   # fast; method="umap" keeps neighbours better
latent_map
"""),
    md("""
**Predict:** will serif and sans-serif fonts land in separate regions, or all mixed up?
"""),
    code("""
%matplotlib inline
fonts.text = "Ag"
fig = latent_map.plot(fonts, color_by="category", thumbnails=8 if QUICK else 16, figsize=(7, 6),
                      title="Every training font of glyphs (PCA)")
"""),
    exercise("map-variance", "what fraction of the variance of the codes does this 2-D PCA map keep?"),
    stuck("map-variance"),
    md("""
## Between the points
`inverse_transform` turns a map position back into a latent, so a line drawn on the map can be
rendered: here from the middle of the serif fonts to the middle of the handwriting ones.
"""),
    code("""
import numpy as np

emb = latent_map.embedding_
category = labels["category"]
start, end = emb[category == "serif"].mean(0), emb[category == "handwriting"].mean(0)
walk = np.linspace(start, end, 6).astype(np.float32)
ll.show(fonts.decode(latent_map.inverse_transform(walk)), nrow=6, padding=10)
gallery.add(fonts, latent_map.inverse_transform(walk[3:4])[0], note="on the map, between serif and handwriting")
gallery.save()
fonts.text = "Hamburg"
"""),
]

PART5 = [
    md("""
# Part 5 - Words to fonts (10 min, needs the text extra)

The `glyphs-text` model turns a description ("a heavy rounded display face") into fonts: it
learned which regions of the glyphs space go with which words. It needs the optional text extra
(`pip install "latentlab[text]"`, in the wheelhouse). When it is not installed the cells below
say so and skip; nothing else in the workshop depends on this part.
"""),
    code(SETUP),
    code("""
fonts = ll.load("glyphs")
HAS_TEXT = "glyphs-text" in ll.models().names and hasattr(fonts, "from_text")
if HAS_TEXT:
    print("words to fonts is available")
else:
    print("words to fonts is not installed here: skip to part 6 (the instructor can show it on the projector)")
"""),
    md("""
**Predict:** what will "a heavy rounded display face" look like? And "thin elegant italic"?
"""),
    code("""
if HAS_TEXT:
    try:
        described = fonts.from_text(["a heavy rounded display face", "thin elegant italic"], n=3, seed=0)
        ll.show(fonts.decode(described), nrow=3, scale=0.5)
        gallery.add(fonts, described[0], seed=0, note="from the words 'a heavy rounded display face'")
        gallery.save()
    except ll.MissingDependencyError as err:   # the model is there but the text extra is not
        print(err)
else:
    print("skipped: no glyphs-text model")
"""),
    md("""
Talk about it: whose words are these? The descriptions were written from the fonts' metadata;
what would a model trained on *your* words for fonts do differently? (The discussion sheet in the
guide has more questions.)
"""),
]

PART6 = [
    md("""
# Part 6 - Your own artefact (15 min)

You leave with two files:
* **my_morph.gif**: your words, morphing through fonts you chose;
* **my_gallery.html**: your bookmarks with where they came from; it opens in any browser, no server.
"""),
    code(SETUP),
    code("""
fonts = ll.load("glyphs")
fonts.text = "Hello World"     # your words (letters, digits and spaces)
mine = [b for b in gallery if b.model == "glyphs" and b.latent is not None]
keys = [torch.tensor(b.latent) for b in mine][:4]
while len(keys) < 3:           # fewer than three fonts bookmarked: add samples
    keys.append(fonts.sample(1, seed=10 + len(keys))[0])
keys = torch.stack(keys)
print(len(keys), "keyframes from your gallery and samples")
ll.show(fonts.decode(keys), nrow=1, scale=0.5)
"""),
    md("""
**Predict:** a 2-second morph at 12 frames per second: how many images does the computer decode?
"""),
    exercise("morph-frames", "how many frames does a 2-second morph at 12 fps have?"),
    stuck("morph-frames"),
    code("""
s = ll.workshop.settings()
anim = ll.save_morph(fonts, keys, "my_morph.gif", fps=s.gif_fps, seconds=2 if QUICK else 4, loop=True,
                     progress=False)
anim
"""),
    code("""
gallery.add_animation(anim, model="glyphs", note="my morph: " + fonts.text)
print("open this file in your browser:", gallery.save().resolve())
gallery
"""),
    md("""
## Take it home
Both files are in this folder. The gallery page has every image inside it, so you can e-mail it
or put it on a web site as one file. Each bookmark lists the model, the latent (64 numbers) and
the seed: anyone with latentlab can decode it again,
`ll.load("glyphs").decode(torch.tensor(latent)[None])`.
"""),
]

PARTS = {
    "1_first_image": PART1,
    "2_interpolation": PART2,
    "3_directions_and_sliders": PART3,
    "4_maps": PART4,
    "5_words_to_fonts": PART5,
    "6_your_artefact": PART6,
}

if __name__ == "__main__":
    (NOTEBOOKS / FOLDER).mkdir(exist_ok=True)
    for name, cells in PARTS.items():
        print(write(f"{FOLDER}/{name}", cells))
