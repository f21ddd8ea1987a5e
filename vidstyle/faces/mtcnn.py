"""MTCNN face detection (Zhang et al. 2016), batched and on any device.

The three networks and their weights come from the facenet-pytorch wheel (P-Net, R-Net, O-Net);
the cascade around them is ours: an image pyramid through P-Net, candidate boxes refined by R-Net
on 24 x 24 crops and by O-Net on 48 x 48 crops (which also gives the five landmarks), with
non-maximum suppression between steps. Crops for all candidates of all images are cut in one
``roi_align`` call, which is what makes this fast on the CPU too.

Network conventions (facts of the shipped models): RGB input in 0..255 normalised as
(x - 127.5) / 128; P-Net is fully convolutional with stride 2 and a 12 px cell, returning
(box regression N x 4 x h x w, softmax N x 2 x h x w); R-Net returns (regression, softmax); O-Net
returns (regression, landmarks [x1..x5, y1..y5] as fractions of the box, softmax).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torchvision.ops import batched_nms, roi_align

from ..optional import require

_STRIDE, _CELL = 2, 12


def _normalise(x: torch.Tensor) -> torch.Tensor:
    return (x - 127.5) * (1.0 / 128.0)


def _square(boxes: torch.Tensor) -> torch.Tensor:
    """Grow each x1, y1, x2, y2 box to a square around its centre."""
    w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    side = torch.maximum(w, h)
    cx, cy = boxes[:, 0] + w / 2, boxes[:, 1] + h / 2
    return torch.stack([cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2], 1)


def _regress(boxes: torch.Tensor, reg: torch.Tensor) -> torch.Tensor:
    """Apply the networks' box corrections (offsets as fractions of the box size)."""
    wh = (boxes[:, 2:] - boxes[:, :2]).repeat(1, 2)
    return boxes + reg * wh


def _nms_min(boxes: torch.Tensor, scores: torch.Tensor, idx: torch.Tensor, thresh: float) -> torch.Tensor:
    """Greedy NMS where overlap = intersection / smaller area (drops boxes nested in others).

    A loop over the few final faces: run on the host, where each comparison is not a device sync.
    """
    device = boxes.device
    boxes, scores, idx = boxes.cpu(), scores.cpu(), idx.cpu()
    order = torch.argsort(scores, descending=True).tolist()
    area = ((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])).clamp_min(1e-6)
    keep: list[int] = []
    for i in order:
        ok = True
        for j in keep:
            if idx[i] != idx[j]:
                continue
            iw = (
                torch.minimum(boxes[i, 2], boxes[j, 2]) - torch.maximum(boxes[i, 0], boxes[j, 0])
            ).clamp_min(0)
            ih = (
                torch.minimum(boxes[i, 3], boxes[j, 3]) - torch.maximum(boxes[i, 1], boxes[j, 1])
            ).clamp_min(0)
            if iw * ih / torch.minimum(area[i], area[j]) > thresh:
                ok = False
                break
        if ok:
            keep.append(i)
    return torch.tensor(keep, dtype=torch.long, device=device)


class MTCNN:
    """``detect(images)`` on N x H x W x 3 uint8 RGB (numpy or tensor) of one size.

    Returns per image (boxes F x 4 [x1, y1, x2, y2] px, landmarks F x 5 x 2 px, scores F).
    ``min_face``: smallest face side searched (px); ``thresholds``: P/R/O-Net score cut-offs.
    """

    def __init__(
        self,
        device: torch.device | str = "cpu",
        min_face: int = 20,
        thresholds: tuple[float, float, float] = (0.6, 0.7, 0.7),
        factor: float = 0.709,
    ):
        nets = require(
            "facenet_pytorch.models.mtcnn",
            "face detection needs facenet-pytorch "
            "(pip install --no-deps facenet-pytorch), or use --faces off",
        )
        self.device = torch.device(device)
        self.min_face = min_face
        self.thresholds = thresholds
        self.factor = factor
        self.pnet, self.rnet, self.onet = (
            net().to(self.device).eval() for net in (nets.PNet, nets.RNet, nets.ONet)
        )

    def scales(self, h: int, w: int, min_face: float | None = None) -> list[float]:
        """Pyramid scales for faces from ``min_face`` (default: the instance's) up to the image."""
        scale = _CELL / (min_face or self.min_face)
        out = []
        while min(h, w) * scale >= _CELL:
            out.append(scale)
            scale *= self.factor
        return out

    @torch.inference_mode()
    def detect(
        self, images: np.ndarray | torch.Tensor, min_face: float | None = None
    ) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """``min_face`` overrides the instance's smallest face for this call."""
        x = torch.as_tensor(np.asarray(images)).to(self.device)
        if x.dim() == 3:
            x = x[None]
        x = x.permute(0, 3, 1, 2).float()
        boxes, idx = self._stage1(x, min_face)
        if len(boxes):
            boxes, idx = self._refine(x, boxes, idx, self.rnet, 24, self.thresholds[1])
        points = torch.zeros(0, 5, 2, device=self.device)
        if len(boxes):
            boxes, idx, points = self._stage3(x, boxes, idx)
        # one host copy each
        boxes_np, points_np, idx_np = boxes.cpu().numpy(), points.cpu().numpy(), idx.cpu().numpy()
        out = []
        for i in range(x.shape[0]):
            sel = idx_np == i
            out.append(
                (
                    boxes_np[sel, :4].astype(np.float32),
                    points_np[sel].astype(np.float32),
                    boxes_np[sel, 4].astype(np.float32),
                )
            )
        return out

    def _stage1(self, x: torch.Tensor, min_face: float | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """P-Net over the pyramid -> squared candidate boxes (K x 5: box + score), image index."""
        h, w = x.shape[-2:]
        found, found_idx = [], []
        for scale in self.scales(h, w, min_face):
            size = (int(h * scale + 1), int(w * scale + 1))
            im = F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=True)
            reg, prob = self.pnet(_normalise(im))
            hit = prob[:, 1] >= self.thresholds[0]
            where = hit.nonzero()  # (n, y, x) cells
            if not len(where):
                continue
            n, gy, gx = where.unbind(1)
            cell = torch.stack([gx, gy], 1).to(x.dtype)
            lo = torch.floor((_STRIDE * cell + 1) / scale)
            hi = torch.floor((_STRIDE * cell + _CELL) / scale)
            boxes = torch.cat([lo, hi], 1)
            scores = prob[n, 1, gy, gx]
            regs = reg[n, :, gy, gx]
            keep = batched_nms(boxes, scores, n, 0.5)
            found.append(torch.cat([boxes[keep], scores[keep, None], regs[keep]], 1))
            found_idx.append(n[keep])
        if not found:
            return torch.zeros(0, 5, device=x.device), torch.zeros(0, dtype=torch.long, device=x.device)
        cand, idx = torch.cat(found), torch.cat(found_idx)
        keep = batched_nms(cand[:, :4], cand[:, 4], idx, 0.7)
        cand, idx = cand[keep], idx[keep]
        boxes = _square(_regress(cand[:, :4], cand[:, 5:9]))
        return torch.cat([boxes, cand[:, 4:5]], 1), idx

    def _crops(self, x: torch.Tensor, boxes: torch.Tensor, idx: torch.Tensor, size: int) -> torch.Tensor:
        """size x size crops of ``boxes`` (zeros outside the image), normalised for the nets."""
        rois = torch.cat(
            [idx[:, None].to(x.dtype), boxes[:, :4] - torch.tensor([1, 1, 0, 0], device=x.device)], 1
        )
        return _normalise(
            roi_align(x, rois, output_size=size, spatial_scale=1.0, sampling_ratio=2, aligned=True)
        )

    def _refine(
        self,
        x: torch.Tensor,
        boxes: torch.Tensor,
        idx: torch.Tensor,
        net: torch.nn.Module,
        size: int,
        thresh: float,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        reg, prob = net(self._crops(x, boxes, idx, size))
        keep = prob[:, 1] > thresh
        boxes, idx, reg, score = boxes[keep], idx[keep], reg[keep], prob[keep, 1]
        pick = batched_nms(boxes[:, :4], score, idx, 0.7)
        boxes, idx, reg, score = boxes[pick], idx[pick], reg[pick], score[pick]
        return torch.cat([_square(_regress(boxes[:, :4], reg)), score[:, None]], 1), idx

    def _stage3(
        self, x: torch.Tensor, boxes: torch.Tensor, idx: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        reg, marks, prob = self.onet(self._crops(x, boxes, idx, 48))
        keep = prob[:, 1] > self.thresholds[2]
        boxes, idx, reg, marks, score = boxes[keep], idx[keep], reg[keep], marks[keep], prob[keep, 1]
        wh = boxes[:, 2:4] - boxes[:, :2]
        points = (
            torch.stack(
                [boxes[:, 0:1] + marks[:, :5] * wh[:, 0:1], boxes[:, 1:2] + marks[:, 5:] * wh[:, 1:2]], -1
            )
            - 1
        )
        final = torch.cat([_regress(boxes[:, :4], reg), score[:, None]], 1)
        pick = _nms_min(final[:, :4], final[:, 4], idx, 0.7)
        return final[pick], idx[pick], points[pick]
