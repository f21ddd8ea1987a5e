"""Several styles of the same frames, for per-region looks (people vs background, per person).

``StyleBank(batch)``: N x 3 x H x W in [0, 1] -> one N x 3 x H x W tensor per style spec, in the
order the specs were given. Styles that live in one multi-style (conditional instance norm)
model run as ONE batched forward pass: the frames repeated once per style, each copy with its
own row of style weights, so a second style of the same net costs one more batch share of the
pass and no second model (the rows go in as the call's ``style``, one per frame). Styles of
different models run each through their own stylizer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import torch

from ..config import ModelConfig
from ..models.catalog import resolve_style_mix
from .base import Stylizer
from .factory import FOREIGN_SUFFIXES, build_stylizer


@dataclass
class _Route:
    """One stylizer and the output slots it fills; ``weights`` (K x S) for a batched multi-style pass."""

    stylizer: Stylizer
    slots: list[int]
    weights: torch.Tensor | None = None


class StyleBank:
    def __init__(self, routes: list[_Route], specs: list[str]):
        self.routes = routes
        self.specs = specs

    @property
    def passes(self) -> int:
        """Stylizer calls per batch of frames."""
        return len(self.routes)

    def __call__(self, batch: torch.Tensor) -> list[torch.Tensor]:
        out: list[torch.Tensor | None] = [None] * len(self.specs)
        n = batch.shape[0]
        for route in self.routes:
            if route.weights is None:
                out[route.slots[0]] = route.stylizer(batch)
                continue
            k = len(route.slots)
            y = route.stylizer(batch.repeat(k, 1, 1, 1), style=route.weights.repeat_interleave(n, 0))
            for j, slot in enumerate(route.slots):
                out[slot] = y[j * n : (j + 1) * n]
        return out  # type: ignore[return-value]  # every slot is filled: each spec has one route


def _model_key(spec: str, mix: str = "") -> tuple[str, Path]:
    path = Path(spec).expanduser()
    if path.suffix.lower() in FOREIGN_SUFFIXES:
        return "file", path.resolve()
    return "ours", resolve_style_mix(spec, mix).model_path.resolve()


def build_style_bank(
    m: ModelConfig, specs: list[str], device: torch.device, threads: int, main: Stylizer | None = None
) -> StyleBank:
    """Stylizers for ``specs`` on ``device``; ``main`` (built from ``m.style``) is reused where it fits.

    ``m.style_mix`` applies to the main style only; other specs of a multi-style model use their
    own style. Several styles of one of our models share one torch stylizer and one batched pass
    (ONNX exports and engines take one style mix per call, so with an explicit
    ``backend: onnx|tensorrt`` those run one pass per style). ``threads``: ONNX Runtime intra-op
    threads, as for the main stylizer.
    """
    groups: dict[tuple[str, Path], list[int]] = {}
    for slot, spec in enumerate(specs):
        groups.setdefault(_model_key(spec, m.style_mix if spec == m.style else ""), []).append(slot)
    main_key = _model_key(m.style, m.style_mix) if main is not None else None
    routes: list[_Route] = []
    for key, slots in groups.items():
        own = [m if specs[s] == m.style else replace(m, style=specs[s], style_mix="") for s in slots]
        if len(slots) == 1:
            reuse = key == main_key and specs[slots[0]] == m.style
            own_stylizer = main if main is not None and reuse else build_stylizer(own[0], device, threads)
            routes.append(_Route(own_stylizer, slots))
            continue
        if key[0] == "ours" and m.backend in ("auto", "torch"):
            rows = [resolve_style_mix(specs[s], c.style_mix).style(c.style_mix) for s, c in zip(slots, own)]
            if all(row is not None for row in rows):  # a network with a style input
                stylizer = build_stylizer(replace(own[0], backend="torch"), device, threads)
                routes.append(_Route(stylizer, slots, torch.tensor(rows, dtype=torch.float32)))
                continue
        routes += [_Route(build_stylizer(c, device, threads), [s]) for s, c in zip(slots, own)]
    return StyleBank(routes, list(specs))
