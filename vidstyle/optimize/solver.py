"""Minimise an :class:`~vidstyle.optimize.objective.Objective` over the pixels of one image.

L-BFGS as the reference runs it (history 100, step 1, no line search), or Adam. One optimizer per
image (batching frames would couple their line searches). ``on_iter(i, terms)`` is called after
every iteration with the loss terms as floats (progress bars, tests); early stop when the total
changed by less than ``tol`` (relative) over ``tol_every`` iterations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from ..config import OptimizeConfig
from ..errors import VidstyleError


@dataclass
class SolveResult:
    image: torch.Tensor  # 1 x 3 x H x W, 0..255 (clamped)
    iterations: int
    terms: dict[str, float] = field(default_factory=dict)  # at the last evaluation
    history: list[float] = field(default_factory=list)  # total loss per iteration


def minimize(
    objective,
    x0: torch.Tensor,
    iters: int,
    cfg: OptimizeConfig,
    on_iter: Callable[[int, dict[str, float]], None] | None = None,
) -> SolveResult:
    """Optimise from ``x0`` (1 x 3 x H x W, 0..255) for at most ``iters`` iterations."""
    x = x0.detach().float().clone(memory_format=torch.contiguous_format).requires_grad_(True)
    opt: torch.optim.Optimizer
    if cfg.optimizer == "lbfgs":
        opt = torch.optim.LBFGS(
            [x], lr=1.0, max_iter=1, history_size=cfg.history, tolerance_grad=0.0, tolerance_change=0.0
        )
    else:
        opt = torch.optim.Adam([x], lr=cfg.adam_lr)
    last: dict[str, torch.Tensor] = {}

    def closure():
        opt.zero_grad(set_to_none=True)
        terms = objective.terms(x)
        total = sum(terms.values())
        total.backward()
        last.clear()
        last.update(terms)
        last["total"] = total
        return total

    history: list[float] = []
    done = 0
    try:
        for i in range(iters):
            opt.step(closure)
            done = i + 1
            values = {k: float(v.detach()) for k, v in last.items()}
            history.append(values["total"])
            if on_iter is not None:
                on_iter(done, values)
            if cfg.tol > 0 and done % cfg.tol_every == 0 and done > cfg.tol_every:
                before = history[-1 - cfg.tol_every]
                if abs(before - values["total"]) <= cfg.tol * abs(before):
                    break
    except torch.OutOfMemoryError:
        h, w = x.shape[-2:]
        raise VidstyleError(
            f"out of GPU memory optimizing a {w}x{h} image; lower --size "
            f"(or use --optimizer adam, which keeps no history)"
        ) from None
    with torch.no_grad():
        image = x.detach().clamp_(0, 255)
    return SolveResult(image, done, {k: float(v.detach()) for k, v in last.items()}, history)
