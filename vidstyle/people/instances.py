"""Split an all-people probability map into one region per person (pure numpy/OpenCV math).

Label maps are H x W uint16 at segmentation scale: 0 = background (or not yet assigned), 1.. =
person ids, :data:`ANONYMOUS` = people that no seed reaches (styled with the default people
style). Seeds come from the tracked faces (the face box and a strip below it, where the torso
is: the body prior) and from the previous frame's labels carried along the optical flow; they
grow through the foreground to the geodesic nearest seed (8-connected, fronts advancing one
pixel per step, alternating max and min so no id wins ties systematically).
"""

from __future__ import annotations

import cv2
import numpy as np

ANONYMOUS = 65535
_KERNEL = np.ones((3, 3), np.uint8)


def face_seed_regions(box: np.ndarray, shape: tuple[int, int], body: float = 1.5) -> np.ndarray:
    """H x W bool: the face box (x1, y1, x2, y2 px) and a strip below it ``body`` face heights
    long and half a face wide (where the torso of that face is; frames rarely show anything else
    directly below a face)."""
    h, w = shape
    x1, y1, x2, y2 = (float(v) for v in box)
    fw, fh = max(x2 - x1, 1.0), max(y2 - y1, 1.0)
    cx = (x1 + x2) / 2
    out = np.zeros(shape, bool)

    def fill(a: float, b: float, c: float, d: float) -> None:
        xa, xb = int(np.clip(np.floor(a), 0, w)), int(np.clip(np.ceil(b), 0, w))
        ya, yb = int(np.clip(np.floor(c), 0, h)), int(np.clip(np.ceil(d), 0, h))
        out[ya:yb, xa:xb] = True

    fill(x1 + 0.15 * fw, x2 - 0.15 * fw, y1 + 0.1 * fh, y2)
    fill(cx - 0.25 * fw, cx + 0.25 * fw, y2, y2 + body * fh)
    return out


def grow_labels(seeds: np.ndarray, allowed: np.ndarray, max_steps: int = 0) -> np.ndarray:
    """Geodesic nearest-seed labelling: every ``allowed`` pixel connected (8-neighbourhood,
    through allowed pixels) to a seed takes the label of the seed whose front reaches it first.

    ``seeds``: H x W uint16 (0 = none); ``allowed``: H x W bool. Seeds outside ``allowed`` are
    kept. ``max_steps`` 0 = until nothing changes. Returns H x W uint16.
    """
    labels = seeds.astype(np.uint16, copy=True)
    todo = allowed & (labels == 0)
    steps = max_steps or (labels.shape[0] + labels.shape[1])
    idle = 0
    for step in range(steps):
        if step % 2 == 0:
            grown = cv2.dilate(labels, _KERNEL)
        else:  # min over labelled neighbours: unlabelled counts as +inf
            grown = cv2.erode(np.where(labels == 0, np.uint16(65535), labels), _KERNEL)
            grown[grown == 65535] = 0
        new = todo & (grown > 0)
        if not new.any():
            idle += 1
            if idle == 2:  # neither the max nor the min pass moved a front
                break
            continue
        idle = 0
        labels[new] = grown[new]
        todo &= ~new
    return labels


def attach_leftovers(
    labels: np.ndarray, foreground: np.ndarray, attach_px: float, min_area: int
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Foreground pixels no seed reached: within ``attach_px`` of a labelled pixel they join the
    nearest person; other connected blobs of at least ``min_area`` px are returned as new people
    (one bool mask each, for the caller to give ids); smaller ones become :data:`ANONYMOUS`.
    """
    left = foreground & (labels == 0)
    if not left.any():
        return labels, []
    labels = labels.copy()
    if (labels > 0).any():
        dist, nearest = cv2.distanceTransformWithLabels(
            (labels == 0).astype(np.uint8), cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL
        )
        # map the distance transform's per-pixel source index back to that pixel's label
        src = np.zeros(int(nearest.max()) + 1, np.uint16)
        zero_y, zero_x = np.nonzero(labels > 0)
        src[nearest[zero_y, zero_x]] = labels[zero_y, zero_x]
        near = left & (dist <= attach_px)
        labels[near] = src[nearest[near]]
        left &= ~near
    blobs = []
    count, comp, stats, _ = cv2.connectedComponentsWithStats(left.astype(np.uint8), connectivity=8)
    for k in range(1, count):
        blob = comp == k
        if stats[k, cv2.CC_STAT_AREA] >= min_area:
            blobs.append(blob)
        else:
            labels[blob] = ANONYMOUS
    return labels, blobs


def soft_masks(labels: np.ndarray, prob: np.ndarray, ids: list[int], feather_px: float) -> np.ndarray:
    """P x H x W float32 soft masks, one per id: the person probability split by the feathered
    (Gaussian, sigma ``feather_px``) one-hot label maps, so masks sum to ``prob`` where people are
    and neighbours cross-fade instead of cutting."""
    if not ids:
        return np.zeros((0,) + labels.shape, np.float32)
    onehot = np.stack([(labels == i).astype(np.float32) for i in ids])
    if feather_px > 0:
        k = 2 * int(np.ceil(3 * feather_px)) + 1
        onehot = np.stack(
            [cv2.GaussianBlur(m, (k, k), feather_px, borderType=cv2.BORDER_REPLICATE) for m in onehot]
        )
    total = onehot.sum(0)
    share = np.where(total > 1e-3, onehot / np.maximum(total, 1e-3), 0.0)
    return (share * prob[None]).astype(np.float32)


def majority_label(labels: np.ndarray, box: np.ndarray, min_share: float = 0.3) -> int:
    """The person label covering at least ``min_share`` of ``box`` (x1, y1, x2, y2 px), else 0."""
    h, w = labels.shape
    x1, y1, x2, y2 = np.clip(np.round(box), 0, [w, h, w, h]).astype(int)
    patch = labels[y1:y2, x1:x2]
    if patch.size == 0:
        return 0
    values, counts = np.unique(patch[(patch > 0) & (patch != ANONYMOUS)], return_counts=True)
    if len(values) == 0 or counts.max() < min_share * patch.size:
        return 0
    return int(values[np.argmax(counts)])
