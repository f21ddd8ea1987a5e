"""StylizeStage: ``Item.image`` through the style network into ``Item.stylized`` (and, with
person features, through every style of the people plan into ``Item.styles``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from ...errors import VidstyleError
from ...stylize.bank import StyleBank
from ...stylize.base import Stylizer
from ..item import Item, need
from ..scheduling import stylize_batch, stylize_workers
from ..stage import BaseStage

if TYPE_CHECKING:
    from .spec import StageHost, StageOutputs


class StylizeStage(BaseStage):
    """Batches equal-sized frames through the stylizer; halves the batch on GPU out-of-memory.

    ``workers > 1`` runs frames through the stylizer concurrently (the CPU strategy: one frame
    per core, single-threaded ops); batches and workers are exclusive.
    """

    name = "stylize"

    def __init__(self, stylizer: Stylizer, batch_size: int, workers: int = 1, bank: StyleBank | None = None):
        """``bank``: stylize every frame in each of its styles into ``Item.styles`` instead
        (``Item.stylized`` = the first, or the input when every region is original/blur)."""
        self.stylizer = stylizer
        self.bank = bank
        self.workers = workers
        self.batch_size = 1 if workers > 1 else batch_size

    def process(self, items: list[Item]) -> list[Item]:
        start = 0
        while start < len(items):  # runs of equal size (image folders may mix sizes)
            end = start + 1
            shape = need(items[start].image, "image").shape
            while end < len(items) and need(items[end].image, "image").shape == shape:
                end += 1
            self._run(items[start:end])
            start = end
        return items

    def _run(self, items: list[Item]) -> None:
        chunk = len(items)
        i = 0
        while i < len(items):
            part = items[i : i + chunk]
            try:
                if self.bank is not None:
                    self._run_bank(self.bank, part)
                    i += len(part)
                    continue
                out = self.stylizer(_images(part))
            except torch.OutOfMemoryError:
                if chunk == 1:
                    h, w = need(part[0].image, "image").shape[-2:]
                    raise VidstyleError(
                        f"out of GPU memory stylizing one {w}x{h} frame; lower --max-side or use --device cpu"
                    ) from None
                torch.cuda.empty_cache()
                chunk = max(1, chunk // 2)
                self.batch_size = chunk
                continue
            for it, y in zip(part, out):
                it.stylized = y
            i += len(part)

    @staticmethod
    def _run_bank(bank: StyleBank, part: list[Item]) -> None:
        outs = bank(_images(part))
        for j, it in enumerate(part):
            it.styles = [o[j] for o in outs]
            it.stylized = it.styles[0] if it.styles else it.image


def _images(items: list[Item]) -> torch.Tensor:
    """The items' images as one N x 3 x h x w batch (equal sizes)."""
    return torch.stack([need(it.image, "image") for it in items])


def build(pipeline: StageHost, run: StageOutputs) -> StylizeStage:
    """Batch and workers for the stylizer's device; with person features, the style bank."""
    stylizer, cfg = pipeline.stylizer, pipeline.cfg
    return StylizeStage(
        stylizer,
        stylize_batch(cfg, stylizer.device),
        stylize_workers(cfg, stylizer.device),
        bank=pipeline.style_bank if pipeline.people_plan is not None else None,
    )
