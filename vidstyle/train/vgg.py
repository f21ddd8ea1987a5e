"""The loss network: VGG16 conv layers up to relu4_3, frozen, ImageNet-normalised inputs."""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from ..errors import ModelError

LAYER_INDEX = {"relu1_2": 3, "relu2_2": 8, "relu3_3": 15, "relu4_3": 22}
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
TORCHVISION_FILE = "vgg16-397923af.pth"  # torchvision's IMAGENET1K_V1 checkpoint name
SHARED_HINT = "../shared/data/vgg16/vgg16_features_relu4_3.pth"


# torchvision's VGG16 "D" configuration up to conv4_3: widths, "M" = 2x2 max-pool
_VGG16_UPTO_CONV4_3 = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512)


def vgg16_features() -> nn.Sequential:
    """Layers 0..22 of ``torchvision.models.vgg16().features`` (same indices, random init)."""
    layers: list[nn.Module] = []
    c_in = 3
    for v in _VGG16_UPTO_CONV4_3:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(c_in, v, 3, padding=1), nn.ReLU(inplace=True)]
            c_in = v
    return nn.Sequential(*layers)


class VGGFeatures(nn.Module):
    """``forward(x)`` with x N x 3 x H x W in 0..255 -> {layer name: activation} for ``layers``."""

    def __init__(self, layers=tuple(LAYER_INDEX)):
        super().__init__()
        self.features = vgg16_features()
        self.layers = {LAYER_INDEX[name]: name for name in layers}
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1) * 255,
                             persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1) * 255,
                             persistent=False)
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


def _torchvision_cache() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / TORCHVISION_FILE


def load_vgg(weights: str | os.PathLike | None, layers=tuple(LAYER_INDEX)) -> VGGFeatures:
    """VGG16 features with ``weights`` (our state dict), else torchvision's cached checkpoint.

    Never downloads: without a local file this raises a :class:`ModelError` naming what to supply.
    """
    net = VGGFeatures(layers)
    if weights:
        path = Path(weights)
        if not path.is_file():
            raise ModelError(f"VGG16 weights not found: {path}")
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # unpickling refused, truncated file, ...
            raise ModelError(f"{path}: cannot load VGG16 weights ({exc})") from None
    else:
        cached = _torchvision_cache()
        if not cached.is_file():
            raise ModelError(f"no VGG16 weights: pass --vgg-weights FILE (e.g. {SHARED_HINT}) "
                             f"or place torchvision's {TORCHVISION_FILE} in {cached.parent}")
        state = torch.load(cached, map_location="cpu", weights_only=True)
        state = {k[len("features."):]: v for k, v in state.items()
                 if k.startswith("features.") and int(k.split(".")[1]) < 23}
        path = cached
    try:
        net.features.load_state_dict(state, strict=True)
    except (RuntimeError, AttributeError) as exc:
        first = str(exc).strip().splitlines()[0]
        raise ModelError(f"{path}: not VGG16 features up to relu4_3 ({first})") from None
    return net
