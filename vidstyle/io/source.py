"""Frame sources: video files through PyAV, and still images (one file, a directory or a glob).

Every source yields upright RGB :class:`Frame` objects with the source's own pts and time base,
and describes itself in ``info``. Problems the user can cause become one-line
:class:`~vidstyle.errors.InputError` messages.
"""

from __future__ import annotations

import glob as globlib
import os
import time
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Protocol

import av
import numpy as np

from ..errors import InputError
from ..log import log
from .frame import Frame, VideoInfo

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}
_DEMUX_RETRIES = 32   # demuxer errors in a row before a damaged file counts as ended
VIDEO_SUFFIXES = {".mp4", ".m4v", ".mkv", ".mov", ".webm", ".avi", ".ts", ".mts", ".flv", ".mpg",
                  ".mpeg", ".ogv", ".wmv", ".3gp", ".gif"}


class FrameSource(Protocol):
    """Yields frames in presentation order; ``info`` is valid right after construction.

    ``truncated`` is empty, or says why the input ended early (read it after the iteration).
    A source is a context manager: ``with open_source(spec) as source: ...`` closes it. Sources
    that wait (live capture) also have ``stop()``, which the runner calls to wake them.
    """

    info: VideoInfo
    truncated: str

    def __iter__(self) -> Iterator[Frame]: ...

    def close(self) -> None: ...

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def upright(rgb: np.ndarray, rotation: int) -> np.ndarray:
    """Apply a display rotation (degrees counter-clockwise, multiple of 90) to an H x W x 3 image."""
    k = (rotation // 90) % 4
    return np.ascontiguousarray(np.rot90(rgb, k)) if k else rgb


class VideoFileSource(FrameSource):
    """Decode the first video stream of a file with PyAV (frame threading on)."""

    def __init__(self, path: str | os.PathLike, decode_threads: int = 0, video_stream: int = 0,
                 start: float = 0.0, duration: float = 0.0):
        """``start``/``duration`` (s): decode only that part (from the keyframe before ``start``,
        frames before it dropped); its frames are re-timed to begin at 0, as ``ffmpeg -ss`` does."""
        self.path = Path(path)
        self._clip = (start, duration)
        self._lo: int | None = None           # window [lo, hi) in stream pts; None: open
        self._hi: int | None = None
        self._offset = 0                      # subtracted from every pts (lo when --start)
        self._cut = False                     # stopped at the window's end
        self.truncated: str = ""   # why decoding stopped early, if it did
        self.decoded = 0
        self._packet_pts: list[int] = []      # pts of every video packet demuxed
        self._frame_pts: set[int] = set()     # pts of every frame decoded
        self._decode_errors = 0
        self._untimed = 0                     # frames without pts (then losses cannot be told)
        check_readable(self.path)
        try:
            self._container = av.open(str(self.path), metadata_errors="ignore")
        except av.error.FFmpegError as exc:
            raise InputError(f"{self.path}: not a video we can decode ({_reason(exc)})") from None
        try:
            self._open_stream(decode_threads, video_stream)
        except BaseException:
            self._container.close()
            raise

    def _open_stream(self, decode_threads: int, choice: int = 0) -> None:
        c = self._container
        if not c.streams.video:
            kinds = sorted({s.type for s in c.streams}) or ["no streams"]
            raise InputError(f"{self.path}: no video stream (contains: {', '.join(kinds)})")
        if choice >= len(c.streams.video):
            raise InputError(f"{self.path}: no video stream {choice} (it has {len(c.streams.video)}: "
                             f"0..{len(c.streams.video) - 1})")
        stream = c.streams.video[choice]
        stream.thread_type = "AUTO"
        if decode_threads:
            stream.codec_context.thread_count = decode_threads
        self._stream = stream
        notes = []
        if len(c.streams.video) > 1:
            which = "the first" if choice == 0 else f"stream {choice}"
            notes.append(f"{len(c.streams.video)} video streams: using {which}, ignoring the others "
                         f"(--video-stream N chooses)")
        if c.streams.subtitles:
            notes.append(f"{len(c.streams.subtitles)} subtitle stream(s) are not carried to the output")
        self._set_window(stream)
        self._frames = self._decode()
        try:
            first = next(self._frames)
        except StopIteration:
            why = f" ({self.truncated})" if self.truncated else \
                f" ({self._decode_errors} packets failed to decode)" if self._decode_errors else ""
            raise InputError(f"{self.path}: the video stream has no decodable frames{why}") from None
        self._peeked: Frame | None = first
        notes += self._first_notes
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        duration = stream_duration(stream)
        if duration is None and c.duration is not None and not c.streams.audio:
            duration = c.duration / av.time_base
        start, length = self._clip
        clipped = bool(start or length)
        if clipped and duration is not None:
            duration = max(0.0, duration - start)
            duration = min(duration, length) if length else duration
        elif clipped:
            duration = length or None
        self.info = VideoInfo(
            width=first.width, height=first.height,
            rate=Fraction(rate) if rate else None,
            time_base=Fraction(stream.time_base) if stream.time_base else Fraction(1, 90000),
            frames=0 if clipped else int(stream.frames or 0), duration=duration, rotation=self._rotation,
            path=self.path, container=c.format.name, codec=stream.codec_context.name,
            kind="video", audio_streams=len(c.streams.audio), notes=notes, **self._color,
            clip_start=float((self._offset - (stream.start_time or 0)) * stream.time_base) if start else 0.0,
            clipped=clipped)

    def _set_window(self, stream) -> None:
        """Seek to ``start`` and set the [lo, hi) pts window of --start/--duration."""
        start, length = self._clip
        if not (start or length):
            return
        tb, origin = stream.time_base, stream.start_time or 0
        self._lo = origin + int(round(start / tb))
        self._hi = self._lo + int(round(length / tb)) if length else None
        if start:
            self._offset = self._lo
            try:
                self._container.seek(self._lo, stream=stream, backward=True)   # keyframe at or before
            except (av.error.FFmpegError, OSError) as exc:
                raise InputError(f"{self.path}: cannot seek to {start:g} s ({_reason(exc)})") from None

    def _decode(self) -> Iterator[Frame]:
        """Decode until EOF. Like FFmpeg, a packet that does not decode is skipped (its frame is
        counted in ``lost``) and decoding goes on; only a demuxer that keeps failing ends the
        stream early, with ``truncated`` set."""
        index = 0
        self._rotation = 0
        self._color: dict = {}
        last_pts: int | None = None
        for frame in self._decoded_frames():
            if self._decode_errors and frame.pts is not None and last_pts is not None \
                    and frame.pts < last_pts:
                continue   # a stale picture the decoder let out after damage (FFmpeg drops these too)
            if frame.pts is not None and self._lo is not None and frame.pts < self._lo:
                self._frame_pts.add(frame.pts)     # before --start: decoded to get there, not lost
                continue
            if frame.pts is not None and self._hi is not None and frame.pts >= self._hi:
                self._cut = True
                return
            if index == 0:
                self._rotation = int(round((frame.rotation or 0) / 90.0)) * 90
                self._color = _color_tags(frame)
                self._first_notes = _frame_notes(frame)
            try:
                rgb = upright(to_rgb(frame), self._rotation)
            except (av.error.FFmpegError, ValueError):
                continue   # a damaged picture that cannot be converted: counted as lost below
            if frame.pts is None:
                self._untimed += 1
            else:
                self._frame_pts.add(frame.pts)
                last_pts = frame.pts
            pts = None if frame.pts is None else frame.pts - self._offset
            yield Frame(index, rgb, pts, Fraction(frame.time_base or self._stream.time_base),
                        capture_time=time.monotonic())
            index += 1
            self.decoded = index

    def _decoded_frames(self) -> Iterator[av.VideoFrame]:
        """Every frame that decodes; undecodable packets are skipped, their pts remembered."""
        failures = 0                     # demuxer errors in a row (no packet read in between)
        while True:
            try:
                for packet in self._container.demux(self._stream):
                    failures = 0
                    if packet.size and packet.pts is not None:
                        self._packet_pts.append(packet.pts)
                    try:
                        frames = packet.decode()
                    except (av.error.FFmpegError, ValueError) as exc:
                        self._decode_errors += 1
                        log.debug(f"skipping an undecodable packet at pts {packet.pts}: {_reason(exc)}")
                        continue
                    yield from frames
                return
            except (av.error.FFmpegError, ValueError) as exc:
                failures += 1
                if failures >= _DEMUX_RETRIES:
                    self.truncated = f"decoding stopped after {self.decoded} frames: {_reason(exc)}"
                    return

    @property
    def lost(self) -> list[float]:
        """Start times (s, from the stream's start) of frames whose packets did not decode."""
        if self._untimed:
            return []
        tb = self._stream.time_base or Fraction(1, 90000)
        start = self._stream.start_time or 0
        missing = sorted(set(self._window_pts()) - self._frame_pts)
        return [float((pts - start) * tb) for pts in missing]

    def _window_pts(self) -> list[int]:
        """Demuxed packet pts inside the --start/--duration window (all when there is none)."""
        if self._lo is None:
            return self._packet_pts
        return [p for p in self._packet_pts if p >= self._lo and (self._hi is None or p < self._hi)]

    def damage(self) -> str:
        """One sentence on frames skipped as undecodable (with their times), or ''."""
        lost = self.lost
        if not lost:
            return ""
        step = 1.5 / float(self.info.rate) if self.info.rate else 0.1
        return (f"{len(lost)} of {len(self._window_pts())} frames could not be decoded and were skipped "
                f"(at {time_ranges(lost, step)}); the frames around them keep their timestamps")

    def __iter__(self) -> Iterator[Frame]:
        last: Frame | None = None
        if self._peeked is not None:
            last, self._peeked = self._peeked, None
            yield last
        for last in self._frames:
            yield last
        if self.truncated or self._cut:
            return
        info = self.info
        if info.frames and self.decoded + len(self.lost) < info.frames - 1:
            self.truncated = f"the container announces {info.frames} frames but only {self.decoded} decoded"
        elif self._packet_pts and info.duration and info.rate:
            # frames demuxed but undecodable at the end are reported as lost, not as truncation
            tb = self._stream.time_base
            origin = self._lo if self._lo is not None else (self._stream.start_time or 0)
            end = float((max(self._packet_pts) - origin) * tb)
            missing = info.duration - end - 1 / float(info.rate)
            if missing > max(3 / float(info.rate), 0.25):
                self.truncated = f"frames stop at {end:.2f} s of a {info.duration:.2f} s stream"

    def close(self) -> None:
        self._frames.close()
        self._container.close()


class ImageSource(FrameSource):
    """Still images in name order; pts = index at ``rate`` frames per second."""

    def __init__(self, paths: list[Path], rate: Fraction, description: str):
        if not paths:
            raise InputError(f"{description}: no images found (looked for {', '.join(sorted(IMAGE_SUFFIXES))})")
        self.paths = paths
        self.truncated = ""
        self.decoded = 0
        first = load_image(paths[0])
        self._peeked: np.ndarray | None = first
        self.info = VideoInfo(width=first.shape[1], height=first.shape[0], rate=rate,
                              time_base=1 / rate, frames=len(paths), duration=len(paths) / rate,
                              path=paths[0], kind="images")

    def __iter__(self) -> Iterator[Frame]:
        tb = self.info.time_base
        for i, path in enumerate(self.paths):
            if i == 0 and self._peeked is not None:
                rgb, self._peeked = self._peeked, None
            else:
                rgb = load_image(path)
            self.decoded = i + 1
            yield Frame(i, rgb, i, tb, name=path.name, capture_time=time.monotonic())

    def close(self) -> None:
        self._peeked = None


def load_image(path: Path) -> np.ndarray:
    """An image file as upright (EXIF orientation applied) RGB uint8 H x W x 3."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    check_readable(path)
    try:
        with Image.open(path) as im:
            im = ImageOps.exif_transpose(im)
            if im.mode in ("RGBA", "LA", "P") and im.mode != "RGB":
                im = im.convert("RGBA")
                background = Image.new("RGBA", im.size, (0, 0, 0, 255))
                im = Image.alpha_composite(background, im)
            return np.array(im.convert("RGB"))
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InputError(f"{path}: not an image we can read ({exc})") from None


def _frame_notes(frame: av.VideoFrame) -> list[str]:
    notes = []
    if frame.color_trc in HDR_TRANSFERS:
        notes.append(f"HDR input ({HDR_TRANSFERS[frame.color_trc]}): the output is 8-bit SDR, tagged BT.709, "
                     f"converted without tone mapping (bright scenes look flat; tone-map it first for "
                     f"the best result)")
    elif any(c.bits > 8 for c in frame.format.components):
        notes.append(f"{frame.format.name} input: the output is 8-bit")
    if any(c.is_alpha for c in frame.format.components):
        notes.append("the video has an alpha channel: it is dropped (the output is opaque)")
    if frame.interlaced_frame:
        notes.append("interlaced video: processed as progressive frames (deinterlace it first for "
                     "the best result)")
    return notes


def stream_duration(stream) -> float | None:
    """The video stream's own duration in seconds (MKV keeps it in a DURATION tag)."""
    if stream.duration is not None and stream.time_base:
        return float(stream.duration * stream.time_base)
    tag = stream.metadata.get("DURATION") or stream.metadata.get("duration")
    if tag:
        try:
            h, m, sec = tag.split(":")
            return int(h) * 3600 + int(m) * 60 + float(sec)
        except ValueError:
            return None
    return None


def to_rgb(frame: av.VideoFrame) -> np.ndarray:
    """RGB24 with the frame's own matrix and range (swscale otherwise assumes limited range)."""
    if frame.format.name in ("rgb24",):
        return frame.to_ndarray()
    rng = frame.color_range if frame.color_range in (1, 2) else None
    return frame.to_ndarray(format="rgb24", src_color_range=rng)


HDR_TRANSFERS = {16: "PQ", 18: "HLG"}   # AVCOL_TRC_SMPTE2084, AVCOL_TRC_ARIB_STD_B67
BT709 = {"colorspace": 1, "color_primaries": 1, "color_trc": 1}


def _color_tags(frame: av.VideoFrame) -> dict:
    """Colour tags to reproduce on the output; empty when the source leaves the matrix unset.
    HDR sources give BT.709: the output is 8-bit SDR (no tone mapping), and is tagged so."""
    if frame.color_trc in HDR_TRANSFERS:
        return dict(BT709)
    if frame.colorspace in (None, 0, 2) or frame.format.name.startswith(("rgb", "bgr", "gbr")):
        return {}
    return {"colorspace": int(frame.colorspace), "color_primaries": int(frame.color_primaries),
            "color_trc": int(frame.color_trc)}


def check_readable(path: Path) -> None:
    """One-line InputError when ``path`` is missing, a directory, unreadable or empty."""
    if not path.exists():
        raise InputError(f"input not found: {path}")
    if path.is_dir():
        raise InputError(f"{path}: is a directory")
    if not os.access(path, os.R_OK):
        raise InputError(f"{path}: permission denied")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty (0 bytes)")


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return str(text).strip().rstrip(".") or type(exc).__name__


def time_ranges(times: list[float], step: float) -> str:
    """Sorted times (s) as merged ranges: ``[1.0, 1.04, 1.08, 5.0]`` -> ``'1.00-1.08 s, 5.00 s'``.

    Times closer than ``step`` join one range; at most 5 ranges are listed.
    """
    ranges: list[list[float]] = []
    for t in times:
        if ranges and t - ranges[-1][1] <= step:
            ranges[-1][1] = t
        else:
            ranges.append([t, t])
    text = [f"{a:.2f} s" if a == b else f"{a:.2f}-{b:.2f} s" for a, b in ranges[:5]]
    if len(ranges) > 5:
        text.append(f"{len(ranges) - 5} more")
    return ", ".join(text)


def is_glob(spec: str) -> bool:
    return any(ch in spec for ch in "*?[")


def image_paths(spec: str) -> list[Path]:
    """Image files named by a directory or a glob pattern, sorted by name."""
    if is_glob(spec):
        candidates = [Path(p) for p in globlib.glob(os.path.expanduser(spec))]
    else:
        candidates = list(Path(spec).iterdir())
    return sorted((p for p in candidates if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES),
                  key=lambda p: _natural_key(p.name))


def _natural_key(name: str) -> list:
    import re
    return [int(tok) if tok.isdigit() else tok.lower() for tok in re.split(r"(\d+)", name)]


def parse_rate(text: str) -> Fraction:
    try:
        rate = Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise InputError(f"bad frame rate {text!r}") from None
    if rate <= 0:
        raise InputError(f"bad frame rate {text!r}")
    return rate


def input_kind(spec: str) -> str:
    """'images' for an image file, directory or glob; 'video' otherwise."""
    if is_glob(spec) or Path(spec).is_dir() or Path(spec).suffix.lower() in IMAGE_SUFFIXES:
        return "images"
    return "video"


def open_source(spec: str, image_fps: str = "25", decode_threads: int = 0, video_stream: int = 0,
                start: float = 0.0, duration: float = 0.0) -> FrameSource:
    """Open a video file, an image, a directory of images, or a glob of images."""
    if "://" in spec or spec.startswith("/dev/video"):
        from ..log import redact
        raise InputError(f"{redact(spec)} is a live source: use `vidstyle stream {redact(spec)} -o OUTPUT`")
    if input_kind(spec) == "images":
        paths = [Path(spec)] if Path(spec).is_file() else image_paths(spec)
        if not paths and not is_glob(spec) and not Path(spec).exists():
            raise InputError(f"input not found: {spec}")
        return ImageSource(paths, parse_rate(image_fps), spec)
    source = VideoFileSource(spec, decode_threads, video_stream, start, duration)
    for note in source.info.notes:
        (log.warning if note.startswith("HDR input") else log.info)(note)
    return source
