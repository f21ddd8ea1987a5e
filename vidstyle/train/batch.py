"""One training step's inputs as typed, immutable tensors: :class:`TrainBatch`.

:class:`~vidstyle.train.data.StepBatches` makes them on the CPU (in loader processes when there are
any); the step moves them to the device with :meth:`TrainBatch.to` and reads them in
:mod:`vidstyle.train.step`. Shapes are checked when a batch is made, so a wrong one fails where it
was built, not deep inside a loss.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import TypeVar

import torch

_Parts = TypeVar("_Parts", "FaceTargets", "FramePairs")


@dataclass(frozen=True, slots=True)
class FaceTargets:
    """Where the faces of each crop are, for the face-weighted content and identity losses.

    ``mask``: N x 1 x S x S float, 1 inside each face box grown by ``loss.face_margin``, else 0.
    ``landmarks``: N x F x 5 x 2 float, the five MTCNN points (eyes, nose, mouth corners) in crop
    pixels (x, y); rows past a crop's faces are 0. ``usable``: N x F bool, the face is inside the
    crop and wide enough for the identity loss. F is ``data.max_faces``.
    """

    mask: torch.Tensor
    landmarks: torch.Tensor
    usable: torch.Tensor

    def __post_init__(self) -> None:
        n, f = _check_shape("faces.usable", self.usable, (None, None))
        _check_shape("faces.mask", self.mask, (n, 1, None, None))
        _check_shape("faces.landmarks", self.landmarks, (n, f, 5, 2))
        if self.usable.dtype != torch.bool:
            raise ValueError(f"faces.usable must be bool, not {self.usable.dtype}")


@dataclass(frozen=True, slots=True)
class FramePairs:
    """A synthetic next frame per crop, for the temporal loss (see :mod:`vidstyle.train.temporal`).

    ``next``: N x 3 x S x S float (0..255), frame t as the network sees it (moved, relit, noisy);
    ``next_clean``: the same without the noise; ``grid``: N x S x S x 2 float in grid_sample's
    [-1, 1], warps the crop (frame t-1) onto frame t; ``mask``: N x 1 x S x S float, 1 where that
    warp lands inside the crop.
    """

    next: torch.Tensor
    next_clean: torch.Tensor
    grid: torch.Tensor
    mask: torch.Tensor


@dataclass(frozen=True, slots=True)
class TrainBatch:
    """The inputs of one optimisation step.

    ``content``: N x 3 x S x S float RGB (0..255), the random crops. ``style``: N int64, the index of
    each crop's style among the styles this run trains (0-based, before any ``--extend`` offset).
    ``faces``: present when a face loss is on; ``pairs``: present when the temporal loss is on.
    ``skipped``: content files that failed to decode while this batch was drawn (reported once).
    """

    content: torch.Tensor
    style: torch.Tensor
    faces: FaceTargets | None = None
    pairs: FramePairs | None = None
    skipped: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        n, _, s, _ = _check_shape("content", self.content, (None, 3, None, None))
        _check_shape("style", self.style, (n,))
        if self.faces is not None:
            _check_shape("faces.mask", self.faces.mask, (n, 1, s, s))
        if self.pairs is not None:
            for name in ("next", "next_clean"):
                _check_shape(f"pairs.{name}", getattr(self.pairs, name), (n, 3, s, s))
            _check_shape("pairs.grid", self.pairs.grid, (n, s, s, 2))
            _check_shape("pairs.mask", self.pairs.mask, (n, 1, s, s))

    def to(self, device: torch.device, channels_last: bool = False) -> TrainBatch:
        """The batch on ``device`` (copies issued non-blocking); ``channels_last`` lays out the
        N x 3 x S x S images for the network and the loss network."""

        def image(x: torch.Tensor) -> torch.Tensor:
            x = x.to(device, non_blocking=True)
            return x.contiguous(memory_format=torch.channels_last) if channels_last else x

        def plain(x: torch.Tensor) -> torch.Tensor:
            return x.to(device, non_blocking=True)

        pairs = self.pairs
        if pairs is not None:
            pairs = FramePairs(
                image(pairs.next), image(pairs.next_clean), plain(pairs.grid), plain(pairs.mask)
            )
        return TrainBatch(
            image(self.content),
            plain(self.style),
            _map(self.faces, plain),
            pairs,
            self.skipped,
        )

    def pin_memory(self) -> TrainBatch:
        """Page-locked copies (the DataLoader calls this with ``pin_memory=True``)."""

        def pin(x: torch.Tensor) -> torch.Tensor:
            return x.pin_memory()

        return TrainBatch(
            pin(self.content), pin(self.style), _map(self.faces, pin), _map(self.pairs, pin), self.skipped
        )


def _map(parts: _Parts | None, fn: Callable[[torch.Tensor], torch.Tensor]) -> _Parts | None:
    """``parts`` with ``fn`` applied to each of its tensors (None stays None)."""
    if parts is None:
        return None
    return replace(parts, **{f.name: fn(getattr(parts, f.name)) for f in fields(parts)})


def _check_shape(name: str, x: torch.Tensor, want: tuple[int | None, ...]) -> torch.Size:
    """``x.shape``, or ValueError when it does not match ``want`` (None: any size)."""
    ok = x.dim() == len(want) and all(w is None or w == d for w, d in zip(want, x.shape))
    if not ok:
        spec = " x ".join("*" if w is None else str(w) for w in want)
        raise ValueError(f"TrainBatch.{name}: shape {tuple(x.shape)}, expected {spec}")
    return x.shape
