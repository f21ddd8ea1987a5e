"""Per-region looks: put each person's and the background's source together into one frame.

All math on the pipeline's device, images 1 x 3 x h x w in [0, 1] at stylization size. With
region weights m_r (the person masks, scaled up, and the background 1 - sum m):

    composite = sum_s W_s * image_s,    W_s = sum of m_r over the regions whose source is s

The composite goes through the temporal blend and face preservation like a plain stylized
frame; then regions whose source is ``original`` or ``blur`` are put back exactly
(:func:`restore_plain`), so pixels kept original stay bit-identical to the input (the warp of the
temporal blend would soften them).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..people.styles import BLUR, ORIGINAL, PLAIN, PeoplePlan
from ..people.tracker import PersonMasks, PersonTracker
from .faces import blur_coarse


def region_weights(masks: torch.Tensor, size: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """P x hs x ws person masks -> (1 x P x h x w scaled to ``size``, background 1 x 1 x h x w)."""
    up = F.interpolate(masks[None], size=size, mode="bilinear", align_corners=False).clamp_(0, 1)
    background = (1.0 - up.sum(1, keepdim=True)).clamp_(0, 1)
    return up, background


def composite(images: dict[str, torch.Tensor], weights: dict[str, torch.Tensor]) -> torch.Tensor:
    """sum_s weights[s] * images[s] over the sources present in ``weights`` (at least one)."""
    terms = [w * images[source] for source, w in weights.items()]
    out = terms[0]
    for term in terms[1:]:
        out = out + term
    return out


def restore_plain(
    out: torch.Tensor, images: dict[str, torch.Tensor], weights: dict[str, torch.Tensor]
) -> torch.Tensor:
    """out * (1 - k) + sum over plain sources of W_s * image_s, k = sum of their weights."""
    plain = {s: w for s, w in weights.items() if s in PLAIN}
    if not plain:
        return out
    keep = sum(plain.values())
    return out * (1 - keep) + composite(images, plain)


class PeopleComposer:
    """Region weights per source for one frame, and the composite of the sources."""

    def __init__(self, plan: PeoplePlan, slots: list[str], blur_share: float):
        self.plan = plan
        self.slots = slots
        self.blur_share = blur_share

    def sources(self, stylized: list[torch.Tensor], original: torch.Tensor) -> dict[str, torch.Tensor]:
        """Images by source name (stylized slots, ``original``; ``blur`` is made on demand)."""
        out = {spec: img for spec, img in zip(self.slots, stylized)}
        out[ORIGINAL] = original
        return out

    def weights(
        self, people: PersonMasks | None, size: tuple[int, int], device, dtype
    ) -> dict[str, torch.Tensor]:
        bg_source = self.plan.background_source()
        if people is None or not people.ids:
            return {bg_source: torch.ones((1, 1) + size, device=device, dtype=dtype)}
        masks = torch.from_numpy(people.masks).to(device, dtype)
        up, background = region_weights(masks, size)
        out: dict[str, torch.Tensor] = {bg_source: background}
        for k, pid in enumerate(people.ids):
            src = self.plan.person_source(pid)
            w = up[:, k : k + 1]
            out[src] = out[src] + w if src in out else w
        return out

    def compose(
        self, stylized: list[torch.Tensor], original: torch.Tensor, people: PersonMasks | None
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        """(composite, images by source, weights by source); tensors 1 x C x h x w."""
        size = (original.shape[-2], original.shape[-1])
        weights = self.weights(people, size, original.device, original.dtype)
        images = self.sources(stylized, original)
        if BLUR in weights:
            images[BLUR] = blur_coarse(original, self.blur_share * max(size))
        return composite(images, weights), images, weights


class PeopleRegions:
    """The compose stage's person state: face tracks (when face preservation is off), person
    ids and masks (:class:`~vidstyle.people.tracker.PersonTracker`) and the composite."""

    def __init__(self, plan: PeoplePlan, slots: list[str], cfg, faces_cfg):
        """``cfg``: :class:`~vidstyle.config.PeopleConfig`; ``faces_cfg``: the tracker settings."""
        from ..faces.tracker import FaceTracker

        self.composer = PeopleComposer(plan, slots, cfg.blur)
        self.tracker = PersonTracker(
            smoothing=cfg.smoothing, feather_px=cfg.feather, threshold=cfg.threshold, body=cfg.body
        )
        f = faces_cfg
        self.face_tracker = FaceTracker(f.iou_match, f.smoothing, f.fade_frames, f.hold)
        self.debug = cfg.debug
        self.frames_with_people = 0
        self.max_people = 0

    def track(self, frame_hw: tuple[int, int], detections, flow_bw) -> list:
        from .faces import update_tracks

        return update_tracks(self.face_tracker, frame_hw, detections, flow_bw)

    def compose(
        self,
        stylized: list[torch.Tensor],
        original: torch.Tensor,
        prob,
        tracks: list,
        flow_bw,
        consistency,
        frame_hw: tuple[int, int],
    ):
        """(composite 1 x 3 x h x w, (images, weights) for :meth:`restore`, PersonMasks or None)."""
        people = self.tracker.update(prob, tracks, flow_bw, consistency, frame_hw)
        if people is not None and people.ids:
            self.frames_with_people += 1
            self.max_people = max(self.max_people, len(people.ids))
        out, images, weights = self.composer.compose([s[None] for s in stylized], original, people)
        return out, (images, weights), people

    def restore(self, out: torch.Tensor, regions) -> torch.Tensor:
        return restore_plain(out, *regions)

    def summary(self) -> dict:
        return {
            "frames_with_people": self.frames_with_people,
            "max_people": self.max_people,
            "ids": list(self.tracker.id_history),
        }
