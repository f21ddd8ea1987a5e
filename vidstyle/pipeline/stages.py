"""The core stages: upload, stylize, download, encode.

    Item.frame.rgb (H x W x 3 uint8, host)
      -> PreprocessStage  -> Item.image    (3 x h x w float [0,1], device; h x w <= max_side)
      -> StylizeStage     -> Item.stylized (3 x h x w float [0,1], device)
      -> PostprocessStage -> Item.output   (H x W x 3 uint8, host, source size)
      -> EncodeStage      -> sink
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import VidstyleError
from ..faces.overlay import draw_tracks, tint_mask
from ..io.sink import FrameSink
from ..stylize.base import Stylizer, fit_max_side
from .stage import BaseStage, Item


def to_tensor(rgb: np.ndarray, device: torch.device) -> torch.Tensor:
    """H x W x 3 uint8 -> 3 x H x W float32 in [0, 1] on ``device`` (converted there)."""
    t = torch.from_numpy(rgb)
    if device.type == "cuda":
        t = t.pin_memory().to(device, non_blocking=True)
    return t.permute(2, 0, 1).float().div_(255.0)


def to_uint8(image: torch.Tensor) -> np.ndarray:
    """3 x H x W float in [0, 1] -> H x W x 3 uint8 (rounded) on the host."""
    return image.mul(255.0).add_(0.5).clamp_(0, 255).to(torch.uint8).permute(1, 2, 0).contiguous().cpu().numpy()


def resize(image: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Bilinear resize of 3 x H x W (antialiased when shrinking)."""
    if tuple(image.shape[-2:]) == tuple(size):
        return image
    shrink = size[0] < image.shape[-2]
    return F.interpolate(image[None], size=size, mode="bilinear", align_corners=False,
                         antialias=shrink)[0]


class PreprocessStage(BaseStage):
    name = "preprocess"

    def __init__(self, device: torch.device, max_side: int = 0):
        self.device = device
        self.max_side = max_side

    def process(self, items: list[Item]) -> list[Item]:
        for item in items:
            image = to_tensor(item.frame.rgb, self.device)
            size = fit_max_side(item.frame.height, item.frame.width, self.max_side)
            item.image = resize(image, size)
        return items


class StylizeStage(BaseStage):
    """Batches equal-sized frames through the stylizer; halves the batch on GPU out-of-memory.

    ``workers > 1`` runs frames through the stylizer concurrently (the CPU strategy: one frame
    per core, single-threaded ops); batches and workers are exclusive.
    """

    name = "stylize"

    def __init__(self, stylizer: Stylizer, batch_size: int, workers: int = 1):
        self.stylizer = stylizer
        self.workers = workers
        self.batch_size = 1 if workers > 1 else batch_size

    def process(self, items: list[Item]) -> list[Item]:
        start = 0
        while start < len(items):   # runs of equal size (image folders may mix sizes)
            end = start + 1
            shape = items[start].image.shape
            while end < len(items) and items[end].image.shape == shape:
                end += 1
            self._run([it for it in items[start:end]])
            start = end
        return items

    def _run(self, items: list[Item]) -> None:
        chunk = len(items)
        i = 0
        while i < len(items):
            part = items[i:i + chunk]
            try:
                out = self.stylizer(torch.stack([it.image for it in part]))
            except torch.OutOfMemoryError:
                if chunk == 1:
                    h, w = part[0].image.shape[-2:]
                    raise VidstyleError(f"out of GPU memory stylizing one {w}x{h} frame; "
                                        f"lower --max-side or use --device cpu") from None
                torch.cuda.empty_cache()
                chunk = max(1, chunk // 2)
                self.batch_size = chunk
                continue
            for it, y in zip(part, out):
                it.stylized = y
            i += len(part)


class PostprocessStage(BaseStage):
    """Back to the source size as uint8 on the host (also the per-frame panel, when kept)."""

    name = "postprocess"

    def process(self, items: list[Item]) -> list[Item]:
        for item in items:
            size = (item.frame.height, item.frame.width)
            debug = item.extras.pop("face_debug", None)
            stylized = item.stylized
            if debug is not None and debug[0] is not None:
                stylized = tint_mask(stylized, debug[0][0])
            item.output = to_uint8(resize(stylized, size))
            if debug is not None:
                draw_tracks(item.output, debug[1])
            per_frame = item.extras.pop("per_frame", None)
            if per_frame is not None:
                item.extras["per_frame_rgb"] = to_uint8(resize(per_frame, size))
            item.image = item.stylized = None   # release device memory early
        return items


class EncodeStage(BaseStage):
    """Hands outputs to the sink (and the side-by-side comparison sink, when there is one)."""

    name = "encode"

    def __init__(self, sink: FrameSink, compare=None):
        self.sink = sink
        self.compare = compare

    def process(self, items: list[Item]) -> list[Item]:
        for item in items:
            self.sink.write(item.frame, item.output)
            if self.compare is not None:
                per_frame = item.extras.pop("per_frame_rgb")
                self.compare.write(item.frame, [item.frame.rgb, per_frame, item.output])
            item.frame.rgb = item.output = None
        return items
