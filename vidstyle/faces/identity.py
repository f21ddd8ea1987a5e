"""128-d face descriptor network (a ResNet-34-like port of dlib's face recognition model).

Input: aligned 150 x 150 RGB chips in 0..255 (see :mod:`vidstyle.faces.align`); output: 128-d
descriptors whose Euclidean distance is below ~0.6 for the same person. Layers (docs/design.md §5):
a 7x7/2 "valid" conv with a per-channel scale, ReLU, 3x3/2 max-pool, then residual blocks with
TF-style padding, global average pooling and a 256 x 128 matrix. Weights: a float32 state dict.
"""

from __future__ import annotations

import os

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ModelError
from ..weights import load_weights

MEAN_RGB = (122.782, 117.001, 104.298)
WEIGHTS_NAME = "faceapi_recognition_net_dequantized_torch.pth"

# (block name, in channels, out channels, down-sampling)
BLOCKS = (
    ("conv32_1", 32, 32, False),
    ("conv32_2", 32, 32, False),
    ("conv32_3", 32, 32, False),
    ("conv64_down", 32, 64, True),
    ("conv64_1", 64, 64, False),
    ("conv64_2", 64, 64, False),
    ("conv64_3", 64, 64, False),
    ("conv128_down", 64, 128, True),
    ("conv128_1", 128, 128, False),
    ("conv128_2", 128, 128, False),
    ("conv256_down", 128, 256, True),
    ("conv256_1", 256, 256, False),
    ("conv256_2", 256, 256, False),
    ("conv256_down_out", 256, 256, True),
)


class ScaledConv(nn.Module):
    """conv(x) * sw + sb (a folded affine norm); 'valid' padding when strided, else 'same'."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1):
        super().__init__()
        self.stride = stride
        self.conv = nn.Conv2d(c_in, c_out, kernel, stride, padding=0 if stride > 1 else kernel // 2)
        self.sw = nn.Parameter(torch.ones(c_out))
        self.sb = nn.Parameter(torch.zeros(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x) * self.sw[:, None, None] + self.sb[:, None, None]


class ResBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, down: bool):
        super().__init__()
        self.down = down
        self.c_out = c_out
        self.conv1 = ScaledConv(c_in, c_out, 3, 2 if down else 1)
        self.conv2 = ScaledConv(c_out, c_out, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv2(F.relu(self.conv1(x)))
        if self.down:
            x = F.avg_pool2d(x, 2, 2)
            dh, dw = x.shape[-2] - out.shape[-2], x.shape[-1] - out.shape[-1]
            if dh or dw:  # pooled map is larger: pad the conv branch bottom/right with zeros
                out = F.pad(out, (0, dw, 0, dh))
            if x.shape[1] != self.c_out:  # widen the skip with zero channels
                x = F.pad(x, (0, 0, 0, 0, 0, self.c_out - x.shape[1]))
        return F.relu(out + x)


class FaceRecognitionNet(nn.Module):
    """150 x 150 RGB (0..255) chips, N x 3 x 150 x 150 -> N x 128 descriptors."""

    mean: torch.Tensor  # 1 x 3 x 1 x 1 buffer, MEAN_RGB

    def __init__(self) -> None:
        super().__init__()
        self.conv32_down = ScaledConv(3, 32, 7, 2)
        self.blocks = nn.ModuleDict({name: ResBlock(ci, co, down) for name, ci, co, down in BLOCKS})
        self.fc = nn.Parameter(torch.zeros(256, 128))
        self.register_buffer("mean", torch.tensor(MEAN_RGB).view(1, 3, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = (x - self.mean) / 255.0
        x = F.relu(self.conv32_down(x))
        x = F.max_pool2d(x, 3, 2)
        for block in self.blocks.values():
            x = block(x)
        return x.mean(dim=(2, 3)) @ self.fc


def load_identity_net(path: str | os.PathLike) -> FaceRecognitionNet:
    """The network with weights from ``path`` (a directory holding the .pth, or the file itself),
    frozen, in eval mode, on the CPU."""
    path = os.fspath(path)
    if os.path.isdir(path):
        path = os.path.join(path, WEIGHTS_NAME)
    if not os.path.isfile(path):
        raise ModelError(f"identity network weights not found: {path}")
    state = load_weights(path)
    if not isinstance(state, dict):
        raise ModelError(f"{path}: not the face descriptor network's weights (a {type(state).__name__})")
    net = FaceRecognitionNet()
    try:
        net.load_state_dict(state, strict=True)
    except (RuntimeError, AttributeError) as exc:
        first = str(exc).strip().splitlines()[0]
        raise ModelError(f"{path}: not the face descriptor network's weights ({first})") from None
    net.requires_grad_(False)
    return net.eval()
