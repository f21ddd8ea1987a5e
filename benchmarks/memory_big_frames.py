"""Peak memory of real runs on big frames against the memory plan's estimate (a benchmark).

    python benchmarks/memory_big_frames.py [--sizes 2000x2000,4000x4000] [--frames 6]
                                           [--limit GB] [--style NAME] [--json PATH]

Per size: a clip of moving texture is written with PyAV, ``vidstyle stylize`` runs on it with the
defaults in a child process (``--set run.memory_limit=GB`` when ``--limit`` is given), and the
child's peak RSS (``getrusage``) is set against the plan's estimate of the frames in flight plus
the process's baseline (the same run on a 64 x 64 clip). Also the activation bytes per pixel of
one stylizer call per backend, which the estimate's network term uses.
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

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def clip(path: Path, h: int, w: int, frames: int) -> Path:
    from vidstyle.io.synth import textured, write_clip

    base = textured(h, w, seed=1)
    return write_clip(path, [np.roll(base, 7 * i, axis=1) for i in range(frames)], crf=30)


def child_peak(args: list[str]) -> tuple[int, float, str]:
    """Peak RSS (bytes) and wall time of ``python -m vidstyle ARGS`` in a fresh child; its stderr."""
    code = (
        "import resource, runpy, sys; sys.argv = ['vidstyle'] + sys.argv[1:]\n"
        "try:\n    runpy.run_module('vidstyle', run_name='__main__')\n"
        "finally:\n    print('PEAK', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)"
    )
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    wall = time.perf_counter() - t0
    peak = next((int(ln.split()[1]) * 1024 for ln in proc.stderr.splitlines() if ln.startswith("PEAK")), 0)
    if proc.returncode != 0:
        raise SystemExit(f"vidstyle failed ({proc.returncode}): {proc.stderr.strip().splitlines()[-2:]}")
    return peak, wall, proc.stderr


def activation_bytes_per_px(style: str, side: int = 1024) -> dict[str, float]:
    """Extra peak RSS of one stylizer call at side x side, per pixel, per CPU backend."""
    out = {}
    for backend in ("onnx", "torch"):
        code = (
            "import resource, torch\nfrom vidstyle.config import load_config\n"
            "from vidstyle.configtools import override\n"
            f"from vidstyle.pipeline.scheduling import load_stylizer\n"
            f"cfg = override(override(override(load_config(), 'model.style', '{style}'), "
            f"'model.backend', '{backend}'), 'model.workers', 1)\n"
            f"s = load_stylizer(cfg); x = torch.rand(1, 3, 64, 64); s(x)\n"
            f"before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            f"s(torch.rand(1, 3, {side}, {side}))\n"
            f"print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024 / {side * side})"
        )
        proc = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        out[backend] = round(float(proc.stdout.strip().splitlines()[-1]), 1) if proc.returncode == 0 else None
    return out


def main() -> int:
    from common import machine, save_json  # benchmarks/common.py

    from vidstyle.config import load_config
    from vidstyle.configtools import override
    from vidstyle.io.source import open_source
    from vidstyle.pipeline.api import Pipeline

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="2000x2000,3000x3000")
    ap.add_argument("--frames", type=int, default=6)
    ap.add_argument("--limit", type=float, default=0.0, help="run.memory_limit in GB (0: 60%% of free)")
    ap.add_argument("--style", default="default")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        base_peak, _, _ = child_peak(
            [
                "stylize",
                str(clip(tmp / "tiny.mp4", 64, 64, 3)),
                "-o",
                str(tmp / "tiny-out.mp4"),
                "--style",
                args.style,
                "-y",
            ]
        )
        for size in args.sizes.split(","):
            w, h = (int(v) for v in size.split("x"))
            src = clip(tmp / f"{size}.mp4", h, w, args.frames)
            cfg = override(override(load_config(), "model.style", args.style), "run.memory_limit", args.limit)
            pipeline = Pipeline(cfg)
            with open_source(str(src)) as source:
                mem = pipeline.memory_plan(source.info, tmp / "out.mp4")
            extra = ["--set", f"run.memory_limit={args.limit}"] if args.limit else []
            peak, wall, err = child_peak(
                ["stylize", str(src), "-o", str(tmp / f"{size}-out.mp4"), "--style", args.style, "-y", *extra]
            )
            row = {
                "size": size,
                "frames": args.frames,
                "peak_rss_gb": round(peak / 2**30, 2),
                "baseline_gb": round(base_peak / 2**30, 2),
                "estimate_gb": round(mem.estimate / 2**30, 2),
                "budget_gb": round(mem.budget / 2**30, 2),
                "queue_size": mem.queue_size,
                "max_side": mem.max_side,
                "lookahead": mem.lookahead,
                "lowered": mem.lowered,
                "wall_s": round(wall, 1),
                "warned": "memory budget" in err,
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    result = {
        "machine": machine(),
        "style": args.style,
        "limit_gb": args.limit,
        "activation_bytes_per_px": activation_bytes_per_px(args.style),
        "runs": rows,
    }
    print(json.dumps(result["activation_bytes_per_px"]))
    save_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
