"""The model I/O contract shared by the exporters and the backends.

Generic, whatever the network family: a vidstyle ONNX graph (and the TensorRT engine built from it)
takes ``IMAGE_INPUT`` N x 3 x H x W float RGB in [0, 1] (any H, W: it pads and crops itself) and
gives ``OUTPUT`` of the same shape in [0, 1]. The family says whether there is a ``STYLE_INPUT``
and its shape (``transformer_net``: (S,) mixing weights for multi-style models). The file's
``metadata_props[METADATA_KEY]`` is a JSON object (:func:`onnx_metadata`) saying so;
:class:`OnnxContract` is how a backend feeds a graph, ours or anyone's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelError
from ..version import __version__
from .families import DEFAULT_FAMILY, family, family_names
from .store import ModelMeta

METADATA_KEY = "vidstyle"
IMAGE_INPUT, STYLE_INPUT, OUTPUT = "input", "style_weights", "output"


def onnx_metadata(meta: ModelMeta, fp16: bool) -> dict:
    """What an export of ``meta``'s model records about itself and its tensors."""
    return {
        "model": json.loads(meta.to_json()),
        "family": meta.family,
        "style_names": meta.style_names,
        "input_range": "0-1",
        "layout": "NCHW",
        "channels": "RGB",
        "style_input": meta.network_family().style_input(meta.arch_config) is not None,
        "precision": "fp16" if fp16 else "fp32",
        "producer": f"vidstyle {__version__}",
    }


def activation_bytes_of(meta: dict | None, precision: str) -> float:
    """Peak activation bytes per pixel of one call of an exported model in ``precision``: its
    family's figure from our ``meta`` (:func:`read_onnx_metadata`), else, for a graph we know
    nothing about (or of a family this vidstyle lacks), that of the default family's ``full``."""
    model = (meta or {}).get("model") or {}
    name = model.get("family", DEFAULT_FAMILY)
    if name in family_names() and isinstance(model.get("arch_config"), dict):
        try:
            return family(name).activation_bytes_per_px(model["arch_config"], precision)
        except (TypeError, ValueError):
            pass
    default = family(DEFAULT_FAMILY)
    return default.activation_bytes_per_px(default.presets["full"], precision)


def read_onnx_metadata(path: str | Path) -> dict | None:
    """Our metadata from an ONNX file, or None for files we did not produce."""
    import onnx

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # noqa: BLE001 - protobuf raises several types on garbage
        raise ModelError(f"{path}: not a readable ONNX model ({str(exc).splitlines()[0][:160]})") from None
    props = {p.key: p.value for p in model.metadata_props}
    if METADATA_KEY not in props:
        return None
    try:
        return json.loads(props[METADATA_KEY])
    except json.JSONDecodeError:
        raise ModelError(f"{path}: malformed vidstyle metadata") from None


@dataclass
class OnnxContract:
    """How to feed a model: value range, channel order, and what the graph does itself."""

    scale: float = 1.0  # 255 for 0..255 models
    bgr: bool = False
    self_padding: bool = False  # our exports pad and crop inside the graph
    style_names: tuple[str, ...] = ()


def contract_from(meta: dict | None, input_range: str | None, bgr: bool | None) -> OnnxContract:
    """The contract of a file with our ``meta``, or of a foreign one from the user's flags."""
    if meta is not None:
        return OnnxContract(
            scale=255.0 if meta.get("input_range") == "0-255" else 1.0,
            bgr=meta.get("channels") == "BGR",
            self_padding=True,
            style_names=tuple(meta.get("style_names", ())),
        )
    if input_range is None:
        raise ModelError(
            "this ONNX file has no vidstyle metadata: say how to feed it with "
            "--input-range 0-1|0-255 (and --bgr if it takes BGR)"
        )
    return OnnxContract(scale=255.0 if input_range == "0-255" else 1.0, bgr=bool(bgr))
