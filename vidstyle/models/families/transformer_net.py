"""The ``transformer_net`` family: :class:`~vidstyle.models.transformer_net.TransformerNet`
(Johnson et al. 2016 with conditional instance norm), presets ``full`` and ``small``.

A style is a row of conditional-instance-norm mixing weights: (S,) for the whole batch or (N, S)
one per frame; one-hot picks a style. Multi-style exports take the (S,) row as their style input.
"""

from __future__ import annotations

from collections.abc import Mapping

from torch import nn

from ..arch import ARCH_PRESETS, ArchConfig
from ..arch import preset_name as arch_preset_name
from ..mix import parse_style_mix
from ..transformer_net import TransformerNet
from .registry import HALF_PRECISIONS, StyleList, register

# Peak activations of one call per pixel and base channel in fp32 (two-byte precisions: half):
# ONNX Runtime measured up to 1008 B/px for the full net (32 channels), torch eager 773 on the CPU
# and 960 on CUDA (benchmarks/results/memory-big-frames-*.json, tests/stylize/test_gpu.py).
ACTIVATION_BYTES_PER_CHANNEL = 32
# Measured on the 2-core EPYC: the 16-channel small net ran at 0.88x its fp32 speed in int8 (the
# quantize/dequantize and layout changes around narrow convs cost more than they save).
INT8_MIN_CHANNELS = 32


class TransformerNetFamily:
    name = "transformer_net"
    presets: Mapping[str, dict] = {name: arch.to_dict() for name, arch in ARCH_PRESETS.items()}
    size_multiple = 4  # two stride-2 convs down, two x2 upsamples back

    @staticmethod
    def config(arch: dict) -> ArchConfig:
        return ArchConfig(**arch)

    def num_styles(self, arch: dict) -> int:
        return self.config(arch).num_styles

    def build(self, arch: dict) -> nn.Module:
        return TransformerNet(self.config(arch))

    def arch_of(self, net: nn.Module) -> dict:
        if not isinstance(net, TransformerNet):
            raise TypeError(f"{type(net).__name__} is not a TransformerNet")
        return net.arch.to_dict()

    def preset_name(self, arch: dict) -> str:
        return arch_preset_name(self.config(arch))

    def style_input(self, arch: dict) -> tuple[int, ...] | None:
        styles = self.num_styles(arch)
        return (styles,) if styles > 1 else None

    def choose_style(self, meta: StyleList, index: int, mix: str = "") -> list[float] | None:
        if mix:
            return parse_style_mix(mix, meta.style_names, meta.name)
        return [1.0 if i == index else 0.0 for i in range(len(meta.style_names))]

    def activation_bytes_per_px(self, arch: dict, precision: str) -> float:
        half = 0.5 if precision in HALF_PRECISIONS else 1.0
        return ACTIVATION_BYTES_PER_CHANNEL * self.config(arch).channels * half

    def int8_refusal(self, arch: dict) -> str | None:
        if self.config(arch).channels < INT8_MIN_CHANNELS:
            return f"int8 does not pay off below {INT8_MIN_CHANNELS} channels"
        return None


FAMILY = register(TransformerNetFamily())
