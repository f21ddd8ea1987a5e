"""What the trained model file says about itself: names, description, and the recipe (config,
steps, final losses, speed, machine, and the models it grew from)."""

from __future__ import annotations

import platform

import torch

from ..configtools import to_dict
from ..models.store import ModelMeta
from ..sysinfo import cpu_model
from .config import TrainConfig
from .history import final_losses
from .network import Start
from .targets import Styles


def machine_info(device: torch.device) -> dict:
    """The device (GPU name or ``CPU <model>``), CPU, torch threads and version, platform."""
    cpu = cpu_model()
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU {cpu}"
    return {
        "device": name,
        "cpu": cpu,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "platform": platform.platform(terse=True),
    }


def model_meta(
    cfg: TrainConfig,
    default_name: str,
    styles: Styles,
    start: Start,
    init_meta: ModelMeta | None,
    *,
    steps: int,
    history: list[dict],
    train_seconds: float,
    skipped: int,
    device: torch.device,
) -> ModelMeta:
    """The metadata of the model a run saves. An extended model keeps its styles first (with its
    licence unless ``model.licence`` is set); ``recipe["extends"]`` / ``recipe["init"]`` keep the
    recipe of the model the run grew from, so the card can tell the whole history."""
    it_s = steps / train_seconds if train_seconds else 0.0
    base = start.base
    arch = base.arch if base else init_meta.arch if init_meta else cfg.model.arch
    entries = [{"name": n, "style_image": p.name} for n, p in zip(styles.names, styles.paths)]
    recipe = {
        "config": to_dict(cfg),
        "steps": steps,
        "final_losses": final_losses(history),
        "it_per_s": round(it_s, 4),
        "train_seconds": round(train_seconds, 1),
        "image_size": cfg.data.image_size,
        "batch": cfg.optim.batch,
        "machine": machine_info(device),
        "skipped_content_images": skipped,
    }
    if base:
        recipe["extends"] = {"model": base.name, "styles": base.style_names, "recipe": base.recipe}
    if init_meta:
        recipe["init"] = {
            "model": init_meta.name,
            "styles": init_meta.style_names,
            "recipe": init_meta.recipe,
        }
    all_names = (base.style_names if base else []) + styles.names
    return ModelMeta(
        name=cfg.model.name or default_name,
        arch=arch,
        styles=(base.styles if base else []) + entries,
        description=cfg.model.description or f"{', '.join(all_names)} ({arch}), trained with vidstyle train",
        licence=cfg.model.licence or (base.licence if base else ""),
        recipe=recipe,
    )
