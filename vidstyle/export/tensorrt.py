"""TensorRT engines built from our ONNX exports, in a file that says what it was built for.

Engine file layout: ``MAGIC`` | 4-byte little-endian header length | JSON header | serialized
engine. The header records the GPU name, its compute capability and the TensorRT version (an
engine only runs where those match), the optimisation profile and the model metadata; the loader
refuses a mismatch with a message that says how to rebuild.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from pathlib import Path

import torch

from ..errors import ModelError
from ..models.contract import IMAGE_INPUT, STYLE_INPUT, read_onnx_metadata
from ..optional import require
from ..version import __version__

MAGIC = b"VIDSTYLE-TRT\x00\x01"


def require_tensorrt():
    """The tensorrt module and a CUDA GPU, or a clear error saying which is missing."""
    trt = require(
        "tensorrt", "TensorRT is not installed (pip install tensorrt; needs an NVIDIA GPU)", ModelError
    )
    if not torch.cuda.is_available():
        raise ModelError("TensorRT needs a CUDA GPU and none is available")
    return trt


@dataclass(frozen=True)
class Profile:
    """Optimisation profile: batch and H x W ranges the engine accepts (opt = tuned for)."""

    min_hw: tuple[int, int] = (240, 320)
    opt_hw: tuple[int, int] = (720, 1280)
    max_hw: tuple[int, int] = (1088, 1920)
    max_batch: int = 8
    opt_batch: int = 4

    def to_dict(self) -> dict:
        return {
            "min_hw": list(self.min_hw),
            "opt_hw": list(self.opt_hw),
            "max_hw": list(self.max_hw),
            "max_batch": self.max_batch,
            "opt_batch": self.opt_batch,
        }


def device_identity() -> dict:
    trt = require_tensorrt()
    major, minor = torch.cuda.get_device_capability()
    return {
        "gpu": torch.cuda.get_device_name(),
        "compute_capability": f"{major}.{minor}",
        "tensorrt": trt.__version__,
    }


def build_engine(
    onnx_path: str | Path,
    out_path: str | Path,
    fp16: bool = True,
    profile: Profile = Profile(),
    workspace_gib: float = 4.0,
) -> Path:
    """Parse ``onnx_path`` with TensorRT's ONNX parser and write an engine file to ``out_path``."""
    trt = require_tensorrt()
    onnx_meta = read_onnx_metadata(onnx_path)
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(0)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse(Path(onnx_path).read_bytes()):
        errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise ModelError(f"TensorRT cannot parse {onnx_path}: {errors[:300]}")
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, int(workspace_gib * (1 << 30)))
    if fp16:
        config.set_flag(trt.BuilderFlag.FP16)
    opt = builder.create_optimization_profile()
    p = profile
    opt.set_shape(IMAGE_INPUT, (1, 3, *p.min_hw), (p.opt_batch, 3, *p.opt_hw), (p.max_batch, 3, *p.max_hw))
    config.add_optimization_profile(opt)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise ModelError(f"TensorRT failed to build an engine from {onnx_path} (see its log above)")
    header = {
        **device_identity(),
        "vidstyle": __version__,
        "fp16": fp16,
        "profile": p.to_dict(),
        "onnx_meta": onnx_meta,
        "inputs": [IMAGE_INPUT] + ([STYLE_INPUT] if onnx_meta and onnx_meta.get("style_input") else []),
    }
    write_engine(out_path, header, bytes(serialized))
    return Path(out_path)


def write_engine(path: str | Path, header: dict, engine: bytes) -> None:
    blob = json.dumps(header).encode()
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(MAGIC + struct.pack("<I", len(blob)) + blob + engine)
    tmp.replace(path)


def read_engine(path: str | Path) -> tuple[dict, bytes]:
    """(header, engine bytes); a clear error for files that are not our engines."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"cannot read engine {path}: {exc.strerror}") from None
    if not data.startswith(MAGIC) or len(data) < len(MAGIC) + 4:
        raise ModelError(
            f"{path}: not a vidstyle TensorRT engine (build one with "
            f"`vidstyle export MODEL --format tensorrt`)"
        )
    (n,) = struct.unpack("<I", data[len(MAGIC) : len(MAGIC) + 4])
    start = len(MAGIC) + 4
    try:
        header = json.loads(data[start : start + n])
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ModelError(f"{path}: corrupt engine header") from None
    return header, data[start + n :]


def check_compatible(header: dict, here: dict, path: str | Path) -> None:
    """Refuse an engine built for another GPU or TensorRT version."""
    for key, what in (("gpu", "GPU"), ("compute_capability", "compute capability"), ("tensorrt", "TensorRT")):
        if header.get(key) != here.get(key):
            raise ModelError(
                f"{path}: engine built for {header.get('gpu')} (sm {header.get('compute_capability')}, "
                f"TensorRT {header.get('tensorrt')}) but this machine has {here.get('gpu')} "
                f"(sm {here.get('compute_capability')}, TensorRT {here.get('tensorrt')}): "
                f"{what} differs; rebuild it here with `vidstyle export MODEL --format tensorrt`"
            )
