"""Content images, style images, and the per-step training batches.

A batch is a pure function of (seed, step): the data order is a seeded permutation per epoch and
every random choice of a step (crop, flip, motion, noise, style) comes from a generator seeded with
(seed, step). Resuming at step k therefore sees exactly the batches an uninterrupted run would,
with or without loader processes.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from ..errors import InputError
from ..faces.detector import Faces
from ..io.imagefile import open_image
from ..io.source import IMAGE_SUFFIXES
from .batch import FaceTargets, FramePairs, TrainBatch
from .config import DataConfig, MotionConfig
from .temporal import FramePair, frame_pair

_FLIP_LANDMARKS = [1, 0, 2, 4, 3]  # left/right swap under a horizontal flip


def read_rgb(path: Path) -> np.ndarray | None:
    """The image as RGB uint8 H x W x 3, or None when it cannot be decoded."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PIL's EXIF chatter
            with open_image(path) as im:
                im = im.convert("RGB")
                im.load()
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError, InputError):  # InputError: too big
        return None
    if im.width < 8 or im.height < 8:
        return None
    return np.asarray(im)


def list_images(dirs: list[Path]) -> list[Path]:
    """Image files under ``dirs`` (recursive, sorted); errors name the directory at fault."""
    if not dirs:
        raise InputError("no content directory given (--content DIR)")
    found: list[Path] = []
    for d in dirs:
        if not d.exists():
            raise InputError(f"content directory not found: {d}")
        if not d.is_dir():
            raise InputError(f"content path is not a directory: {d}")
        files = sorted(p for p in d.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
        if not files:
            raise InputError(f"no images (.jpg, .png, ...) in content directory {d}")
        found += files
    return found


def check_readable(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """Split ``paths`` into (readable, bad) by their headers; all bad is an error."""
    good: list[Path] = []
    bad: list[Path] = []
    for p in paths:
        try:
            with open_image(p) as im:
                ok = im.width >= 8 and im.height >= 8
        except (OSError, UnidentifiedImageError, ValueError, SyntaxError, InputError):  # or too big
            ok = False
        (good if ok else bad).append(p)
    if not good:
        where = ", ".join(sorted({str(p.parent) for p in paths})[:3])
        raise InputError(f"none of the {len(paths)} content images can be read ({where})")
    return good, bad


def load_style(path: Path, size: int) -> torch.Tensor:
    """Style image as 1 x 3 x H x W float (0..255), longer side ``size``."""
    if not path.is_file():
        raise InputError(f"style image not found: {path}")
    rgb = read_rgb(path)
    if rgb is None:
        raise InputError(f"style image cannot be read (not an image, or corrupt): {path}")
    im = Image.fromarray(rgb)
    f = size / max(im.size)
    im = im.resize((max(4, round(im.width * f)), max(4, round(im.height * f))), Image.Resampling.LANCZOS)
    return torch.from_numpy(np.array(im)).permute(2, 0, 1)[None].float()


def center_crop(rgb: np.ndarray, size: int) -> torch.Tensor:
    """Shorter side resized to ``size``, centre crop: 3 x size x size float (0..255)."""
    im = Image.fromarray(rgb)
    f = size / min(im.size)
    im = im.resize(
        (max(size, round(im.width * f)), max(size, round(im.height * f))), Image.Resampling.BILINEAR
    )
    x0, y0 = (im.width - size) // 2, (im.height - size) // 2
    return torch.from_numpy(np.array(im.crop((x0, y0, x0 + size, y0 + size)))).permute(2, 0, 1).float()


def step_generator(seed: int, step: int, stream: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed((seed * 1_000_003 + stream) * 2_147_483_647 + step)


class _Sample(NamedTuple):
    """One crop before batching: content 3 x S x S, its frame pair, its face targets."""

    content: torch.Tensor
    pair: FramePair | None
    faces: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None  # mask, landmarks, usable


class StepBatches(torch.utils.data.Dataset):
    """``batches[step]`` -> the :class:`~vidstyle.train.batch.TrainBatch` of that step.

    Every batch has ``content`` and ``style``; ``faces`` when ``faces`` (detected faces per content
    file) is given, ``pairs`` when ``temporal`` is on.
    """

    def __init__(
        self,
        paths: list[Path],
        cfg: DataConfig,
        motion: MotionConfig,
        batch: int,
        num_styles: int,
        seed: int,
        faces: dict[Path, Faces] | None = None,
        temporal: bool = False,
        face_margin: float = 0.15,
        identity_min_face: int = 24,
    ):
        self.paths = list(paths)
        self.cfg, self.motion, self.batch = cfg, motion, batch
        self.num_styles, self.seed = num_styles, seed
        self.faces = faces
        self.temporal = temporal
        self.face_margin, self.identity_min_face = face_margin, identity_min_face
        self.bad: set[int] = set()
        self._perms: dict[int, torch.Tensor] = {}

    def __len__(self) -> int:  # steps are unbounded; the sampler decides which ones run
        return 2**62

    def _index(self, pos: int) -> int:
        n = len(self.paths)
        epoch, k = divmod(pos, n)
        if epoch not in self._perms:
            self._perms = {epoch: torch.randperm(n, generator=step_generator(self.seed, epoch, 1))}
        return int(self._perms[epoch][k])

    def _load(self, pos: int, skipped: list[str]) -> tuple[np.ndarray, Path]:
        for attempt in range(len(self.paths)):
            i = self._index(pos + attempt)
            if i in self.bad:
                continue
            rgb = read_rgb(self.paths[i])
            if rgb is not None:
                return rgb, self.paths[i]
            self.bad.add(i)
            skipped.append(str(self.paths[i]))
        raise InputError("none of the content images can be decoded")

    def __getitem__(self, step: int) -> TrainBatch:
        gen = step_generator(self.seed, step)
        skipped: list[str] = []
        picks = 1 if self.cfg.style_pick == "step" else self.batch
        if self.cfg.style_weights:
            odds = torch.tensor([float(f) for f in self.cfg.style_weights])
            styles = torch.multinomial(odds, picks, replacement=True, generator=gen)
        else:  # equal odds: the draw the bundled recipes were trained with, kept reproducible
            styles = torch.randint(self.num_styles, (picks,), generator=gen)
        styles = styles.expand(self.batch).clone()
        samples = [self._sample(step * self.batch + j, gen, skipped) for j in range(self.batch)]
        faces = pairs = None
        if self.faces is not None:
            mask, marks, usable = (torch.stack(part) for part in zip(*(s.faces for s in samples if s.faces)))
            faces = FaceTargets(mask, marks, usable)
        if self.temporal:
            frames = [s.pair for s in samples if s.pair]
            pairs = FramePairs(
                torch.stack([p.next for p in frames]),
                torch.stack([p.next_clean for p in frames]),
                torch.stack([p.grid for p in frames]),
                torch.stack([p.mask for p in frames]),
            )
        content = torch.stack([s.content for s in samples])
        return TrainBatch(content, styles, faces, pairs, tuple(skipped))

    def _sample(self, pos: int, gen: torch.Generator, skipped: list[str]) -> _Sample:
        rgb, path = self._load(pos, skipped)
        S, cfg = self.cfg.image_size, self.cfg
        h, w = rgb.shape[:2]
        short = S * (1.0 + cfg.scale_jitter * float(torch.rand((), generator=gen)))
        f = short / min(h, w)
        wc, hc = max(S, round(w * f)), max(S, round(h * f))
        canvas_im = Image.fromarray(rgb).resize((wc, hc), Image.Resampling.BILINEAR)
        flip = cfg.hflip and bool(torch.rand((), generator=gen) < 0.5)
        if flip:
            canvas_im = canvas_im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        canvas = torch.from_numpy(np.array(canvas_im)).permute(2, 0, 1).float()
        x0 = int(torch.randint(wc - S + 1, (), generator=gen))
        y0 = int(torch.randint(hc - S + 1, (), generator=gen))
        content = canvas[:, y0 : y0 + S, x0 : x0 + S].contiguous()
        pair = frame_pair(canvas, x0, y0, S, gen, self.motion) if self.temporal else None
        targets = None
        if self.faces is not None:
            faces = self.faces.get(path, Faces.empty())
            faces = faces.scaled(wc / w) if len(faces) else faces
            targets = self._face_targets(faces, wc, x0, y0, flip)
        return _Sample(content, pair, targets)

    def _face_targets(
        self, faces: Faces, wc: int, x0: int, y0: int, flip: bool
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(mask 1 x S x S, landmarks F x 5 x 2, usable F) of one crop; see FaceTargets."""
        S, m = self.cfg.image_size, self.cfg.max_faces
        mask = torch.zeros(1, S, S)
        lms = torch.zeros(m, 5, 2)
        ok = torch.zeros(m, dtype=torch.bool)
        boxes, marks = faces.boxes.copy(), faces.landmarks.copy()
        if flip and len(faces):
            boxes[:, [0, 2]] = wc - 1 - boxes[:, [2, 0]]
            marks = marks[:, _FLIP_LANDMARKS]
            marks[..., 0] = wc - 1 - marks[..., 0]
        boxes -= np.array([x0, y0, x0, y0], np.float32)
        marks -= np.array([x0, y0], np.float32)
        order = np.argsort(-(boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]))
        kept = 0
        for i in order:
            x1, y1, x2, y2 = boxes[i]
            if x2 <= 0 or y2 <= 0 or x1 >= S - 1 or y1 >= S - 1 or kept >= m:
                continue
            gx, gy = (x2 - x1) * self.face_margin, (y2 - y1) * self.face_margin
            xa, ya = max(0, int(x1 - gx)), max(0, int(y1 - gy))
            xb, yb = min(S, int(np.ceil(x2 + gx)) + 1), min(S, int(np.ceil(y2 + gy)) + 1)
            mask[:, ya:yb, xa:xb] = 1.0
            lms[kept] = torch.from_numpy(marks[i])
            inside = bool(((marks[i] >= 0) & (marks[i] <= S - 1)).all())
            ok[kept] = inside and bool(x2 - x1 >= self.identity_min_face)
            kept += 1
        return mask, lms, ok
