"""Training checkpoints: one safetensors file with the network, the Adam state and the RNG states.

Tensors: ``net.<key>`` (fp32), ``optim.<param index>.<state key>``, ``rng.torch``,
``rng.cuda.<i>``. The header's ``vidstyle-checkpoint`` metadata (JSON) holds the step, the
effective config, the optimizer's param groups and scalar state, the loss history and counters.
Nothing is unpickled when loading.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from ..errors import InputError, ModelError
from ..models.store import read_header

META_KEY = "vidstyle-checkpoint"


def save_checkpoint(
    path: Path,
    net: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    info: dict,
    scaler_state: dict | None = None,
) -> Path:
    """Write atomically; ``info`` (JSON-able) must hold at least ``step``."""
    tensors = {f"net.{k}": v.detach().float().cpu().contiguous() for k, v in net.state_dict().items()}
    opt = optimizer.state_dict()
    scalars: dict[str, dict] = {}
    for idx, state in opt["state"].items():
        for name, value in state.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optim.{idx}.{name}"] = value.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(idx), {})[name] = value
    tensors["rng.torch"] = torch.get_rng_state()
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for i, state in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng.cuda.{i}"] = state
    meta = {**info, "param_groups": opt["param_groups"], "optim_scalars": scalars, "scaler": scaler_state}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    save_file(tensors, str(tmp), metadata={META_KEY: json.dumps(meta)})
    os.replace(tmp, path)
    return path


def read_checkpoint_info(path: Path) -> dict:
    try:
        header = read_header(path)
    except ModelError as exc:
        raise InputError(f"cannot resume: {exc}") from None
    text = (header.get("__metadata__") or {}).get(META_KEY)
    if text is None:
        raise InputError(f"cannot resume: {path} is not a vidstyle training checkpoint")
    return json.loads(text)


def load_checkpoint(
    path: Path, net: torch.nn.Module, optimizer: torch.optim.Optimizer, device: torch.device
) -> dict:
    """Restore ``net``, ``optimizer`` and the RNG states in place; returns the info dict."""
    info = read_checkpoint_info(path)
    tensors = load_file(str(path))
    net_state = {k[4:]: v for k, v in tensors.items() if k.startswith("net.")}
    try:
        net.load_state_dict(net_state, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise InputError(
            f"cannot resume from {path}: the network differs from the configured one "
            f"(arch or number of styles; {first})"
        ) from None
    state: dict[int, dict] = {}
    for key, value in tensors.items():
        if key.startswith("optim."):
            _, idx, name = key.split(".", 2)
            state.setdefault(int(idx), {})[name] = value.to(device) if name != "step" else value
    for idx, scalars in info.get("optim_scalars", {}).items():
        state.setdefault(int(idx), {}).update(scalars)
    optimizer.load_state_dict({"state": state, "param_groups": info["param_groups"]})
    torch.set_rng_state(tensors["rng.torch"])
    cuda_states = [tensors[k] for k in sorted(t for t in tensors if t.startswith("rng.cuda."))]
    if cuda_states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda_states[: torch.cuda.device_count()])
    return info
