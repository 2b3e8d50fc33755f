"""glyphs-text: words -> 4 decoded specimens after loading (goal <= 150 ms), and the load time of the text extra.

Rows:

* text -> 4 specimens, a new text each call (embedding + 25 DDIM steps with guidance + glyphs
  decode); baseline: the same with a cached embedding (the sampler and decoder alone);
* load of the ``text`` extra in a fresh process (importing sentence-transformers, loading MiniLM,
  first embedding); baseline: importing latentlab alone in a fresh process.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
import time

from benchmarks._timing import median_of, ms, on_one_thread

_FRESH_TEXT = (
    "import time, latentlab as ll; t0 = time.perf_counter(); from latentlab.text import default_encoder; "
    "default_encoder().encode('a bold serif'); print(time.perf_counter() - t0)"
)
_FRESH_CORE = "import time; t0 = time.perf_counter(); import latentlab; print(time.perf_counter() - t0)"


def _fresh(code: str) -> float:
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    total = time.perf_counter() - t0
    return float(out.stdout.strip().splitlines()[-1]) if out.stdout.strip() else total


def run(quick: bool = False) -> list[dict[str, str]]:
    return on_one_thread(lambda: _run(quick))


def _run(quick: bool) -> list[dict[str, str]]:
    import latentlab as ll

    fonts = ll.load("glyphs")
    fonts.from_text("warm-up", n=4)  # loads the prior and the text encoder
    words = itertools.count()
    new_text = median_of(
        lambda: fonts.decode(fonts.from_text(f"a bold rounded display face {next(words)}", n=4)),
        repeat=3 if quick else 7,
    )
    cached = median_of(
        lambda: fonts.decode(fonts.from_text("a bold rounded display face", n=4)), repeat=3 if quick else 7
    )
    rows = [
        {
            "benchmark": "glyphs-text: text -> 4 decoded specimens (new text)",
            "latentlab": ms(new_text),
            "baseline": ms(cached),
            "ratio": f"{new_text / cached:.2f}x",
            "note": "baseline: same text again (embedding cached); goal <= 150 ms",
        }
    ]
    if not quick:
        load_text = _fresh(_FRESH_TEXT)
        load_core = _fresh(_FRESH_CORE)
        rows.append(
            {
                "benchmark": "glyphs-text: load the text extra (fresh process, first embedding)",
                "latentlab": f"{load_text:.2f} s",
                "baseline": f"{load_core:.2f} s",
                "ratio": f"{load_text / load_core:.1f}x",
                "note": "baseline: import latentlab alone",
            }
        )
    return rows
