"""Animated GIF, APNG and WebP inputs: which image files are animations, and a Pillow decoder
for the one FFmpeg cannot read.

Measured with PyAV 18.1 (FFmpeg 8.1) and Pillow 13 on 320x240, 60-frame files with unequal
durations: FFmpeg's gif and apng demuxers give every frame with its own pts, pixel-identical to
Pillow's frames at about the same speed (GIF 96 vs 82 ms, APNG 176 vs 226 ms), and FFmpeg keeps
more of a truncated GIF (4 frames vs Pillow's 3 with 90 % of the file), so GIF and APNG go
through :class:`~vidstyle.io.source.VideoFileSource`. FFmpeg's webp decoder rejects animated
WebP ("Invalid data found"), so animated WebP is decoded here, by Pillow (libwebp).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from ..errors import InputError
from .frame import Frame, VideoInfo
from .imagefile import open_image

MAYBE_ANIMATED = {".gif", ".png", ".webp"}  # image names whose files may hold an animation
MS = Fraction(1, 1000)
_PILLOW_ERRORS = (UnidentifiedImageError, OSError, SyntaxError, ValueError, IndexError, EOFError)


def display_ms(duration_ms: int) -> int:
    """How long browsers show a frame stated as ``duration_ms``: 10 ms or less shows for 100 ms
    (Chromium and Firefox; FFmpeg's gif demuxer gives 100 ms to later frames under 20 ms)."""
    return 100 if duration_ms <= 10 else duration_ms


def animation(path: Path) -> tuple[bool, int | None]:
    """(whether the file holds more than one frame, Pillow's ``loop``: 0 forever, None once).

    A file Pillow cannot open is judged by its name and header: a GIF is left to FFmpeg (which
    decodes more of a damaged one), a WebP counts as animated when its header says so.
    """
    try:
        with open_image(path) as im:
            loop = im.info.get("loop")
            return bool(getattr(im, "is_animated", False)), loop
    except _PILLOW_ERRORS:
        if path.suffix.lower() == ".gif":
            return True, 0
        return path.suffix.lower() == ".webp" and webp_is_animated(path), 0


def start_past_end(start: float, length: float | None, detail: str = "") -> InputError:
    """The one-line error for a --start at or after the end of an input ``length`` s long
    (None: unknown); ``detail`` adds how the length was counted."""
    if length is None:
        return InputError(f"--start {start:g} s is past the end of the input (no frames from there on)")
    shown = f"{length:.1f}" if length >= 1 else f"{length:.2f}"
    return InputError(f"--start {start:g} s is past the end of the input ({shown} s{detail})")


def apng_frames(path: Path) -> int:
    """The frame count an APNG states in its acTL chunk (0 when Pillow cannot read it)."""
    try:
        with open_image(path) as im:
            return int(getattr(im, "n_frames", 0))
    except _PILLOW_ERRORS:
        return 0


def cut_short(path: Path) -> str:
    """Why a GIF or PNG file is incomplete ('' when it ends with its trailer: GIF ';', PNG IEND)."""
    with open(path, "rb") as f:
        f.seek(max(0, path.stat().st_size - 64))
        tail = f.read().rstrip(b"\0")
    if path.suffix.lower() == ".gif" and not tail.endswith(b";"):
        return "the GIF is cut short: no trailer"
    if path.suffix.lower() in (".png", ".apng") and b"IEND" not in tail[-12:]:
        return "the PNG is cut short: no IEND chunk"
    return ""


def webp_is_animated(path: Path) -> bool:
    """The animation flag of a WebP file's VP8X header (False for a simple or unknown file)."""
    with open(path, "rb") as f:
        head = f.read(21)
    return len(head) == 21 and head[:4] == b"RIFF" and head[8:16] == b"WEBPVP8X" and bool(head[20] & 0x02)


def webp_durations(path: Path) -> list[int]:
    """Stated durations (ms) of an animated WebP's frames, from its ANMF chunk headers; the
    chunks a truncated file still holds."""
    durations = []
    with open(path, "rb") as f:
        f.seek(12)
        while len(header := f.read(8)) == 8:
            size = int.from_bytes(header[4:], "little")
            if header[:4] == b"ANMF":
                fields = f.read(16)  # x, y, width-1, height-1, duration: 3 bytes each
                if len(fields) < 15:
                    break
                durations.append(int.from_bytes(fields[12:15], "little"))
                f.seek(size + (size & 1) - len(fields), 1)
            else:
                f.seek(size + (size & 1), 1)
    return durations


def opaque_rgb(im: Image.Image) -> np.ndarray:
    """A Pillow image as RGB uint8 H x W x 3; transparency is composited over black."""
    if im.mode in ("RGBA", "LA", "P", "PA"):
        rgba = im.convert("RGBA")
        im = Image.alpha_composite(Image.new("RGBA", im.size, (0, 0, 0, 255)), rgba)
    return np.array(im.convert("RGB"))


class AnimatedImageSource:
    """Every frame of an animated image, decoded by Pillow. pts count milliseconds (time base
    1/1000) and add up the frames' durations, so unequal durations stay unequal; each frame
    carries its own ``duration``. ``start``/``duration`` (s, --start/--duration) keep the frames
    that begin inside that span, re-timed to begin at 0. A frame that fails to decode ends the
    input (``truncated`` says so)."""

    def __init__(self, path: str | Path, start: float = 0.0, duration: float = 0.0, video_stream: int = 0):
        self.path = Path(path)
        self.truncated = ""
        self.decoded = 0
        if video_stream:
            raise InputError(f"{self.path}: no video stream {video_stream} (it has 1: 0..0)")
        kind = "WebP" if self.path.suffix.lower() == ".webp" else self.path.suffix.lstrip(".").upper()
        try:
            self._image = open_image(self.path)
            self._peeked: np.ndarray | None = opaque_rgb(self._image)
        except _PILLOW_ERRORS as exc:
            raise InputError(
                f"{self.path}: cannot decode this animated {kind}: the file is damaged or "
                f"truncated ({_reason(exc)})"
            ) from None
        self._span = (int(round(start * 1000)), int(round((start + duration) * 1000)) if duration else None)
        shown = [display_ms(d) for d in webp_durations(self.path)] if kind == "WebP" else []
        total = sum(shown)
        length = total / 1000 if total else None
        clipped = bool(start or duration)
        if start and length is not None and start >= length:
            self._image.close()
            raise start_past_end(start, length)
        if clipped and length is not None:
            length = max(0.0, length - start)
            length = min(length, duration) if duration else length
        height, width = self._peeked.shape[:2]
        self.info = VideoInfo(
            width=width,
            height=height,
            rate=Fraction(len(shown) * 1000, total) if total else None,
            time_base=MS,
            frames=0 if clipped else getattr(self._image, "n_frames", 1),
            duration=length,
            path=self.path,
            container=kind.lower(),
            codec=kind.lower(),
            kind="video",
            clip_start=start,
            clipped=clipped,
            loop=self._image.info.get("loop"),
        )

    def __iter__(self) -> Iterator[Frame]:
        lo, hi = self._span
        begins = 0  # ms: when the current frame begins
        for number in range(getattr(self._image, "n_frames", 1)):
            try:
                if self._peeked is not None:
                    rgb, self._peeked = self._peeked, None
                else:
                    self._image.seek(number)
                    rgb = opaque_rgb(self._image)
            except _PILLOW_ERRORS as exc:
                self.truncated = f"decoding stopped after {number} frames: {_reason(exc)}"
                return
            shown = display_ms(int(self._image.info.get("duration") or 0))
            if hi is not None and begins >= hi:
                return
            if begins >= lo:
                yield Frame(self.decoded, rgb, begins - lo, MS, capture_time=time.monotonic(), duration=shown)
                self.decoded += 1
            begins += shown

    def close(self) -> None:
        self._peeked = None
        self._image.close()

    def __enter__(self) -> AnimatedImageSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _reason(exc: BaseException) -> str:
    return str(exc).strip().rstrip(".") or type(exc).__name__
