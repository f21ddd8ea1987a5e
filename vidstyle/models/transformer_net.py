"""Feed-forward style network (Johnson et al. 2016) with conditional instance norm (Dumoulin 2017).

Layout (channels for the ``full`` preset; ``small`` halves them and keeps 3 residual blocks)::

    9x9 s1 ->32, 3x3 s2 ->64, 3x3 s2 ->128          reflection pad, IN, ReLU
    R x residual(3x3 128, IN, ReLU, 3x3 128, IN) + skip
    nearest x2, 3x3 ->64;  nearest x2, 3x3 ->32      reflection pad, IN, ReLU
    9x9 ->3                                          no norm, no activation

Every instance norm is conditional: it holds one (gamma, beta) row per style, and a forward pass
takes a style-weight matrix ``style_w`` (N x S) that mixes the rows. A single-style network is the
S = 1 case. Inputs and outputs are RGB in the range the model's metadata states (0..255 for ours);
H and W must be multiples of 4 (see :func:`vidstyle.stylize.base.pad_to_multiple`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .arch import ARCH_PRESETS, ArchConfig

__all__ = ["ARCH_PRESETS", "ArchConfig", "TransformerNet", "flops_per_pixel"]


def is_channels_last(x: torch.Tensor) -> bool:
    """N x C x H x W stored channels-last (NHWC) and not also plain contiguous (C or H x W of 1)."""
    return x.dim() == 4 and not x.is_contiguous() and x.is_contiguous(memory_format=torch.channels_last)


def instance_norm_nhwc(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, eps: float) -> torch.Tensor:
    """Instance norm of N x C x H x W that keeps channels-last layout; weight, bias (C,).

    ``F.instance_norm`` runs as a batch norm over a contiguous (1, N*C, H, W) view, so a
    channels-last input is copied to NCHW and the next convolution copies it back, twice per
    layer. Statistics over H x W (biased variance, as instance norm's) accumulate in fp32 without
    materialising a squared tensor, so fp16 activations with a spread over 256 do not overflow.
    """
    mean = x.mean(dim=(2, 3), keepdim=True, dtype=torch.float32)
    centred = x - mean.to(x.dtype)
    rms = torch.linalg.vector_norm(centred, 2, dim=(2, 3), keepdim=True, dtype=torch.float32)
    var = rms.square_() / (x.shape[2] * x.shape[3])
    scale = torch.rsqrt(var + eps) * weight.float().view(1, -1, 1, 1)
    return torch.addcmul(bias.view(1, -1, 1, 1).to(x.dtype), centred, scale.to(x.dtype))


class CondInstanceNorm(nn.Module):
    """Instance norm with one affine (gamma, beta) pair per style: z = (x - mu)/sigma * g_s + b_s.

    ``style_w`` mixes the pairs, g = style_w @ weight: either one mix for the whole batch (S,),
    folded into a single fused instance norm (the inference and export path), or one mix per
    sample (N x S, training with several styles in a batch).
    """

    def __init__(self, channels: int, num_styles: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(num_styles, channels))
        self.bias = nn.Parameter(torch.zeros(num_styles, channels))

    def forward(self, x: torch.Tensor, style_w: torch.Tensor) -> torch.Tensor:
        if style_w.dim() == 1:
            if is_channels_last(x):
                return instance_norm_nhwc(x, style_w @ self.weight, style_w @ self.bias, self.eps)
            return F.instance_norm(x, weight=style_w @ self.weight, bias=style_w @ self.bias, eps=self.eps)
        normed = F.instance_norm(x, eps=self.eps)
        gamma = (style_w @ self.weight)[:, :, None, None]
        beta = (style_w @ self.bias)[:, :, None, None]
        return normed * gamma + beta


class ConvLayer(nn.Module):
    """Reflection padding (k // 2) then a convolution: keeps H x W at stride 1."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1):
        super().__init__()
        self.pad = kernel // 2
        self.conv = nn.Conv2d(c_in, c_out, kernel, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.pad(x, (self.pad,) * 4, mode="reflect"))


class ConvNormReLU(nn.Module):
    """ConvLayer -> CondInstanceNorm -> ReLU, with an optional nearest x2 upsample in front."""

    def __init__(
        self, c_in: int, c_out: int, kernel: int, stride: int, num_styles: int, upsample: bool = False
    ):
        super().__init__()
        self.upsample = upsample
        self.conv = ConvLayer(c_in, c_out, kernel, stride)
        self.norm = CondInstanceNorm(c_out, num_styles)

    def forward(self, x: torch.Tensor, style_w: torch.Tensor) -> torch.Tensor:
        if self.upsample:
            x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        return F.relu(self.norm(self.conv(x), style_w))


class ResidualBlock(nn.Module):
    """x + IN(conv(ReLU(IN(conv(x))))), widths unchanged (He et al. 2016 as used by Johnson)."""

    def __init__(self, channels: int, num_styles: int):
        super().__init__()
        self.conv1 = ConvLayer(channels, channels, 3)
        self.norm1 = CondInstanceNorm(channels, num_styles)
        self.conv2 = ConvLayer(channels, channels, 3)
        self.norm2 = CondInstanceNorm(channels, num_styles)

    def forward(self, x: torch.Tensor, style_w: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.norm1(self.conv1(x), style_w))
        return x + self.norm2(self.conv2(y), style_w)


class TransformerNet(nn.Module):
    """Image -> stylized image, N x 3 x H x W -> N x 3 x H x W (H, W multiples of 4)."""

    def __init__(self, arch: ArchConfig = ARCH_PRESETS["full"]):
        super().__init__()
        self.arch = arch
        c, s = arch.channels, arch.num_styles
        self.down = nn.ModuleList(
            [
                ConvNormReLU(3, c, 9, 1, s),
                ConvNormReLU(c, 2 * c, 3, 2, s),
                ConvNormReLU(2 * c, 4 * c, 3, 2, s),
            ]
        )
        self.res = nn.ModuleList([ResidualBlock(4 * c, s) for _ in range(arch.res_blocks)])
        self.up = nn.ModuleList(
            [
                ConvNormReLU(4 * c, 2 * c, 3, 1, s, upsample=True),
                ConvNormReLU(2 * c, c, 3, 1, s, upsample=True),
            ]
        )
        self.out = ConvLayer(c, 3, 9)

    @property
    def num_styles(self) -> int:
        return self.arch.num_styles

    def style_weights(self, style_w: torch.Tensor | None, like: torch.Tensor) -> torch.Tensor:
        """``style_w`` (S,) or (N x S) on ``like``'s device and dtype; None means style 0 only."""
        if style_w is None:
            style_w = torch.zeros(self.num_styles, dtype=like.dtype, device=like.device)
            style_w[0] = 1
        return style_w.to(dtype=like.dtype, device=like.device)

    def forward(self, x: torch.Tensor, style_w: torch.Tensor | None = None) -> torch.Tensor:
        """``style_w``: (S,) one mix for the batch, (N x S) one per sample, or None (style 0)."""
        w = self.style_weights(style_w, x)
        for layer in self.down:
            x = layer(x, w)
        for block in self.res:
            x = block(x, w)
        for layer in self.up:
            x = layer(x, w)
        return self.out(x)


def flops_per_pixel(arch: ArchConfig) -> float:
    """Multiply-accumulates x 2 per input pixel of the conv layers (norms and adds ignored)."""
    c = arch.channels
    # (c_in, c_out, kernel, output pixels per input pixel)
    convs = [(3, c, 9, 1.0), (c, 2 * c, 3, 1 / 4), (2 * c, 4 * c, 3, 1 / 16)]
    convs += [(4 * c, 4 * c, 3, 1 / 16)] * (2 * arch.res_blocks)
    convs += [(4 * c, 2 * c, 3, 1 / 4), (2 * c, c, 3, 1.0), (c, 3, 9, 1.0)]
    return sum(2.0 * ci * co * k * k * share for ci, co, k, share in convs)
