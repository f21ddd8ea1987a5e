"""The loss history of a run: one record per ``run.log_every`` steps, averaged over that window."""

from __future__ import annotations

import numpy as np

TERMS = ("total", "content", "style", "tv", "face", "identity", "temporal")  # in display order


def record(window: list[dict[str, float]], seconds: float, step: int) -> dict[str, float]:
    """One history record: ``step`` (the step count after the window), ``it_s`` (steps per second
    over ``seconds``) and the mean of each loss term over the ``window`` of per-step terms."""
    keys = {k for w in window for k in w}
    rec = {"step": step, "it_s": len(window) / max(seconds, 1e-9)}
    for k in sorted(keys):
        vals = [w[k] for w in window if k in w]
        rec[k] = sum(vals) / len(vals)
    return rec


def postfix(rec: dict[str, float]) -> str:
    """The record's terms as ``total=1.2e+06 content=...`` (3 significant digits)."""
    return " ".join(f"{k}={rec[k]:.3g}" for k in TERMS if k in rec)


def final_losses(history: list[dict], last: int = 5) -> dict[str, float]:
    """Each loss term averaged over the ``last`` records (the model file's ``final_losses``)."""
    recs = history[-last:]
    keys = [k for k in (recs[-1] if recs else {}) if k not in ("step", "it_s")]
    return {k: float(np.mean([r[k] for r in recs if k in r])) for k in keys}
