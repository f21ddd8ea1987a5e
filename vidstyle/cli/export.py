"""``vidstyle export MODEL --format onnx|tensorrt -o OUT``: deployable artefacts, parity-checked."""

from __future__ import annotations

import argparse
import re
from pathlib import Path


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
    from ..errors import ModelError
    from ..models.catalog import resolve_style
    from ..models.store import load_model

    entry = resolve_style(args.model)
    net, meta = load_model(entry.model_path)
    suffix = ".onnx" if args.format == "onnx" else ".engine"
    if args.int8 and args.format != "onnx":
        raise ModelError("--int8 is for --format onnx (TensorRT engines use --fp16)")
    tag = "-fp16" if args.fp16 else "-int8" if args.int8 else ""
    out = Path(args.output) if args.output else Path(f"{meta.name}{tag}{suffix}")
    if not out.parent.is_dir():
        raise ModelError(f"output directory does not exist: {out.parent}")
    try:
        return _export(args, entry, net, meta, out, args.static)
    except OSError as exc:
        out.unlink(missing_ok=True)
        raise ModelError(f"writing {out} failed: {exc.strerror or exc}") from None


def _export(args, entry, net, meta, out: Path, static: bool) -> int:
    import torch

    from ..errors import ModelError
    from ..export.onnx import export_onnx
    from ..export.parity import parity_check
    from ..log import log
    from ..models.store import load_model
    from ..stylize.torch_backend import TorchStylizer
    from .report import table

    if args.int8:
        return _export_int8(args, net, meta, out, static)
    if args.format == "onnx":
        export_onnx(
            net,
            meta,
            out,
            opset=args.opset,
            dynamic=not static,
            height=args.height,
            width=args.width,
            batch=args.batch,
            fp16=args.fp16,
        )
        log.info(
            f"wrote {out} (opset {args.opset}, {'static' if static else 'dynamic'} shapes, "
            f"{'fp16' if args.fp16 else 'fp32'}, {len(meta.styles)} style(s))"
        )
        if args.no_parity:
            return 0
        from ..stylize.onnx_backend import OnnxStylizer

        device = torch.device("cpu")
        candidate = OnnxStylizer(out, device)
        sizes = ((args.height, args.width),) if static else None
        batches = (args.batch,) if static else None
    else:
        import tempfile

        from ..export.tensorrt import Profile, build_engine
        from ..stylize.tensorrt_backend import TensorRTStylizer

        profile = Profile(args.min_size, args.opt_size, args.max_size, args.max_batch, min(4, args.max_batch))
        with tempfile.TemporaryDirectory() as tmp:
            onnx_path = export_onnx(net, meta, Path(tmp) / "model.onnx", opset=args.opset)
            build_engine(onnx_path, out, fp16=args.fp16, profile=profile)
        log.info(
            f"wrote {out} (TensorRT, {'fp16' if args.fp16 else 'fp32'}, sizes "
            f"{profile.min_hw[1]}x{profile.min_hw[0]}..{profile.max_hw[1]}x{profile.max_hw[0]})"
        )
        if args.no_parity:
            return 0
        device = torch.device("cuda")
        candidate = TensorRTStylizer(out, device)
        lo, hi = profile.min_hw, profile.max_hw
        sizes = tuple(
            (min(max(h, lo[0]), hi[0]), min(max(w, lo[1]), hi[1])) for h, w in ((250, 314), (360, 640))
        )
        batches = None
    reference = TorchStylizer(*load_model(entry.model_path), device)
    kwargs = {k: v for k, v in (("sizes", sizes), ("batches", batches)) if v is not None}
    try:
        rows = parity_check(reference, candidate, "fp16" if args.fp16 else "fp32", **kwargs)
    except ModelError:
        out.unlink(missing_ok=True)  # a failed artefact must not look usable
        raise
    print(
        table(
            [[f"{r.width}x{r.height}", r.batch, f"{r.max_abs:.2e}", f"{r.psnr_db:.1f}"] for r in rows],
            ["size", "batch", "max abs error", "PSNR dB"],
        )
    )
    log.info(f"parity with torch: ok (worst PSNR {min(r.psnr_db for r in rows):.1f} dB)")
    return 0


def _export_int8(args, net, meta, out: Path, static: bool) -> int:
    """fp32 export to a scratch file, quantization into ``out``, then the gate against fp32."""
    import tempfile

    import torch

    from ..config import ModelConfig
    from ..errors import ModelError
    from ..export.onnx import export_onnx
    from ..export.quantize import measure_gate, quantize_onnx
    from ..log import log
    from ..stylize.onnx_backend import OnnxStylizer

    bound = ModelConfig().precision_gate_db
    cpu = torch.device("cpu")
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = export_onnx(
            net,
            meta,
            Path(tmp) / "fp32.onnx",
            opset=args.opset,
            dynamic=not static,
            height=args.height,
            width=args.width,
            batch=args.batch,
        )
        reference = OnnxStylizer(fp32, cpu, threads=1)
        quantize_onnx(fp32, out, reference.feeds_for)
        if args.no_parity:
            return 0
        gate = measure_gate(
            reference, OnnxStylizer(out, cpu, threads=1), size=(args.height, args.width) if static else None
        )
    log.info(f"wrote {out} (int8 QDQ, opset {args.opset}): {gate.describe()} against fp32")
    if gate.psnr_min < bound:
        out.unlink(missing_ok=True)
        raise ModelError(
            f"int8 check failed: worst PSNR {gate.psnr_min:.1f} dB against fp32 (limit {bound:g} dB)"
        )
    return 0
