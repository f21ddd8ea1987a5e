"""Which precision the ONNX backend runs on the CPU: int8 where it keeps the look and is faster.

``--precision auto`` (the CPU default): on a CPU with int8 dot-product instructions (VNNI, AMX;
read from the CPU flags), our networks of base width >= ``INT8_MIN_CHANNELS`` are quantized once
(cached beside their fp32 export) and gated against fp32 on held-out frames: int8 is used when
the worst PSNR is at least ``model.precision_gate_db`` and it ran faster; otherwise fp32. The
log names the choice and the measured numbers. Foreign ONNX files stay fp32 under auto.
``--precision int8`` quantizes any float32 model: ours are used whatever the gate says (it is
logged); a foreign file whose int8 version misses ``model.precision_gate_db`` is refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from ..errors import ModelError
from ..log import log
from ..sysinfo import cpu_has_int8_dot

# Measured on the 2-core EPYC: the 16-channel small net ran at 0.88x its fp32 speed in int8 (the
# quantize/dequantize and layout changes around narrow convs cost more than they save).
INT8_MIN_CHANNELS = 32

MakeStylizer = Callable[[Path, int], object]  # (ONNX file, threads) -> OnnxStylizer


def weights_tag(weights: list[float] | None) -> str:
    """Cache-key part for multi-style models: calibration depends on the style mix."""
    if not weights or len(weights) < 2:
        return ""
    return "-w" + hashlib.sha256(repr([round(w, 6) for w in weights]).encode()).hexdigest()[:8]


def cached_int8(fp32_path: Path, int8_path: Path, make: MakeStylizer, label: str):
    """The int8 model at ``int8_path`` (quantized from ``fp32_path`` once) and its GateResult."""
    from ..export.quantize import GateResult, measure_gate, quantize_onnx

    gate_path = int8_path.with_suffix(".gate.json")
    gate = GateResult.load(gate_path) if int8_path.is_file() else None
    if gate is None:
        log.info(
            f"quantizing {label} to int8 once (calibration and a check against fp32, about a "
            f"minute; cached at {int8_path})"
        )
        reference = make(fp32_path, 1)
        quantize_onnx(fp32_path, int8_path, reference.feeds_for)
        gate = measure_gate(reference, make(int8_path, 1))
        gate.save(gate_path)
    return int8_path, gate


def onnx_precision(
    requested: str,
    label: str,
    fp32_path: Callable[[], Path],
    int8_path: Path,
    make: MakeStylizer,
    gate_db: float,
    channels: int | None,
) -> tuple[str, Path]:
    """('int8' | 'fp32', the ONNX file to run) for ``requested`` in auto, int8 on the CPU.

    ``channels``: the network's base width (None for foreign files, which auto leaves in fp32).
    """
    if requested == "int8":
        path, gate = cached_int8(fp32_path(), int8_path, make, label)
        if channels is None and gate.psnr_min < gate_db:  # a foreign model must pass its check
            raise ModelError(
                f"{label}: its int8 version differs too much from fp32 (worst PSNR "
                f"{gate.psnr_min:.1f} dB < {gate_db:g} dB); run it with --precision fp32"
            )
        note = "" if gate.passes(gate_db) else f"; below the auto gate of {gate_db:g} dB, used as asked"
        log.info(f"precision int8 for {label}: {gate.describe()} against fp32{note}")
        return "int8", path
    if channels is None or not cpu_has_int8_dot():
        return "fp32", fp32_path()
    if channels < INT8_MIN_CHANNELS:
        log.info(
            f"precision auto: fp32 for {label} (int8 does not pay off below {INT8_MIN_CHANNELS} channels)"
        )
        return "fp32", fp32_path()
    source = fp32_path()
    try:
        path, gate = cached_int8(source, int8_path, make, label)
    except ModelError as exc:
        log.warning(f"precision auto: fp32 for {label}: {exc}")
        return "fp32", source
    if gate.passes(gate_db):
        log.info(f"precision auto: int8 for {label} ({gate.describe()}; gate >= {gate_db:g} dB and faster)")
        return "int8", path
    log.info(
        f"precision auto: fp32 for {label}: int8 misses the gate (>= {gate_db:g} dB and faster): "
        f"{gate.describe()}"
    )
    return "fp32", source
