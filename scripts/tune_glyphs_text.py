"""Compare sampler and prompt-reading settings of the ``glyphs-text`` prior on VALIDATION data only.

Each option (a JSON object of :class:`TextPriorConfig` sampler fields, plus ``"weights"``: ``"ema"``
or ``"net"``, ``"guidance"``, and ``"anchors"`` / ``"snap_tau"``: snapping the prompt onto k-means anchors of
the caption embeddings) is measured on what no reported figure uses:

- legibility (the shipped reader) of samples of the validation prompts below and of captions of the
  *validation* half of the held-out fonts, with seeds the export never draws; per prompt, the worst;
- bar 1 weight Spearman and bar 2 italic gap with other noise seeds than the export's;
- bar 3a (caption words) and 3b on the *validation* words (never in a caption), other seeds;
- bar 5a variety over the validation prompts, 5b novelty;
- bar 4 on the validation half of the held-out fonts (when ``data/build/heldout_codes.pt`` exists).

One JSON line per option goes to stdout (and ``--out``). The export script then reports the test
figures of the chosen option once.

Usage::

    python scripts/tune_glyphs_text.py --out data/build/tune.jsonl '{}' '{"guidance_rescale": 0.7}'
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from export_glyphs_text import CAPTIONS, ITALIC_PAIRS, WEIGHT_TEMPLATES, load_prior  # noqa: E402

import latentlab as ll  # noqa: E402
from latentlab.generators import glyphs_text_quality as q  # noqa: E402
from latentlab.generators._font_words import CATEGORY_PROMPTS, VALIDATION_WORDS, WEIGHT_PROMPTS  # noqa: E402
from latentlab.generators.glyphs import eval_reader, load_eval_sample  # noqa: E402

#: prompts for choosing settings (the export's variety/legibility prompts are others)
VALIDATION_PROMPTS = (
    "a heavy rounded display face",
    "a thin elegant serif",
    "a black condensed sans-serif",
    "a wide geometric sans",
    "a casual handwritten script",
    "a bold slab serif",
    "a pixel font",
    "a light monospace code font",
)
SEED = 101  # the export draws seeds 0-3


def validation_captions(k: int = 16, seed: int = SEED) -> list[str]:
    """One caption of each of ``k`` fonts of the validation half of the held-out fonts (161 fonts)."""
    caps = json.loads(CAPTIONS.read_text())
    val = [c for c, h in zip(caps["heldout"], caps["heldout_half"]) if h == "validation"]
    rng = np.random.default_rng(seed)
    return [val[i][int(rng.integers(len(val[i])))] for i in rng.choice(len(val), k, replace=False)]


def measure(
    option: dict, glyphs: ll.Generator, reader: object, heldout: dict | None, per_prompt: int = 4, seed: int = SEED
) -> dict:
    opt = dict(option)
    weights = opt.pop("weights", "ema")
    guidance = float(opt.pop("guidance", 3.0))
    anchors, snap_tau = int(opt.pop("anchors", 0)), float(opt.pop("snap_tau", 0.05))
    ckpt = ROOT / "data" / "checkpoints" / "glyphs_text.pt"
    prior, _ = load_prior(ckpt, glyphs, anchors, snap_tau, guidance, weights, **opt)
    codes, cats = glyphs.codes(), glyphs.labels()["category"]  # type: ignore[attr-defined]
    t0 = time.time()
    m: dict = {"option": option, "seed": seed}
    leg = {}
    for p in VALIDATION_PROMPTS:
        s = prior.styles(prior.sample(per_prompt, seed=seed), prompt=p)
        leg[p] = reader.accuracy(glyphs.glyphs(s))  # type: ignore[attr-defined]
    caps = validation_captions(4 * per_prompt, seed)
    s = prior.styles(prior.sample(len(caps), seed=seed + 1), prompt=caps)
    leg["(validation captions)"] = reader.accuracy(glyphs.glyphs(s))  # type: ignore[attr-defined]
    m["legibility"] = float(np.mean(list(leg.values())[:-1]) * 0.5 + leg["(validation captions)"] * 0.5)
    m["legibility_worst"] = min(leg.values())
    m["legibility_each"] = {k: round(v, 3) for k, v in leg.items()}
    m["weight"] = q.weight_spearman(prior, WEIGHT_PROMPTS, WEIGHT_TEMPLATES, seeds=4, seed=seed)
    ref = codes[torch.randperm(len(codes), generator=torch.Generator().manual_seed(seed))[:200]]
    m["italic"] = q.italic_gap(prior, ITALIC_PAIRS, float(q.font_measure(glyphs, ref, "slant").std()), seed=seed)  # type: ignore[arg-type]
    for key, prompts in (("3a", CATEGORY_PROMPTS), ("3b_validation", VALIDATION_WORDS)):
        each = q.category_rate(prior, prompts, codes, cats, n=20, seed=seed)
        m[key] = float(np.mean(list(each.values())))
        m[key + "_each"] = {k: round(v, 2) for k, v in each.items()}
    v = q.variety(prior, VALIDATION_PROMPTS, codes, seeds=8, seed=seed)
    m["variety"] = {"mean": v["mean"], "min": v["min"]}
    samples = torch.cat([prior.styles(prior.sample(4, seed=seed), prompt=p) for p in VALIDATION_PROMPTS])
    nov = q.novelty(samples, codes)
    m["novelty"] = {k: round(nov[k], 3) for k in ("sample_nn_median", "train_nn_median", "sample_nn_min")}
    if heldout is not None:
        keep = [i for i, h in enumerate(heldout["half"]) if h == "validation"]
        ranks = q.heldout_caption_ranks(prior, [heldout["captions"][i] for i in keep], heldout["codes"][keep])
        m["rank4_validation"] = float(np.median(ranks) / len(keep))
    m["seconds"] = round(time.time() - t0, 1)
    return m


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("options", nargs="+", help="JSON objects of settings ('{}': the shipped ones)")
    ap.add_argument("--out", type=Path, default=None, help="append the JSON lines here")
    ap.add_argument("--per-prompt", type=int, default=4, help="samples per validation prompt for legibility")
    ap.add_argument("--seed", type=int, default=SEED, help="noise seed (the export draws 0-3: not those)")
    args = ap.parse_args()
    if 0 <= args.seed <= 4:
        sys.exit("seeds 0-4 are the export's (its reported figures): choose another")
    torch.set_num_threads(1)
    glyphs = ll.load("glyphs")
    reader = eval_reader(load_eval_sample(glyphs.folder))  # type: ignore[arg-type]
    cache = ROOT / "data" / "build" / "heldout_codes.pt"
    heldout = None
    if cache.is_file():
        caps = json.loads(CAPTIONS.read_text())
        heldout = {**torch.load(cache), "captions": caps["heldout"], "half": caps["heldout_half"]}
    for text in args.options:
        m = measure(json.loads(text), glyphs, reader, heldout, args.per_prompt, args.seed)
        line = json.dumps(m, default=float)
        print(line, flush=True)
        if args.out:
            with args.out.open("a") as f:
                f.write(line + "\n")


if __name__ == "__main__":
    main()
