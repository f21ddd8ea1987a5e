"""The stylize stage alone: fps per model, resolution, batch size and variant (a benchmark).

    python benchmarks/gpu/stylize_sweep.py [--styles starry_night,starry_night-small]
        [--sizes 360p,720p,1080p,4k] [--batches 1,4,8,16] [--variants fp16,fp16-graphs,...]
        [--iters 20] [--budget-s 120] [--device cuda] [--json FILE] [--csv FILE] [--plot FILE]

Variants (torch backend): ``fp32`` (NCHW), ``fp16-nchw``, ``fp16`` (channels_last, the CUDA
default), ``fp16-graphs`` (+ CUDA graphs), ``compile`` / ``compile-graphs`` (torch.compile mode
default) and ``autotune`` / ``autotune-graphs`` (mode max-autotune-no-cudagraphs). Each
(variant, size, batch) gets a fresh stylizer, so compiled and graphed shapes are never over the
shape gate's limit. Timing: warm-up calls first (compile, capture, cuDNN's choice), then
``--iters`` calls on two alternating random inputs, each timed with CUDA events (host clock and
a synchronize on the CPU); reported: the median and the fastest ms per call, fps = batch / median,
GFLOP per frame and the achieved TFLOP/s, peak device memory. A cell that fails (out of memory,
compile error) is recorded with its one-line error and the sweep goes on; once ``--budget-s``
has passed, remaining cells are skipped and listed as such.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/common.py

VARIANTS = {
    "fp32": {"model.precision": "fp32", "model.channels_last": "off"},
    "fp16-nchw": {"model.precision": "fp16", "model.channels_last": "off"},
    "fp16": {"model.precision": "fp16", "model.channels_last": "on"},
    "fp16-graphs": {"model.precision": "fp16", "model.channels_last": "on", "model.cuda_graphs": "true"},
    "compile": {
        "model.precision": "fp16",
        "model.channels_last": "on",
        "model.compile": "true",
        "model.compile_mode": "default",
    },
    "compile-graphs": {
        "model.precision": "fp16",
        "model.channels_last": "on",
        "model.compile": "true",
        "model.compile_mode": "default",
        "model.cuda_graphs": "true",
    },
    "autotune": {
        "model.precision": "fp16",
        "model.channels_last": "on",
        "model.compile": "true",
        "model.compile_mode": "max-autotune-no-cudagraphs",
    },
    "autotune-graphs": {
        "model.precision": "fp16",
        "model.channels_last": "on",
        "model.compile": "true",
        "model.compile_mode": "max-autotune-no-cudagraphs",
        "model.cuda_graphs": "true",
    },
}


def time_calls(stylizer, inputs, iters: int, cuda: bool) -> list[float]:
    """Seconds per call, ``iters`` calls alternating over ``inputs``."""
    import torch

    times = []
    for i in range(iters):
        x = inputs[i % len(inputs)]
        if cuda:
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            stylizer(x)
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end) / 1e3)
        else:
            t0 = time.perf_counter()
            stylizer(x)
            times.append(time.perf_counter() - t0)
    return times


def one_cell(
    style_path: Path, variant: str, device: str, size: tuple[int, int], batch: int, iters: int, warmup: int
) -> dict:
    import torch

    from vidstyle.config import load_config
    from vidstyle.models.store import read_meta
    from vidstyle.models.transformer_net import flops_per_pixel
    from vidstyle.pipeline.scheduling import load_stylizer

    cfg = load_config(
        search_cwd=False,
        overrides={
            "model.style": str(style_path),
            "model.backend": "torch",
            "model.device": device,
            **VARIANTS[variant],
        },
    )
    stylizer = load_stylizer(cfg)
    cuda = stylizer.device.type == "cuda"
    h, w = size
    gen = torch.Generator(device=stylizer.device).manual_seed(0)
    inputs = [torch.rand(batch, 3, h, w, device=stylizer.device, generator=gen) for _ in range(2)]
    t0 = time.perf_counter()
    for i in range(warmup):
        stylizer(inputs[i % 2])
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    warm_s = time.perf_counter() - t0
    times = time_calls(stylizer, inputs, iters, cuda)
    med = statistics.median(times)
    gflop = flops_per_pixel(read_meta(style_path).arch_obj()) * (-(-h // 4) * 4) * (-(-w // 4) * 4) / 1e9
    net = stylizer.net
    fast = getattr(net, "gate", None) or getattr(getattr(net, "net", None), "gate", None)
    return {
        "stylizer": stylizer.name,
        "warmup_s": round(warm_s, 2),
        "ms_per_call_median": round(1e3 * med, 3),
        "ms_per_call_min": round(1e3 * min(times), 3),
        "ms_per_frame": round(1e3 * med / batch, 3),
        "fps": round(batch / med, 1),
        "gflop_per_frame": round(gflop, 2),
        "tflops": round(gflop * batch / med / 1e3, 2),
        "fast_path_shapes": len(fast.admitted) if fast is not None else None,
        "compile_failed": getattr(net, "failed", None) or getattr(getattr(net, "net", None), "failed", None),
        "peak_gpu_mb": round(torch.cuda.max_memory_allocated() / 2**20) if cuda else None,
    }


def main() -> int:
    import torch
    from common import machine, save_json

    from vidstyle.bench.runner import parse_resolutions
    from vidstyle.models.catalog import resolve_style

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--styles", default="starry_night,starry_night-small")
    ap.add_argument("--sizes", default="360p,720p,1080p,4k")
    ap.add_argument("--batches", default="1,4,8,16")
    ap.add_argument("--variants", default="fp16")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3, help="calls before timing (>= 2: the shape gate)")
    ap.add_argument("--budget-s", type=float, default=0, help="skip what is left after this long (0: never)")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--csv", type=Path)
    ap.add_argument("--plot", type=Path)
    args = ap.parse_args()
    started = time.monotonic()
    rows = []
    for style in args.styles.split(","):
        entry = resolve_style(style)
        for variant in args.variants.split(","):
            if variant not in VARIANTS:
                ap.error(f"unknown variant {variant!r} (one of {', '.join(VARIANTS)})")
            for label, size in parse_resolutions(args.sizes):
                for batch in (int(b) for b in args.batches.split(",")):
                    row = {
                        "style": entry.name,
                        "variant": variant,
                        "resolution": label,
                        "height": size[0],
                        "width": size[1],
                        "batch": batch,
                    }
                    if args.budget_s and time.monotonic() - started > args.budget_s:
                        row["skipped"] = "time budget spent"
                    else:
                        try:
                            row.update(
                                one_cell(
                                    entry.model_path,
                                    variant,
                                    args.device,
                                    size,
                                    batch,
                                    args.iters,
                                    args.warmup,
                                )
                            )
                        except Exception as exc:  # noqa: BLE001 - OOM, compile error: record it, keep going
                            first = next((ln for ln in str(exc).splitlines() if ln.strip()), "")
                            row["error"] = f"{type(exc).__name__}: {first}"[:300]
                        if torch.cuda.is_available():
                            torch.cuda.empty_cache()
                    rows.append(row)
                    print(json.dumps(row), flush=True)
    result = {
        "machine": machine(),
        "torch_cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
        "iters": args.iters,
        "rows": rows,
    }
    save_json(args.json, result)
    if args.csv:
        write_csv(args.csv, rows)
    if args.plot:
        plot(
            args.plot, rows, f"stylize stage alone on {result['machine']['gpu'] or result['machine']['cpu']}"
        )
    print_table(rows)
    return 0


def write_csv(path: Path, rows: list[dict]) -> None:
    fields = sorted({k for r in rows for k in r}, key=lambda k: (k not in rows[0], k))
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)


def print_table(rows: list[dict]) -> None:
    print(f"{'style':20} {'variant':16} {'res':6} {'batch':>5} {'fps':>9} {'ms/frame':>9} {'TFLOP/s':>8}")
    for r in rows:
        tail = r.get("error") or r.get("skipped")
        line = f"{r['style']:20} {r['variant']:16} {r['resolution']:6} {r['batch']:5}"
        print(
            line + (f"  {tail}" if tail else f" {r['fps']:9.1f} {r['ms_per_frame']:9.3f} {r['tflops']:8.2f}")
        )


def plot(path: Path, rows: list[dict], title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in rows if "fps" in r]
    styles = sorted({r["style"] for r in ok})
    fig, axes = plt.subplots(
        1, max(1, len(styles)), figsize=(6 * max(1, len(styles)), 4.5), dpi=100, squeeze=False
    )
    for ax, style in zip(axes[0], styles):
        for variant, res in sorted({(r["variant"], r["resolution"]) for r in ok if r["style"] == style}):
            pts = sorted(
                (r["batch"], r["fps"])
                for r in ok
                if r["style"] == style and r["variant"] == variant and r["resolution"] == res
            )
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=f"{res} {variant}")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("batch size")
        ax.set_ylabel("frames / s (stylize alone)")
        ax.set_title(style)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
