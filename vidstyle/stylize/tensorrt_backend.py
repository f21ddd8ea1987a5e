"""Stylizer backend: a TensorRT engine built by ``vidstyle export --format tensorrt``.

The engine takes [0, 1] RGB N x 3 x H x W (its ONNX graph pads, scales and crops itself) within
the optimisation profile it was built with; frames stay on the GPU (tensor addresses are torch's).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from ..errors import ModelError
from ..export.tensorrt import check_compatible, device_identity, read_engine, require_tensorrt
from ..models.contract import IMAGE_INPUT, OUTPUT, STYLE_INPUT, activation_bytes_of
from .base import style_runs


class TensorRTStylizer:
    """Runs an engine on N x 3 x H x W batches in [0, 1] within its profile (CUDA only).

    ``style``: as for :class:`~vidstyle.stylize.onnx_backend.OnnxStylizer`: the default row of an
    engine with a style input; a call may give (S,) or one row per frame (N x S).
    """

    def __init__(
        self,
        path: str | Path,
        device: torch.device,
        style: Sequence[float] | None = None,
        *,
        activation_bytes_per_px: float | None = None,
        precision: str = "fp32",
    ):
        """``activation_bytes_per_px`` and ``precision`` feed the memory plan (as for
        :class:`~vidstyle.stylize.onnx_backend.OnnxStylizer`)."""
        trt = require_tensorrt()
        if device.type != "cuda":
            raise ModelError("TensorRT engines run on cuda devices only")
        self.path, self.device = Path(path), device
        self.precision = precision
        self.header, blob = read_engine(self.path)
        onnx_meta = self.header.get("onnx_meta")
        self.activation_bytes_per_px = (
            activation_bytes_of(onnx_meta, precision)
            if activation_bytes_per_px is None
            else activation_bytes_per_px
        )
        check_compatible(self.header, device_identity(), self.path)
        self.runtime = trt.Runtime(trt.Logger(trt.Logger.WARNING))
        self.engine = self.runtime.deserialize_cuda_engine(blob)
        if self.engine is None:
            raise ModelError(f"{self.path}: TensorRT could not deserialize the engine")
        self.context = self.engine.create_execution_context()
        names = [self.engine.get_tensor_name(i) for i in range(self.engine.num_io_tensors)]
        self.styles, self.style = 1, None
        if STYLE_INPUT in names:
            self.styles = len((onnx_meta or {}).get("style_names", [])) or 1
            weights = list(style) if style is not None else [1.0] + [0.0] * (self.styles - 1)
            self.style = torch.tensor(np.asarray(weights, np.float32), device=device)
        p = self.header["profile"]
        self.max_batch, self.min_hw, self.max_hw = p["max_batch"], tuple(p["min_hw"]), tuple(p["max_hw"])
        self.stream = torch.cuda.Stream(device)
        self.name = f"tensorrt-{'fp16' if self.header.get('fp16') else 'fp32'}"

    def __call__(self, batch: torch.Tensor, style: torch.Tensor | None = None) -> torch.Tensor:
        n, _, h, w = batch.shape
        if not (self.min_hw[0] <= h <= self.max_hw[0] and self.min_hw[1] <= w <= self.max_hw[1]):
            raise ModelError(
                f"{w}x{h} frames are outside the engine's profile "
                f"({self.min_hw[1]}x{self.min_hw[0]} .. {self.max_hw[1]}x{self.max_hw[0]}); "
                f"rebuild with a wider --max-size or use --max-side"
            )
        outs: list[torch.Tensor] = []
        for start, stop, row in style_runs(style, n, self.styles, str(self.path)):
            weights, step = self._row(row), self.max_batch
            outs += [self._run(batch[i : min(i + step, stop)], weights) for i in range(start, stop, step)]
        return torch.cat(outs) if len(outs) > 1 else outs[0]

    def _row(self, row: torch.Tensor | None) -> torch.Tensor | None:
        """The style input's value for one run: ``row``, else the default (None: no style input)."""
        if self.style is None or row is None:
            return self.style
        return row.detach().to(self.device, torch.float32).contiguous()

    def _run(self, x: torch.Tensor, style: torch.Tensor | None) -> torch.Tensor:
        x = x.to(self.device, torch.float32).contiguous()
        y = torch.empty_like(x)
        ctx = self.context
        ctx.set_input_shape(IMAGE_INPUT, tuple(x.shape))
        ctx.set_tensor_address(IMAGE_INPUT, x.data_ptr())
        if style is not None:
            ctx.set_input_shape(STYLE_INPUT, tuple(style.shape))
            ctx.set_tensor_address(STYLE_INPUT, style.data_ptr())
        ctx.set_tensor_address(OUTPUT, y.data_ptr())
        self.stream.wait_stream(torch.cuda.current_stream(self.device))
        if not ctx.execute_async_v3(self.stream.cuda_stream):
            raise ModelError("TensorRT execution failed")
        torch.cuda.current_stream(self.device).wait_stream(self.stream)
        return y
