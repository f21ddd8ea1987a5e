"""Static int8 quantization of ONNX style networks (ONNX Runtime, QDQ format) and its quality gate.

Weights are int8 per output channel, activations uint8 per tensor (the U8S8 pair that VNNI's
``vpdpbusd`` multiplies), their ranges calibrated (min/max) on synthetic frames: the packaged
portrait under camera moves, tone changes and procedural textures — nothing from ../shared, so
every user gets the same model (measured: this calibration scores like one on the dev clips, see
the README). Only convolutions are quantized, and not the first and last 9x9 ones: instance norm
re-normalises every activation anyway, and the image-facing convs carried most of the error
(measured; README "Backends and export").

The gate compares the int8 model with its fp32 original on held-out synthetic frames: PSNR, SSIM
and the measured speed ratio, stored beside the cached model so the choice is made once.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..errors import ModelError
from ..io.synth import demo_photo, pan_zoom, textured
from ..models.contract import METADATA_KEY
from .parity import psnr
from .quality import ssim

QUANT_VERSION = 1  # bump when the recipe changes: it keys the cache
CAL_FRAMES, CAL_SIZE = 192, (192, 320)
GATE_FRAMES, GATE_SIZE = 6, (288, 512)
QUANTIZED_OPS = ("Conv",)
QUANTIZED_NODE_TYPES = {"QuantizeLinear", "DequantizeLinear", "QLinearConv", "ConvInteger", "MatMulInteger"}

Feeds = Callable[[np.ndarray], dict]  # RGB uint8 H x W x 3 frame -> ONNX Runtime input feeds


def calibration_frames(n: int, size: tuple[int, int] = CAL_SIZE, seed: int = 0) -> Iterator[np.ndarray]:
    """``n`` varied RGB uint8 frames of ``size`` (H, W): portrait moves and textures, toned.

    Half are crops of the packaged portrait at zooms 1..3 around random centres, half are
    multi-scale textures; each gets a random gamma, contrast and brightness (dark, flat and
    bright scenes all occur) and every other one is mirrored.
    """
    rng = np.random.default_rng(seed)
    photo = demo_photo()
    for i in range(n):
        if i % 2 == 0:
            zoom = float(rng.uniform(1.0, 3.0))
            center = (float(rng.uniform(0.3, 0.7)), float(rng.uniform(0.25, 0.7)))
            frame = next(pan_zoom(photo, 1, size, zoom=(zoom, zoom), center=center))
        else:
            frame = textured(size[0], size[1], seed=seed * 100_003 + i)
        x = frame.astype(np.float32) / 255
        x = x ** float(rng.uniform(0.8, 1.25))
        x = (x - 0.5) * float(rng.uniform(0.75, 1.1)) + 0.5 + float(rng.uniform(-0.1, 0.1))
        if i % 4 >= 2:
            x = x[:, ::-1]
        yield np.clip(x * 255 + 0.5, 0, 255).astype(np.uint8)


def check_quantizable(path: Path) -> None:
    """A one-line ModelError when ``path`` cannot go through the static quantizer."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    kinds = {n.op_type for n in model.graph.node}
    if kinds & QUANTIZED_NODE_TYPES:
        raise ModelError(f"{path}: already quantized; run it as it is (--precision fp32)")
    if "Conv" not in kinds:
        raise ModelError(f"{path}: has no convolutions to quantize to int8")
    elem = onnx.TensorProto
    initializers = {t.name for t in model.graph.initializer}
    for inp in model.graph.input:
        if inp.name not in initializers and inp.type.tensor_type.elem_type != elem.FLOAT:
            raise ModelError(
                f"{path}: only float32 models can be quantized to int8 "
                f"(input {inp.name!r} is {elem.DataType.Name(inp.type.tensor_type.elem_type)})"
            )


def image_convs(path: Path) -> list[str]:
    """Names of the first and the last Conv node in graph order (the image-facing ones)."""
    import onnx

    convs = [n.name for n in onnx.load(str(path), load_external_data=False).graph.node if n.op_type == "Conv"]
    return sorted({convs[0], convs[-1]}) if convs else []


def quantize_onnx(
    src: Path, dst: Path, feeds: Feeds, frames: int | None = None, size: tuple[int, int] | None = None
) -> Path:
    """Write the int8 QDQ version of the fp32 model ``src`` to ``dst`` (atomically); return ``dst``.

    ``feeds`` turns a calibration frame into the model's inputs (range, channel order, padding,
    style weights). A quantizer failure is a one-line ModelError and leaves no file.
    """
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    check_quantizable(src)
    count, shape = frames or CAL_FRAMES, size or CAL_SIZE

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.frames = calibration_frames(count, shape)

        def get_next(self):
            frame = next(self.frames, None)
            return None if frame is None else feeds(frame)

    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.tmp")
    logging.disable(logging.WARNING)  # the quantizer's advice on the root logger is not for our users
    try:
        quantize_static(
            str(src),
            str(tmp),
            Reader(),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.MinMax,
            op_types_to_quantize=list(QUANTIZED_OPS),
            nodes_to_exclude=image_convs(src),
        )
        model = onnx.load(str(tmp))
        _mark_int8(model, count, shape)
        onnx.save(model, str(tmp))
    except OSError:
        tmp.unlink(missing_ok=True)
        raise
    except Exception as exc:  # noqa: BLE001 - the quantizer raises anything from its graph code
        tmp.unlink(missing_ok=True)
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise ModelError(f"{src.name}: ONNX Runtime's quantizer cannot handle this model ({first})") from None
    finally:
        logging.disable(logging.NOTSET)
        Path(f"{tmp}-inferred.onnx").unlink(missing_ok=True)  # the quantizer's scratch copy, if any
    tmp.replace(dst)
    return dst


def _mark_int8(model, frames: int, size: tuple[int, int]) -> None:
    """Our metadata says int8 and how it was calibrated (foreign models stay without metadata)."""
    for prop in model.metadata_props:
        if prop.key == METADATA_KEY:
            meta = json.loads(prop.value)
            meta["precision"] = "int8"
            meta["quantization"] = {
                "format": "QDQ",
                "weights": "int8 per channel",
                "activations": "uint8",
                "calibration": f"{frames} synthetic frames {size[1]}x{size[0]}, min/max",
                "quantized_ops": list(QUANTIZED_OPS),
                "version": QUANT_VERSION,
            }
            prop.value = json.dumps(meta)


@dataclass
class GateResult:
    """int8 against fp32 on held-out frames: worst PSNR (dB), mean PSNR, worst SSIM, speed ratio."""

    psnr_min: float
    psnr_mean: float
    ssim_min: float
    speedup: float  # fp32 seconds / int8 seconds, one thread, same frames
    frames: int
    size: tuple[int, int]

    def passes(self, min_db: float) -> bool:
        return self.psnr_min >= min_db and self.speedup > 1.0

    def describe(self) -> str:
        return (
            f"PSNR {self.psnr_min:.1f} dB worst / {self.psnr_mean:.1f} mean, SSIM {self.ssim_min:.3f} "
            f"worst, {self.speedup:.2f}x the fp32 speed"
        )

    def save(self, path: Path) -> None:
        """Write atomically: a reader (another run) sees no result or the whole of it."""
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(asdict(self)))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> GateResult | None:
        try:
            data = json.loads(path.read_text())
            data["size"] = tuple(data["size"])
            return cls(**data)
        except (OSError, ValueError, TypeError, KeyError):
            return None


def measure_gate(
    reference, candidate, frames: int | None = None, size: tuple[int, int] | None = None
) -> GateResult:
    """Run two stylizers (fp32 ``reference``, reduced ``candidate``) on held-out synthetic frames."""
    import torch

    frames, size = frames or GATE_FRAMES, size or GATE_SIZE
    warm = torch.rand(1, 3, size[0], size[1])
    reference(warm), candidate(warm)  # session set-up is not part of the speed
    scores, t_ref, t_cand = [], 0.0, 0.0
    for frame in calibration_frames(frames, size, seed=1):
        x = torch.from_numpy(frame).permute(2, 0, 1)[None].float().div(255)
        t0 = time.perf_counter()
        want = reference(x).float().numpy()[0].transpose(1, 2, 0)
        t1 = time.perf_counter()
        got = candidate(x).float().numpy()[0].transpose(1, 2, 0)
        t_ref, t_cand = t_ref + t1 - t0, t_cand + time.perf_counter() - t1
        scores.append((psnr(got, want), ssim(got, want)))
    p = [s[0] for s in scores]
    return GateResult(
        round(min(p), 2),
        round(float(np.mean(p)), 2),
        round(min(s[1] for s in scores), 4),
        round(t_ref / max(t_cand, 1e-9), 3),
        frames,
        (size[0], size[1]),
    )
