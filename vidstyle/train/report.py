"""Run-directory pictures: the sample grid and the loss curve."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .history import TERMS


def sample_grid(columns: list[torch.Tensor], path: Path, gap: int = 4) -> Path:
    """Columns of N x 3 x H x W images (0..255): content | style 1 | style 2 ... as one PNG."""
    n, _, h, w = columns[0].shape
    grid = np.full((n * h + (n - 1) * gap, len(columns) * w + (len(columns) - 1) * gap, 3), 255, np.uint8)
    for c, col in enumerate(columns):
        for r in range(n):
            img = col[r].clamp(0, 255).round().byte().permute(1, 2, 0).numpy()
            grid[r * (h + gap) : r * (h + gap) + h, c * (w + gap) : c * (w + gap) + w] = img
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    Image.fromarray(grid).save(tmp)
    os.replace(tmp, path)
    return path


def loss_curve(history: list[dict], path: Path) -> Path:
    """Weighted loss terms against the step, log scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = [k for k in TERMS if any(k in r for r in history)]
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
    for k in keys:
        pts = [(r["step"], r[k]) for r in history if k in r and r[k] > 0]
        if pts:
            xs, ys = zip(*pts)
            ax.plot(xs, ys, label=k, linewidth=1.8 if k == "total" else 1.0)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("weighted loss")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp)
    plt.close(fig)
    os.replace(tmp, path)
    return path
