"""Faces of the content images, detected once and kept in a JSON cache.

Entries are keyed by absolute path, modification time and size, so an edited image is detected
again; the detector settings are part of the file, so changing them starts a fresh cache.
Images are detected at most ``max_side`` px on the longer side and the coordinates scaled back.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import ConfigError, InputError
from ..faces.detector import FaceDetector, Faces
from ..geometry import fit_long_side
from ..log import log
from ..optional import require
from .data import read_rgb

CACHE_VERSION = 1
SAVE_EVERY = 50
MTCNN_MIN_FACE = 20  # px
MTCNN_THRESHOLDS = [0.6, 0.7, 0.7]  # the three cascade stages
MTCNN_SCORE_MIN = 0.9
FACE_SETTINGS = {
    "detector": "mtcnn",
    "min_face": MTCNN_MIN_FACE,
    "thresholds": MTCNN_THRESHOLDS,
    "score_min": MTCNN_SCORE_MIN,
}  # part of the cache file: changing one starts a fresh cache


def cache_key(path: Path) -> str:
    st = path.stat()
    return f"{os.path.abspath(path)}|{st.st_mtime_ns}|{st.st_size}"


def _shrink(image: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    h, w = image.shape[:2]
    if max(h, w) <= max_side:
        return image, 1.0
    sh, sw = fit_long_side(h, w, max_side)
    small = Image.fromarray(image).resize((sw, sh), Image.Resampling.BILINEAR)
    return np.asarray(small), w / small.width


class FaceCache:
    """``faces(paths)`` -> {path: Faces}; unreadable images are listed in ``bad``."""

    def __init__(
        self, file: Path, detector_factory: Callable[[], FaceDetector], settings: dict, max_side: int = 1024
    ):
        self.file = Path(file)
        self.factory = detector_factory
        self.settings = {**settings, "max_side": max_side}
        self.max_side = max_side
        self.entries: dict[str, dict] = {}
        self.bad: list[Path] = []
        self._load()

    def _load(self) -> None:
        try:
            data = json.loads(self.file.read_text())
        except (OSError, ValueError):
            return
        if data.get("version") == CACHE_VERSION and data.get("settings") == self.settings:
            self.entries = data.get("entries", {})

    def save(self) -> None:
        self.file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.file.with_name(f".{self.file.name}.tmp")
        tmp.write_text(
            json.dumps({"version": CACHE_VERSION, "settings": self.settings, "entries": self.entries})
        )
        os.replace(tmp, self.file)

    def faces(self, paths: Iterable[Path], progress: bool = False) -> dict[Path, Faces]:
        paths = list(paths)
        keys = {p: cache_key(p) for p in paths}
        todo = [p for p in paths if keys[p] not in self.entries]
        if todo:
            log.info(f"detecting faces in {len(todo)} content images (cached in {self.file})")
            self._detect(todo, keys, progress)
        out = {}
        for p in paths:
            entry = self.entries.get(keys[p])
            if entry is None or entry.get("bad"):
                continue
            out[p] = Faces.from_json(entry)
        self.bad = [p for p in paths if self.entries.get(keys[p], {}).get("bad")]
        return out

    def _detect(self, todo: list[Path], keys: dict[Path, str], progress: bool) -> None:
        from tqdm import tqdm

        detector = self.factory()
        for i, path in enumerate(tqdm(todo, desc="faces", unit="img", disable=not progress, leave=False)):
            image = read_rgb(path)
            if image is None:
                self.entries[keys[path]] = {"bad": True}
                continue
            small, back = _shrink(image, self.max_side)
            found = detector.detect([small])[0]
            if back != 1.0:
                found = found.scaled(back)
            self.entries[keys[path]] = found.to_json()
            if (i + 1) % SAVE_EVERY == 0:
                self.save()
        self.save()


def mtcnn(device: str) -> FaceDetector:
    """The training detector (MTCNN with :data:`FACE_SETTINGS`); ConfigError without facenet-pytorch."""
    from ..faces.detector import MTCNNDetector

    require(
        "facenet_pytorch",
        "the face losses need facenet-pytorch (pip install --no-deps "
        "facenet-pytorch), or set loss.face_mode=off",
        ConfigError,
    )
    return MTCNNDetector(
        device=device, min_face=MTCNN_MIN_FACE, thresholds=MTCNN_THRESHOLDS, score_min=MTCNN_SCORE_MIN
    )


def content_faces(
    paths: list[Path], cache: FaceCache, progress: bool = False
) -> tuple[dict[Path, Faces], list[Path]]:
    """({path: faces}, the decodable ``paths``) through ``cache``; files that fail to decode are
    logged and left in ``cache.bad``. InputError when none can be decoded."""
    faces = cache.faces(paths, progress=progress)
    for p in cache.bad:
        log.warning(f"skipping unreadable content image {p}")
    bad = set(cache.bad)
    kept = [p for p in paths if p not in bad]
    if not kept:
        raise InputError("none of the content images can be decoded")
    n_faces = sum(len(f) for f in faces.values())
    with_faces = sum(1 for f in faces.values() if len(f))
    log.info(f"{n_faces} faces in {with_faces} of {len(faces)} content images")
    return faces, kept
