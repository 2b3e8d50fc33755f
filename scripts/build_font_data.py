"""Build the ``glyphs`` data set: open-licensed Google Fonts from npm, rendered as 62 glyphs at 64 px.

Recipe (see ``docs/recipes/FONT_DATA.md``):

1. ``npm pack google-font-metadata`` -> the catalogue (family, category, weights, styles, subsets).
2. Pick latin families (all monospace, a seeded sample of the rest), ``npm pack @fontsource/<id>``
   in batches (resumable: tarballs already in ``data/cache/npm`` are reused; 404s are skipped).
3. For every latin ``.woff2`` (at most ``--max-per-family`` per family): check A-Z a-z 0-9 coverage with
   fontTools, render at 4x with one scale and baseline per font (each glyph centred on its ink),
   downsample to 64 px, drop caps-only fonts.
4. Group near-duplicate families (shared first word: "Noto Sans X" / "Noto Serif", "Alegreya" /
   "Alegreya Sans") and hold out >= 10% of the groups; split the held-out groups into a validation
   half (decisions) and a test half (reported figures only) with
   ``latentlab.generators.glyphs.split_heldout_groups``.

``--families-from data/fonts/manifest.json`` rebuilds exactly the families and split of a committed
manifest (what a trained checkpoint saw), failing if any of them cannot be downloaded: npm answers
differ from day to day (a package times out, a new one appears), which would otherwise change the
family set and, through the seeded shuffle of groups, the split.

Writes ``data/build/glyphs64.npz`` (uint8 ``(F, 62, 64, 64)``, 255 = ink, plus label arrays) and the
committed manifest ``data/fonts/manifest.json`` (families, package versions, licenses, split).

Usage::

    python scripts/build_font_data.py --families 780 --workers 2
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import subprocess
import sys
import tarfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from latentlab.generators.glyphs import (  # noqa: E402  (one recipe for data and encode_font)
    CHARS,
    font_missing_chars,
    render_font,
    split_heldout_groups,
)

CACHE = ROOT / "data" / "cache" / "npm"
BUILD = ROOT / "data" / "build"
MANIFEST = ROOT / "data" / "fonts" / "manifest.json"
CATALOGUE_PKG = "google-font-metadata@6.0.8"
CATEGORIES = ("serif", "sans-serif", "display", "handwriting", "monospace")
ALLOWED_LICENSES = ("OFL-1.1", "Apache-2.0", "UFL-1.0")
SIZE = 64
OVERSAMPLE = 4


class RegistryError(RuntimeError):
    """The npm registry could not be reached."""


def npm_pack(specs: list[str], dest: Path) -> tuple[list[str], str]:
    """``npm pack`` several packages into ``dest``; returns (tarball names, error text or "")."""
    proc = subprocess.run(["npm", "pack", *specs], cwd=dest, capture_output=True, text=True, timeout=300)
    names = [line.strip() for line in proc.stdout.splitlines() if line.strip().endswith(".tgz")]
    if proc.returncode != 0:
        return names, proc.stderr.strip() or f"npm pack exited with {proc.returncode}"
    return names, ""


def check_registry() -> None:
    """Fail early, with a clear message, when npm cannot reach the registry."""
    if shutil.which("npm") is None:
        raise RegistryError("npm is not installed: install Node.js/npm (apt-get install npm) and retry")
    proc = subprocess.run(["npm", "view", CATALOGUE_PKG, "version"], capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise RegistryError(
            f"cannot reach the npm registry (npm view {CATALOGUE_PKG} failed): "
            f"{proc.stderr.strip()[:300]}; check the network / proxy and rerun (downloads resume)"
        )


def load_catalogue() -> dict[str, dict]:
    """The google-font-metadata catalogue ``{id: entry}`` (downloaded once)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    tgz = CACHE / "google-font-metadata-6.0.8.tgz"
    if not tgz.is_file():
        npm_pack([CATALOGUE_PKG], CACHE)
    with tarfile.open(tgz) as tf:
        f = tf.extractfile("package/data/google-fonts-v1.json")
        assert f is not None
        return json.load(f)  # type: ignore[no-any-return]


def group_key(family: str) -> str:
    """Near-duplicate group of a family: its first word ("Noto Serif Toto" -> "noto")."""
    return re.split(r"[\s-]+", family.strip())[0].lower()


def choose_families(cat: dict[str, dict], n: int, seed: int) -> list[str]:
    """All latin monospace families plus a seeded sample of the other categories (no small-caps twins)."""
    ok = [
        k
        for k, v in cat.items()
        if "latin" in v["subsets"]
        and v["category"] in CATEGORIES
        and not re.search(r"\bSC\b", v["family"])
        and "Icons" not in v["family"]
    ]
    rng = random.Random(seed)
    mono = sorted(k for k in ok if cat[k]["category"] == "monospace")
    rest = sorted(k for k in ok if cat[k]["category"] != "monospace")
    rng.shuffle(rest)
    return mono + rest[: max(0, n - len(mono))]


def download(ids: list[str], batch: int = 25) -> dict[str, Path]:
    """``npm pack`` the ``@fontsource`` packages of ``ids`` (resumable); returns ``{id: tarball}``."""
    from tqdm import tqdm

    have = {p.name: p for p in CACHE.glob("fontsource-*.tgz")}

    def find(fid: str) -> Path | None:
        pat = re.compile(rf"^fontsource-{re.escape(fid)}-\d+\.\d+\.\d+\.tgz$")
        hits = [p for name, p in have.items() if pat.match(name)]
        return hits[0] if hits else None

    todo = [f for f in ids if find(f) is None]
    chunks = [todo[i : i + batch] for i in range(0, len(todo), batch)]
    failed: list[str] = []
    with tqdm(total=len(todo), desc="npm pack", unit="pkg") as bar, ThreadPoolExecutor(3) as pool:
        for bad in pool.map(pack_chunk, chunks):
            failed += bad
            bar.update(batch)
    have = {p.name: p for p in CACHE.glob("fontsource-*.tgz")}
    out = {f: p for f in ids if (p := find(f)) is not None}
    print(f"downloaded {len(out)} packages; {len(failed)} not on npm: {failed[:10]}", file=sys.stderr)
    return out


def pack_chunk(chunk: list[str]) -> list[str]:
    """``npm pack`` a list of family ids; drop the ones npm does not have (404) and retry; returns those."""
    chunk, missing = list(chunk), []
    while chunk:
        _, err = npm_pack([f"@fontsource/{f}" for f in chunk], CACHE)
        if not err:
            return missing
        if any(code in err for code in ("ENOTFOUND", "ETIMEDOUT", "EAI_AGAIN", "ECONNREFUSED")):
            raise RegistryError(f"cannot reach the npm registry: {err[:300]}")
        named = set(re.findall(r"@fontsource(?:/|%2[fF])([a-z0-9-]+)", err)) & set(chunk)
        if not named:  # unknown failure: try one by one
            named = {f for f in chunk if npm_pack([f"@fontsource/{f}"], CACHE)[1]}
            missing += sorted(named)
            return missing
        missing += sorted(named)
        chunk = [f for f in chunk if f not in named and not list(CACHE.glob(f"fontsource-{f}-*.tgz"))]
    return missing


def read_package(tgz: Path) -> tuple[dict, list[tuple[int, bool, bytes]]]:
    """(metadata.json, [(weight, italic, woff2 bytes)]) of the latin files in a fontsource tarball."""
    fonts = []
    meta: dict = {}
    with tarfile.open(tgz) as tf:
        for m in tf.getmembers():
            if m.name == "package/metadata.json":
                f = tf.extractfile(m)
                meta = json.load(f) if f else {}
                continue
            mm = re.match(r"package/files/.+-latin-(\d+)-(normal|italic)\.woff2$", m.name)
            if mm:
                f = tf.extractfile(m)
                if f is not None:
                    fonts.append((int(mm.group(1)), mm.group(2) == "italic", f.read()))
    version = re.search(r"-(\d+\.\d+\.\d+)\.tgz$", tgz.name)
    meta["_version"] = version.group(1) if version else "?"
    return meta, sorted(fonts, key=lambda t: (t[1], t[0]))


def pick_fonts(fonts: list[tuple[int, bool, bytes]], k: int) -> list[tuple[int, bool, bytes]]:
    """At most ``k`` fonts, spread over weights and styles, always with the regular 400 when present."""
    if len(fonts) <= k:
        return fonts
    idx = set(np.linspace(0, len(fonts) - 1, k).round().astype(int).tolist())
    reg = [i for i, f in enumerate(fonts) if f[0] == 400 and not f[1]]
    if reg and reg[0] not in idx:
        idx.pop()
        idx.add(reg[0])
    return [fonts[i] for i in sorted(idx)]


def is_caps_only(glyphs: np.ndarray) -> bool:
    """True when the lowercase letters repeat the capitals (IoU of ink > 0.85 on average)."""
    up = glyphs[:26] > 127
    lo = glyphs[26:52] > 127
    inter = (up & lo).sum((1, 2))
    union = (up | lo).sum((1, 2)).clip(1)
    return bool((inter / union).mean() > 0.85)


def measure(glyphs: np.ndarray) -> dict[str, float]:
    """Image attributes of a font: ink coverage, slant, width, stroke contrast."""
    x = glyphs.astype(np.float32) / 255
    ink = float(x.mean())
    ys, xs = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    slants = []
    for c in "HIldhkT1":
        g = x[CHARS.index(c)]
        m = g.sum()
        if m < 1:
            continue
        cx, cy = (g * xs).sum() / m, (g * ys).sum() / m
        mu11 = (g * (xs - cx) * (ys - cy)).sum() / m
        mu02 = (g * (ys - cy) ** 2).sum() / m
        slants.append(-mu11 / max(mu02, 1e-6))
    cols = (x > 0.5).any(1)
    rows = (x > 0.5).any(2)
    w = cols.sum(1).astype(np.float32)
    h = rows.sum(1).astype(np.float32).clip(1)
    hr, vr = _runs(x[[CHARS.index(c) for c in "OoHn"]] > 0.5)
    return {
        "ink": ink,
        "slant": float(np.median(slants)) if slants else 0.0,
        "width": float((w / h).mean()),
        "contrast": float(hr / max(vr, 1e-6)),
    }


def _runs(mask: np.ndarray) -> tuple[float, float]:
    """Median horizontal and vertical ink run lengths (stroke thickness across each direction)."""

    def lengths(m: np.ndarray) -> list[int]:
        out = []
        for row in m.reshape(-1, m.shape[-1]):
            d = np.diff(np.concatenate([[0], row.astype(np.int8), [0]]))
            out += (np.flatnonzero(d == -1) - np.flatnonzero(d == 1)).tolist()
        return out

    h = lengths(mask)
    v = lengths(mask.transpose(0, 2, 1))
    return float(np.median(h)) if h else 1.0, float(np.median(v)) if v else 1.0


def process_package(args: tuple[str, str, int]) -> tuple[str, dict, list[dict], list[np.ndarray], list[str]]:
    """Render the chosen fonts of one package: (id, metadata, font rows, glyph arrays, skip notes)."""
    fid, tgz, k = args
    meta, fonts = read_package(Path(tgz))
    rows, arrays, notes = [], [], []
    for weight, italic, data in pick_fonts(fonts, k):
        tag = f"{fid}-{weight}-{'italic' if italic else 'normal'}"
        try:
            miss = font_missing_chars(data)
            if miss:
                notes.append(f"{tag}: missing {miss}")
                continue
            g = render_font(data)
        except Exception as exc:  # a broken font file is skipped and noted
            notes.append(f"{tag}: {type(exc).__name__}: {exc}")
            continue
        if is_caps_only(g):
            notes.append(f"{tag}: caps-only")
            continue
        if (g > 127).sum((1, 2)).min() < 4:
            notes.append(f"{tag}: empty glyph")
            continue
        rows.append({"weight": weight, "italic": italic, **measure(g)})
        arrays.append(g)
    return fid, meta, rows, arrays, notes


def split_groups(groups: list[str], frac: float, seed: int) -> set[str]:
    """Held-out groups: a seeded ``frac`` of the distinct groups."""
    uniq = sorted(set(groups))
    rng = random.Random(seed)
    rng.shuffle(uniq)
    return set(uniq[: max(1, round(frac * len(uniq)))])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--families", type=int, default=780, help="families to download (before drops)")
    ap.add_argument("--max-per-family", type=int, default=6, help="fonts kept per family at most")
    ap.add_argument("--test-frac", type=float, default=0.12, help="fraction of family groups held out")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=BUILD / "glyphs64.npz")
    ap.add_argument(
        "--families-from",
        type=Path,
        default=None,
        help="rebuild exactly the families and split of this manifest (e.g. data/fonts/manifest.json)",
    )
    args = ap.parse_args()
    from tqdm import tqdm

    t0 = time.time()
    check_registry()
    cat = load_catalogue()
    pinned = json.loads(args.families_from.read_text()) if args.families_from else None
    if pinned:
        args.max_per_family = pinned["recipe"]["max_per_family"]
    ids = [f["id"] for f in pinned["families"]] if pinned else choose_families(cat, args.families, args.seed)
    tarballs = download(ids)
    if pinned and (lost := [f for f in ids if f not in tarballs]):
        sys.exit(f"--families-from: {len(lost)} families could not be downloaded ({lost[:10]}); run again")
    jobs = [(f, str(p), args.max_per_family) for f, p in tarballs.items()]
    results = []
    with ProcessPoolExecutor(args.workers) as pool:
        for r in tqdm(pool.map(process_package, jobs, chunksize=4), total=len(jobs), desc="render", unit="family"):
            results.append(r)
    fam_rows, font_rows, arrays, notes = [], [], [], []
    for fid, meta, rows, arr, nts in results:
        notes += nts
        lic = (meta.get("license") or {}).get("type", "") if isinstance(meta.get("license"), dict) else ""
        lic = lic or str(meta.get("license", ""))
        if not rows:
            continue
        if lic not in ALLOWED_LICENSES:
            notes.append(f"{fid}: license {lic!r} not allowed")
            continue
        entry = cat[fid]
        fam_rows.append(
            {
                "id": fid,
                "family": entry["family"],
                "category": entry["category"],
                "package": f"@fontsource/{fid}",
                "version": meta["_version"],
                "license": lic,
                "group": group_key(entry["family"]),
                "fonts": len(rows),
            }
        )
        for r in rows:
            font_rows.append(
                {
                    "id": fid,
                    "family": entry["family"],
                    "category": entry["category"],
                    "license": lic,
                    "group": group_key(entry["family"]),
                    **r,
                }
            )
        arrays += arr
    if pinned:
        held = {f["group"] for f in pinned["families"] if f["split"] == "test"}
        if changed := [
            f["id"] for f, p in zip(fam_rows, pinned["families"], strict=False) if f["id"] != p["id"]
        ] or len(fam_rows) != len(pinned["families"]):
            sys.exit(f"--families-from: the rebuilt families differ from the manifest's ({changed[:10]})")
    else:
        held = split_groups([f["group"] for f in fam_rows], args.test_frac, args.seed)
    for f in fam_rows:
        f["split"] = "test" if f["group"] in held else "train"
    test_rows = [f for f in fam_rows if f["split"] == "test"]
    halves = split_heldout_groups(
        [f["group"] for f in test_rows], [f["category"] for f in test_rows], [f["fonts"] for f in test_rows]
    )
    for f in test_rows:
        f["half"] = halves[f["group"]]
    glyphs = np.stack(arrays)
    split = np.array(["test" if r["group"] in held else "train" for r in font_rows])
    heldout_half = np.array([halves.get(r["group"], "") for r in font_rows])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        args.out,
        glyphs=glyphs,
        chars=np.array(list(CHARS)),
        split=split,
        heldout_half=heldout_half,
        family=np.array([r["family"] for r in font_rows]),
        font_id=np.array([r["id"] for r in font_rows]),
        category=np.array([r["category"] for r in font_rows]),
        license=np.array([r["license"] for r in font_rows]),
        group=np.array([r["group"] for r in font_rows]),
        weight=np.array([r["weight"] for r in font_rows], np.int16),
        italic=np.array([r["italic"] for r in font_rows], bool),
        **{k: np.array([r[k] for r in font_rows], np.float32) for k in ("ink", "slant", "width", "contrast")},
    )
    MANIFEST.parent.mkdir(parents=True, exist_ok=True)
    summary = {
        "source": {"catalogue": CATALOGUE_PKG, "fonts": "npm @fontsource/<id> packages (latin woff2)"},
        "recipe": pinned["recipe"]
        if pinned
        else {
            "chars": CHARS,
            "size": SIZE,
            "oversample": OVERSAMPLE,
            "max_per_family": args.max_per_family,
            "test_frac": args.test_frac,
            "seed": args.seed,
            "families_requested": args.families,
        },
        "counts": {
            "families": len(fam_rows),
            "fonts": len(glyphs),
            "test_families": sum(f["split"] == "test" for f in fam_rows),
            "test_fonts": int((split == "test").sum()),
            "validation_half_fonts": int((heldout_half == "validation").sum()),
            "test_half_fonts": int((heldout_half == "test").sum()),
            "by_category": {c: sum(f["category"] == c for f in fam_rows) for c in CATEGORIES},
        },
        "licenses": sorted({f["license"] for f in fam_rows}),
        "families": fam_rows,
        "skipped": notes,
    }
    MANIFEST.write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary["counts"]), f"{time.time() - t0:.0f}s", file=sys.stderr)


if __name__ == "__main__":
    try:
        main()
    except RegistryError as exc:
        sys.exit(f"error: {exc}")
