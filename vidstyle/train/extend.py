"""Add styles to a trained multi-style network without changing the styles it holds.

Conditional instance norm keeps everything a style owns in one (gamma, beta) row per norm layer;
Dumoulin et al. 2017 (sec. 4) add a new painting by training only its rows while the convolutions
stay fixed. Here the base model's convolutions and rows are frozen (their gradients are zeroed, so
Adam never moves them), one new row per new style starts from the mean of the base rows, and only
those rows learn. The base styles' outputs stay bit-identical; the new styles need no retraining
of the whole catalog.

When a new style needs more than its rows can give, ``paths.init`` warm-starts instead: the base
weights only initialise the network and everything trains on all the styles listed.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..errors import InputError, ModelError
from ..models.store import ModelMeta, load_model
from ..models.transformer_net import CondInstanceNorm, TransformerNet


def resolve_base(path: Path, spec: str, use: str = "extend") -> Path:
    """``path`` (``spec`` resolved against the recipe's root) when it is a file, else ``spec`` as
    a catalog name (``paintings-small``, or one of its styles): the file that holds it. ``use``
    names the option in the error (extend, start from)."""
    if path.is_file():
        return path
    from ..models.catalog import list_styles, resolve_style

    for entry in list_styles():
        if entry.meta.name == spec:
            return entry.model_path
    try:
        return resolve_style(spec).model_path
    except ModelError as exc:
        raise InputError(f"cannot {use} {spec}: {exc}") from None


def check_new_styles(base: Path, meta: ModelMeta, new_styles: list[str]) -> None:
    """InputError when ``base`` (metadata ``meta``) already holds one of ``new_styles``."""
    clash = sorted(set(new_styles) & set(meta.style_names))
    if clash:
        raise InputError(f"{base} already holds style(s) {', '.join(clash)}: rename the image")


def train_only_new_rows(net: TransformerNet, n_base: int) -> list[torch.nn.Parameter]:
    """Freeze ``net`` except the CIN rows from ``n_base`` on; returns the parameters to optimise.
    The base rows share a tensor with the new ones, so their gradient is zeroed by a hook."""
    net.requires_grad_(False)
    params = []
    for module in net.modules():
        if isinstance(module, CondInstanceNorm):
            for p in (module.weight, module.bias):
                p.requires_grad_(True)
                p.register_hook(lambda g: torch.cat([torch.zeros_like(g[:n_base]), g[n_base:]]))
                params.append(p)
    return params


def net_for_styles(base: Path, style_names: list[str]) -> tuple[TransformerNet, ModelMeta]:
    """``base``'s network (and metadata) with one CIN row per name in ``style_names`` (float32,
    CPU): a row ``base`` holds under that name is copied, any other starts from the mean of its
    rows (a neutral start); the convolutions are copied as they are. Extending lists the base's
    styles then the new ones; a warm start (``paths.init``) lists the styles to train."""
    net, meta = load_model(base)
    arch = meta.arch_obj()
    grown = TransformerNet(type(arch)(**{**arch.to_dict(), "num_styles": len(style_names)}))
    index = {n: i for i, n in enumerate(meta.style_names)}
    state = net.state_dict()
    for name, module in net.named_modules():
        if isinstance(module, CondInstanceNorm):
            for key in ("weight", "bias"):
                rows = state[f"{name}.{key}"]
                mean = rows.mean(0)
                state[f"{name}.{key}"] = torch.stack(
                    [rows[index[s]] if s in index else mean for s in style_names]
                )
    grown.load_state_dict(state, strict=True)
    return grown, meta
