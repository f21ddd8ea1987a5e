"""Memory stays flat over clip length: RSS while stylizing a long clip (not a timed test).

    python benchmarks/memory_long_clip.py [--frames 10000] [--size 96x128] [--style NAME|PATH]

Writes a clip of many small frames, stylizes it with temporal blending and face preservation on,
samples the process RSS every 50 ms and prints RSS after the first 5% of frames, the peak, their
ratio, and the slope over the second half (MB per 1000 frames). Flat means ratio ~1 and slope ~0.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path


def main() -> int:
    import numpy as np
    from common import machine, save_json  # benchmarks/common.py

    from vidstyle import Pipeline
    from vidstyle.config import load_config
    from vidstyle.io.synth import textured, write_clip
    from vidstyle.sysinfo import rss_bytes

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=10_000)
    ap.add_argument("--size", default="96x128", help="HxW")
    ap.add_argument("--style", default="default")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    h, w = (int(v) for v in args.size.split("x"))
    base = textured(h, w * 4, seed=1)
    frames = (np.ascontiguousarray(np.roll(base, -i, axis=1)[:, :w]) for i in range(args.frames))
    cfg = load_config(
        search_cwd=False,
        overrides={"model.style": args.style, "run.progress": "off", "encode.preset": "ultrafast"},
    )
    samples: list[tuple[float, int, int]] = []  # (t, frames written, rss)
    with tempfile.TemporaryDirectory() as tmp:
        clip = write_clip(Path(tmp) / "long.mp4", frames, 25, crf=23)
        pipeline = Pipeline(cfg)
        pipeline.load()
        stop = threading.Event()
        progress = {"n": 0}

        def sample() -> None:
            while not stop.is_set():
                samples.append((time.monotonic(), progress["n"], rss_bytes()))
                stop.wait(0.05)

        import vidstyle.pipeline.api as api

        original_tick = api._Progress.tick

        def tick(self, result):  # follow the frame count without a terminal
            progress["n"] = result.frames_out
            return original_tick(self, result)

        api._Progress.tick = tick
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        t0 = time.monotonic()
        report = pipeline.run(clip, Path(tmp) / "out.mp4")
        stop.set()
        sampler.join()
    n = report.frames_out
    early = [r for _, f, r in samples if f >= 0.05 * n]
    first = early[0] if early else samples[0][2]
    peak = max(r for _, _, r in samples)
    half = [(f, r) for _, f, r in samples if f >= n / 2]
    slope = 0.0
    if len(half) > 2:
        fs, rs = np.array([f for f, _ in half], float), np.array([r for _, r in half], float)
        slope = float(np.polyfit(fs, rs, 1)[0]) * 1000 / 2**20
    result = {
        "frames": n,
        "size": args.size,
        "seconds": round(time.monotonic() - t0, 1),
        "rss_after_5pct_mb": round(first / 2**20, 1),
        "rss_peak_mb": round(peak / 2**20, 1),
        "peak_over_first": round(peak / first, 3),
        "slope_mb_per_1000_frames": round(slope, 3),
        "stylizer": report.stylizer,
        "machine": machine(),
    }
    print(json.dumps(result, indent=2))
    save_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
