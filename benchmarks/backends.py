"""Stylize-stage fps per backend and resolution (a benchmark, not a test).

    python benchmarks/backends.py [--style default] [--sizes 360p,720p,1080p] [--frames 6]
                                  [--backends torch,torch-bf16,onnx] [--json FILE]

Runs the stylizer alone, as the pipeline does: on the CPU one frame per core (each call
single-threaded), on a GPU batches. Warm-up excluded; fps = frames / wall time.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

SIZES = {"360p": (360, 640), "480p": (480, 854), "720p": (720, 1280), "1080p": (1080, 1920)}


def main() -> int:
    import torch

    from vidstyle.config import load_config
    from vidstyle.models.catalog import resolve_style
    from vidstyle.pipeline.scheduling import load_stylizer, stylize_batch, stylize_workers
    from common import machine, save_json     # benchmarks/common.py

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--style", default="default")
    ap.add_argument("--sizes", default="360p,720p,1080p")
    ap.add_argument("--frames", type=int, default=6)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--backends", default="torch,torch-bf16,onnx")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    entry = resolve_style(args.style)
    rows = []
    for spec in args.backends.split(","):
        backend, _, precision = spec.partition("-")
        cfg = load_config(search_cwd=False, overrides={
            "model.style": str(entry.model_path), "model.backend": backend,
            "model.device": args.device, "model.precision": precision or "auto"})
        stylizer = load_stylizer(cfg)
        workers = stylize_workers(cfg, stylizer.device)
        batch = stylize_batch(cfg, stylizer.device)
        for label in args.sizes.split(","):
            h, w = SIZES[label]
            x = torch.rand(batch, 3, h, w, device=stylizer.device)
            stylizer(x)                                   # warm-up
            calls = max(1, args.frames // batch)
            with ThreadPoolExecutor(workers) as pool:
                if stylizer.device.type == "cuda":
                    torch.cuda.synchronize()
                t0 = time.perf_counter()
                list(pool.map(lambda _: stylizer(x), range(calls)))
                if stylizer.device.type == "cuda":
                    torch.cuda.synchronize()
                secs = time.perf_counter() - t0
            row = {"backend": spec, "stylizer": stylizer.name, "resolution": label, "workers": workers,
                   "batch": batch, "fps": round(calls * batch / secs, 3)}
            rows.append(row)
            print(json.dumps(row), flush=True)
    result = {"style": entry.name, "machine": machine(), "rows": rows}
    save_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
