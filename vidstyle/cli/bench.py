"""``vidstyle bench``: fps per resolution and per stage, against the naive loop, with plots."""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

from .common import add_pipeline_args, config_from_args


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="benchmark fps per resolution and per stage vs a naive loop")
    p.add_argument(
        "--resolutions",
        default=None,
        metavar="LIST",
        help="comma list of 240p,360p,480p,540p,720p,1080p,1440p,4k or WxH "
        "(default: 360p,720p on cpu; 360p,720p,1080p,4k on cuda)",
    )
    p.add_argument(
        "--frames",
        type=int,
        default=None,
        metavar="N",
        help="frames per clip (default: 24 on cpu, 240 on cuda)",
    )
    p.add_argument("--repeats", type=int, default=3, metavar="R", help="timed runs per resolution")
    p.add_argument("--input", metavar="FILE", help="bench on this video (scaled) instead of a generated clip")
    p.add_argument("--model", dest="model.style", metavar="NAME|PATH", help="same as --style")
    p.add_argument("--no-naive", action="store_true", help="skip the naive baseline")
    p.add_argument(
        "--precisions",
        default=None,
        metavar="LIST",
        help="also time the stylize stage alone per backend-precision, e.g. onnx-fp32,onnx-int8,"
        "torch-bf16 (default on cpu; 'none' skips it; default none on cuda)",
    )
    p.add_argument("--json", metavar="FILE", help="write results + machine description as JSON")
    p.add_argument("--csv", metavar="FILE", help="write one row per resolution as CSV")
    p.add_argument("--plot", metavar="FILE", help="write fps and stage-time plots (PNG)")
    add_pipeline_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import tempfile

    from ..bench.precisions import CPU_SPECS, check_specs, parse_specs
    from ..bench.runner import bench_resolution, machine_description, parse_resolutions
    from ..configtools import override
    from ..errors import ConfigError, InputError
    from ..log import log
    from ..pipeline.api import Pipeline
    from ..stylize.device import resolve_device
    from .files import check_plot_file, check_report_files, writing

    cfg = config_from_args(args)
    device = resolve_device(cfg.model.device)
    gpu = device.type == "cuda"
    resolutions = parse_resolutions(args.resolutions or ("360p,720p,1080p,4k" if gpu else "360p,720p"))
    frames = args.frames or (240 if gpu else 24)
    if frames < 2 or args.repeats < 1:
        raise ConfigError("--frames must be >= 2 and --repeats >= 1")
    if args.input and not Path(args.input).is_file():
        raise InputError(f"--input not found: {args.input}")
    check_report_files([args.json, args.csv, args.plot], inputs=[args.input] if args.input else [])
    check_plot_file(args.plot)
    specs = parse_specs(
        args.precisions if args.precisions is not None else ("none" if gpu else ",".join(CPU_SPECS))
    )
    check_specs(cfg, specs)
    cfg = override(cfg, "run.progress", "off")
    pipeline = Pipeline(cfg)
    machine = machine_description()
    results = []
    with tempfile.TemporaryDirectory(prefix="vidstyle-bench-") as tmp:
        for label, size in resolutions:
            log.info(f"bench {label} ({size[1]}x{size[0]}, {frames} frames, {args.repeats} runs)…")
            r = bench_resolution(
                cfg,
                label,
                size,
                frames,
                args.repeats,
                Path(tmp),
                Path(args.input) if args.input else None,
                not args.no_naive,
                pipeline,
                tuple(specs),
            )
            results.append(r)
            naive = f", naive {r.naive_fps:.2f} fps, ratio {r.naive_ratio:.2f}x" if r.naive_fps else ""
            log.info(f"  {label}: {r.fps:.2f} fps ({r.precision}){naive}; bottleneck {r.bottleneck}")
    settings = {
        "stylizer": results[0].stylizer if results else "",
        "frames": frames,
        "precision": results[0].precision if results else "",
        "repeats": args.repeats,
        "style": cfg.model.style,
        "temporal": cfg.temporal.mode,
        "faces": cfg.faces.mode,
        "max_side": cfg.model.max_side,
    }
    print_report(results, machine, settings)
    data = {"machine": machine, "settings": settings, "results": [r.to_dict() for r in results]}
    if args.json:
        with writing(args.json) as path:
            path.write_text(json.dumps(data, indent=2))
    if args.csv:
        with writing(args.csv) as path:
            write_csv(path, results)
    if args.plot:
        with writing(args.plot) as path:
            plot(path, results, f"{settings['stylizer']} on {machine['gpu'] or machine['cpu']}")
    return 0


def _f(v, spec: str) -> str:
    return "-" if v is None else format(v, spec)


def print_report(results, machine: dict, settings: dict) -> None:
    from .report import table

    rows = [
        [
            r.label,
            f"{r.width}x{r.height}",
            f"{r.fps:.2f}",
            f"{r.fps_min:.2f}-{r.fps_max:.2f}",
            _f(r.naive_fps, ".2f"),
            _f(r.naive_ratio, ".2f") + ("x" if r.naive_ratio else ""),
            r.bottleneck,
            f"{r.peak_rss_mb:.0f}",
            _f(r.peak_gpu_mb, ".0f"),
            _f(r.gflop_per_frame, ".1f"),
            _f(r.stylize_tflops, ".3f"),
        ]
        for r in results
    ]
    print(
        f"vidstyle bench — {settings['stylizer']} ({settings['precision']}), "
        f"style {settings['style']}, temporal "
        f"{settings['temporal']}, faces {settings['faces']}; {settings['frames']} frames x "
        f"{settings['repeats']} runs (median, min-max)"
    )
    print(
        f"machine: {machine['cpu']} ({machine['cores']} cores), GPU {machine['gpu'] or 'none'}, "
        f"torch {machine['torch']}, onnxruntime {machine['onnxruntime']}"
    )
    print(
        table(
            rows,
            [
                "res",
                "size",
                "fps",
                "min-max",
                "naive fps",
                "ours/naive",
                "bottleneck",
                "RSS MB",
                "GPU MB",
                "GFLOP/frame",
                "stylize TFLOP/s",
            ],
        )
    )
    for r in results:
        stage_rows = [
            [
                s["stage"],
                s.get("workers", 1),
                _f(s["fps"], ".1f"),
                _f(None if s["busy_share"] is None else 100 * s["busy_share"], ".0f") + "%",
            ]
            for s in r.stages
        ]
        print(f"\n{r.label} per stage:")
        print(table(stage_rows, ["stage", "workers", "fps alone", "busy"]))
        if r.stylize_precisions:
            ratio = f"; end to end {r.fps:.2f} fps in {r.precision}" + (
                f", {r.naive_ratio:.2f}x the naive loop" if r.naive_ratio else ""
            )
            print(f"\n{r.label} stylize stage alone per precision{ratio}:")
            print(
                table(
                    [
                        [p["spec"], p.get("stylizer", "-"), _f(p.get("fps"), ".2f"), p.get("error", "")]
                        for p in r.stylize_precisions
                    ],
                    ["backend-precision", "stylizer", "fps", "note"],
                )
            )


def write_csv(path: Path, results) -> None:
    stage_names = sorted({s["stage"] for r in results for s in r.stages})
    fields = [
        "resolution",
        "width",
        "height",
        "frames",
        "fps",
        "fps_min",
        "fps_max",
        "naive_fps",
        "naive_ratio",
        "bottleneck",
        "peak_rss_mb",
        "peak_gpu_mb",
        "gflop_per_frame",
        "stylize_tflops",
        "stylizer",
        "precision",
    ]
    fields += [f"{n}_fps" for n in stage_names] + [f"{n}_busy_share" for n in stage_names]
    specs = list(dict.fromkeys(p["spec"] for r in results for p in r.stylize_precisions))
    fields += [f"stylize_{spec}_fps" for spec in specs]
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        for r in results:
            row = {"resolution": r.label, **{k: getattr(r, k) for k in fields[1:16]}}
            for s in r.stages:
                row[f"{s['stage']}_fps"] = s["fps"]
                row[f"{s['stage']}_busy_share"] = s["busy_share"]
            for p in r.stylize_precisions:
                row[f"stylize_{p['spec']}_fps"] = p.get("fps")
            w.writerow(row)


def plot(path: Path, results, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [r.label for r in results]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5), dpi=100)
    ax1.errorbar(
        labels,
        [r.fps for r in results],
        yerr=[[r.fps - r.fps_min for r in results], [r.fps_max - r.fps for r in results]],
        marker="o",
        capsize=4,
        label=f"vidstyle ({results[0].stylizer if results else ''})",
    )
    if any(r.naive_fps for r in results):
        ax1.plot(
            labels,
            [r.naive_fps or float("nan") for r in results],
            marker="s",
            ls="--",
            label="naive loop (torch fp32, batch 1)",
        )
    ax1.set_yscale("log")
    ax1.set_xlabel("resolution")
    ax1.set_ylabel("end-to-end fps (log)")
    ax1.grid(alpha=0.3, which="both")
    ax1.legend()
    ax1.set_title("Throughput")
    stages = [s["stage"] for s in results[0].stages] if results else []
    bottom = [0.0] * len(results)
    for name in stages:
        ms = []
        for r in results:
            s = next((x for x in r.stages if x["stage"] == name), None)
            ms.append(
                1000 * s["busy_s"] / max(s["items"], 1) / s.get("workers", 1) if s and s["items"] else 0.0
            )
        ax2.bar(labels, ms, bottom=bottom, label=name)
        bottom = [b + m for b, m in zip(bottom, ms)]
    ax2.set_ylabel("ms per frame (busy time / workers)")
    ax2.set_title("Stage time per frame (stages overlap in the pipeline)")
    ax2.legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
