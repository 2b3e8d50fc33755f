"""Write notebooks/06_explorer.ipynb: bold / italic / serif sliders, a font morph scrubber and a font blend pad."""

from __future__ import annotations

from _build import code, md, write

CELLS = [
    md("""
# Explore typefaces live: sliders, a morph scrubber, a blend pad

Reading about a latent direction is one thing; *dragging* along it and watching the letters
change is how people build intuition. This notebook puts three live widgets in front of the
bundled `glyphs` model, where every latent is a whole typeface (a 64-D code; `gen.decode`
draws a specimen line of it):

1. **Explorer**: **bold**, **italic** and **serif** sliders; the specimen re-renders as you drag.
2. **Scrubber**: play or scrub through a morph from one real font to another.
3. **BlendPad**: drag a point between three fonts to mix them.

Everything runs on a laptop CPU. Slider events are rendered in the background and *the latest
value wins*: if you drag faster than images render, stale positions are skipped instead of
queued, so the image never lags behind your hand.
"""),
    code("""
import os
import tempfile
import numpy as np
import torch
import latentlab as ll

QUICK = os.environ.get("LATENTLAB_QUICK") == "1"   # CI runs a shorter version
gen = ll.load("glyphs")
codes = gen.codes()      # (F, 64): one code per training font
labels = gen.labels()    # family, category, weight, italic, ... one entry per font
gen
"""),
    md("""
The model ships the codes of its training fonts with their labels, so we can name fonts:
`font("Lato", 900)` is the code of the training font of that family at the nearest weight.
"""),
    code("""
def font(family, weight=400, italic=False):
    \"\"\"The code (64,) of the training font `family` at the weight nearest to `weight`.\"\"\"
    rows = np.flatnonzero((labels["family"] == family) & (labels["italic"] == italic))
    if len(rows) == 0:
        raise ValueError(f"no {'italic ' if italic else ''}{family!r} among the training fonts")
    return codes[rows[np.argmin(np.abs(labels["weight"][rows] - weight))]]

ll.show(gen.decode(torch.stack([font("Lato"), font("Crimson Text"), font("Pacifico")])), nrow=1)
"""),
    md("""
## Sliders from labels
A direction is where a label grows in latent space. `from_labels` takes the codes and one
label per font and returns the (unit) difference between the class means:

* **bold**: the weight (100-900); the boldest 30% of fonts against the lightest 30%;
* **italic**: italic fonts against upright ones;
* **serif**: serif against sans-serif text faces (display, handwriting and monospace fonts
  are left out, so the direction is about serifs and not about, say, script).

Each direction reports how well its projection alone separates held-out fonts. Directions know
the model and space they were found in; using one with another model is an error that says so.
"""),
    code("""
bold = ll.directions.from_labels(codes, labels["weight"], space=gen, name="bold")
italic = ll.directions.from_labels(codes, labels["italic"], space=gen, name="italic")
text_faces = np.isin(labels["category"], ["serif", "sans-serif"])
serif = ll.directions.from_labels(codes[text_faces], labels["category"][text_faces] == "serif",
                                  space=gen, name="serif")
directions = [bold, italic, serif]
{d.name: round(d.provenance["scores"]["heldout_accuracy"], 2) for d in directions}
"""),
    md("""
What is a good score? Guessing the commoner class is right for 80% of the fonts on italic (most
fonts are upright) and 69% on serif, and the same fit on **shuffled** labels, which hold no
information, separates held-out fonts about half the time. All three directions clear both.
"""),
    code("""
rng = np.random.default_rng(0)
accuracy = lambda d: d.provenance["scores"]["heldout_accuracy"]
shuffled = [ll.directions.from_labels(codes, rng.permutation(labels["weight"]), space=gen),
            ll.directions.from_labels(codes, rng.permutation(labels["italic"]), space=gen),
            ll.directions.from_labels(codes[text_faces], rng.permutation(labels["category"][text_faces] == "serif"),
                                      space=gen)]
commoner = [None, 1 - labels["italic"].mean(), 1 - (labels["category"][text_faces] == "serif").mean()]
for d, control, guess in zip(directions, shuffled, commoner):
    print(f"{d.name:7s} {accuracy(d):.2f}   shuffled labels {accuracy(control):.2f}"
          + (f"   commoner class {guess:.2f}" if guess is not None else ""))
    assert accuracy(d) >= 0.85 > max(accuracy(control), guess or 0), d.name
"""),
    md("""
## 1. The Explorer
Drag a slider (or click a handle and use the arrow keys). While you drag, the glyphs model
renders a cheaper half-resolution preview (`gen.can("preview")`); when you let go, the full
specimen follows. The controls:

* **bold**, **italic**, **serif**: strength along each direction, in latent units;
* **temperature** scales the starting font (smaller: closer to an average font);
* **seed** / **random**: start from a font sampled from the model; **reset**: sliders back to 0;
* **bookmark** keeps the current font in the strip below; **save PNG** writes the specimen;
  **morph GIF** writes a GIF through the bookmarks.

The widget is also an object you can drive from code: `ex.latent` is the current latent (set it
to start from a font of your own), `ex.strengths` the slider values, and
`ex.observe(fn, names="latent")` calls `fn` whenever the latent changes, as for any ipywidget.
Before showing it, we start from Lato, bookmark a bold and a serif italic version of it, and go
back to plain Lato: the two bookmarks wait in the strip under the sliders.
"""),
    code("""
export_dir = tempfile.mkdtemp(prefix="explorer-")
ex = ll.Explorer(gen, directions=directions, strength_range=5, export_dir=export_dir)
ex.latent = font("Lato")         # start from a real font
ex.strengths = [3.0, 0.0, 0.0]   # bold, italic, serif
ex.wait()                        # renders happen in the background
ex.bookmark()
ex.strengths = [0.0, 3.0, 4.0]   # italic and serif
ex.wait()
ex.bookmark()
ex.reset()                       # sliders back to 0: plain Lato
assert len(ex.bookmarks) == 2 and torch.equal(ex.latent, font("Lato"))
ex
"""),
    md("""
The bookmarks as a static grid, and as a path: export it as an animation (GIF here; `.mp4` and
`.webp` work too).
"""),
    code("""
ll.show(gen.decode(torch.stack(ex.bookmarks)), nrow=1)
anim = ex.save_morph(os.path.join(export_dir, "bookmarks.gif"), fps=12, seconds=1 if QUICK else 2)
anim
"""),
    md("""
## 2. Scrub a morph between two fonts
From Lato Black to Crimson Text Italic. `interpolate` picks slerp for this Gaussian space (a
straight line would pass through washed-out, low-probability latents). Press play, or drag the
frame slider: weight, slant and serifs change together.
"""),
    code("""
sc = ll.Scrubber(gen, font("Lato", 900), font("Crimson Text", 400, italic=True), frames=24, fps=12)
sc
"""),
    md("""
## 3. Blend three fonts
Each corner of the triangle holds a font: a sans (Lato), a serif (Crimson Text) and a script
(Pacifico); the point's position sets the blend weights (shown under the pad). Click or drag
inside the pad, or focus it and use the arrow keys.

The corner thumbnails are small, so this pad uses a second copy of the model with a short
specimen, `"Ag"` (the two letters that differ most between these styles). `gen.text` belongs
to one generator and sets its `image_size`; change it before making a widget, not under one.
"""),
    code("""
short = ll.load("glyphs")
short.text = "Ag"
corners = torch.stack([font("Lato"), font("Crimson Text"), font("Pacifico")])
pad = ll.BlendPad(short, corners)
pad
"""),
    md("""
From code, move the point and read the weights and the blended font (any generator of the
model draws it; here the full specimen):
"""),
    code("""
pad.pad.x, pad.pad.y = 0.3, 0.4
pad.wait()
print([round(w, 2) for w in pad.weights.tolist()])
assert abs(float(pad.weights.sum()) - 1) < 1e-6 and float(pad.weights.min()) >= 0
torch.testing.assert_close(pad.latent, ll.blend(corners, pad.weights))
ll.show(gen.decode(pad.latent))
"""),
    md("""
## The same widgets, any model
The widgets speak the generator interface only. Given no directions, the Explorer picks some
(PCA of the model's codes where it ships them, SeFa where it declares it, otherwise PCA of
samples). The small `digits` VAE has no preview mode, so every slider event renders at full
quality (it is cheap at 32 px).
"""),
    code("""
digits = ll.load("digits")
ll.Explorer(digits, n_components=3, seed=3)
"""),
    md("""
## What next
* Find directions for labels you care about (`ll.directions.from_labels` on `gen.labels()`:
  width, contrast, slant...), or unsupervised ones (`pca`, `sefa`), and give them to `ll.Explorer`.
* Encode a font file of your own (`gen.encode_font(path)`) and set it as `ex.latent`.
* `ll.save_morph` renders any path through latents to MP4/GIF/WebP for slides.
"""),
]

if __name__ == "__main__":
    print(write("06_explorer", CELLS))
