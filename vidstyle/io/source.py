"""Frame sources: video files through PyAV, still images (one file, a directory or a glob), and
animated GIF/APNG (PyAV) and WebP (Pillow, see :mod:`.animated`).

Every source yields upright RGB :class:`Frame` objects with the source's own pts and time base,
and describes itself in ``info``. Problems the user can cause become one-line
:class:`~vidstyle.errors.InputError` messages.
"""

from __future__ import annotations

import glob as globlib
import math
import os
import re
import time
from collections.abc import Generator, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Protocol

import av
import numpy as np
from PIL import ImageOps, UnidentifiedImageError

from ..errors import InputError
from ..log import log, redact
from .animated import (
    MAYBE_ANIMATED,
    AnimatedImageSource,
    animation,
    apng_frames,
    cut_short,
    opaque_rgb,
    start_past_end,
)
from .frame import Frame, VideoInfo
from .imagefile import open_image

# Still-image file suffixes, for inputs and training folders alike (FFmpeg/Pillow read each).
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm"})
_DEMUX_RETRIES = 32  # demuxer errors in a row before a damaged file counts as ended
_TIMED_FRAMES = {"gif", "apng"}  # demuxers whose frames each state their own display duration
VIDEO_SUFFIXES = {
    ".mp4",
    ".m4v",
    ".mkv",
    ".mov",
    ".webm",
    ".avi",
    ".ts",
    ".mts",
    ".flv",
    ".mpg",
    ".mpeg",
    ".ogv",
    ".wmv",
    ".3gp",
    ".gif",
}


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
    """Decode one video stream of a file with PyAV (frame threading on).

    ``pts_range=(start, end)``: only the frames with ``start <= pts < end`` (stream time base;
    ``end`` None = to the end), found by seeking to the keyframe before ``start`` and decoding
    from there, so B-frames and open GOPs come out whole. ``start``/``duration`` (s, --start and
    --duration) choose such a range and re-time its frames to begin at 0, as ``ffmpeg -ss`` does.
    A packet that does not decode is skipped, its frame counted in ``lost``, as FFmpeg does.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        decode_threads: int = 0,
        pts_range: tuple[int, int | None] | None = None,
        video_stream: int = 0,
        start: float = 0.0,
        duration: float = 0.0,
    ):
        self.path = Path(path)
        self.truncated: str = ""  # why decoding stopped early, if it did
        self.decoded = 0
        self._range = pts_range
        self._clip = (start, duration)
        self._offset = 0  # subtracted from every pts (the range start with --start)
        self._packet_pts: list[int] = []  # pts of every video packet demuxed
        self._frame_pts: set[int] = set()  # pts of every frame decoded
        self._decode_errors = 0
        self._untimed = 0  # frames without pts (then losses cannot be told)
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
            kinds: list[str] = sorted({s.type for s in c.streams}) or ["no streams"]
            raise InputError(f"{self.path}: no video stream (contains: {', '.join(kinds)})")
        if choice >= len(c.streams.video):
            raise InputError(
                f"{self.path}: no video stream {choice} (it has {len(c.streams.video)}: "
                f"0..{len(c.streams.video) - 1})"
            )
        stream = c.streams.video[choice]
        stream.thread_type = "AUTO"
        if decode_threads:
            stream.codec_context.thread_count = decode_threads
        self._stream = stream
        # FFmpeg gives every demuxed stream a time base; 1/90000 (MPEG's clock) stands in otherwise
        self._time_base = Fraction(stream.time_base) if stream.time_base else Fraction(1, 90000)
        notes = []
        if len(c.streams.video) > 1:
            which = "the first" if choice == 0 else f"stream {choice}"
            notes.append(
                f"{len(c.streams.video)} video streams: using {which}, ignoring the others "
                f"(--video-stream N chooses)"
            )
        if c.streams.subtitles:
            notes.append(f"{len(c.streams.subtitles)} subtitle stream(s) are not carried to the output")
        start, length = self._clip
        clipped = bool(start or length)
        if clipped:
            tb, origin = self._time_base, stream.start_time or 0
            lo = origin + int(round(start / tb))
            self._range = (lo, lo + int(round(length / tb)) if length else None)
            self._offset = lo if start else 0
        self._frames = self._decode()
        try:
            first = next(self._frames)
        except StopIteration:
            if start and not self.truncated and not self._decode_errors:
                input_s = stream_duration(stream)
                if input_s is None and c.duration is not None:
                    input_s = c.duration / av.time_base
                raise start_past_end(start, input_s) from None
            why = (
                f" ({self.truncated})"
                if self.truncated
                else f" ({self._decode_errors} packets failed to decode)"
                if self._decode_errors
                else ""
            )
            raise InputError(f"{self.path}: the video stream has no decodable frames{why}") from None
        self._peeked: Frame | None = first
        notes += self._first_notes
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        duration = stream_duration(stream)
        if duration is None and c.duration is not None and not c.streams.audio:
            duration = c.duration / av.time_base
        if clipped:
            duration = None if duration is None else max(0.0, duration - start)
            duration = (
                min(duration, length) if (length and duration is not None) else (duration or length or None)
            )
        self.info = VideoInfo(
            width=first.width,
            height=first.height,
            rate=Fraction(rate) if rate else None,
            time_base=self._time_base,
            frames=0 if clipped else int(stream.frames or 0),
            duration=duration,
            rotation=self._rotation,
            path=self.path,
            container=c.format.name,
            codec=stream.codec_context.name,
            kind="video",
            audio_streams=len(c.streams.audio),
            notes=notes,
            **self._color,
            clip_start=float((self._offset - (stream.start_time or 0)) * self._time_base) if start else 0.0,
            clipped=clipped,
        )

    def _decode(self) -> Generator[Frame, None, None]:
        """Frames until EOF (or the range's end); ``truncated`` says why when decoding stops early."""
        index = 0
        self._rotation = 0
        self._color: dict = {}
        last_pts: int | None = None
        alpha_unseen = False  # an alpha channel whose pixels have all been opaque so far
        try:
            for frame in self._decoded():
                if (
                    self._decode_errors
                    and frame.pts is not None
                    and last_pts is not None
                    and frame.pts < last_pts
                ):
                    continue  # a stale picture the decoder let out after damage (FFmpeg drops these too)
                if index == 0:
                    self._rotation = int(round((frame.rotation or 0) / 90.0)) * 90
                    self._color = _color_tags(frame)
                    self._first_notes = _frame_notes(frame)
                    alpha_unseen = has_alpha(frame) and ALPHA_NOTE not in self._first_notes
                elif alpha_unseen and transparent(frame):  # an opaque start, transparency later
                    log.info(ALPHA_NOTE)
                    alpha_unseen = False
                try:
                    rgb = upright(to_rgb(frame), self._rotation)
                except (av.error.FFmpegError, ValueError):
                    continue  # a damaged picture that cannot be converted: counted as lost
                if frame.pts is None:
                    self._untimed += 1
                else:
                    self._frame_pts.add(frame.pts)
                    last_pts = frame.pts
                pts = None if frame.pts is None else frame.pts - self._offset
                shown = frame.duration if self._container.format.name in _TIMED_FRAMES else None
                yield Frame(
                    index,
                    rgb,
                    pts,
                    Fraction(frame.time_base or self._time_base),
                    capture_time=time.monotonic(),
                    duration=shown or None,
                )
                index += 1
                self.decoded = index
        except (av.error.FFmpegError, ValueError) as exc:
            self.truncated = f"decoding stopped after {index} frames: {_reason(exc)}"

    def _decoded(self) -> Iterator[av.VideoFrame]:
        """PyAV frames in presentation order: all of them, or those of ``pts_range``."""
        if self._range is None:
            yield from self._decoded_frames()
            return
        start, end = self._range
        for frame in self._frames_from(start):
            if end is not None and frame.pts is not None and frame.pts >= end:
                return
            yield frame

    def _decoded_frames(self) -> Iterator[av.VideoFrame]:
        """Every frame that decodes; undecodable packets are skipped, their pts remembered."""
        failures = 0  # demuxer errors in a row (no packet read in between)
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

    def _frames_from(self, start: int) -> Iterator[av.VideoFrame]:
        """Frames from the first with pts >= ``start``: seek to the keyframe before it, and
        further back (1 s, 2 s, 4 s...) when the demuxer's index lands after it."""
        floor = self._stream.start_time or 0
        target, back = start, max(1, int(round(1 / self._time_base)))
        while True:
            self._container.seek(target, stream=self._stream, backward=True)
            frames = (f for packet in self._container.demux(self._stream) for f in packet.decode())
            first = next((f for f in frames if f.pts is None or f.pts >= start), None)
            if first is None:
                return
            if first.pts is not None and first.pts > start and target > floor:
                target, back = target - back, 2 * back
                continue
            yield first
            yield from frames
            return

    @property
    def lost(self) -> list[float]:
        """Start times (s, from the stream's start) of frames whose packets did not decode."""
        if self._untimed:
            return []
        start = self._stream.start_time or 0
        missing = sorted(set(self._packet_pts) - self._frame_pts)
        return [float((pts - start) * self._time_base) for pts in missing]

    def damage(self) -> str:
        """One sentence on frames skipped as undecodable (with their times), or ''."""
        lost = self.lost
        if not lost:
            return ""
        step = 1.5 / float(self.info.rate) if self.info.rate else 0.1
        return (
            f"{len(lost)} of {len(self._packet_pts)} frames could not be decoded and were skipped "
            f"(at {time_ranges(lost, step)}); the frames around them keep their timestamps"
        )

    def __iter__(self) -> Iterator[Frame]:
        last: Frame | None = None
        if self._peeked is not None:
            last, self._peeked = self._peeked, None
            yield last
        for last in self._frames:
            yield last
        if self.truncated or self._range is not None:
            return
        info = self.info
        if info.container in _TIMED_FRAMES:
            self.truncated = cut_short(self.path)
            if self.truncated:
                return
        if info.frames and self.decoded + len(self.lost) < info.frames - 1:
            self.truncated = f"the container announces {info.frames} frames but only {self.decoded} decoded"
        elif self._packet_pts and info.duration and info.rate:
            # frames demuxed but undecodable at the end are reported as lost, not as truncation
            end = float((max(self._packet_pts) - (self._stream.start_time or 0)) * self._time_base)
            missing = info.duration - end - 1 / float(info.rate)
            if missing > max(3 / float(info.rate), 0.25):
                self.truncated = f"frames stop at {end:.2f} s of a {info.duration:.2f} s stream"

    def close(self) -> None:
        self._frames.close()
        self._container.close()


class ImageSource(FrameSource):
    """Still images in name order; pts = index at ``rate`` frames per second.

    ``start``/``duration`` (s, --start and --duration) keep the images whose times (index /
    ``rate``) fall in ``[start, start + duration)``, re-timed to begin at 0, as FFmpeg's image2
    demuxer does with ``-ss``/``-t``; output files keep the source names.
    """

    def __init__(
        self, paths: list[Path], rate: Fraction, description: str, start: float = 0.0, duration: float = 0.0
    ):
        if not paths:
            raise InputError(
                f"{description}: no images found (looked for {', '.join(sorted(IMAGE_SUFFIXES))})"
            )
        first_kept, end = image_span(len(paths), rate, start, duration)
        if first_kept >= len(paths):
            raise start_past_end(start, float(len(paths) / rate), f": {len(paths)} images at {rate} fps")
        if end <= first_kept:
            raise InputError(
                f"{description}: no image begins between {start:g} and {start + duration:g} s "
                f"(they are {float(1 / rate):g} s apart)"
            )
        paths = paths[first_kept:end]
        self.paths = paths
        self.truncated = ""
        self.decoded = 0
        first = load_image(paths[0])
        self._peeked: np.ndarray | None = first
        self.info = VideoInfo(
            width=first.shape[1],
            height=first.shape[0],
            rate=rate,
            time_base=1 / rate,
            frames=len(paths),
            duration=float(len(paths) / rate),
            path=paths[0],
            kind="images",
            clip_start=start,
            clipped=bool(start or duration),
        )

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


def image_span(count: int, rate: Fraction, start: float, duration: float) -> tuple[int, int]:
    """(first, end) indices of the ``count`` images at ``rate`` fps that begin in
    ``[start, start + duration)`` s (``duration`` 0: to the last image)."""

    def first_at(t: float) -> int:  # the first image that begins at t or later
        return max(0, math.ceil(t * rate - 1e-9))

    end = min(count, first_at(start + duration)) if duration else count
    return first_at(start), end


def load_image(path: Path) -> np.ndarray:
    """An image file as upright (EXIF orientation applied) RGB uint8 H x W x 3."""
    check_readable(path)
    try:
        with open_image(path) as im:
            return opaque_rgb(ImageOps.exif_transpose(im))
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InputError(f"{path}: not an image we can read ({exc})") from None


def _frame_notes(frame: av.VideoFrame) -> list[str]:
    notes = []
    if frame.color_trc in HDR_TRANSFERS:
        notes.append(
            f"HDR input ({HDR_TRANSFERS[frame.color_trc]}): the output is 8-bit SDR, tagged BT.709, "
            f"converted without tone mapping (bright scenes look flat; tone-map it first for "
            f"the best result)"
        )
    elif any(c.bits > 8 for c in frame.format.components):
        notes.append(f"{frame.format.name} input: the output is 8-bit")
    if transparent(frame):
        notes.append(ALPHA_NOTE)
    if frame.interlaced_frame:
        notes.append(
            "interlaced video: processed as progressive frames (deinterlace it first for the best result)"
        )
    return notes


ALPHA_NOTE = "the video has an alpha channel: it is dropped (the output is opaque)"


def has_alpha(frame: av.VideoFrame) -> bool:
    return any(c.is_alpha for c in frame.format.components)


def transparent(frame: av.VideoFrame) -> bool:
    """Whether the frame has an alpha channel with a pixel that is not fully opaque (FFmpeg's
    GIF decoder gives every GIF an alpha channel, transparent or not)."""
    return has_alpha(frame) and int(frame.to_ndarray(format="rgba")[..., 3].min()) < 255


def stream_duration(stream: av.video.stream.VideoStream) -> float | None:
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


HDR_TRANSFERS = {16: "PQ", 18: "HLG"}  # AVCOL_TRC_SMPTE2084, AVCOL_TRC_ARIB_STD_B67
BT709 = {"colorspace": 1, "color_primaries": 1, "color_trc": 1}


def _color_tags(frame: av.VideoFrame) -> dict:
    """Colour tags to reproduce on the output; empty when the source leaves the matrix unset.
    HDR sources give BT.709: the output is 8-bit SDR (no tone mapping), and is tagged so."""
    if frame.color_trc in HDR_TRANSFERS:
        return dict(BT709)
    if frame.colorspace in (None, 0, 2) or frame.format.name.startswith(("rgb", "bgr", "gbr")):
        return {}
    return {
        "colorspace": int(frame.colorspace),
        "color_primaries": int(frame.color_primaries),
        "color_trc": int(frame.color_trc),
    }


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
    return sorted(
        (p for p in candidates if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES),
        key=lambda p: _natural_key(p.name),
    )


def _natural_key(name: str) -> list:
    return [int(tok) if tok.isdigit() else tok.lower() for tok in re.split(r"(\d+)", name)]


def parse_rate(text: str) -> Fraction:
    try:
        rate = Fraction(text)
    except (ValueError, ZeroDivisionError):
        raise InputError(f"bad frame rate {text!r}") from None
    if rate <= 0:
        raise InputError(f"bad frame rate {text!r}")
    return rate


def source_kind(spec: str) -> str:
    """'url' (anything with a scheme: rtsp://, srt://, https://...), 'webcam' (/dev/videoN or a
    bare index) or 'file'. Only files are inputs of ``stylize``; the others are live sources."""
    if "://" in spec:
        return "url"
    if re.fullmatch(r"\d+", spec) or re.fullmatch(r"/dev/video\d+", spec):
        return "webcam"
    return "file"


def input_kind(spec: str) -> str:
    """'images' for an image file, directory or glob; 'video' otherwise, also for an animated
    GIF, PNG (APNG) or WebP (a still one is an image)."""
    path = Path(spec)
    if path.suffix.lower() in MAYBE_ANIMATED and path.is_file():
        return "video" if animation(path)[0] else "images"
    if is_glob(spec) or path.is_dir() or path.suffix.lower() in IMAGE_SUFFIXES:
        return "images"
    return "video"


def open_source(
    spec: str,
    image_fps: str = "25",
    decode_threads: int = 0,
    video_stream: int = 0,
    start: float = 0.0,
    duration: float = 0.0,
) -> FrameSource:
    """Open a video file, an animated image, an image, a directory of images, or a glob of images."""
    if source_kind(spec) != "file":
        raise InputError(f"{redact(spec)} is a live source: use `vidstyle stream {redact(spec)} -o OUTPUT`")
    if input_kind(spec) == "images":
        paths = [Path(spec)] if Path(spec).is_file() else image_paths(spec)
        if not paths and not is_glob(spec) and not Path(spec).exists():
            raise InputError(f"input not found: {spec}")
        return ImageSource(paths, parse_rate(image_fps), spec, start, duration)
    path = Path(spec)
    if path.suffix.lower() == ".webp":  # an animated one: FFmpeg's webp decoder takes no animations
        check_readable(path)
        return AnimatedImageSource(path, start, duration, video_stream)
    source = VideoFileSource(spec, decode_threads, video_stream=video_stream, start=start, duration=duration)
    if source.info.container in _TIMED_FRAMES:  # an animated GIF or APNG: its loop count for a like output
        source.info.loop = animation(path)[1]
        if source.info.container == "apng" and not source.info.frames:
            source.info.frames = apng_frames(path)
    for note in source.info.notes:
        (log.warning if note.startswith("HDR input") else log.info)(note)
    return source
