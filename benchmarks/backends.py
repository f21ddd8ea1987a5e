"""Stylize-stage fps per backend and resolution (a benchmark, not a test).

    python benchmarks/backends.py [--style default] [--sizes 360p,720p,1080p] [--frames 6]
                                  [--backends torch,torch-bf16,onnx-fp32,onnx-int8] [--json FILE]

Runs the stylizer alone, as the pipeline does: on the CPU one frame per core (each call
single-threaded), on a GPU batches. Warm-up excluded; fps = frames / wall time.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

SIZES = {"360p": (360, 640), "480p": (480, 854), "720p": (720, 1280), "1080p": (1080, 1920)}


def main() -> int:
    from common import machine, save_json  # benchmarks/common.py

    from vidstyle.bench.precisions import spec_config, stylize_fps
    from vidstyle.config import load_config
    from vidstyle.models.catalog import resolve_style
    from vidstyle.pipeline.scheduling import load_stylizer

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--style", default="default")
    ap.add_argument("--sizes", default="360p,720p,1080p")
    ap.add_argument("--frames", type=int, default=6)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--backends", default="torch,torch-bf16,onnx-fp32,onnx-int8")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    entry = resolve_style(args.style)
    rows = []
    for spec in args.backends.split(","):
        cfg = spec_config(
            load_config(
                search_cwd=False,
                overrides={"model.style": str(entry.model_path), "model.device": args.device},
            ),
            spec,
        )
        stylizer = load_stylizer(cfg)
        for label in args.sizes.split(","):
            row = {
                "backend": spec,
                "resolution": label,
                **stylize_fps(cfg, SIZES[label], args.frames, stylizer),
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    result = {"style": entry.name, "machine": machine(), "rows": rows}
    save_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
