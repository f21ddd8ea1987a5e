"""Import foreign TransformerNet checkpoints into our format.

Supported: the pytorch/examples ``fast_neural_style`` layout (``conv1.conv2d.weight``, ``in1``,
``res1..resN``, ``deconv1..3``, ``in4``, ``in5``), RGB in/out in 0..255. Checkpoints are read by
:func:`vidstyle.weights.load_weights` (``weights_only=True``): plain tensors only, never code.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import torch

from ..errors import ModelError
from ..weights import load_weights
from .arch import ArchConfig, preset_name
from .store import ModelMeta
from .transformer_net import TransformerNet

_STATIC = {
    "conv1.conv2d": "down.0.conv.conv",
    "in1": "down.0.norm",
    "conv2.conv2d": "down.1.conv.conv",
    "in2": "down.1.norm",
    "conv3.conv2d": "down.2.conv.conv",
    "in3": "down.2.norm",
    "deconv1.conv2d": "up.0.conv.conv",
    "in4": "up.0.norm",
    "deconv2.conv2d": "up.1.conv.conv",
    "in5": "up.1.norm",
    "deconv3.conv2d": "out.conv",
}
_RES = re.compile(r"res(\d+)\.(conv1\.conv2d|in1|conv2\.conv2d|in2)\.(weight|bias)$")
_RES_MAP = {"conv1.conv2d": "conv1.conv", "in1": "norm1", "conv2.conv2d": "conv2.conv", "in2": "norm2"}


def read_torch_checkpoint(path: Path) -> dict[str, torch.Tensor]:
    """A state dict of tensors from ``path``; refuses pickled code (weights_only=True)."""
    if not path.is_file():
        raise ModelError(f"checkpoint not found: {path}")
    obj = load_weights(path)
    for key in ("state_dict", "model", "net"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise ModelError(f"{path}: expected a state dict of tensors")
    return obj


def convert_pytorch_examples(state: dict[str, torch.Tensor], where: str) -> tuple[TransformerNet, ArchConfig]:
    """Map a pytorch/examples TransformerNet state dict onto our :class:`TransformerNet`."""
    state = {
        k.removeprefix("module."): v
        for k, v in state.items()
        if not re.search(r"running_(mean|var)$|num_batches_tracked$", k)
    }
    if "conv1.conv2d.weight" not in state:
        raise ModelError(
            f"{where}: not a pytorch/examples TransformerNet checkpoint "
            f"(no conv1.conv2d.weight; keys: {', '.join(list(state)[:4])}…)"
        )
    channels = state["conv1.conv2d.weight"].shape[0]
    blocks = sorted({int(m.group(1)) for k in state if (m := _RES.match(k))})
    if not blocks or blocks != list(range(1, len(blocks) + 1)):
        raise ModelError(f"{where}: residual blocks are not numbered res1..resN")
    arch = ArchConfig(channels=channels, res_blocks=len(blocks), num_styles=1)
    mapped: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        prefix, _, leaf = key.rpartition(".")
        if prefix in _STATIC:
            target = f"{_STATIC[prefix]}.{leaf}"
        elif m := _RES.match(key):
            target = f"res.{int(m.group(1)) - 1}.{_RES_MAP[m.group(2)]}.{m.group(3)}"
        else:
            raise ModelError(f"{where}: unexpected key {key!r} for a pytorch/examples TransformerNet")
        if target.rsplit(".", 2)[-2].startswith("norm"):
            value = value.reshape(1, -1)  # one affine row per style
        mapped[target] = value.float()
    net = TransformerNet(arch)
    try:
        net.load_state_dict(mapped, strict=True)
    except RuntimeError as exc:
        raise ModelError(
            f"{where}: shapes do not match a TransformerNet ({str(exc).strip().splitlines()[-1].strip()})"
        ) from None
    return net.eval(), arch


def import_checkpoint(
    path: Path, name: str, style_image: str = "", licence: str = "", description: str = ""
) -> tuple[TransformerNet, ModelMeta]:
    state = read_torch_checkpoint(path)
    net, arch = convert_pytorch_examples(state, str(path))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    meta = ModelMeta(
        name=name,
        arch=preset_name(arch),
        arch_config=arch.to_dict(),
        styles=[{"name": name, "style_image": style_image}],
        input_range=255.0,
        description=description or f"imported from {path.name}",
        licence=licence,
        recipe={
            "imported_from": path.name,
            "sha256": digest,
            "source_format": "pytorch/examples fast_neural_style",
        },
    )
    return net, meta
