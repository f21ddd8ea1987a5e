"""``export_model``: the Python API behind ``vidstyle export``.

One call resolves a style (catalog name or model file), writes an ONNX file (fp32, fp16 or int8
QDQ) or a TensorRT engine, and checks it: fp32/fp16 files against torch on textured frames at odd
sizes and batches (``export.parity``), int8 files against the fp32 export on held-out frames
(``export.quantize``). A file that fails its check is removed. Errors: ``ConfigError`` for a bad
setting, ``ModelError`` for an unknown or broken model or a failed check, ``OutputError`` when the
output cannot be written.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch

from ..config import ModelConfig
from ..errors import ConfigError, ModelError, OutputError
from ..export.onnx import MIN_OPSET, export_onnx
from ..export.parity import BATCHES, SIZES, ParityRow, parity_check
from ..export.quantize import GateResult, measure_gate, quantize_onnx
from ..export.tensorrt import Profile, build_engine
from ..log import log
from ..models.catalog import resolve_style
from ..models.store import load_model
from ..stylize.onnx_backend import OnnxStylizer
from ..stylize.tensorrt_backend import TensorRTStylizer
from ..stylize.torch_backend import TorchStylizer

FORMATS = ("onnx", "tensorrt")
PRECISIONS = ("fp32", "fp16", "int8")
MIN_SIDE = 8  # px: the smallest frame the exported graph takes
SUFFIXES = {"onnx": ".onnx", "tensorrt": ".engine"}


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_model` wrote and how it compared.

    ``parity``: one row per size and batch against torch (fp32/fp16; empty for int8 or when the
    check was skipped). ``int8_gate``: the int8 file against the fp32 export (None otherwise).
    """

    path: Path
    format: str  # "onnx" | "tensorrt"
    precision: str  # "fp32" | "fp16" | "int8"
    parity: tuple[ParityRow, ...] = ()
    int8_gate: GateResult | None = None

    @property
    def worst_psnr_db(self) -> float | None:
        """Lowest PSNR (dB) of the check that ran, None when none did."""
        if self.int8_gate is not None:
            return self.int8_gate.psnr_min
        return min((r.psnr_db for r in self.parity), default=None)


def export_model(
    model: str | Path,
    output: str | Path | None = None,
    *,
    format: str = "onnx",
    precision: str = "fp32",
    opset: int = 18,
    dynamic: bool = True,
    height: int = 720,
    width: int = 1280,
    batch: int = 1,
    profile: Profile | None = None,
    parity: bool = True,
) -> ExportResult:
    """Export ``model`` (a style name or model file) to ``output`` and check the file.

    ``output`` defaults to ``<model name>[-fp16|-int8].onnx|.engine`` in the current directory.
    ONNX: ``dynamic`` leaves batch, height and width free (``batch``/``height``/``width`` in px
    only shape the example); otherwise the file is fixed to them. ``int8``: ONNX only, for CPUs.
    TensorRT: an engine for this machine's GPU, for the sizes and batches of ``profile``.
    ``parity=False`` skips the check (not recommended).
    """
    profile = profile or Profile()
    check_settings(format, precision, opset, height, width, batch, profile)
    entry = resolve_style(str(model))
    net, meta = load_model(entry.model_path)
    tag = "" if precision == "fp32" else f"-{precision}"
    out = Path(output) if output is not None else Path(f"{meta.name}{tag}{SUFFIXES[format]}")
    if not out.parent.is_dir():
        raise OutputError(f"output directory does not exist: {out.parent}")
    try:
        if precision == "int8":
            gate = _export_int8(net, meta, out, opset, dynamic, (height, width), batch, parity)
            return ExportResult(out, format, precision, int8_gate=gate)
        candidate: OnnxStylizer | TensorRTStylizer
        if format == "onnx":
            candidate, sizes, batches = _export_onnx(
                net, meta, out, precision, opset, dynamic, height, width, batch
            )
        else:
            candidate, sizes, batches = _export_engine(net, meta, out, precision, opset, profile)
        if not parity:
            return ExportResult(out, format, precision)
        reference = TorchStylizer(*load_model(entry.model_path), candidate.device)  # export changed net
        try:
            rows = parity_check(reference, candidate, precision, sizes=sizes, batches=batches)
        except ModelError:
            out.unlink(missing_ok=True)  # a failed artefact must not look usable
            raise
        return ExportResult(out, format, precision, parity=tuple(rows))
    except OSError as exc:
        out.unlink(missing_ok=True)
        raise OutputError(f"writing {out} failed: {exc.strerror or exc}") from None


def check_settings(
    format: str, precision: str, opset: int, height: int, width: int, batch: int, profile: Profile
) -> None:
    """Raise ConfigError for a setting out of range, before any model is loaded."""
    import onnx

    if format not in FORMATS:
        raise ConfigError(f"format {format!r} is not one of: {', '.join(FORMATS)}")
    if precision not in PRECISIONS:
        raise ConfigError(f"precision {precision!r} is not one of: {', '.join(PRECISIONS)}")
    if precision == "int8" and format != "onnx":
        raise ConfigError("--int8 is for --format onnx (TensorRT engines use --fp16)")
    if opset < MIN_OPSET:
        raise ConfigError(f"opset {opset} is too old: vidstyle exports need opset >= {MIN_OPSET}")
    newest = onnx.defs.onnx_opset_version()
    if opset > newest:
        raise ConfigError(f"opset {opset} is newer than this onnx package knows (at most {newest})")
    if batch < 1:
        raise ConfigError(f"batch {batch} is below the minimum 1")
    if min(height, width) < MIN_SIDE:
        raise ConfigError(f"size {width}x{height} is below the minimum {MIN_SIDE}x{MIN_SIDE} px")
    if format == "tensorrt":
        check_profile(profile)


def check_profile(profile: Profile) -> None:
    """min <= opt <= max for the TensorRT sizes (each side >= 8 px) and batches (>= 1)."""
    lo, opt, hi = profile.min_hw, profile.opt_hw, profile.max_hw
    if min(lo) < MIN_SIDE or not all(lo[i] <= opt[i] <= hi[i] for i in range(2)):
        raise ConfigError(
            f"TensorRT sizes must grow from min to opt to max (each side >= {MIN_SIDE} px): "
            f"{lo[1]}x{lo[0]}, {opt[1]}x{opt[0]}, {hi[1]}x{hi[0]}"
        )
    if not 1 <= profile.opt_batch <= profile.max_batch:
        raise ConfigError(f"TensorRT batches: need 1 <= opt {profile.opt_batch} <= max {profile.max_batch}")


Sizes = tuple[tuple[int, int], ...]  # (height, width) pairs in px


def _export_onnx(
    net, meta, out: Path, precision: str, opset: int, dynamic: bool, height: int, width: int, batch: int
) -> tuple[OnnxStylizer, Sizes, tuple[int, ...]]:
    """Write the ONNX file; return it as a CPU stylizer with the sizes and batches to check."""
    fp16 = precision == "fp16"
    export_onnx(
        net, meta, out, opset=opset, dynamic=dynamic, height=height, width=width, batch=batch, fp16=fp16
    )
    log.info(
        f"wrote {out} (opset {opset}, {'dynamic' if dynamic else 'static'} shapes, "
        f"{precision}, {len(meta.styles)} style(s))"
    )
    candidate = OnnxStylizer(out, torch.device("cpu"))
    return candidate, (SIZES if dynamic else ((height, width),)), (BATCHES if dynamic else (batch,))


def _export_engine(
    net, meta, out: Path, precision: str, opset: int, profile: Profile
) -> tuple[TensorRTStylizer, Sizes, tuple[int, ...]]:
    """Write a TensorRT engine (built from a scratch ONNX file); return it with what to check."""
    with tempfile.TemporaryDirectory() as tmp:
        onnx_path = export_onnx(net, meta, Path(tmp) / "model.onnx", opset=opset)
        build_engine(onnx_path, out, fp16=precision == "fp16", profile=profile)
    lo, hi = profile.min_hw, profile.max_hw
    log.info(f"wrote {out} (TensorRT, {precision}, sizes {lo[1]}x{lo[0]}..{hi[1]}x{hi[0]})")
    sizes = tuple((min(max(h, lo[0]), hi[0]), min(max(w, lo[1]), hi[1])) for h, w in ((250, 314), (360, 640)))
    batches = tuple(n for n in BATCHES if n <= profile.max_batch)
    return TensorRTStylizer(out, torch.device("cuda")), sizes, batches


def _export_int8(
    net, meta, out: Path, opset: int, dynamic: bool, size: tuple[int, int], batch: int, gate: bool
) -> GateResult | None:
    """fp32 export to a scratch file, quantization into ``out``, then the gate against fp32."""
    bound = ModelConfig().precision_gate_db
    cpu = torch.device("cpu")
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = export_onnx(
            net,
            meta,
            Path(tmp) / "fp32.onnx",
            opset=opset,
            dynamic=dynamic,
            height=size[0],
            width=size[1],
            batch=batch,
        )
        reference = OnnxStylizer(fp32, cpu, threads=1)
        quantize_onnx(fp32, out, reference.feeds_for)
        if not gate:
            return None
        result = measure_gate(reference, OnnxStylizer(out, cpu, threads=1), size=None if dynamic else size)
    log.info(f"wrote {out} (int8 QDQ, opset {opset}): {result.describe()} against fp32")
    if result.psnr_min < bound:
        out.unlink(missing_ok=True)
        raise ModelError(
            f"int8 check failed: worst PSNR {result.psnr_min:.1f} dB against fp32 (limit {bound:g} dB)"
        )
    return result
