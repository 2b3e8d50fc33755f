"""Morph export rows: frames/s at 256 px to MP4 and GIF, and peak memory for short vs long morphs.

Baseline: "decode everything, then write", the way most scripts do it: the frames are collected
in one array and handed to the writer (imageio-ffmpeg with latentlab's own x264 settings, crf 18
preset medium, for MP4, so both encode the same quality; imageio's Pillow plugin for GIF).
latentlab decodes in batches and pipes each frame to ffmpeg as it comes.

Peak memory is measured in a fresh process per run (``VmHWM`` of the Python process image from
``/proc/self/status``: ``ru_maxrss`` of a child counts its parent's pages from before ``exec``; plus
``tracemalloc``'s peak of Python/numpy allocations; torch's own buffers are only in the RSS).
ffmpeg runs as a child process and is not counted for either side.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

_CHILD = r"""
import json, sys, tracemalloc
import numpy as np
import imageio.v3 as iio
import latentlab as ll
from latentlab import animate
mode, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
gen = ll.load("digits")
keys = animate.seed_keyframes(gen, [1, 5, 9, 2])
ll.save_morph(gen, keys, out, fps=30, seconds=64 / 30, size=256, progress=False)  # warm-up: 2 full batches
def hwm():  # peak RSS (kB) of this process image; ru_maxrss would include the parent's before exec
    return next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
base = hwm()
tracemalloc.start()
if mode == "stream":
    ll.save_morph(gen, keys, out, fps=30, seconds=n / 30, size=256, progress=False)
else:
    frames = np.stack(list(ll.frames(gen, keys, fps=30, seconds=n / 30, size=256)))
    iio.imwrite(out, frames, fps=30, codec="libx264")
peak_py = tracemalloc.get_traced_memory()[1]
rss = hwm()
print(json.dumps({"rss_mb": rss / 1024, "rss_growth_mb": (rss - base) / 1024, "py_peak_mb": peak_py / 2**20}))
"""


def _peak(mode: str, n: int, folder: Path) -> dict[str, float]:
    out = folder / f"{mode}-{n}.mp4"
    r = subprocess.run(
        [sys.executable, "-c", _CHILD, mode, str(n), str(out)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    return json.loads(r.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _fps_rows(n: int, folder: Path) -> list[dict[str, str]]:
    import imageio.v3 as iio
    import numpy as np

    import latentlab as ll
    from latentlab import animate

    gen = ll.load("digits")
    keys = animate.seed_keyframes(gen, [1, 5, 9, 2])
    list(ll.frames(gen, keys, fps=10, seconds=0.2, size=256))  # warm-up
    rows = []
    for ext in (".mp4", ".gif"):
        t0 = time.perf_counter()
        ll.save_morph(gen, keys, folder / f"ll{ext}", fps=30, seconds=n / 30, size=256, progress=False)
        t_ll = time.perf_counter() - t0
        t0 = time.perf_counter()
        frames = np.stack(list(ll.frames(gen, keys, fps=30, seconds=n / 30, size=256)))
        if ext == ".mp4":  # the same encoder settings as latentlab (x264 crf 18, preset medium, yuv420p)
            _write_all_mp4(frames, folder / f"base{ext}")
        else:
            iio.imwrite(folder / f"base{ext}", frames, duration=1000 / 30, loop=0)
        t_base = time.perf_counter() - t0
        rows.append(
            {
                "benchmark": f"{n} frames 256 px -> {ext[1:].upper()}",
                "latentlab": f"{n / t_ll:.0f} frames/s",
                "baseline": f"{n / t_base:.0f} frames/s (decode all, then write)",
                "ratio": f"{t_base / t_ll:.2f}x faster",
                "note": f"files {_kb(folder / f'll{ext}')} vs {_kb(folder / f'base{ext}')} kB",
            }
        )
    return rows


def _write_all_mp4(frames: Any, path: Path) -> None:
    """Decode-all-then-write with imageio-ffmpeg, at latentlab's x264 settings (like with like)."""
    import imageio_ffmpeg
    import numpy as np

    writer = imageio_ffmpeg.write_frames(
        str(path),
        (frames.shape[2], frames.shape[1]),
        fps=30,
        codec="libx264",
        quality=None,
        pix_fmt_out="yuv420p",
        macro_block_size=1,
        output_params=["-crf", "18", "-preset", "medium"],
    )
    writer.send(None)
    for frame in frames:
        writer.send(np.ascontiguousarray(frame))
    writer.close()


def _kb(path: Path) -> str:
    return f"{path.stat().st_size / 1024:,.0f}"


def run(quick: bool = False) -> list[dict[str, str]]:
    short, long = (50, 500) if quick else (100, 1000)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rows = _fps_rows(60 if quick else 150, folder)
        peaks = {(mode, n): _peak(mode, n, folder) for mode in ("stream", "baseline") for n in (short, long)}
    for n in (short, long):
        s, b = peaks[("stream", n)], peaks[("baseline", n)]
        rows.append(
            {
                "benchmark": f"peak memory, {n} frames 256 px MP4",
                "latentlab": f"{s['rss_mb']:.0f} MB RSS",
                "baseline": f"{b['rss_mb']:.0f} MB RSS (decode all, then write)",
                "ratio": f"{s['rss_mb'] / b['rss_mb']:.2f}x",
                "note": f"growth during export {s['rss_growth_mb']:.0f} vs {b['rss_growth_mb']:.0f} MB; "
                f"tracemalloc peak {s['py_peak_mb']:.1f} vs {b['py_peak_mb']:.1f} MB",
            }
        )
    s_short, s_long = peaks[("stream", short)], peaks[("stream", long)]
    b_short, b_long = peaks[("baseline", short)], peaks[("baseline", long)]
    rows.append(
        {
            "benchmark": f"memory growth {short} -> {long} frames",
            "latentlab": f"+{s_long['rss_mb'] - s_short['rss_mb']:.0f} MB RSS",
            "baseline": f"+{b_long['rss_mb'] - b_short['rss_mb']:.0f} MB RSS",
            "ratio": "",
            "note": f"tracemalloc peak {s_short['py_peak_mb']:.1f} -> {s_long['py_peak_mb']:.1f} MB "
            f"vs {b_short['py_peak_mb']:.1f} -> {b_long['py_peak_mb']:.1f} MB",
        }
    )
    return rows
