"""TransformerNet shapes: the architecture record and the named presets (no torch needed)."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class ArchConfig:
    """Shape of a TransformerNet: base width ``channels`` (c, 2c, 4c), residual block count."""

    channels: int = 32
    res_blocks: int = 5
    num_styles: int = 1

    def to_dict(self) -> dict:
        return asdict(self)


ARCH_PRESETS: dict[str, ArchConfig] = {
    "full": ArchConfig(channels=32, res_blocks=5),
    "small": ArchConfig(channels=16, res_blocks=3),
}


def preset_name(arch: ArchConfig) -> str:
    """The preset with ``arch``'s width and depth, or "custom"."""
    return next(
        (
            name
            for name, p in ARCH_PRESETS.items()
            if (p.channels, p.res_blocks) == (arch.channels, arch.res_blocks)
        ),
        "custom",
    )
