"""``vidstyle export MODEL --format onnx|tensorrt -o OUT``: deployable artefacts, parity-checked."""

from __future__ import annotations

import argparse
import re


def _size(text: str) -> tuple[int, int]:
    """'1280x720' -> (720, 1280) as (height, width)."""
    m = re.fullmatch(r"(\d+)x(\d+)", text.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT, got {text!r}")
    return int(m.group(2)), int(m.group(1))


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="export a style model to ONNX or a TensorRT engine",
        description="Export MODEL (a style name or .safetensors file) for deployment. "
        "A parity check against torch runs after every export.",
    )
    p.add_argument("model", metavar="MODEL")
    p.add_argument("--format", choices=("onnx", "tensorrt"), default="onnx")
    p.add_argument("-o", "--output", metavar="OUT", help="output file (default: MODEL.onnx / MODEL.engine)")
    prec = p.add_mutually_exclusive_group()
    prec.add_argument("--fp16", action="store_true", help="half-precision compute (I/O stays float32)")
    prec.add_argument(
        "--int8",
        action="store_true",
        help="ONNX only: static int8 quantization for CPUs (QDQ), checked against fp32",
    )
    p.add_argument("--opset", type=int, default=18, help="ONNX opset (>= 17; default 18)")
    shape = p.add_mutually_exclusive_group()
    shape.add_argument(
        "--dynamic",
        dest="static",
        action="store_false",
        default=False,
        help="free batch, height and width (default)",
    )
    shape.add_argument(
        "--static",
        dest="static",
        action="store_true",
        help="fix batch/height/width to --batch/--height/--width",
    )
    p.add_argument("--height", type=int, default=720)
    p.add_argument("--width", type=int, default=1280)
    p.add_argument("--batch", type=int, default=1)
    g = p.add_argument_group("tensorrt optimisation profile")
    g.add_argument("--min-size", type=_size, default=(240, 320), metavar="WxH")
    g.add_argument("--opt-size", type=_size, default=(720, 1280), metavar="WxH")
    g.add_argument("--max-size", type=_size, default=(1088, 1920), metavar="WxH")
    g.add_argument("--max-batch", type=int, default=8)
    p.add_argument("--no-parity", action="store_true", help="skip the parity check (not recommended)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..deploy.api import export_model
    from ..export.tensorrt import Profile
    from ..log import log
    from .report import table

    result = export_model(
        args.model,
        args.output,
        format=args.format,
        precision="fp16" if args.fp16 else "int8" if args.int8 else "fp32",
        opset=args.opset,
        dynamic=not args.static,
        height=args.height,
        width=args.width,
        batch=args.batch,
        profile=Profile(args.min_size, args.opt_size, args.max_size, args.max_batch, min(4, args.max_batch)),
        parity=not args.no_parity,
    )
    if result.parity:
        rows = [
            [f"{r.width}x{r.height}", r.batch, f"{r.max_abs:.2e}", f"{r.psnr_db:.1f}"] for r in result.parity
        ]
        print(table(rows, ["size", "batch", "max abs error", "PSNR dB"]))
        log.info(f"parity with torch: ok (worst PSNR {result.worst_psnr_db:.1f} dB)")
    return 0
