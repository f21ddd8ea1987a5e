"""Stylizer backend: ONNX Runtime (CPU, CUDA or TensorRT execution provider).

Files we exported carry metadata and do their own padding, scaling and cropping. Any other style
network with one image input and one image output works too: give its input range (0-1 or
0-255) and channel order (RGB or BGR); we pad to a multiple of 4 for it, and when its height and
width are fixed, frames are resized to them and back. A fixed batch size is filled by repeating
the last frame. On CUDA, frames stay on the GPU (I/O binding on torch tensors).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import ModelError
from ..models.contract import activation_bytes_of, contract_from, read_onnx_metadata
from .base import crop_to, pad_to_multiple, style_runs

PROVIDERS = {
    "cpu": ["CPUExecutionProvider"],
    "cuda": ["CUDAExecutionProvider", "CPUExecutionProvider"],
    "tensorrt": ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"],
}


class OnnxStylizer:
    """Runs an ONNX style network on N x 3 x H x W batches in [0, 1].

    ``style``: the default row of a graph with a style input (None: its first style); a call may
    give its own, (S,) or one row per frame (N x S: the graph runs once per run of equal rows).
    """

    def __init__(
        self,
        path: str | Path,
        device: torch.device,
        provider: str = "auto",
        input_range: str | None = None,
        bgr: bool | None = None,
        style: Sequence[float] | None = None,
        threads: int = 0,
        *,
        activation_bytes_per_px: float | None = None,
        precision: str = "fp32",
    ):
        """``activation_bytes_per_px`` (None: the family's figure from the file's metadata, or what
        is assumed for a model we know nothing about) and ``precision`` feed the memory plan."""
        import onnxruntime as ort

        self.path = Path(path)
        if not self.path.is_file():
            raise ModelError(f"ONNX model not found: {self.path}")
        self.device = device
        self.precision = precision
        meta = read_onnx_metadata(self.path)
        self.contract = contract_from(meta, input_range, bgr)
        self.activation_bytes_per_px = (
            activation_bytes_of(meta, precision)
            if activation_bytes_per_px is None
            else activation_bytes_per_px
        )
        provider = provider if provider != "auto" else ("cuda" if device.type == "cuda" else "cpu")
        available = set(ort.get_available_providers())
        providers = [p for p in PROVIDERS[provider] if p in available]
        if PROVIDERS[provider][0] not in available:
            raise ModelError(
                f"ONNX Runtime here has no {PROVIDERS[provider][0]} "
                f"(available: {', '.join(sorted(available))})"
            )
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if threads:
            opts.intra_op_num_threads = threads
        try:
            self.session = ort.InferenceSession(str(self.path), opts, providers=providers)
        except Exception as exc:  # noqa: BLE001 - ORT raises its own exception types
            raise ModelError(
                f"{self.path}: ONNX Runtime cannot load it ({str(exc).splitlines()[0][:200]})"
            ) from None
        self._check_io()
        self.styles, self.style = 1, None
        if self.style_input is not None:
            n = self.style_input.shape[0]
            self.styles = n if isinstance(n, int) else len(self.contract.style_names)
            weights = list(style) if style is not None else [1.0] + [0.0] * (self.styles - 1)
            self.style = np.asarray(weights, np.float32)
        self.provider = self.session.get_providers()[0]
        self.name = f"onnxruntime-{self.provider.replace('ExecutionProvider', '').lower()}"

    def _check_io(self) -> None:
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        images = [i for i in inputs if len(i.shape) == 4]
        others = [i for i in inputs if len(i.shape) != 4]
        if len(images) != 1 or len(outputs) < 1 or len(outputs[0].shape) != 4:
            shapes = ", ".join(f"{i.name}{i.shape}" for i in inputs)
            raise ModelError(
                f"{self.path}: expected one N x 3 x H x W image input and output, got inputs {shapes}"
            )
        if len(others) > 1 or (others and len(others[0].shape) != 1):
            raise ModelError(f"{self.path}: unsupported extra inputs {[i.name for i in others]}")
        self.image_input, self.output = images[0], outputs[0]
        self.style_input = others[0] if others else None
        n, c, h, w = self.image_input.shape
        if c not in (3, "C") and isinstance(c, int) and c != 3:
            raise ModelError(f"{self.path}: the image input has {c} channels, not 3")
        self.fixed_batch = n if isinstance(n, int) else None
        self.fixed_hw = (h, w) if isinstance(h, int) and isinstance(w, int) else None
        self.io_dtype = np.float16 if "float16" in self.image_input.type else np.float32

    def _prepare(self, batch: torch.Tensor) -> tuple[torch.Tensor, tuple[int, int], bool]:
        """The model's input for ``batch``: resized or padded, channel order and range; (H, W) to
        crop back to and whether we padded."""
        c = self.contract
        h, w = batch.shape[-2:]
        x, size = batch, (h, w)
        own_pad = not c.self_padding or min(h, w) < 8  # our graphs need H, W >= 8 to reflect-pad
        if self.fixed_hw is not None:
            x = F.interpolate(x, size=self.fixed_hw, mode="bilinear", align_corners=False, antialias=True)
        elif own_pad:
            x, size = pad_to_multiple(x, 4)
        if c.bgr:
            x = x.flip(1)
        return x * c.scale, size, own_pad

    def feeds_for(self, rgb: np.ndarray) -> dict:
        """ONNX Runtime feeds for one RGB uint8 H x W x 3 frame (calibration data)."""
        x, _, _ = self._prepare(torch.from_numpy(rgb).permute(2, 0, 1)[None].float().div(255))
        if self.fixed_batch is not None:
            x = x.expand(self.fixed_batch, -1, -1, -1)
        return self._feeds(np.ascontiguousarray(x.numpy(), dtype=self.io_dtype), self.style)

    def __call__(self, batch: torch.Tensor, style: torch.Tensor | None = None) -> torch.Tensor:
        runs = style_runs(style, batch.shape[0], self.styles, str(self.path))
        if len(runs) == 1:
            return self._stylize(batch, self._row(runs[0][2]))
        return torch.cat([self._stylize(batch[a:b], self._row(row)) for a, b, row in runs])

    def _row(self, row: torch.Tensor | None) -> np.ndarray | None:
        """The style input's value for one run: ``row``, else the default (None: no style input)."""
        if self.style_input is None or row is None:
            return self.style
        return row.detach().to("cpu", torch.float32).numpy()

    def _stylize(self, batch: torch.Tensor, style: np.ndarray | None) -> torch.Tensor:
        c = self.contract
        n, _, h, w = batch.shape
        x, size, own_pad = self._prepare(batch)
        if self.fixed_batch is not None and self.fixed_batch != n:
            fixed = self.fixed_batch
            outs = [self._run_fixed(x[i : i + fixed], fixed, style) for i in range(0, n, fixed)]
            y = torch.cat(outs)[:n]
        else:
            y = self._run(x, style)
        y = (y / c.scale).clamp(0, 1)
        if c.bgr:
            y = y.flip(1)
        if self.fixed_hw is not None:
            return F.interpolate(y, size=(h, w), mode="bilinear", align_corners=False, antialias=True)
        return crop_to(y, size).contiguous() if own_pad else y

    def _run_fixed(self, x: torch.Tensor, fixed: int, style: np.ndarray | None) -> torch.Tensor:
        k = x.shape[0]
        if k < fixed:  # fill the model's fixed batch with copies of the last frame
            x = torch.cat([x, x[-1:].expand(fixed - k, -1, -1, -1)])
        return self._run(x, style)[:k]

    def _feeds(self, x_np: np.ndarray, style: np.ndarray | None) -> dict:
        feeds = {self.image_input.name: x_np}
        if self.style_input is not None and style is not None:
            feeds[self.style_input.name] = style.astype(self.io_dtype)
        return feeds

    def _run(self, x: torch.Tensor, style: np.ndarray | None) -> torch.Tensor:
        if self.device.type == "cuda" and self.provider != "CPUExecutionProvider":
            return self._run_bound(x, style)
        x_np = x.detach().cpu().numpy().astype(self.io_dtype, copy=False)
        y = self.session.run([self.output.name], self._feeds(x_np, style))[0]
        return torch.from_numpy(y.astype(np.float32, copy=False)).to(self.device)

    def _run_bound(self, x: torch.Tensor, style: np.ndarray | None) -> torch.Tensor:
        """I/O binding on CUDA tensors: no host round trip."""
        torch_dtype = torch.float16 if self.io_dtype == np.float16 else torch.float32
        x = x.to(torch_dtype).contiguous()
        y = torch.empty_like(x)
        binding = self.session.io_binding()
        dev = self.device.index or 0
        binding.bind_input(self.image_input.name, "cuda", dev, self.io_dtype, list(x.shape), x.data_ptr())
        if self.style_input is not None and style is not None:
            binding.bind_cpu_input(self.style_input.name, style.astype(self.io_dtype))
        binding.bind_output(self.output.name, "cuda", dev, self.io_dtype, list(y.shape), y.data_ptr())
        torch.cuda.current_stream(self.device).synchronize()
        self.session.run_with_iobinding(binding)
        return y.float()
