"""Optimization mode, measured: flicker, style and cost of four video methods, and face terms.

    python benchmarks/optimize_eval.py [--shared ../shared/data] [--clip asl/again.mkv] [--frames 8]
        [--size 128] [--iters 50] [--painting starry_night] [--json benchmarks/results/optimize-cpu.json]
        [--grid benchmarks/results/optimize-grid.jpg]

Video (one dev clip cut to --frames, optimized at --size long side):
  - per-frame Gatys: every frame from its own noise, no flow (``--set optimize.sequence=independent``);
  - Ruder init: start from the previous result warped along the flow, no temporal loss;
  - Ruder full: warped start + consistency-masked temporal loss (weight 1e3);
  - hybrid: start from the feed-forward starry_night model's output, then Ruder full with a
    quarter of the iterations.
Reported per method: E_warp (Lai et al. 2018; vidstyle/eval/flicker.py), Gram distance to the
painting (VGG16 relu1_1..relu4_1 at the optimized size, mean over frames) and seconds per frame.

Portraits (--portraits from ../shared/data/faces/photos): faces off / weighted / identity;
descriptor distance original <-> stylized (the 128-d recognition net; same person below ~0.6).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def main() -> int:
    from PIL import Image

    sys.path.insert(0, str(Path(__file__).parent))
    from common import machine, save_json  # benchmarks/common.py
    from temporal_eval import cut, frames_of  # benchmarks/temporal_eval.py

    from vidstyle.config import PipelineConfig
    from vidstyle.eval.flicker import warping_errors
    from vidstyle.geometry import fit_long_side
    from vidstyle.optimize.gatys import resize, to_batch
    from vidstyle.optimize.objective import style_grams
    from vidstyle.optimize.run import OptimizePipeline
    from vidstyle.perceptual.vgg import LAYER_INDEX, load_vgg

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--clip", default="asl/again.mkv", help="under video/dev")
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--iters", type=int, default=50, help="per frame after the first (first: 2x)")
    ap.add_argument("--painting", default="starry_night")
    ap.add_argument(
        "--portraits",
        default="biden_biden.jpg,kit_harington_john1.jpeg,rose_leslie_img1.jpg,obama_obama.jpg",
        help="photos under faces/photos, one per person",
    )
    ap.add_argument("--portrait-size", type=int, default=128)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--grid", type=Path)
    args = ap.parse_args()

    painting = args.shared / "styles" / f"{args.painting}.jpg"
    vgg = load_vgg(args.shared / "vgg16" / "vgg16_features_relu4_3.pth", layers=tuple(LAYER_INDEX))
    base = PipelineConfig()
    base = dataclasses.replace(base, run=dataclasses.replace(base.run, progress="off"))

    def cfg(**kw) -> PipelineConfig:
        settings = {
            "style_image": str(painting),
            "size": args.size,
            "iters": args.iters,
            "device": args.device,
            **kw,
        }
        o = dataclasses.replace(base.optimize, **settings)
        return dataclasses.replace(base, optimize=o)

    methods = {
        "per-frame Gatys": cfg(sequence="independent", iters=2 * args.iters),
        "Ruder init": cfg(temporal_weight=0.0),
        "Ruder full": cfg(),
        "hybrid (style-net + Ruder)": cfg(init=f"style-net:{args.painting}", iters=max(1, args.iters // 4)),
    }
    rows, grid_rows = [], []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        clip = cut(args.shared / "video" / "dev" / args.clip, tmp / "clip.mkv", args.frames)
        original = frames_of(clip)
        h, w = fit_long_side(*original[0].shape[:2], args.size)
        small = lambda rgb: resize(to_batch(rgb, "cpu"), (h, w))  # noqa: E731
        target = style_grams(
            vgg,
            resize(
                to_batch(np.asarray(Image.open(painting).convert("RGB")), "cpu"),
                fit_long_side(*Image.open(painting).size[::-1], max(h, w)),
            ),
            base.optimize.style_layers,
        )
        outputs = {}
        for name, c in methods.items():
            job = OptimizePipeline(c, vgg=vgg)
            t0 = time.perf_counter()
            report = job.run(clip, tmp / "out.mkv")
            seconds = time.perf_counter() - t0
            outputs[name] = frames_of(tmp / "out.mkv")
            grams = []
            for rgb in outputs[name]:
                g = style_grams(vgg, small(rgb), list(target))
                grams.append(float(sum(((g[k] - target[k]) ** 2).sum() for k in target)))
            rows.append(
                {
                    "method": name,
                    "frames": report.frames_out,
                    "iterations": [c.optimize.iters_first or 2 * c.optimize.iters, c.optimize.iters]
                    if name != "per-frame Gatys"
                    else [c.optimize.iters] * 2,
                    "init": c.optimize.init,
                    "gram_distance": float(np.mean(grams)),
                    "seconds_per_frame": seconds / max(report.frames_out, 1),
                }
            )
            print(json.dumps(rows[-1]), flush=True)
        e = warping_errors(original, [original] + [outputs[n] for n in methods])
        for row, res in zip(rows, e[1:]):
            row["e_warp"] = res.e_warp
        e_original = e[0].e_warp
        mid = len(original) // 2
        grid_rows.append([original[mid]] + [outputs[n][mid] for n in methods])

        faces = portrait_table(args, cfg, vgg, tmp, grid_rows)
    result = {
        "machine": machine(),
        "device": str(OptimizePipeline(methods["Ruder full"], vgg=vgg).device),
        "clip": args.clip,
        "frames": args.frames,
        "size": args.size,
        "painting": args.painting,
        "e_warp_original": e_original,
        "video": rows,
        "portraits": faces,
        "settings": dataclasses.asdict(methods["Ruder full"].optimize),
    }
    print(json.dumps({"video": rows, "portraits": faces}, indent=1))
    save_json(args.json, result)
    if args.grid is not None:
        save_grid(args.grid, grid_rows)
    return 0


def portrait_table(args, cfg, vgg, tmp: Path, grid_rows: list) -> list[dict]:
    """Descriptor distance original <-> stylized with faces off / weighted / identity."""
    from PIL import Image

    from vidstyle.eval.faces import IdentityScorer
    from vidstyle.faces.detector import MTCNNDetector
    from vidstyle.geometry import fit_long_side
    from vidstyle.optimize.run import OptimizePipeline

    recognition = args.shared / "faces" / "recognition_net"
    scorer = IdentityScorer(str(recognition))
    detector = MTCNNDetector(min_face=20)
    photos = [args.shared / "faces" / "photos" / name for name in args.portraits.split(",")]
    rows = []
    for path in photos:
        rgb = np.asarray(Image.open(path).convert("RGB"))
        h, w = fit_long_side(*rgb.shape[:2], args.portrait_size)
        rgb = np.asarray(Image.fromarray(rgb).resize((w, h), Image.LANCZOS))
        Image.fromarray(rgb).save(tmp / "portrait.png")
        (faces,) = detector.detect([rgb])
        if not len(faces):
            continue
        row = {"photo": path.name, "faces": len(faces)}
        panel = [rgb]
        for mode in ("off", "weighted", "identity"):
            c = cfg(
                size=args.portrait_size,
                init="content",
                faces=mode,
                iters=args.iters,
                identity_weights=str(recognition),
            )
            OptimizePipeline(c, vgg=vgg).run(tmp / "portrait.png", tmp / f"p_{mode}.png")
            out = np.asarray(Image.open(tmp / f"p_{mode}.png").convert("RGB"))
            row[f"distance_{mode}"] = float(np.mean(scorer.distances(rgb, out, faces.landmarks)))
            panel.append(out)
        rows.append(row)
        grid_rows.append(panel)
        print(json.dumps(row), flush=True)
    return rows


def save_grid(path: Path, rows: list[list[np.ndarray]], cell: int = 160) -> None:
    """Rows of images as one JPEG, each cell fitted into ``cell`` x ``cell`` on white."""
    from PIL import Image

    width = max(len(r) for r in rows)
    grid = Image.new("RGB", (width * cell, len(rows) * cell), "white")
    for i, row in enumerate(rows):
        for j, rgb in enumerate(row):
            im = Image.fromarray(rgb)
            im.thumbnail((cell, cell), Image.LANCZOS)
            grid.paste(im, (j * cell + (cell - im.width) // 2, i * cell + (cell - im.height) // 2))
    path.parent.mkdir(parents=True, exist_ok=True)
    grid.save(path, quality=90)


if __name__ == "__main__":
    sys.exit(main())
