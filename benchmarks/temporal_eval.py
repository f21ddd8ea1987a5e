"""Temporal stabilisation, measured: flicker, style kept, and speed (a benchmark, not a test).

    python benchmarks/temporal_eval.py [--style default] [--shared ../shared/data] [--frames 60]
                                       [--json benchmarks/results/temporal-cpu.json]

Per clip (the ../shared/data/video/dev clips, cut to --frames, and a synthetic camera move with
sensor noise): the clip is stylized per frame (--temporal off) and stabilised (blend). Reported:
  - E_warp (Lai et al. 2018, flow and occlusions of the original) of both and their ratio;
  - Gram distance to the style painting (VGG16 relu1_2..relu4_3, sum of squared Gram
    differences, mean over every 5th frame) of both, and the relative change;
  - end-to-end fps with temporal on and off at 360p and 720p (generated clips), and the cost.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np


def cut(src: Path, dst: Path, frames: int) -> Path:
    """The first ``frames`` frames of ``src`` (a video or an image folder) as a lossless-ish MKV."""
    from vidstyle.io.source import open_source
    from vidstyle.io.synth import write_clip

    source = open_source(str(src))
    rate = source.info.rate or Fraction(25)
    try:
        images = [f.rgb for _, f in zip(range(frames), source)]
    finally:
        source.close()
    return write_clip(dst, images, rate, crf=10)


def noisy_pan(dst: Path, frames: int) -> Path:
    from vidstyle.io.synth import demo_photo, pan_zoom, write_clip

    rng = np.random.default_rng(0)
    images = [
        np.clip(f.astype(np.int16) + rng.normal(0, 4, f.shape), 0, 255).astype(np.uint8)
        for f in pan_zoom(demo_photo(), frames, (360, 640), zoom=(1.0, 1.25), center=(0.5, 0.4))
    ]
    return write_clip(dst, images, Fraction(30000, 1001), crf=12)


def frames_of(path: Path) -> list[np.ndarray]:
    from vidstyle.io.source import open_source

    src = open_source(str(path))
    try:
        return [f.rgb for f in src]
    finally:
        src.close()


def main() -> int:
    from common import machine, save_json  # benchmarks/common.py

    from vidstyle import Pipeline
    from vidstyle.config import load_config
    from vidstyle.eval.flicker import warping_errors
    from vidstyle.eval.style import GramMeter
    from vidstyle.io.synth import demo_photo, pan_zoom, write_clip
    from vidstyle.models.catalog import resolve_style

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--style", default="default")
    ap.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--fps-frames", type=int, default=32)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    entry = resolve_style(args.style)
    style_image = args.shared / "styles" / entry.meta.styles[entry.style_index].get("style_image", "")
    meter = (
        GramMeter(args.shared / "vgg16" / "vgg16_features_relu4_3.pth", style_image)
        if style_image.is_file()
        else None
    )
    base = {"model.style": str(entry.model_path), "run.progress": "off", "faces.mode": "off"}
    pipes = {
        mode: Pipeline(load_config(search_cwd=False, overrides={**base, "temporal.mode": mode}))
        for mode in ("off", "blend")
    }
    dev = args.shared / "video" / "dev"
    clips = [
        p
        for p in [
            dev / "asl" / "again.mkv",
            dev / "asl" / "book.mkv",
            dev / "asl" / "walk.mkv",
            dev / "sintel_market",
            dev / "05_default_juggle.mp4",
        ]
        if p.exists()
    ]
    rows, speed = [], []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        inputs = [
            (c.name if c.is_dir() else c.stem, cut(c, tmp / f"{c.stem}.mkv", args.frames)) for c in clips
        ]
        inputs.append(("synthetic_pan_noise", noisy_pan(tmp / "synthetic.mkv", args.frames)))
        for name, clip in inputs:
            outs = {}
            for mode, pipe in pipes.items():
                outs[mode] = tmp / f"{name}.{mode}.mkv"
                pipe.run(clip, outs[mode])
            original = frames_of(clip)
            styled = {m: frames_of(p) for m, p in outs.items()}
            _, e_off, e_on = warping_errors(original, [original, styled["off"], styled["blend"]])
            row = {
                "clip": name,
                "frames": len(original),
                "size": f"{original[0].shape[1]}x{original[0].shape[0]}",
                "e_warp_perframe": e_off.e_warp,
                "e_warp_stabilised": e_on.e_warp,
                "e_warp_ratio": e_on.e_warp / e_off.e_warp,
            }
            if meter is not None:
                g = {m: float(np.mean([meter.distance(f) for f in v[::5]])) for m, v in styled.items()}
                row.update(
                    gram_perframe=g["off"],
                    gram_stabilised=g["blend"],
                    gram_change=(g["blend"] - g["off"]) / g["off"],
                )
            rows.append(row)
            print(json.dumps(row), flush=True)
        for label, size in (("360p", (360, 640)), ("720p", (720, 1280))):
            clip = write_clip(tmp / f"speed{label}.mp4", pan_zoom(demo_photo(), args.fps_frames, size), 30)
            fps = {}
            for mode, pipe in pipes.items():
                pipe.run(clip, tmp / "warm.mp4")
                runs = []
                for _ in range(2):
                    t0 = time.perf_counter()
                    report = pipe.run(clip, tmp / f"s.{mode}.mp4")
                    runs.append(report.frames_out / (time.perf_counter() - t0))
                fps[mode] = float(np.median(runs))
            speed.append(
                {
                    "resolution": label,
                    "fps_off": fps["off"],
                    "fps_blend": fps["blend"],
                    "cost": 1 - fps["blend"] / fps["off"],
                }
            )
            print(json.dumps(speed[-1]), flush=True)
    result = {
        "style": entry.name,
        "stylizer": pipes["off"].stylizer.name,
        "machine": machine(),
        "alpha": pipes["blend"].cfg.temporal.alpha,
        "clips": rows,
        "speed": speed,
        "mean_e_warp_ratio": float(np.mean([r["e_warp_ratio"] for r in rows])),
    }
    if meter is not None:
        result["mean_gram_change"] = float(np.mean([r["gram_change"] for r in rows]))
    print(json.dumps({k: v for k, v in result.items() if k not in ("clips", "speed")}, indent=2))
    save_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
