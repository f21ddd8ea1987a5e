"""Finished frames of a multi-frame job, kept beside the output so a stopped job resumes.

Layout: ``DIR/job.json`` (what the frames were made from) and ``DIR/pass<P>/<index>.png`` (8-bit
RGB at the optimized size). A work dir whose job.json differs from the current job's is emptied
first; frames are written under a temporary name and renamed, so a killed process never leaves a
truncated frame behind.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import torch

from ..errors import OutputError
from ..log import log


class WorkDir:
    def __init__(self, path: Path, job: dict):
        self.path = Path(path)
        self.job = json.loads(json.dumps(job, default=str))
        self.resumed = 0

    def open(self) -> WorkDir:
        meta = self.path / "job.json"
        try:
            if meta.is_file() and json.loads(meta.read_text()) != self.job:
                log.warning(
                    f"{self.path} holds frames of a different job (settings, input or "
                    f"painting changed): starting over"
                )
                shutil.rmtree(self.path)
            self.path.mkdir(parents=True, exist_ok=True)
            if not meta.is_file():
                meta.write_text(json.dumps(self.job, indent=1, sort_keys=True))
        except (OSError, ValueError) as exc:
            raise OutputError(
                f"cannot use the work folder {self.path}: {getattr(exc, 'strerror', None) or exc}"
            ) from None
        return self

    def _file(self, pass_no: int, index: int) -> Path:
        return self.path / f"pass{pass_no}" / f"{index:06d}.png"

    def has(self, pass_no: int, index: int) -> bool:
        return self._file(pass_no, index).is_file()

    def load(self, pass_no: int, index: int, device) -> torch.Tensor | None:
        """A finished frame as 1 x 3 x h x w float 0..255, or None."""
        from PIL import Image

        path = self._file(pass_no, index)
        if not path.is_file():
            return None
        try:
            with Image.open(path) as im:
                rgb = np.array(im.convert("RGB"))
        except OSError:
            return None
        self.resumed += 1
        return torch.from_numpy(rgb).permute(2, 0, 1)[None].float().to(device)

    def save(self, pass_no: int, index: int, image: torch.Tensor) -> None:
        from PIL import Image

        path = self._file(pass_no, index)
        path.parent.mkdir(exist_ok=True)
        tmp = path.with_name(f".{path.name}.part")
        rgb = image[0].detach().round().clamp(0, 255).to(torch.uint8).permute(1, 2, 0).cpu().numpy()
        try:
            Image.fromarray(rgb).save(tmp, format="PNG")
            os.replace(tmp, path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise OutputError(f"writing {path} failed: {exc.strerror or exc}") from None

    def complete_pass(self, frames: int) -> int:
        """The highest pass with all ``frames`` frames finished (0: none)."""
        done = 0
        while all(self.has(done + 1, i) for i in range(frames)) and frames:
            done += 1
        return done

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
