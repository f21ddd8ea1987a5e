"""Every int8 rule: where int8 runs, when it is tried, how its cache is keyed, and the gate.

int8 runs on ONNX Runtime on the CPU only (:func:`int8_problem`): static QDQ quantization
(:mod:`vidstyle.export.quantize`), cached beside the fp32 export under a key that holds what its
calibration saw (:func:`int8_tag`, :func:`foreign_int8_tag`); its stylizer's name ends in
``-int8`` (:func:`named`).

``--precision auto`` (the CPU default): on a CPU with int8 dot-product instructions (VNNI, AMX;
read from the CPU flags), our networks whose family says int8 may pay off for their shape
(``NetworkFamily.int8_refusal``: ``transformer_net`` below 32 base channels does not) are
quantized once and gated against fp32 on held-out frames: int8 is used when the worst PSNR is at
least ``model.precision_gate_db`` and it ran faster; otherwise fp32. The log names the choice and
the measured numbers. Foreign ONNX files stay fp32 under auto. The first run does not wait for
the int8 model: it runs fp32 while a background process makes it after that run
(:mod:`.prepare`); the next run finds it here (:func:`ready_gate`).
``--precision int8`` quantizes any float32 model: ours are used whatever the gate says (it is
logged); a foreign file whose int8 version misses ``model.precision_gate_db`` is refused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypeVar

import numpy as np
import torch

from ..errors import ModelError
from ..log import log
from ..models.store import ModelMeta
from ..sysinfo import cpu_has_int8_dot

if TYPE_CHECKING:
    from ..export.quantize import GateResult

INT8_BACKEND = "onnx"


class QuantizableStylizer(Protocol):
    """What quantizing and gating need of an ONNX Runtime stylizer (an OnnxStylizer)."""

    name: str
    device: torch.device
    precision: str

    def feeds_for(self, rgb: np.ndarray) -> dict: ...

    def __call__(self, batch: torch.Tensor, style: torch.Tensor | None = None) -> torch.Tensor: ...


MakeStylizer = Callable[[Path, int], QuantizableStylizer]  # (ONNX file, threads) -> OnnxStylizer
S = TypeVar("S", bound=QuantizableStylizer)


def int8_problem(device: torch.device, backend: str | None = None) -> str | None:
    """Why ``--precision int8`` cannot run on ``device`` with ``backend`` (None: not chosen yet)."""
    if device.type != "cpu":
        return "--precision int8 is for the CPU (ONNX Runtime); on a GPU use fp16"
    if backend is not None and backend != INT8_BACKEND:
        return "--precision int8 runs on ONNX Runtime: use --backend onnx (or auto) on the CPU"
    return None


def tries_int8(requested: str, device: torch.device) -> bool:
    """Whether the ONNX backend considers int8 for our models: asked for, or auto on the CPU."""
    return device.type == "cpu" and requested in ("auto", "int8")


def int8_tag(style: Sequence[float] | None) -> str:
    """Cache-key part of our models' int8 files: calibration depends on the style mix."""
    if not style or len(style) < 2:
        return ""
    return "-w" + hashlib.sha256(repr([round(w, 6) for w in style]).encode()).hexdigest()[:8]


def foreign_int8_tag(input_range: str | None, bgr: bool) -> str:
    """Cache-key part of a foreign file's int8 version: calibration depends on how it is fed."""
    return f"-{input_range or 'meta'}{'-bgr' if bgr else ''}"


def named(stylizer: S) -> S:
    """int8 says so in the stylizer's name (logs, bench, reports)."""
    if stylizer.precision == "int8":
        stylizer.name += "-int8"
    return stylizer


def ready_gate(int8_path: Path) -> GateResult | None:
    """The check result of the cached int8 model at ``int8_path``; None until both are written
    (the result last: a background build is finished when it loads)."""
    from ..export.quantize import GateResult

    return GateResult.load(int8_path.with_suffix(".gate.json")) if int8_path.is_file() else None


def auto_int8_refusal(meta: ModelMeta) -> str | None:
    """Why auto keeps our network of ``meta`` in fp32 on this CPU; None: auto considers int8."""
    if not cpu_has_int8_dot():
        return "no int8 dot-product instructions on this CPU"
    return meta.network_family().int8_refusal(meta.arch_config)


def cached_int8(fp32_path: Path, int8_path: Path, make: MakeStylizer, label: str) -> tuple[Path, GateResult]:
    """The int8 model at ``int8_path`` (quantized from ``fp32_path`` once) and its GateResult."""
    from ..export.quantize import measure_gate, quantize_onnx

    gate_path = int8_path.with_suffix(".gate.json")
    gate = ready_gate(int8_path)
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
    meta: ModelMeta | None,
) -> tuple[str, Path]:
    """('int8' | 'fp32', the ONNX file to run) for ``requested`` in auto, int8 on the CPU.

    ``meta``: our model's metadata (None for foreign files, which auto leaves in fp32).
    """
    if requested == "int8":
        path, gate = cached_int8(fp32_path(), int8_path, make, label)
        if meta is None and gate.psnr_min < gate_db:  # a foreign model must pass its check
            raise ModelError(
                f"{label}: its int8 version differs too much from fp32 (worst PSNR "
                f"{gate.psnr_min:.1f} dB < {gate_db:g} dB); run it with --precision fp32"
            )
        note = "" if gate.passes(gate_db) else f"; below the auto gate of {gate_db:g} dB, used as asked"
        log.info(f"precision int8 for {label}: {gate.describe()} against fp32{note}")
        return "int8", path
    if meta is None or not cpu_has_int8_dot():
        return "fp32", fp32_path()
    refusal = meta.network_family().int8_refusal(meta.arch_config)
    if refusal:
        log.info(f"precision auto: fp32 for {label} ({refusal})")
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
