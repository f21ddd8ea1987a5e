"""What every benchmark script records beside its numbers, and how it saves them."""

from __future__ import annotations

import json
import time
from pathlib import Path


def machine() -> dict:
    """The machine the numbers were measured on: CPU model and cores, GPU, torch, date."""
    import torch

    from vidstyle.sysinfo import cpu_count, cpu_model

    return {
        "cpu": f"{cpu_model()}, {cpu_count()} cores",
        "gpu": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
        "torch": torch.__version__,
        "date": time.strftime("%Y-%m-%d"),
    }


def save_json(path: Path | None, result: dict) -> None:
    """Write ``result`` to ``path`` (parents created); nothing when ``path`` is None."""
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(result, indent=2))
