"""Parity of an exported model against torch on textured images at odd sizes and batch sizes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..errors import ModelError
from ..io.synth import textured

SIZES = ((250, 314), (360, 640), (37, 45))
BATCHES = (1, 2)
# (max abs error, min PSNR dB) in the [0, 1] range
LIMITS = {"fp32": (2e-3, 55.0), "fp16": (0.08, 36.0)}


def psnr(a: np.ndarray, b: np.ndarray, peak: float = 1.0) -> float:
    """PSNR in dB of two images with values in [0, ``peak``] (1 for float, 255 for uint8)."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else float(10 * np.log10(peak**2 / mse))


@dataclass
class ParityRow:
    batch: int
    height: int
    width: int
    max_abs: float
    psnr_db: float

    def ok(self, limits: tuple[float, float]) -> bool:
        return self.max_abs <= limits[0] and self.psnr_db >= limits[1]


def parity_check(
    reference, candidate, precision: str = "fp32", sizes=SIZES, batches=BATCHES, raise_on_fail: bool = True
) -> list[ParityRow]:
    """Run both stylizers on the same inputs; raise ModelError when a case is over the limits."""
    rows = []
    for h, w in sizes:
        for n in batches:
            x = torch.from_numpy(np.stack([textured(h, w, seed=s) for s in range(n)]))
            x = x.permute(0, 3, 1, 2).float().div(255).to(reference.device)
            with torch.inference_mode():
                want = reference(x).float().cpu().numpy()
                got = candidate(x.to(candidate.device)).float().cpu().numpy()
            if got.shape != want.shape:
                raise ModelError(f"parity: output shape {got.shape} != torch's {want.shape} at {w}x{h}")
            rows.append(ParityRow(n, h, w, float(np.abs(got - want).max()), psnr(got, want)))
    limits = LIMITS[precision]
    bad = [r for r in rows if not r.ok(limits)]
    if bad and raise_on_fail:
        worst = max(bad, key=lambda r: r.max_abs)
        raise ModelError(
            f"parity check failed: {worst.width}x{worst.height} batch {worst.batch}: "
            f"max abs error {worst.max_abs:.4g}, PSNR {worst.psnr_db:.1f} dB "
            f"(limits {limits[0]:g}, {limits[1]:g} dB)"
        )
    return rows
