"""The sample grid of a run: a fixed set of content images, stylized with every style trained."""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from ..faces.detector import Faces
from ..models.transformer_net import TransformerNet
from .data import center_crop, read_rgb
from .precision import Precision

FACE_MIN_PX = 40  # a content image leads the grid when its widest face is at least this wide


def pick_samples(
    paths: list[Path], faces: dict[Path, Faces] | None, count: int, size: int, seed: int
) -> torch.Tensor:
    """``count`` content images as count x 3 x size x size float (0..255), centre crops: a seeded
    shuffle of ``paths``, with up to half the grid taken by the images with the widest faces
    (when ``faces`` are known); unreadable files are passed over."""
    gen = torch.Generator().manual_seed(seed)
    order = [paths[int(i)] for i in torch.randperm(len(paths), generator=gen)]
    if faces:

        def widest(p: Path) -> float:  # widest face in px, 0 without faces
            f = faces.get(p)
            return float((f.boxes[:, 2] - f.boxes[:, 0]).max()) if f is not None and len(f) else 0.0

        with_faces = sorted((p for p in order if widest(p) >= FACE_MIN_PX), key=widest, reverse=True)
        chosen = with_faces[: count // 2]
        order = chosen + [p for p in order if p not in chosen]
    images = []
    for p in order:
        rgb = read_rgb(p)
        if rgb is not None:
            images.append(center_crop(rgb, size))
        if len(images) == count:
            break
    return torch.stack(images)


def stylize(net: TransformerNet, images: torch.Tensor, row: int, precision: Precision) -> torch.Tensor:
    """``images`` N x 3 x H x W (0..255) through ``net`` with norm row ``row``, one at a time, in
    eval mode: N x 3 x H x W float32 clamped to 0..255, on the CPU."""
    net.eval()
    w = F.one_hot(torch.tensor(row), net.num_styles).float().to(precision.device)
    outs = []
    with torch.no_grad(), precision.autocast():
        for im in images:
            outs.append(net(im[None].to(precision.device), w).float().clamp(0, 255).cpu())
    return torch.cat(outs)
