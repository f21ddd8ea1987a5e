"""Person ids that last: per-frame person masks seeded by tracked faces, carried along the flow.

Each frame: the previous soft masks are warped onto this frame along the backward flow
(:func:`vidstyle.flow.ops.warp`); where a new segmentation arrives, it is split into people
(seeds: this frame's face tracks and the carried labels) and mixed with the carried masks where
the flow is consistent (``smoothing`` of the carried masks), so edges follow motion instead of
shimmering; between segmentations the carried masks are used as they are.

Face tracks map to person ids once: a new face track inherits the carried person under its box
when that person has no live face (someone who turned away and back keeps their id), else it
gets the next id. A face found on another person's torso (a face printed on a shirt) belongs to
that person instead of splitting them (so a small child right in front of an adult joins the
adult). Ids count from 1 in order of first appearance (left to right among people appearing in
the same frame) and are never reused.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
import torch

from ..flow.ops import resize_flow, resize_mask, warp
from .instances import attach_leftovers, face_seed_regions, grow_labels, majority_label, soft_masks

_ERODE = np.ones((3, 3), np.uint8)


@dataclass
class PersonMasks:
    """One frame's people at segmentation scale (h x w): ``masks`` P x h x w float32 in [0, 1]
    (summing to at most 1), ``ids`` the person id of each row (:data:`ANONYMOUS` for people no
    seed reached), ``labels`` the hard h x w uint16 map, ``anchors`` a point per id (seg px) to
    print the id at, ``faces`` the face box (frame px) of each id that has one."""

    ids: list[int]
    masks: np.ndarray
    labels: np.ndarray
    anchors: dict[int, tuple[float, float]] = field(default_factory=dict)
    faces: dict[int, np.ndarray] = field(default_factory=dict)

    @property
    def shape(self) -> tuple[int, int]:
        return self.labels.shape

    def mask_of(self, pid: int) -> np.ndarray:
        return self.masks[self.ids.index(pid)] if pid in self.ids else np.zeros(self.shape, np.float32)


class PersonTracker:
    """``update(prob, tracks, flow_bw, consistency, frame_hw)`` -> :class:`PersonMasks` per frame.

    ``prob``: h x w person probability (None between segmentations); ``tracks``: the visible face
    tracks (``.id``, ``.box`` in frame px); ``flow_bw``/``consistency``: 1 x 2 x hf x wf and
    1 x 1 x hf x wf (t -> t-1, px at flow scale), or None after a cut or at the first frame.
    """

    def __init__(
        self,
        smoothing: float = 0.5,
        feather_px: float = 1.5,
        threshold: float = 0.5,
        body: float = 1.5,
        attach: float = 0.08,
        min_area: float = 0.01,
        forget: int = 30,
    ):
        self.smoothing = smoothing
        self.feather_px = feather_px
        self.threshold = threshold
        self.body = body
        self.attach = attach  # share of the long side
        self.min_area = min_area  # share of the frame
        self.forget = forget  # frames a person may be absent before its row is dropped
        self.track_person: dict[int, int] = {}
        self.next_id = 1
        self.masks: torch.Tensor | None = None  # 1 x P x h x w, carried between frames
        self.ids: list[int] = []
        self.absent: dict[int, int] = {}
        self.id_history: list[int] = []  # ids in order of first appearance

    def _new_id(self) -> int:
        pid = self.next_id
        self.next_id += 1
        self.id_history.append(pid)
        return pid

    def _carried(
        self, shape: tuple[int, int], flow_bw, consistency
    ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """The previous masks warped onto this frame (1 x P x h x w) and the consistency there."""
        if self.masks is None or not self.ids:
            return None, None
        if self.masks.shape[-2:] != shape:
            self.masks = torch.nn.functional.interpolate(
                self.masks, size=shape, mode="bilinear", align_corners=False
            )
        if flow_bw is None:
            return self.masks, None
        flow = resize_flow(flow_bw.float().cpu(), shape)
        c = resize_mask(consistency.float().cpu(), shape) if consistency is not None else None
        return warp(self.masks, flow), c

    def update(
        self,
        prob: np.ndarray | None,
        tracks: list,
        flow_bw: torch.Tensor | None,
        consistency: torch.Tensor | None,
        frame_hw: tuple[int, int],
        seg_hw: tuple[int, int] | None = None,
    ) -> PersonMasks | None:
        shape: tuple[int, int]
        if prob is not None:
            shape = (prob.shape[0], prob.shape[1])
        elif seg_hw is not None:
            shape = seg_hw
        elif self.masks is not None:
            shape = (int(self.masks.shape[-2]), int(self.masks.shape[-1]))
        else:
            return None
        carried, c = self._carried(shape, flow_bw, consistency)
        carried_labels = self._labels(carried)
        sx = shape[1] / frame_hw[1]
        live = {t.id for t in tracks}
        self.track_person = {k: v for k, v in self.track_person.items() if k in live}
        worn = {t.id: owner for t in tracks if (owner := _wearer(t, tracks)) is not None}
        for t in sorted(tracks, key=lambda t: t.box[0]):  # people appearing together: left to right
            if t.id not in self.track_person and t.id not in worn:
                pid = majority_label(carried_labels, t.box * sx)
                if pid == 0 or pid in self.track_person.values():
                    pid = self._new_id()
                self.track_person[t.id] = pid
        for t in sorted(tracks, key=lambda t: t.box[1]):  # top down, so chains resolve
            if t.id in worn:
                self.track_person[t.id] = self.track_person.get(worn[t.id].id) or self._new_id()
        faces: dict[int, np.ndarray] = {}
        for t in sorted(tracks, key=lambda t: -t.box[1]):  # the topmost face of a person last: wins
            faces[self.track_person[t.id]] = t.box
        if prob is None:
            masks, ids = carried, list(self.ids)
            if masks is None:
                return None
        else:
            labels = self._split(prob, tracks, carried_labels, sx)
            ids = sorted(int(v) for v in np.unique(labels) if v != 0)
            ids = sorted(set(ids) | set(self.ids))
            fresh = torch.from_numpy(soft_masks(labels, prob, ids, self.feather_px))[None]
            masks = fresh
            if carried is not None and c is not None and self.smoothing > 0:
                old = torch.zeros_like(fresh)
                for k, pid in enumerate(self.ids):
                    old[:, ids.index(pid)] = carried[:, k]
                masks = fresh + (self.smoothing * c) * (old - fresh)
        kept = self._keep(masks, ids)
        labels = self._labels(kept)
        arr = kept[0].numpy()
        return PersonMasks(list(self.ids), arr, labels, self._anchors(labels, faces, sx), faces)

    def _labels(self, masks: torch.Tensor | None) -> np.ndarray:
        if masks is None or masks.shape[1] == 0:
            return np.zeros((1, 1), np.uint16) if masks is None else np.zeros(masks.shape[-2:], np.uint16)
        best, arg = masks[0].max(0)
        ids = torch.tensor(self.ids, dtype=torch.int64)
        out = torch.where(best > self.threshold * 0.5, ids[arg], torch.zeros_like(arg))
        return out.numpy().astype(np.uint16)

    def _split(self, prob: np.ndarray, tracks: list, carried: np.ndarray, sx: float) -> np.ndarray:
        h, w = prob.shape
        fg = prob > self.threshold
        seeds = np.zeros((h, w), np.uint16)
        if carried.shape == (h, w):
            # carried labels, shrunk a pixel so the fronts can re-form along the new edges
            for pid in np.unique(carried):
                if pid == 0:
                    continue
                core = cv2.erode((carried == pid).astype(np.uint8), _ERODE).astype(bool)
                seeds[core & fg] = pid
        for t in sorted(tracks, key=lambda t: -t.box[3]):  # nearer (lower) faces drawn last
            region = face_seed_regions(t.box * sx, (h, w), self.body) & fg
            seeds[region] = self.track_person[t.id]
        labels = grow_labels(seeds, fg)
        labels, blobs = attach_leftovers(labels, fg, self.attach * max(h, w), int(self.min_area * h * w))
        for blob in sorted(blobs, key=lambda b: np.nonzero(b)[1].min()):  # left to right
            labels[blob] = self._new_id()
        return labels

    def _keep(self, masks: torch.Tensor, ids: list[int]) -> torch.Tensor:
        """Store the masks for the next frame, dropping people absent for ``forget`` frames; returns
        what was stored (1 x P' x h x w)."""
        keep = []
        for k, pid in enumerate(ids):
            present = float(masks[0, k].max()) > self.threshold
            self.absent[pid] = 0 if present else self.absent.get(pid, 0) + 1
            if self.absent[pid] <= self.forget:
                keep.append(k)
        self.ids = [ids[k] for k in keep]
        self.masks = masks[:, keep].contiguous()
        return self.masks

    @staticmethod
    def _anchors(
        labels: np.ndarray, faces: dict[int, np.ndarray], sx: float
    ) -> dict[int, tuple[float, float]]:
        out = {}
        for pid in np.unique(labels):
            if pid == 0:
                continue
            if int(pid) in faces:
                b = faces[int(pid)] * sx
                out[int(pid)] = (float(b[0]), float(b[1]))
            else:
                ys, xs = np.nonzero(labels == pid)
                out[int(pid)] = (float(xs.mean()), float(ys.min()))
        return out


def _wearer(face, tracks: list):
    """The track whose body ``face`` sits on (a face printed on a shirt, often larger than the
    wearer's own, or a photo held against the chest): its centre lies in line below that face,
    within the face's width and half a face to four face heights down. None when it sits on
    nobody."""
    x1, y1, x2, y2 = face.box
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    for other in tracks:
        if other is face:
            continue
        ox1, oy1, ox2, oy2 = other.box
        fh = oy2 - oy1
        if ox1 <= cx <= ox2 and oy2 + 0.5 * fh < cy <= oy2 + 4 * fh:
            return other
    return None
