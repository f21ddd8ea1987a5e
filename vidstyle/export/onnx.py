"""ONNX export of our style models, with metadata, checking and a parity test against torch.

The exported graph is self-contained for deployment: input ``input`` N x 3 x H x W float RGB in
[0, 1] (any H, W >= 8; dynamic batch/height/width by default), output ``output`` of the same
shape in [0, 1]. Padding to the family's size multiple (reflect), the scaling to the model's
input range, clamping and cropping back all happen inside the graph. Where the network family
has a style input (``transformer_net``: multi-style models), the graph takes a second input
``style_weights`` of the family's shape ((S,) mixing weights; one-hot picks a style).

The file's ``metadata_props`` carry ``vidstyle`` = JSON of the model metadata plus the tensor
contract (``family``, ``input_range`` "0-1", ``layout`` "NCHW", ``channels`` "RGB",
``style_input``).
"""

from __future__ import annotations

import contextlib
import io
import json
import warnings
from dataclasses import replace
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError, ModelError
from ..models.contract import IMAGE_INPUT, METADATA_KEY, OUTPUT, STYLE_INPUT, onnx_metadata
from ..models.store import ModelMeta
from ..version import __version__

MIN_OPSET = 17  # the oldest opset the exported graph (reflect pad, instance norm) runs on


class ExportModule(nn.Module):
    """[0, 1] RGB in, [0, 1] RGB out, any size: what the ONNX file computes.

    ``net`` takes its input range times ``scale`` with H, W multiples of ``multiple``."""

    def __init__(self, net: nn.Module, scale: float, fp16: bool = False, multiple: int = 4):
        super().__init__()
        self.net = net.half() if fp16 else net
        self.scale = scale
        self.fp16 = fp16
        self.multiple = multiple

    def forward(self, x: torch.Tensor, style_w: torch.Tensor | None = None) -> torch.Tensor:
        h, w, m = x.shape[-2], x.shape[-1], self.multiple
        y = F.pad(x, (0, (m - w % m) % m, 0, (m - h % m) % m), mode="reflect") * self.scale
        if self.fp16:
            y = y.half()
            style_w = style_w.half() if style_w is not None else None
        y = self.net(y, style_w).float()
        return (y / self.scale).clamp(0.0, 1.0)[..., :h, :w]


def export_onnx(
    net: nn.Module,
    meta: ModelMeta,
    path: str | Path,
    *,
    opset: int = 18,
    dynamic: bool = True,
    height: int = 720,
    width: int = 1280,
    batch: int = 1,
    fp16: bool = False,
) -> Path:
    """Write ``net`` (a network of ``meta.family``) as ONNX to ``path``; check it with
    ``onnx.checker``; return the path.

    ``dynamic``: batch, height and width are free (``batch``/``height``/``width`` only shape
    the example); otherwise they are fixed to those values.
    """
    import onnx

    if opset < MIN_OPSET:
        raise ConfigError(f"opset {opset} is too old: vidstyle exports need opset >= {MIN_OPSET}")
    path = Path(path)
    fam = meta.network_family()
    meta = replace(meta, arch_config=fam.arch_of(net))  # the record says what the graph is
    module = ExportModule(net.eval().float(), float(meta.input_range), fp16, fam.size_multiple).eval()
    x = torch.rand(batch, 3, max(height, 8), max(width, 8))
    style_shape = fam.style_input(meta.arch_config)  # the example style: a uniform mix
    multi = style_shape is not None
    args: tuple = (x, torch.full(style_shape, 1.0 / style_shape[-1])) if style_shape is not None else (x,)
    names = [IMAGE_INPUT] + ([STYLE_INPUT] if multi else [])
    dynamic_shapes = None
    if dynamic:
        dims = {
            0: torch.export.Dim("batch", min=1, max=256),
            2: torch.export.Dim("height", min=8, max=16384),
            3: torch.export.Dim("width", min=8, max=16384),
        }
        dynamic_shapes = {"x": dims, "style_w": None} if multi else {"x": dims}
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")  # the exporter narrates its steps on stdout
        program = torch.onnx.export(
            module,
            args,
            dynamo=True,
            input_names=names,
            output_names=[OUTPUT],
            dynamic_shapes=dynamic_shapes,
            opset_version=opset,
            verbose=False,
        )
    if program is None:  # only when asked to write the file itself, which we do not
        raise ModelError("the ONNX exporter returned no program")
    model = program.model_proto
    _name_output_dims(model)
    entry = model.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, json.dumps(onnx_metadata(meta, fp16))
    model.producer_name, model.producer_version = "vidstyle", __version__
    model.doc_string = f"vidstyle style model {meta.name!r} ({', '.join(meta.style_names)})"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        onnx.save(model, str(tmp))
    except OSError:
        tmp.unlink(missing_ok=True)
        raise
    try:
        onnx.checker.check_model(str(tmp), full_check=True)
    except onnx.checker.ValidationError as exc:
        tmp.unlink(missing_ok=True)
        raise ModelError(f"exported ONNX failed onnx.checker: {str(exc).splitlines()[0]}") from None
    tmp.replace(path)
    return path


def _name_output_dims(model) -> None:
    """The output has the input's shape: give its dims the input's names instead of formulas."""
    inp = next(i for i in model.graph.input if i.name == IMAGE_INPUT)
    for out in model.graph.output:
        for d_in, d_out in zip(inp.type.tensor_type.shape.dim, out.type.tensor_type.shape.dim):
            d_out.CopyFrom(d_in)
