"""The learning-rate schedule as a pure function of the step."""

from __future__ import annotations

import math

from .config import OptimConfig


def lr_at(step: int, optim: OptimConfig) -> float:
    """Adam's learning rate for 0-based ``step``: ``optim.lr``, ramped linearly over the first
    ``optim.warmup`` steps (step k gets (k + 1) / warmup of it), then times the cosine
    0.5 (1 + cos(pi min(step, steps) / steps)) when ``optim.schedule`` is ``cosine``."""
    lr = optim.lr
    if optim.warmup and step < optim.warmup:
        lr *= (step + 1) / optim.warmup
    if optim.schedule == "cosine":
        lr *= 0.5 * (1 + math.cos(math.pi * min(step, optim.steps) / optim.steps))
    return lr
