"""End-to-end fps of `vidstyle stylize` vs the naive per-frame loop, same clip and model.

    python benchmarks/stylize_vs_naive.py [--style NAME|PATH] [--sizes 360p,720p] [--frames N]
                                          [--device cpu|cuda] [--json OUT]

Generates a pan/zoom clip per size (PyAV), runs both, prints fps and the ratio. One run each:
this is a quick comparison; `vidstyle bench` does repeats and per-stage detail.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

SIZES = {"360p": (360, 640), "480p": (480, 854), "720p": (720, 1280), "1080p": (1080, 1920)}


def main() -> int:
    from common import machine, save_json  # benchmarks/common.py

    from vidstyle import Pipeline
    from vidstyle.bench.naive import naive_stylize
    from vidstyle.config import load_config
    from vidstyle.io.synth import demo_photo, pan_zoom, write_clip
    from vidstyle.models.catalog import resolve_style

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--style", default="default")
    ap.add_argument("--sizes", default="360p,720p")
    ap.add_argument("--frames", type=int, default=48)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    entry = resolve_style(args.style)
    cfg = load_config(
        search_cwd=False,
        overrides={"model.style": str(entry.model_path), "model.device": args.device, "run.progress": "off"},
    )
    pipe = Pipeline(cfg)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.sizes.split(","):
            h, w = SIZES[name]
            clip = write_clip(
                Path(tmp) / f"{name}.mp4", pan_zoom(demo_photo(), args.frames, (h, w)), Fraction(30000, 1001)
            )
            if not rows:  # load the model and warm the caches outside the timing
                pipe.run(clip, Path(tmp) / "warm.mp4")
            t0 = time.perf_counter()
            report = pipe.run(clip, Path(tmp) / f"{name}.vidstyle.mp4")
            ours = report.frames_out / (time.perf_counter() - t0)
            n, secs = naive_stylize(entry.model_path, clip, Path(tmp) / f"{name}.naive.mp4")
            naive = n / secs
            rows.append(
                {
                    "size": name,
                    "frames": args.frames,
                    "fps": round(ours, 3),
                    "naive_fps": round(naive, 3),
                    "naive_ratio": round(ours / naive, 3),
                    "stylizer": pipe.stylizer.name,
                }
            )
            print(
                f"{name}: vidstyle {ours:.2f} fps, naive {naive:.2f} fps, ratio {ours / naive:.2f}x "
                f"[{pipe.stylizer.name}]",
                flush=True,
            )
    where = machine()
    save_json(args.json, {"machine": where, "style": entry.name, "results": rows})
    print(json.dumps(where))
    return 0


if __name__ == "__main__":
    sys.exit(main())
