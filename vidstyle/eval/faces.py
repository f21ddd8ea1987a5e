"""Face metrics of a stylized video against its original.

Per frame, faces are detected (MTCNN) in both. A stylized face *recalls* an original face when
their boxes overlap with IoU >= 0.5. For recalled faces:
  - landmark NME = mean over the 5 points of |l - l^| / inter-ocular distance of the original;
  - identity (when a descriptor network is given), for every original face: the descriptor
    distance between the original face and the same region of the stylized frame (both aligned
    with the original's landmarks), counted as the same person below ``same_person`` (0.6 for
    dlib-type descriptors).
Frames and videos without faces report None instead of dividing by zero. ``by_size`` splits the
same numbers by the original face's box height (px): SIZE_BINS.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from ..faces.align import face_chips
from ..faces.detector import FaceDetector, Faces
from ..faces.identity import load_identity_net
from ..faces.tracker import greedy_match, iou_matrix

SIZE_BINS = ((0, 24), (24, 48), (48, 96), (96, None))  # face box heights (px), [lo, hi)


@dataclass
class FaceRecord:
    """One face of the original: box height (px), whether it was recalled, its NME when it was,
    its descriptor distance when identity is scored."""

    height: float
    recalled: bool
    nme: float | None
    identity_dist: float | None


@dataclass
class FrameFaces:
    index: int
    faces: int  # in the original
    recalled: int
    nme: float | None  # mean over recalled faces
    identity_same: int | None  # original faces still verified as the same person
    identity_dist: float | None  # mean descriptor distance over the original's faces
    detail: list[FaceRecord] = field(default_factory=list, repr=False)


def landmark_nme(reference: np.ndarray, other: np.ndarray) -> float:
    """Mean point error (5 x 2 each) normalised by the reference's inter-ocular distance."""
    iod = float(np.linalg.norm(reference[1] - reference[0]))
    return float(np.linalg.norm(reference - other, axis=1).mean() / max(iod, 1e-6))


def match(original: Faces, stylized: Faces, iou: float = 0.5) -> list[tuple[int, int]]:
    return greedy_match(iou_matrix(original.boxes, stylized.boxes), iou)


class IdentityScorer:
    """Descriptor distances of aligned face chips (the identity net from vidstyle.faces.identity)."""

    def __init__(self, weights: str, device: str = "cpu"):
        self.net = load_identity_net(weights).to(device).eval()
        self.device = device

    @torch.inference_mode()
    def distances(self, original: np.ndarray, stylized: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        """Distance per face (landmarks F x 5 x 2 of the original) between the two RGB images."""
        if len(landmarks) == 0:
            return np.zeros(0, np.float32)
        images = torch.from_numpy(np.stack([original, stylized])).permute(0, 3, 1, 2).float().to(self.device)
        n = len(landmarks)
        index = torch.tensor([0] * n + [1] * n)
        chips = face_chips(images, index, np.concatenate([landmarks, landmarks]))
        desc = self.net(chips)
        return (desc[:n] - desc[n:]).norm(dim=1).cpu().numpy()


def evaluate_faces(
    original: Iterable[np.ndarray],
    stylized: Iterable[np.ndarray],
    detector: FaceDetector,
    identity: IdentityScorer | None = None,
    every: int = 1,
    iou: float = 0.5,
    same_person: float = 0.6,
    batch: int = 4,
) -> tuple[dict[str, Any], list[FrameFaces]]:
    """(summary, per-frame rows) over frames ``0, every, 2*every, ...`` of both videos."""
    rows: list[FrameFaces] = []
    pending: list[tuple[int, np.ndarray, np.ndarray]] = []

    def flush() -> None:
        if not pending:
            return
        dets = detector.detect([o for _, o, _ in pending] + [s for _, _, s in pending])
        n = len(pending)
        for (index, o_img, s_img), det_o, det_s in zip(pending, dets[:n], dets[n:]):
            rows.append(_frame_row(index, o_img, s_img, det_o, det_s, identity, iou, same_person))
        pending.clear()

    count = 0
    for index, (o_img, s_img) in enumerate(_paired(original, stylized)):
        count += 1
        if index % every:
            continue
        pending.append((index, o_img, s_img))
        if len(pending) >= batch:
            flush()
    flush()
    return summarise(rows, identity is not None, count, same_person), rows


def _paired(original: Iterable[np.ndarray], stylized: Iterable[np.ndarray]):
    it_s = iter(stylized)
    for i, o in enumerate(original):
        s = next(it_s, None)
        if s is None:
            raise ValueError(f"the stylized video has fewer frames than the original ({i})")
        if s.shape != o.shape:
            raise ValueError(
                f"sizes differ: original {o.shape[1]}x{o.shape[0]}, stylized {s.shape[1]}x{s.shape[0]}"
            )
        yield o, s
    if next(it_s, None) is not None:
        raise ValueError("the stylized video has more frames than the original")


def _frame_row(index, o_img, s_img, det_o: Faces, det_s: Faces, identity, iou, same_person) -> FrameFaces:
    pairs = match(det_o, det_s, iou)
    nme_of = {i: landmark_nme(det_o.landmarks[i], det_s.landmarks[j]) for i, j in pairs}
    nmes = list(nme_of.values())
    same = dist = None
    d = None
    if identity is not None and len(det_o):
        d = identity.distances(o_img, s_img, det_o.landmarks)
        same, dist = int((d < same_person).sum()), float(d.mean())
    detail = [
        FaceRecord(float(b[3] - b[1]), i in nme_of, nme_of.get(i), None if d is None else float(d[i]))
        for i, b in enumerate(det_o.boxes)
    ]
    return FrameFaces(
        index, len(det_o), len(pairs), float(np.mean(nmes)) if nmes else None, same, dist, detail
    )


def size_label(lo: float, hi: float | None) -> str:
    return f"{lo}-{hi}px" if hi is not None else f">={lo}px"


def by_size(records: list[FaceRecord], with_identity: bool, same_person: float = 0.6) -> dict:
    """Recall, NME (and identity) of ``records`` per SIZE_BINS bin that holds faces."""
    out = {}
    for lo, hi in SIZE_BINS:
        inside = [r for r in records if r.height >= lo and (hi is None or r.height < hi)]
        if not inside:
            continue
        nmes = [r.nme for r in inside if r.nme is not None]
        row = {
            "faces": len(inside),
            "recall": sum(r.recalled for r in inside) / len(inside),
            "nme": float(np.mean(nmes)) if nmes else None,
        }
        if with_identity:
            dists = [r.identity_dist for r in inside if r.identity_dist is not None]
            row["identity_share"] = sum(x < same_person for x in dists) / len(inside)
        out[size_label(lo, hi)] = row
    return out


def summarise(
    rows: list[FrameFaces], with_identity: bool, frames: int, same_person: float = 0.6
) -> dict[str, Any]:
    """The JSON summary: counts, recall, NME (and identity) over all frames and ``by_size``."""
    faces = sum(r.faces for r in rows)
    recalled = sum(r.recalled for r in rows)
    nme_weighted = [(r.nme, r.recalled) for r in rows if r.nme is not None]
    out: dict[str, Any] = {
        "frames": frames,
        "frames_evaluated": len(rows),
        "frames_with_faces": sum(1 for r in rows if r.faces),
        "faces": faces,
        "recalled": recalled,
        "recall": recalled / faces if faces else None,
        "nme": (sum(n * k for n, k in nme_weighted) / sum(k for _, k in nme_weighted))
        if nme_weighted
        else None,
    }
    if with_identity:
        same = sum(r.identity_same or 0 for r in rows)
        out["identity_same"] = same
        out["identity_share"] = same / faces if faces else None
        dists = [(r.identity_dist, r.faces) for r in rows if r.identity_dist is not None]
        out["identity_distance"] = (
            (sum(d * k for d, k in dists) / sum(k for _, k in dists)) if dists else None
        )
    out["by_size"] = by_size([f for r in rows for f in r.detail], with_identity, same_person)
    if not faces:
        out["note"] = "no faces found in the original video: recall, NME and identity are undefined"
    return out


def rows_as_dicts(rows: list[FrameFaces]) -> list[dict]:
    """Per-frame rows without the per-face detail (for CSV)."""
    return [{k: v for k, v in asdict(r).items() if k != "detail"} for r in rows]
