"""Face preservation measured per clip, close-ups beside faces at a distance and in a crowd
(a benchmark, not a test).

    python benchmarks/faces_by_size.py [--style default] [--shared ../shared/data] [--frames 20]
        [--before /work/main] [--part quality|cost|all] [--json FILE]

Clips (the first --frames frames of each):
  asl/*          the three ../shared/data/video/dev/asl signing clips, 640x480 close-ups;
  juggle-360p    ../shared/data/video/dev/05_default_juggle.mp4 scaled to 640x360: one person
                 at a distance, a face about 30 px high;
  crowd-360p     a synthetic crowd: 14 heads from ../shared/data/faces/photos and the packaged
                 portrait, faces 16-40 px high, on a textured panning background, 640x360.
Quality: for each clip and variant, stylize (temporal blending on) and evaluate against the
original (MTCNN down to 12 px): recall, landmark NME, the share of faces still verified as the
same person (descriptor distance < 0.6), also by face size. Variants: ``floor`` = the clip
against its own re-encode (x264 crf 18, no stylization: the metric's noise); faces off; ``before`` = the
default faces of the vidstyle at --before (its own code, run as a subprocess); blend (defaults:
auto strength, small-face pass); restyle.
Cost: end-to-end fps on crowds at 360p and 720p, faces off / blend without the small-face pass /
blend with it, interleaved twice; the cost is the fps ratio within this run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CROWD_HEIGHTS = (16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36, 38, 40, 28)


def heads(shared: Path):
    """The packaged portrait and every single-face photo of faces/photos, with face boxes."""
    from PIL import Image

    from vidstyle.faces.detector import MTCNNDetector
    from vidstyle.io.synth import DEMO_FACE_BOX, Head, demo_photo

    out = [Head(demo_photo(), DEMO_FACE_BOX)]
    detector = MTCNNDetector(min_face=40)
    for path in sorted((shared / "faces" / "photos").iterdir()):
        image = np.array(Image.open(path).convert("RGB"))
        (faces,) = detector.detect([image])
        if len(faces) == 1:
            out.append(Head(image, tuple(float(v) for v in faces.boxes[0])))
    return out


def crowd_clip(dst: Path, shared: Path, frames: int, size=(360, 640), heights=CROWD_HEIGHTS) -> Path:
    from vidstyle.io.synth import face_crowd, write_clip

    images, _ = face_crowd(heads(shared), heights, frames, size, seed=3)
    return write_clip(dst, images, 25, crf=10)


def scaled_clip(src: Path, dst: Path, frames: int, size=(640, 360)) -> Path:
    import cv2

    from vidstyle.io.source import open_source
    from vidstyle.io.synth import write_clip

    source = open_source(str(src))
    try:
        images = [
            cv2.resize(f.rgb, size, interpolation=cv2.INTER_AREA) for _, f in zip(range(frames), source)
        ]
        rate = source.info.rate
    finally:
        source.close()
    return write_clip(dst, images, rate, crf=10)


def frames_of(path: Path):
    from vidstyle.io.source import open_source

    src = open_source(str(path))
    try:
        yield from (f.rgb for f in src)
    finally:
        src.close()


def run_before(root: Path, clip: Path, out: Path, model: Path) -> float:
    """Stylize with the vidstyle checkout at ``root`` (its defaults); returns wall seconds."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    t0 = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "vidstyle",
            "stylize",
            str(clip),
            "-o",
            str(out),
            "--style",
            str(model),
            "--no-progress",
        ],
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
    )  # cwd too: ``python -m`` puts it first on sys.path
    if proc.returncode:
        raise RuntimeError(f"before run failed: {proc.stderr.strip().splitlines()[-1:]}")
    return time.perf_counter() - t0


def compact(summary: dict) -> dict:
    keep = ("faces", "recalled", "recall", "nme", "identity_share", "identity_distance", "by_size")
    return {k: summary.get(k) for k in keep}


def main() -> int:
    from common import machine, save_json  # benchmarks/common.py
    from temporal_eval import cut  # a sibling script: the clips cut the same way

    from vidstyle import Pipeline
    from vidstyle.config import load_config
    from vidstyle.eval.faces import IdentityScorer, evaluate_faces
    from vidstyle.faces.detector import MTCNNDetector
    from vidstyle.io.synth import write_clip
    from vidstyle.models.catalog import resolve_style

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--style", default="default")
    ap.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--every", type=int, default=2, help="evaluate every N-th frame")
    ap.add_argument("--frames", type=int, default=20, help="frames per clip (its start)")
    ap.add_argument(
        "--before", type=Path, help="a vidstyle checkout whose default faces are the 'before' row"
    )
    ap.add_argument("--cost-frames", type=int, default=12, help="frames per cost clip")
    ap.add_argument("--part", choices=("quality", "cost", "passes", "all"), default="all")
    ap.add_argument("--clips", default="", help="comma-separated clip names to keep (default: all)")
    ap.add_argument("--variants", default="", help="comma-separated quality variants (default: all)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    entry = resolve_style(args.style)
    identity = IdentityScorer(str(args.shared / "faces" / "recognition_net"))
    detector = MTCNNDetector(min_face=12)
    result = {
        "style": entry.name,
        "machine": machine(),
        "every": args.every,
        "frames": args.frames,
        "eval_min_face": 12,
        "quality": [],
        "cost": [],
    }

    def pipeline(**overrides):
        return Pipeline(
            load_config(
                search_cwd=False,
                overrides={"model.style": str(entry.model_path), "run.progress": "off", **overrides},
            )
        )

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        clips = {
            f"asl/{c.stem}": cut(c, tmp / c.name, args.frames)
            for c in sorted((args.shared / "video" / "dev" / "asl").glob("*.mkv"))
        }
        clips["juggle-360p"] = scaled_clip(
            args.shared / "video" / "dev" / "05_default_juggle.mp4", tmp / "juggle.mkv", args.frames
        )
        clips["crowd-360p"] = crowd_clip(tmp / "crowd.mkv", args.shared, args.frames)
        if args.clips:
            clips = {k: clips[k] for k in args.clips.split(",") if k in clips}  # in the order given
        warm = crowd_clip(tmp / "warm.mkv", args.shared, 3)
        if args.part in ("quality", "all"):
            variants = {
                "floor": "reencode",
                "off": {"faces.mode": "off"},
                "before": None,
                "blend": {},
                "restyle": {"faces.mode": "restyle"},
            }
            if not args.before:
                del variants["before"]
            if args.variants:
                variants = {k: variants[k] for k in args.variants.split(",")}
            pipes = {}
            for name, clip in clips.items():
                for variant, overrides in variants.items():
                    out = tmp / f"{Path(name).name}.{variant}.mkv"
                    fps = None
                    if overrides == "reencode":  # the metric's own noise: the clip against its re-encode
                        write_clip(out, frames_of(clip), 25, crf=18)
                    elif overrides is None:
                        run_before(args.before, clip, out, entry.model_path)  # its fps includes start-up
                    else:
                        if variant not in pipes:
                            pipes[variant] = pipeline(**overrides)
                            pipes[variant].run(warm, tmp / "warm.out.mkv")
                        t0 = time.perf_counter()
                        report = pipes[variant].run(clip, out)
                        seconds = time.perf_counter() - t0
                        fps = report.frames_out / seconds
                    summary, _ = evaluate_faces(
                        frames_of(clip), frames_of(out), detector, identity, every=args.every
                    )
                    row = {"clip": name, "variant": variant, **compact(summary), "fps": fps}
                    result["quality"].append(row)
                    print(json.dumps({k: v for k, v in row.items() if k != "by_size"}), flush=True)
                    save_json(args.json, result)
        if args.part in ("cost", "all"):
            n = args.cost_frames
            cost_clips = {
                "crowd-360p": crowd_clip(tmp / "c360.mkv", args.shared, n),
                "crowd-720p": crowd_clip(
                    tmp / "c720.mkv",
                    args.shared,
                    n,
                    (720, 1280),
                    tuple(2 * h for h in CROWD_HEIGHTS[:7]) + CROWD_HEIGHTS[:7],
                ),
            }
            variants = {"off": {"faces.mode": "off"}, "no small pass": {"faces.small_face": 0}, "blend": {}}
            pipes = {k: pipeline(**v) for k, v in variants.items()}
            for pipe in pipes.values():
                pipe.run(warm, tmp / "warm.out.mkv")
            for name, clip in cost_clips.items():
                seconds = {k: 0.0 for k in variants}
                frames = {k: 0 for k in variants}
                passes = {}
                for _ in range(2):
                    for variant, pipe in pipes.items():
                        t0 = time.perf_counter()
                        report = pipe.run(clip, tmp / "cost.out.mkv")
                        seconds[variant] += time.perf_counter() - t0
                        frames[variant] += report.frames_out
                        passes[variant] = report.summary.get("face_detections")
                fps = {k: frames[k] / seconds[k] for k in variants}
                row = {
                    "clip": name,
                    "fps": fps,
                    "detections": passes,
                    "small_pass_cost": 1 - fps["blend"] / fps["no small pass"],
                    "faces_cost": 1 - fps["blend"] / fps["off"],
                }
                result["cost"].append(row)
                print(json.dumps(row), flush=True)
                save_json(args.json, result)
        if args.part in ("passes", "all"):
            result["passes"] = pass_times(pipeline(), args.shared, tmp)
            save_json(args.json, result)
    print(json.dumps(result, indent=2))
    save_json(args.json, result)
    return 0


def pass_times(pipe, shared: Path, tmp: Path, repeats: int = 3) -> list[dict]:
    """Seconds per call of the regular and the small-face pass and of the stylizer on one crowd
    frame at 360p and 720p (interleaved, median of ``repeats``), and what the small-face pass adds
    per frame at its period while small faces are in view, against the frame's stylize time."""
    import torch

    from vidstyle.faces.detector import MTCNNDetector
    from vidstyle.faces.passes import DetectionPasses

    cfg = pipe.cfg.faces
    rows = []
    for size, heights in (
        ((360, 640), CROWD_HEIGHTS),
        ((720, 1280), tuple(2 * h for h in CROWD_HEIGHTS[:7]) + CROWD_HEIGHTS[:7]),
    ):
        rgb = next(frames_of(crowd_clip(tmp / f"p{size[0]}.mkv", shared, 1, size, heights)))
        x = torch.from_numpy(rgb).permute(2, 0, 1)[None].float().div(255).to(pipe.stylizer.device)
        passes = DetectionPasses(
            MTCNNDetector(min_face=cfg.min_face, score_min=cfg.score_min),
            cfg.detect_long_side,
            cfg.min_face,
            cfg.small_face,
            cfg.small_every,
        )
        times = {"regular": [], "small": [], "stylize": []}
        for _ in range(repeats):
            for name in times:
                t0 = time.perf_counter()
                if name == "stylize":
                    pipe.stylizer(x)
                else:
                    passes.last_small = None if name == "small" else 0
                    passes.small_in_view = True
                    passes.detect([cfg.small_every - 1 if name == "regular" else 0], [rgb])
                times[name].append(time.perf_counter() - t0)
        t = {k: float(np.median(v)) for k, v in times.items()}
        per_frame = t["stylize"] + t["regular"] / cfg.every
        added = (t["small"] - t["regular"]) / cfg.small_every
        rows.append(
            {
                "size": f"{size[1]}x{size[0]}",
                "seconds": t,
                "small_pass_added_per_frame": added,
                "fps_cost_bound": added / (per_frame + added),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    return rows


if __name__ == "__main__":
    sys.exit(main())
