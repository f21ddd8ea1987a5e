"""The network a run trains, built one of three ways.

* fresh: a new :class:`TransformerNet` of ``model.arch`` with one norm row per style, seeded by
  ``run.seed``;
* ``paths.init`` (warm start): a trained model's weights, rows matched to the styles by name,
  everything trains;
* ``paths.extend``: a trained model plus one row per new style; only the new rows train
  (:mod:`vidstyle.train.extend`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import torch

from ..log import log
from ..models.arch import ARCH_PRESETS
from ..models.store import ModelMeta, read_meta
from ..models.transformer_net import TransformerNet
from .config import TrainConfig
from .extend import check_new_styles, net_for_styles, resolve_base, train_only_new_rows


@dataclass(frozen=True)
class Start:
    """Where the weights come from: ``init`` or ``extend`` name a model file (``path``); for
    ``extend`` its metadata (``base``) is read up-front, to refuse a clash of style names before
    the slow face detection. Neither: a fresh network."""

    init: Path | None = None
    extend: Path | None = None
    base: ModelMeta | None = None

    def __post_init__(self) -> None:
        if (self.extend is None) != (self.base is None) or (self.init and self.extend):
            raise ValueError("Start: extend needs its base metadata, and excludes init")

    @property
    def style_offset(self) -> int:
        """Norm row of the first style trained here (the extended model's rows come first)."""
        return len(self.base.styles) if self.base else 0


def resolve_start(cfg: TrainConfig, style_names: list[str]) -> Start:
    """``paths.init`` / ``paths.extend`` (files or catalog names) resolved and checked;
    InputError names what cannot be found or which style the extended model already holds."""
    if cfg.paths.extend:
        path = resolve_base(cfg.resolve(cfg.paths.extend), cfg.paths.extend)
        base = read_meta(path)
        check_new_styles(path, base, style_names)
        return Start(extend=path, base=base)
    if cfg.paths.init:
        return Start(init=resolve_base(cfg.resolve(cfg.paths.init), cfg.paths.init, "start from"))
    return Start()


@dataclass
class Network:
    """A built network on its device: ``trainable`` are the parameters Adam gets; ``init_meta`` the
    metadata of the model a warm start came from (None otherwise)."""

    net: TransformerNet
    trainable: list[torch.nn.Parameter]
    init_meta: ModelMeta | None = None


def build_network(
    start: Start, arch: str, style_names: list[str], seed: int, device: torch.device
) -> Network:
    """The network for ``style_names`` from ``start``; a fresh one is the preset ``arch``. The
    global torch RNG is seeded with ``seed`` first, so the fresh weights (and nothing else drawn
    here) follow the seed."""
    torch.manual_seed(seed)
    if start.extend is not None and start.base is not None:
        net, _ = net_for_styles(start.extend, start.base.style_names + style_names)
        net = net.to(device)
        trainable = train_only_new_rows(net, start.style_offset)
        log.info(
            f"extending {start.extend} ({', '.join(start.base.style_names)}): only the "
            f"new styles' norm rows train"
        )
        return Network(net, trainable)
    if start.init is not None:
        net, init_meta = net_for_styles(start.init, style_names)
        net = net.to(device)
        kept = [n for n in style_names if n in init_meta.style_names]
        log.info(
            f"starting from {start.init} ({init_meta.arch}; rows kept for "
            f"{', '.join(kept) or 'no style'}): every weight trains"
        )
        return Network(net, list(net.parameters()), init_meta)
    preset = dataclasses.replace(ARCH_PRESETS[arch], num_styles=len(style_names))
    net = TransformerNet(preset).to(device)
    return Network(net, list(net.parameters()))
