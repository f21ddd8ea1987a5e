"""OptimizeStage: the pipeline's stylize step done by optimization (Gatys per image, Ruder per
video), between the usual preprocess (upload + resize to ``--size``) and postprocess (back to the
source size) stages, so decode/encode, timing and audio are the same code as ``stylize``.

    Item.image    3 x h x w float [0, 1] (device)  -> optimized ->  Item.stylized (same shape)
"""

from __future__ import annotations

import torch

from ..config import OptimizeConfig
from ..pipeline.item import Item, need
from ..pipeline.stage import BaseStage
from .color import preserve_color
from .gatys import Gatys
from .progress import OptimizeProgress
from .video import Frame, RuderVideo
from .workdir import WorkDir


class OptimizeStage(BaseStage):
    """``temporal``: the items are a video's frames (Ruder); else independent images (Gatys).
    ``work``: finished frames are saved there and reused when the job runs again."""

    name = "optimize"

    def __init__(
        self,
        cfg: OptimizeConfig,
        gatys: Gatys,
        video: RuderVideo,
        temporal: bool,
        work: WorkDir | None,
        progress: OptimizeProgress,
    ):
        self.cfg, self.gatys, self.video = cfg, gatys, video
        self.temporal, self.work, self.progress = temporal, work, progress
        self.multipass = temporal and cfg.passes > 1
        self._held: list[tuple[Item, Frame]] = []

    def _frame(self, item: Item) -> Frame:
        content = need(item.image, "image")[None].float() * 255.0
        rgb = content[0].round().clamp(0, 255).to(torch.uint8).permute(1, 2, 0).cpu().numpy()
        return Frame(item.frame.index, content, rgb, self.video.motion.gray(rgb) if self.temporal else None)

    def _output(self, item: Item, frame: Frame) -> Item:
        out = frame.finished()
        if self.cfg.preserve_color:
            out = preserve_color(out, frame.content)
        item.stylized = (out[0] / 255.0).to(need(item.image, "image").dtype)
        return item

    def process(self, items: list[Item]) -> list[Item]:
        out = []
        for item in items:
            frame = self._frame(item)
            if self.multipass:
                self._held.append((item, frame))
                continue
            loaded = self.work.load(1, frame.index, self.gatys.device) if self.work else None
            first = self.temporal and not self.video.history
            iters = (self.cfg.iters_first or 2 * self.cfg.iters) if first else self.cfg.iters
            self.progress.begin(frame.index, resumed=loaded is not None, iters=iters)
            if loaded is not None:
                frame.result = loaded
                self.video.remember(frame)
            elif self.temporal:
                self.video.frame(frame)
            else:
                init = self.video.first_fill(frame.content, frame.index)
                faces = self.gatys.face_terms(frame.rgb)
                frame.result = self.gatys.solve(
                    frame.content, init, self.cfg.iters, faces=faces, on_iter=self.progress.iteration
                ).image
            if self.work is not None and loaded is None:
                self.work.save(1, frame.index, frame.finished())
            out.append(self._output(item, frame))
        return out

    def close(self) -> list[Item]:
        if not self._held:
            return []
        frames = [f for _, f in self._held]
        start = 1
        if self.work is not None:
            done = min(self.work.complete_pass(len(frames)), self.cfg.passes)
            if done:
                for f in frames:
                    f.result = self.work.load(done, f.index, self.gatys.device)
                start = done + 1
                self.progress.skip(done * len(frames))

        def saved(p: int, fs: list[Frame]) -> None:
            if self.work is not None:
                for f in fs:
                    self.work.save(p, f.index, f.finished())

        self.video.multipass(
            frames,
            start,
            on_pass_done=saved,
            on_frame=lambda p, t: self.progress.begin(t, pass_no=p, iters=self.cfg.pass_iters),
        )
        out = [self._output(item, f) for item, f in self._held]
        self._held = []
        return out

    def summary(self) -> dict:
        return {"resumed_frames": self.work.resumed} if self.work is not None and self.work.resumed else {}
