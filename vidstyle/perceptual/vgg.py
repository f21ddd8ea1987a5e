"""The loss network: VGG16 conv layers up to relu4_3, frozen, ImageNet-normalised inputs.

One loader for ``train`` and ``optimize``: :func:`load_vgg` takes a local state dict
(``--vgg-weights FILE``, ours or torchvision's whole checkpoint), else torchvision's ImageNet
VGG16 weights, downloaded on first use and cached where torchvision caches (``$TORCH_HOME``).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from ..errors import ModelError
from ..optional import require
from ..weights import load_weights

# torchvision ``vgg16().features`` index of each activation we expose (relu<block>_<conv>)
LAYER_INDEX = {
    "relu1_1": 1,
    "relu1_2": 3,
    "relu2_1": 6,
    "relu2_2": 8,
    "relu3_1": 11,
    "relu3_2": 13,
    "relu3_3": 15,
    "relu4_1": 18,
    "relu4_2": 20,
    "relu4_3": 22,
}
JOHNSON_LAYERS = ("relu1_2", "relu2_2", "relu3_3", "relu4_3")  # the trainer's default set
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
TORCHVISION_FILE = "vgg16-397923af.pth"  # torchvision's IMAGENET1K_V1 checkpoint name
HOW_TO_SUPPLY = (
    "pass --vgg-weights FILE: torchvision's ImageNet VGG16 checkpoint "
    f"({TORCHVISION_FILE}, from download.pytorch.org/models/) or its features state dict"
)


# torchvision's VGG16 "D" configuration up to conv4_3: widths, "M" = 2x2 max-pool
_VGG16_UPTO_CONV4_3 = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512)


def vgg16_features() -> nn.Sequential:
    """Layers 0..22 of ``torchvision.models.vgg16().features`` (same indices, random init)."""
    layers: list[nn.Module] = []
    c_in = 3
    for v in _VGG16_UPTO_CONV4_3:
        if isinstance(v, str):  # "M"
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(c_in, v, 3, padding=1), nn.ReLU(inplace=True)]
            c_in = v
    return nn.Sequential(*layers)


class VGGFeatures(nn.Module):
    """``forward(x)`` with x N x 3 x H x W in 0..255 -> {layer name: activation} for ``layers``."""

    mean: torch.Tensor  # 1 x 3 x 1 x 1, ImageNet mean in 0..255 (a buffer)
    std: torch.Tensor  # 1 x 3 x 1 x 1, ImageNet std in 0..255 (a buffer)

    def __init__(self, layers=JOHNSON_LAYERS):
        super().__init__()
        self.features = vgg16_features()
        self.layers = {LAYER_INDEX[name]: name for name in layers}
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1) * 255, persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1) * 255, persistent=False)
        self.requires_grad_(False)
        self.eval()

    def forward(self, x: torch.Tensor, layers=None) -> dict[str, torch.Tensor]:
        """Activations of ``layers`` (default: all the instance was built for); stops early."""
        wanted = {LAYER_INDEX[n]: n for n in layers} if layers is not None else self.layers
        x = (x - self.mean.to(x.dtype)) / self.std.to(x.dtype)
        out = {}
        last = max(wanted)
        for i, layer in enumerate(self.features):
            x = layer(x)
            if i in wanted:
                out[wanted[i]] = x
            if i == last:
                break
        return out


def _features_only(state: dict) -> dict:
    """A torchvision VGG16 checkpoint (``features.N.*`` and ``classifier.*``) cut to layers 0..22;
    a features-only state dict passes through."""
    if not any(k.startswith("features.") for k in state):
        return state
    return {
        k[len("features.") :]: v
        for k, v in state.items()
        if k.startswith("features.") and int(k.split(".")[1]) < 23
    }


def _read_file(path: Path) -> dict:
    if not path.is_file():
        raise ModelError(f"VGG16 weights not found: {path}")
    state = load_weights(path)
    if not isinstance(state, dict):
        raise ModelError(f"{path}: not VGG16 weights (a {type(state).__name__}, not a state dict)")
    return state


def _torchvision_weights() -> dict:
    """torchvision's IMAGENET1K_V1 VGG16 state dict: from its cache, else downloaded (with a
    progress bar) into it. Any failure (offline, no space) becomes one line."""
    models = require(
        "torchvision.models", f"no VGG16 weights (torchvision is not installed): {HOW_TO_SUPPLY}", ModelError
    )
    weights = models.VGG16_Weights.IMAGENET1K_V1
    try:
        return weights.get_state_dict(progress=True, check_hash=True, weights_only=True, map_location="cpu")
    except Exception as exc:  # noqa: BLE001 - URLError, HTTPError, OSError, hash mismatch
        reason = str(getattr(exc, "reason", None) or exc).strip().splitlines()[0]
        raise ModelError(
            f"no VGG16 weights: downloading torchvision's ImageNet VGG16 failed ({reason}); {HOW_TO_SUPPLY}"
        ) from None


def load_vgg(weights: str | os.PathLike | None, layers=JOHNSON_LAYERS) -> VGGFeatures:
    """VGG16 features with ``weights`` (a local file), else torchvision's ImageNet weights
    (cached, downloaded on first use). Problems raise a one-line :class:`ModelError`."""
    net = VGGFeatures(layers)
    if weights:
        where = str(weights)
        state = _read_file(Path(weights))
    else:
        where = "torchvision's VGG16 weights"
        state = _torchvision_weights()
    try:
        net.features.load_state_dict(_features_only(state), strict=True)
    except (RuntimeError, AttributeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0]
        raise ModelError(f"{where}: not VGG16 features up to relu4_3 ({first})") from None
    return net
