"""Frame sinks: an H.264 (or VP9) video file with the source's timing and audio, an animated
GIF/APNG/WebP with every frame's timing, or image files.

Outputs are written under a temporary name in the destination directory and renamed when
complete, so nothing half-written ever sits under the final name. An interrupted run is closed
properly (encoder flushed, container finalised) and kept as ``NAME.partial.EXT``.
"""

from __future__ import annotations

import os
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Protocol

import av
import numpy as np
from PIL import Image

from ..config import EncodeConfig
from ..errors import OutputError
from ..log import log
from .audio import AudioPassthrough
from .encoder import VideoEncoder
from .frame import Frame, VideoInfo
from .salvage import cut_point
from .source import IMAGE_SUFFIXES

# output extension -> (FFmpeg muxer, codec for encode.codec=auto)
CONTAINERS = {
    ".mp4": ("mp4", "libx264"),
    ".m4v": ("mp4", "libx264"),
    ".mov": ("mov", "libx264"),
    ".mkv": ("matroska", "libx264"),
    ".avi": ("avi", "libx264"),
    ".webm": ("webm", "libvpx-vp9"),
}
# animated-image output extension -> Pillow format (for animated and video inputs)
ANIMATED_OUTPUTS = {".gif": "GIF", ".png": "PNG", ".apng": "PNG", ".webp": "WEBP"}
STILL_OUTPUTS = (IMAGE_SUFFIXES - {".pgm"}) | {".gif"}  # .pgm is grey-only


# What a hard kill (SIGKILL, power loss) may lose is what the muxer still holds: Matroska keeps
# a cluster in memory until it ends (by default after 5 s) and the file layer keeps its buffer
# until full, so a small video reached the disk only after tens of seconds. Both muxers below
# end a cluster/fragment every FLUSH_MS of stream time (MP4 also at every keyframe) and
# flush_packets hands each one to the OS at once: a file cut off anywhere plays up to its
# last complete cluster/fragment. The encoder's look-ahead comes on top (x264 medium: about
# 40 frames); a normal stop drains it.
FLUSH_MS = 500
MATROSKA_FLUSHED = {"cluster_time_limit": str(FLUSH_MS), "flush_packets": "1"}
# delay_moov: the moov waits for the first fragment, so it keeps the first timestamp in an edit
# list (without it, a source that starts at 0.867 s would start at 0, or B-frames at 0.08 s)
FRAGMENTED_MP4 = {
    "movflags": "frag_keyframe+empty_moov+delay_moov+default_base_moof",
    "frag_duration": str(FLUSH_MS * 1000),  # us
    "flush_packets": "1",
}


def muxer_options(fmt: str, fragmented: bool) -> dict[str, str]:
    """FFmpeg options of an output of muxer ``fmt``: Matroska/WebM always, MP4/MOV when
    ``fragmented``, written so that a hard kill leaves a playable file (see FLUSH_MS)."""
    if fmt in ("matroska", "webm"):
        return dict(MATROSKA_FLUSHED)
    if fragmented and fmt in ("mp4", "mov"):
        return dict(FRAGMENTED_MP4)
    return {}


class FrameSink(Protocol):
    """Consumes stylized frames in order.

    ``write(frame, rgb)`` takes the frame's timing and an H x W x 3 uint8 picture;
    ``close(complete)`` finalises (``complete=False``: keep what was written as a partial
    output) and returns where it went (None when nothing was written); ``abort()`` drops
    everything and is safe after ``close``. ``frames_written`` counts the frames taken.
    A sink is a context manager: leaving the block normally closes it (complete) unless it was
    closed already, leaving it by an exception aborts it.
    """

    frames_written: int
    closed: bool  # closed or aborted

    def write(self, frame: Frame, rgb: np.ndarray) -> None: ...

    def close(self, complete: bool = True) -> Path | str | None: ...

    def abort(self) -> None: ...

    def __enter__(self) -> FrameSink:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if exc_type is not None:
            self.abort()
        elif not self.closed:
            self.close(complete=True)


def video_container(path: Path, what: str = "") -> tuple[str, str]:
    """(FFmpeg muxer, codec for encode.codec=auto) of a video output name; any other extension
    is a one-line OutputError (``what`` says what the output is for, e.g. " for a video")."""
    suffix = path.suffix.lower()
    if suffix not in CONTAINERS:
        raise OutputError(
            f"unsupported output extension {path.suffix or '(none)'!r}{what} "
            f"(use one of: {', '.join(sorted(CONTAINERS))})"
        )
    return CONTAINERS[suffix]


def partial_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}.partial{path.suffix}")


def check_output(path: Path, inputs: list[Path]) -> None:
    """Fail early (before any decoding) when ``path`` cannot be written."""
    for inp in inputs:
        try:
            if inp.exists() and path.exists() and os.path.samefile(inp, path):
                raise OutputError(f"output {path} is the input file; choose another name")
        except OSError:
            pass
        if inp.resolve() == path.resolve():
            raise OutputError(f"output {path} is the input file; choose another name")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.exists():
        raise OutputError(f"output directory does not exist: {parent}")
    if not parent.is_dir():
        raise OutputError(f"output directory is not a directory: {parent}")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"output directory is not writable: {parent}")
    if path.is_dir() and path.suffix.lower() in CONTAINERS:
        raise OutputError(f"output {path} is a directory")


def check_overwrite(path: Path, policy: str, kind: str = "video") -> None:
    """``policy`` (run.overwrite) for an output that exists: warn, yes or no. A directory given
    where a video file belongs is an error either way."""
    if kind == "video" and path.is_dir():
        raise OutputError(
            f"output {path} is an existing directory; give a file name, e.g. {path / 'out.mp4'}"
        )
    if not path.exists() or policy == "yes" or path.is_dir():
        return
    if policy == "no":
        raise OutputError(f"output {path} exists (not overwritten: -n; use -y to overwrite)")
    log.warning(f"overwriting {path} (-n to refuse, -y to skip this warning)")


def temp_name(path: Path) -> Path:
    """``.NAME.<pid>-<random>.part.EXT`` beside ``path``: the pid tells a later run whether the
    writer is still alive."""
    fd, name = tempfile.mkstemp(
        prefix=f".{path.stem}.{os.getpid()}-",
        suffix=f".part{path.suffix}",
        dir=path.parent if str(path.parent) else ".",
    )
    os.close(fd)
    return Path(name)


def _writer_alive(temp: Path, stem: str) -> bool:
    """Whether the process that named ``temp`` (see ``temp_name``) still runs."""
    pid = temp.name[len(stem) + 2 :].split("-", 1)[0]
    if not pid.isdigit():  # an older name without a pid: alive while it grows
        return time.time() - temp.stat().st_mtime < 3600
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def recover_stale(path: Path) -> list[Path]:
    """Deal with temporary files an earlier, killed run left for ``path``: one that plays (MKV,
    fragmented MP4) becomes ``NAME.partial.EXT``, cut after its last complete cluster or
    fragment, the rest are removed; each is logged.
    Returns the recovered files."""
    parent = path.parent if str(path.parent) else Path(".")
    recovered = []
    for temp in sorted(parent.glob(f".{glob_escape(path.stem)}.*.part{glob_escape(path.suffix)}")):
        try:
            if _writer_alive(temp, path.stem):
                continue
            cut = cut_point(temp)  # a half-written last cluster/fragment would not decode
            if cut is not None:
                os.truncate(temp, cut)
            frames = _playable_frames(temp)
            target = partial_path(path)
            if frames and not target.exists():
                os.chmod(temp, 0o666 & ~_umask())
                os.replace(temp, target)
                recovered.append(target)
                log.warning(
                    f"an earlier run was killed while writing {path.name}: its {frames} frames "
                    f"are kept as {target}"
                )
            else:
                temp.unlink()
                log.info(
                    f"removed {temp.name}, left by an earlier run that was killed"
                    + (" (nothing playable in it)" if not frames else f" ({target.name} exists)")
                )
        except OSError as exc:
            log.debug(f"cannot tidy {temp}: {exc}")
    return recovered


def _playable_frames(path: Path) -> int:
    """Video packets a player can read from ``path`` (0: unplayable, e.g. an MP4 without moov)."""
    count = 0
    try:
        with av.open(str(path), metadata_errors="ignore") as c:
            if c.streams.video:
                for packet in c.demux(c.streams.video[0]):
                    count += 1 if packet.size else 0
    except (av.error.FFmpegError, OSError, ValueError):
        pass  # a cut-off tail: what came before it still plays
    return count


def glob_escape(text: str) -> str:
    import glob as globlib

    return globlib.escape(text)


class VideoFileSink(FrameSink):
    """Encode frames into ``path``; timing (rate, time base, pts) and audio follow ``info``.

    ``fragmented``: MP4/MOV are written as fragments (playable even if the process dies).
    """

    def __init__(self, path: Path, info: VideoInfo, cfg: EncodeConfig, fragmented: bool = False):
        self.path = Path(path)
        fmt, auto_codec = video_container(self.path)
        self.info = info
        self.audio: AudioPassthrough | None = None
        self.frames_written = 0
        self.closed = False  # closed or aborted
        self._container: av.container.OutputContainer | None = None
        recover_stale(self.path)
        self._tmp = temp_name(self.path)
        options = muxer_options(fmt, fragmented or cfg.fragmented)
        try:
            container = av.open(str(self._tmp), mode="w", format=fmt, options=options)
        except av.error.FFmpegError as exc:
            self._tmp.unlink(missing_ok=True)
            raise OutputError(f"cannot create {self.path}: {exc}") from None
        self._container = container
        try:
            codec = auto_codec if cfg.codec == "auto" else cfg.codec
            self.video = VideoEncoder(container, info, codec, cfg, where=str(self.path))
            self.audio = (
                AudioPassthrough(info.path, container, cfg.audio, cfg.audio_bitrate, info.clip_start)
                if info.audio_streams and info.path is not None
                else None
            )
        except BaseException:
            self.abort()
            raise

    @property
    def pts_fixed(self) -> int:
        return self.video.pts_fixed

    def write(self, frame: Frame, rgb: np.ndarray) -> None:
        t = self.video.write(frame, rgb)
        self.frames_written += 1
        if self.audio is not None:  # interleave: audio up to this frame's time (never past the
            self.audio.write_until(t)  # video, so an interrupted file ends with both together)

    def close(self, complete: bool = True) -> Path | None:
        """Flush and finalise; rename to the final (or ``.partial``) name. None if nothing written."""
        if self._container is None:
            return None
        try:
            self.video.flush()
            if self.audio is not None:
                self.audio.finish(self._audio_end(complete))
                self.audio.close()
            self._container.close()
        except (OSError, av.error.FFmpegError, OutputError) as exc:
            self.abort()
            raise OutputError(
                f"finishing {self.path} failed: {getattr(exc, 'strerror', None) or exc}"
            ) from None
        self._container = None
        self.closed = True
        if self.frames_written == 0:
            self._tmp.unlink(missing_ok=True)
            return None
        return publish(self._tmp, self.path if complete else partial_path(self.path))

    def _audio_end(self, complete: bool) -> float | None:
        """Where the audio stops: with the video when the output is partial, a --start/--duration
        cut, or the video stopped short of the source's length (damaged or truncated input);
        else all of the source's."""
        end = self.video.end_time
        rate = float(self.info.rate or 25)
        short = end is not None and self.info.duration and end < self.info.duration - 1.5 / rate
        if not complete or self.info.clipped or short:
            return end
        return None

    def abort(self) -> None:
        """Drop everything: close without finalising and remove the temporary file."""
        if self.audio is not None:
            self.audio.close()
        if self._container is not None:
            try:
                self._container.close()
            except Exception:  # noqa: BLE001 - best effort: the output is failing already
                pass
            self._container = None
        self.closed = True
        self._tmp.unlink(missing_ok=True)


class ImageSink(FrameSink):
    """Stylized stills: one file (single-image input) or one file per frame in a directory."""

    def __init__(self, path: Path, single: bool):
        self.path = Path(path)
        self.single = single
        self.frames_written = 0
        self.closed = False
        if single:
            if self.path.suffix.lower() not in STILL_OUTPUTS:
                raise OutputError(f"image output needs an image extension, got {self.path.name!r}")
        else:
            if self.path.exists() and not self.path.is_dir():
                raise OutputError(f"output {self.path} exists and is not a directory")
            self.path.mkdir(parents=True, exist_ok=True)

    def _target(self, frame: Frame) -> Path:
        if self.single:
            return self.path
        return self.path / (frame.name or f"frame_{frame.index:06d}.png")

    def write(self, frame: Frame, rgb: np.ndarray) -> None:
        target = self._target(frame)
        tmp = target.with_name(f".{target.stem}.part{target.suffix}")
        try:
            Image.fromarray(rgb).save(tmp, quality=95) if target.suffix.lower() in (
                ".jpg",
                ".jpeg",
            ) else Image.fromarray(rgb).save(tmp)
            os.replace(tmp, target)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise OutputError(f"writing {target} failed: {exc.strerror or exc}") from None
        self.frames_written += 1

    def close(self, complete: bool = True) -> Path | None:
        self.closed = True
        return self.path if self.frames_written else None

    def abort(self) -> None:
        self.closed = True


class AnimatedImageSink(FrameSink):
    """Every frame with its timing into an animated GIF, APNG (.png, .apng) or WebP, by Pillow.

    Frames wait in memory (GIF: as 8-bit palette images, a palette per frame) and are written
    at ``close`` under a temporary name, then renamed. Durations follow the frames' times on
    the format's grid (1 ms; GIF 10 ms) without drift; the last frame keeps its own duration
    (else 1/rate). The loop count follows ``info.loop``. Pillow merges identical consecutive
    frames into one longer frame (the same to watch).
    """

    def __init__(self, path: Path, info: VideoInfo):
        self.path = Path(path)
        self.format = ANIMATED_OUTPUTS[self.path.suffix.lower()]
        self.info = info
        self.closed = False
        self.pts_fixed = 0
        self.frames_written = 0
        self._images: list[Image.Image] = []
        self._starts: list[float] = []  # s: when each frame begins
        self._last_length = 0.0  # s: how long the latest frame shows
        self._step = 1 / float(info.rate) if info.rate else 0.04
        recover_stale(self.path)
        if info.audio_streams:
            log.info(f"{self.path.suffix} holds no audio: the input's audio is left out")

    def write(self, frame: Frame, rgb: np.ndarray) -> None:
        begins = frame.time
        if begins is None or (self._starts and begins <= self._starts[-1]):
            begins = self._starts[-1] + self._step if self._starts else 0.0
            self.pts_fixed += 1
        image = Image.fromarray(rgb)
        self._images.append(
            image.convert("P", palette=Image.Palette.ADAPTIVE) if self.format == "GIF" else image
        )
        self._starts.append(begins)
        self._last_length = float(frame.duration * frame.time_base) if frame.duration else self._step
        self.frames_written += 1

    def close(self, complete: bool = True) -> Path | None:
        """Write the file (``complete=False``: as ``NAME.partial.EXT``); None if no frames came."""
        if self.closed:
            return None
        self.closed = True
        images, self._images = self._images, []
        if not images:
            return None
        tick = 10 if self.format == "GIF" else 1
        durations = frame_durations(self._starts, self._last_length, tick)
        short = sum(d < 20 for d in durations) if self.format == "GIF" else 0
        if short:
            log.warning(
                f"{short} of {len(durations)} frames last under 20 ms, which GIF players show "
                f"for 100 ms: use .webp or .png (APNG) for frame rates above 50 fps"
            )
        loop = self.info.loop
        options = {"loop": loop} if loop is not None else {} if self.format == "GIF" else {"loop": 1}
        if self.format == "WEBP":
            options["quality"] = 90
        tmp = temp_name(self.path)
        try:
            images[0].save(
                tmp,
                format=self.format,
                save_all=True,
                append_images=images[1:],
                duration=durations,
                **options,
            )
        except (OSError, ValueError) as exc:
            tmp.unlink(missing_ok=True)
            raise OutputError(
                f"writing {self.path} failed: {getattr(exc, 'strerror', None) or exc}"
            ) from None
        return publish(tmp, self.path if complete else partial_path(self.path))

    def abort(self) -> None:
        self.closed = True
        self._images = []


def frame_durations(starts: list[float], last: float, tick: int) -> list[int]:
    """Display durations (ms, whole multiples of ``tick`` ms, at least one tick) of frames that
    begin at ``starts`` (s, increasing), the last shown for ``last`` s. Frame edges are rounded
    on the tick grid, so rounding never adds up along the animation."""
    ends = starts[1:] + [starts[-1] + max(last, 0.0)]
    edges = [round((t - starts[0]) * 1000 / tick) for t in [starts[0], *ends]]
    return [max(1, b - a) * tick for a, b in zip(edges, edges[1:])]


def publish(tmp: Path, final: Path) -> Path:
    """Give a finished temporary file the usual permissions and rename it to ``final``."""
    os.chmod(tmp, 0o666 & ~_umask())
    os.replace(tmp, final)
    return final


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def default_output(input_spec: str, style: str, kind: str) -> Path:
    """``clip.mp4`` -> ``clip.<style>.mp4``; image dir ``frames/`` -> ``frames.<style>/``."""
    tag = Path(style).stem if os.sep in style or "." in style else style.replace(":", "-")
    src = Path(input_spec.rstrip("/"))
    if kind == "images" and not src.is_file():
        base = src.parent if any(ch in input_spec for ch in "*?[") else src
        return base.with_name(f"{base.name}.{tag}")
    return src.with_name(f"{src.stem}.{tag}{src.suffix}")


def open_sink(output: Path, info: VideoInfo, cfg: EncodeConfig, single_image: bool) -> FrameSink:
    """A video sink for video extensions; for a video or animated input an animated-image sink
    for .gif/.png/.apng/.webp; else an image sink (file or directory)."""
    suffix = output.suffix.lower()
    if suffix in CONTAINERS:
        if info.rate is None:
            info.rate = Fraction(25)
        return VideoFileSink(output, info, cfg)
    if info.kind == "video":
        if suffix in ANIMATED_OUTPUTS:
            return AnimatedImageSink(output, info)
        raise OutputError(
            f"unsupported output extension {output.suffix or '(none)'!r} for a video (use one "
            f"of: {', '.join(sorted(CONTAINERS))}, or {', '.join(sorted(ANIMATED_OUTPUTS))} "
            f"for an animated image)"
        )
    return ImageSink(output, single_image)
