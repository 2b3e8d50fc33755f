"""Captions for the ``glyphs-text`` prior: several phrasings per font from what the data knows.

Each font's captions are made from its labels only: the descriptive words of its family name
(Mono, Slab, Script, Condensed, Rounded, Stencil, Pixel, Display, Hand ...), its category,
weight (100-900), italic flag, and the attributes measured from its glyphs (width, stroke
contrast, slant), each said with everyday synonyms ("heavy", "hairline", "fixed-width",
"slanted" ...) and with a random subset of the attributes, in several sentence templates.
The family name itself is never written (names such as "Bricolage Grotesque" or
"Cedarville Cursive" would leak held-out words), and no caption contains a stem of
:data:`latentlab.generators._font_words.FORBIDDEN_STEMS` (the script refuses to write one).

Training fonts come from the bundled ``glyphs`` labels; held-out fonts (their own families,
never used for training) from the font data's label arrays when ``--fontdata`` is given.

Writes ``data/fonts/captions.json`` (recipe, thresholds, per-font captions) and its sha256 in
``data/fonts/captions.sha256``.

Usage::

    python scripts/build_font_captions.py --fontdata data/build/glyphs64.npz
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from latentlab._atomic import atomic_path  # noqa: E402
from latentlab.generators._font_words import FORBIDDEN_STEMS, caption_leaks  # noqa: E402
from latentlab.generators._weights import sha256_file  # noqa: E402

OUT = ROOT / "data" / "fonts" / "captions.json"
LABELS = ROOT / "latentlab" / "models" / "glyphs" / "labels.json"
SEED = 0
PER_FONT = 12

CATEGORY_WORDS: dict[str, list[str]] = {
    "serif": [
        "serif",
        "serif",
        "serif typeface",
        "classic serif",
        "traditional serif",
        "text serif",
        "serifed face",
        "face with serifs",
        "elegant serif",
        "serif with bracketed serifs",
    ],
    "sans-serif": [
        "sans-serif",
        "sans serif",
        "sans",
        "clean sans",
        "modern sans-serif",
        "plain sans-serif",
        "face without serifs",
        "neutral sans",
        "simple sans serif",
        "sans-serif typeface",
    ],
    "monospace": [
        "monospace",
        "monospaced",
        "fixed-width",
        "fixed pitch",
        "coding font",
        "programming font",
        "code font",
        "monospaced font for source code",
        "fixed-width programming face",
        "font for code",
    ],
    "handwriting": [
        "handwriting",
        "handwritten",
        "script",
        "hand-drawn",
        "casual handwriting",
        "handwritten script",
        "informal script",
        "hand lettering",
        "script font",
        "handwritten font",
    ],
    "display": [
        "display",
        "display face",
        "decorative",
        "headline font",
        "poster font",
        "ornamental",
        "fancy display",
        "decorative display face",
        "font for titles",
        "eye-catching display",
    ],
}

WEIGHT_WORDS: dict[int, list[str]] = {
    100: ["hairline", "thin", "very thin", "ultra-light"],
    200: ["extra-light", "very light", "thin"],
    300: ["light", "light-weight"],
    400: ["regular", "normal weight", "regular weight", ""],
    500: ["medium", "medium-weight"],
    600: ["semibold", "demibold"],
    700: ["bold", "strong bold"],
    800: ["extra-bold", "heavy", "very bold"],
    900: ["black", "heavy", "ultra-bold", "fat"],
}

ITALIC_WORDS = ["italic", "slanted", "oblique", "sloped", "leaning"]
UPRIGHT_WORDS = ["upright", "straight", "", "", ""]
NARROW_WORDS = ["condensed", "narrow", "compressed", "tall and narrow"]
WIDE_WORDS = ["wide", "extended", "expanded", "broad"]
HIGH_CONTRAST = ["high-contrast", "with thick and thin strokes", "high stroke contrast"]
LOW_CONTRAST = ["low-contrast", "monoline", "with even strokes", "uniform stroke"]

#: descriptive words of family names (lower-case token) -> phrases that say them.
NAME_WORDS: dict[str, list[str]] = {
    "mono": ["monospace", "monospaced"],
    "code": ["coding", "code"],
    "slab": ["slab serif", "slab-serif"],
    "script": ["script", "flowing script"],
    "hand": ["handwritten", "hand-drawn"],
    "handwriting": ["handwritten"],
    "brush": ["brush", "brush-drawn"],
    "marker": ["marker", "felt-tip marker"],
    "pen": ["pen-drawn"],
    "playwrite": ["school handwriting", "handwriting"],
    "edu": ["school handwriting"],
    "guides": ["with guide lines"],
    "condensed": ["condensed", "narrow"],
    "narrow": ["narrow"],
    "compressed": ["compressed"],
    "expanded": ["expanded", "wide"],
    "extended": ["extended", "wide"],
    "wide": ["wide"],
    "rounded": ["rounded", "soft rounded"],
    "round": ["rounded"],
    "maru": ["rounded"],
    "stencil": ["stencil", "stencil-cut"],
    "pixel": ["pixel", "bitmap", "8-bit"],
    "sixtyfour": ["pixel", "8-bit"],
    "display": ["display"],
    "headline": ["headline"],
    "poster": ["poster"],
    "title": ["titling"],
    "swash": ["swash", "flourished"],
    "shadow": ["shadowed", "with a drop shadow"],
    "outline": ["outlined", "hollow"],
    "inline": ["inline"],
    "caps": ["capitals"],
    "sc": ["small caps"],
    "black": ["black"],
    "text": ["text"],
    "old": ["old-style", "old-fashioned"],
    "antique": ["antique", "old-fashioned"],
    "vintage": ["vintage"],
    "retro": ["retro"],
    "modern": ["modern"],
    "geometric": ["geometric"],
    "square": ["square", "squarish"],
    "serif": ["serif"],
    "sans": ["sans"],
    "fell": ["old-style"],
    "gothic": ["gothic"],
    "blackletter": ["blackletter"],
    "fraktur": ["blackletter", "fraktur"],
    "formal": ["formal"],
    "comic": ["comic", "cartoon"],
    "doodle": ["doodle"],
    "sketch": ["sketchy"],
    "grunge": ["grungy", "distressed"],
    "dot": ["dotted"],
}

#: how often a caption says each attribute (short captions are common, the category almost always there)
KEEP = {"category": 0.95, "weight": 0.6, "name": 0.5}

TEMPLATES = [
    "{desc}",
    "a {desc}",
    "a {desc} font",
    "a {desc} typeface",
    "{desc} type",
    "a font that is {desc}",
    "{desc} lettering",
    "a {desc} face",
]


#: short captions (``--short K``, off in the shipped recipe): one attribute phrase of the font alone, in a
#: short template. Tried as caption augmentation for unseen one-word prompts: 4 per font, fine-tuned 3,000
#: steps, validation words 0.575 vs 0.574 for the same fine-tuning without them (prompt ensembling on), so
#: not shipped.
SHORT_TEMPLATES = [
    "{}",
    "{} style",
    "{} letters",
    "{} alphabet",
    "text in {} type",
    "a font in the style of {}",
    "{} design",
]
SHORT_SLOTS = ("category", "name", "width", "weight")


def thresholds(labels: dict[str, list]) -> dict[str, float]:
    """Cut points of the measured attributes, from the training fonts' quantiles."""
    q = {k: np.asarray(labels[k], float) for k in ("width", "contrast", "slant")}
    return {
        "narrow": float(np.quantile(q["width"], 0.15)),
        "wide": float(np.quantile(q["width"], 0.85)),
        "low_contrast": float(np.quantile(q["contrast"], 0.15)),
        "high_contrast": float(np.quantile(q["contrast"], 0.85)),
        "slanted": float(np.quantile(q["slant"], 0.80)),
    }


def name_phrases(family: str) -> list[str]:
    """Phrases for the descriptive words of a family name (the name itself is never used)."""
    out: list[str] = []
    for word in family.lower().replace("-", " ").split():
        out += [p for p in NAME_WORDS.get(word, []) if p not in out]
    return out


def font_attributes(row: dict, cuts: dict[str, float]) -> dict[str, list[str]]:
    """Which word lists describe one font: ``{slot: candidate phrases}``."""
    weight = int(round(float(row["weight"]) / 100) * 100)
    attrs: dict[str, list[str]] = {
        "category": CATEGORY_WORDS[row["category"]],
        "weight": WEIGHT_WORDS.get(min(max(weight, 100), 900), [""]),
        "style": ITALIC_WORDS if row["italic"] or float(row["slant"]) > cuts["slanted"] else UPRIGHT_WORDS,
    }
    if float(row["width"]) <= cuts["narrow"]:
        attrs["width"] = NARROW_WORDS
    elif float(row["width"]) >= cuts["wide"]:
        attrs["width"] = WIDE_WORDS
    if float(row["contrast"]) >= cuts["high_contrast"]:
        attrs["contrast"] = HIGH_CONTRAST
    elif float(row["contrast"]) <= cuts["low_contrast"]:
        attrs["contrast"] = LOW_CONTRAST
    names = name_phrases(row["family"])
    if names:
        attrs["name"] = names
    return attrs


def compose(attrs: dict[str, list[str]], rng: random.Random) -> str:
    """One caption: a random subset of the attributes (the category most often) in a random template."""
    keep = [k for k in attrs if rng.random() < KEEP.get(k, 0.45)]
    if not keep:
        keep = [rng.choice(sorted(attrs))]  # a list, not a set: the same captions in every process
    words = {k: rng.choice(attrs[k]) for k in keep}
    order = ["weight", "style", "width", "contrast", "name", "category"]
    front = [words[k] for k in order if k in words and k != "contrast" and words[k]]
    if not front and "contrast" not in words:
        front = [rng.choice(attrs["category"])]
    # drop a phrase whose words another phrase already says ("sans" beside "clean sans")
    front = [
        p
        for i, p in enumerate(front)
        if not any(
            j != i and set(p.split()) <= set(q.split()) and (len(q) > len(p) or j < i) for j, q in enumerate(front)
        )
    ]
    desc = " ".join(front)
    if "contrast" in words:
        c = words["contrast"]
        if c.startswith("with") and not desc:
            desc = f"{rng.choice(attrs['category'])} {c}"
        else:
            desc = f"{desc} {c}" if c.startswith("with") else f"{c} {desc}".strip()
    nouns = ("font", "face", "typeface", "type", "lettering", "strokes", "code")
    templates = TEMPLATES[:2] if desc.split()[-1] in nouns else TEMPLATES
    text = rng.choice(templates).format(desc=desc.strip())
    text = text.replace("font font", "font")
    text = re.sub(r"\ba (?=[aeio]|u(?!ni))", "an ", text)  # "an extra-bold", "an upright", "a uniform"
    return " ".join(text.split())


def captions_for(row: dict, cuts: dict[str, float], rng: random.Random, k: int = PER_FONT) -> list[str]:
    """``k`` distinct captions of one font (fewer when its attributes allow fewer)."""
    attrs = font_attributes(row, cuts)
    out: list[str] = []
    for _ in range(k * 8):
        c = compose(attrs, rng)
        if c not in out:
            out.append(c)
        if len(out) == k:
            break
    for c in out:
        leaks = caption_leaks(c)
        if leaks:
            raise RuntimeError(f"caption {c!r} contains held-out stems {leaks}")
    return out


def short_captions(row: dict, cuts: dict[str, float], rng: random.Random, k: int) -> list[str]:
    """``k`` short captions of one font: a single phrase of one of its attributes in a short template."""
    attrs = font_attributes(row, cuts)
    slots = [s for s in SHORT_SLOTS if any(attrs.get(s, []))]
    out: list[str] = []
    for _ in range(k * 8):
        slot = rng.choice(slots)
        phrase = rng.choice([p for p in attrs[slot] if p])
        c = rng.choice(SHORT_TEMPLATES).format(phrase)
        if c not in out:
            out.append(c)
        if len(out) == k:
            break
    for c in out:
        leaks = caption_leaks(c)
        if leaks:
            raise RuntimeError(f"caption {c!r} contains held-out stems {leaks}")
    return out


def rows_of(labels: dict[str, list]) -> list[dict]:
    keys = ("family", "category", "weight", "italic", "width", "contrast", "slant")
    return [dict(zip(keys, vals)) for vals in zip(*(labels[k] for k in keys))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--fontdata",
        type=Path,
        default=None,
        help="the font data (glyphs64.npz of build_font_data.py): captions its held-out fonts too",
    )
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--short", type=int, default=0, help="short captions per training font (0: none, as shipped)")
    args = ap.parse_args()
    train = json.loads(LABELS.read_text())
    cuts = thresholds(train)
    rng = random.Random(SEED)
    doc: dict = {
        "recipe": {
            "script": "scripts/build_font_captions.py",
            "seed": SEED,
            "per_font": PER_FONT,
            "keep": KEEP,
            "thresholds": cuts,
            "templates": TEMPLATES,
            "forbidden_stems": list(FORBIDDEN_STEMS),
            "category_words": CATEGORY_WORDS,
            "weight_words": {str(k): v for k, v in WEIGHT_WORDS.items()},
            "name_words": NAME_WORDS,
            "source": "labels of latentlab/models/glyphs (train) and the held-out font data",
        },
        "train": [captions_for(r, cuts, rng) for r in rows_of(train)],
    }
    if args.fontdata is not None:
        data = np.load(args.fontdata)
        keep = data["split"] == "test"
        held = {
            k: data[k][keep].tolist()
            for k in ("family", "category", "weight", "italic", "width", "contrast", "slant", "font_id", "heldout_half")
        }
        doc["heldout"] = [captions_for(r, cuts, rng) for r in rows_of(held)]
        doc["heldout_font_id"] = held["font_id"]
        doc["heldout_half"] = held["heldout_half"]
    # the short captions draw from their own generator: the sentence captions (and the held-out ones)
    # are those of the recipe without them
    if args.short:
        short_rng = random.Random(SEED + 1)
        doc["train"] = [
            caps + short_captions(r, cuts, short_rng, args.short) for caps, r in zip(doc["train"], rows_of(train))
        ]
        doc["recipe"]["short"] = {"per_font": args.short, "templates": SHORT_TEMPLATES, "slots": list(SHORT_SLOTS)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(args.out) as tmp:
        tmp.write_text(json.dumps(doc, indent=0) + "\n")
    digest = sha256_file(args.out)
    with atomic_path(args.out.with_suffix(".sha256")) as tmp:
        tmp.write_text(f"{digest}  {args.out.name}\n")
    n = sum(len(c) for c in doc["train"])
    print(
        f"{len(doc['train'])} training fonts, {n} captions; held-out fonts: {len(doc.get('heldout', []))}; "
        f"sha256 {digest[:16]}"
    )


if __name__ == "__main__":
    main()
