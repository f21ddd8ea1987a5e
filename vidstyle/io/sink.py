"""Frame sinks: an H.264 (or VP9) video file with the source's timing and audio, or image files.

Outputs are written under a temporary name in the destination directory and renamed when
complete, so nothing half-written ever sits under the final name. An interrupted run is closed
properly (encoder flushed, container finalised) and kept as ``NAME.partial.EXT``.
"""

from __future__ import annotations

import os
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Protocol

import av
import numpy as np

from ..config import EncodeConfig
from ..errors import OutputError
from ..log import log
from .audio import AudioPassthrough
from .frame import Frame, VideoInfo
from .source import IMAGE_SUFFIXES

# output extension -> (FFmpeg muxer, codec for encode.codec=auto)
CONTAINERS = {
    ".mp4": ("mp4", "libx264"), ".m4v": ("mp4", "libx264"), ".mov": ("mov", "libx264"),
    ".mkv": ("matroska", "libx264"), ".avi": ("avi", "libx264"), ".webm": ("webm", "libvpx-vp9"),
}
# AVCOL_SPC_* (stream tags) -> swscale matrix names
SWS_MATRIX = {1: "ITU709", 4: "FCC", 5: "ITU601", 6: "SMPTE170M", 7: "SMPTE240M", 9: "BT2020", 10: "BT2020"}
# x264/x265 presets -> libvpx-vp9 cpu-used
VP9_SPEED = {"ultrafast": 8, "superfast": 7, "veryfast": 6, "faster": 5, "fast": 4, "medium": 3,
             "slow": 2, "slower": 1, "veryslow": 0}


class FrameSink(Protocol):
    """Consumes stylized frames in order. ``close(complete)`` finalises and returns the path."""

    def write(self, frame: Frame, rgb: np.ndarray) -> None: ...

    def close(self, complete: bool = True) -> Path | None: ...

    def abort(self) -> None: ...


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


def _temp_name(path: Path) -> Path:
    fd, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".part{path.suffix}",
                                dir=path.parent if str(path.parent) else ".")
    os.close(fd)
    return Path(name)


def _even_ok(codec: str) -> bool:
    return codec in ("libvpx-vp9",)


class VideoFileSink:
    """Encode frames into ``path``; timing (rate, time base, pts) and audio follow ``info``."""

    def __init__(self, path: Path, info: VideoInfo, cfg: EncodeConfig):
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in CONTAINERS:
            raise OutputError(f"unsupported output extension {suffix or '(none)'!r} "
                              f"(use one of: {', '.join(sorted(CONTAINERS))})")
        fmt, auto_codec = CONTAINERS[suffix]
        codec = auto_codec if cfg.codec == "auto" else cfg.codec
        self.info = info
        self.frames_written = 0
        self.pts_fixed = 0
        self._last_pts: int | None = None
        self._tmp = _temp_name(self.path)
        try:
            self._container = av.open(str(self._tmp), mode="w", format=fmt)
        except av.error.FFmpegError as exc:
            self._tmp.unlink(missing_ok=True)
            raise OutputError(f"cannot create {self.path}: {exc}") from None
        try:
            self._stream = self._add_video_stream(codec, cfg, fmt)
            self.audio = AudioPassthrough(info.path, self._container, cfg.audio, cfg.audio_bitrate) \
                if info.audio_streams and info.path is not None else None
        except BaseException:
            self.abort()
            raise

    def _add_video_stream(self, codec: str, cfg: EncodeConfig, fmt: str) -> av.video.stream.VideoStream:
        info = self.info
        if codec not in self._container.supported_codecs and \
                av.codec.Codec(codec, "w").name not in self._container.supported_codecs:
            raise OutputError(f"a {fmt} file cannot hold {codec} video")
        try:
            stream = self._container.add_stream(codec, rate=info.rate)
        except (av.error.FFmpegError, ValueError) as exc:
            raise OutputError(f"video encoder {codec} is not available: {exc}") from None
        stream.width, stream.height = info.width, info.height
        pix_fmt = cfg.pix_fmt
        if pix_fmt == "yuv420p" and (info.width % 2 or info.height % 2) and not _even_ok(codec):
            log.warning(f"{info.width}x{info.height} has an odd side: encoding yuv444p to keep the "
                        f"exact size (some players only play yuv420p)")
            pix_fmt = "yuv444p"
        stream.pix_fmt = pix_fmt
        stream.time_base = info.time_base
        stream.codec_context.time_base = info.time_base
        if info.rate:
            stream.codec_context.framerate = info.rate
        stream.options = self._encoder_options(codec, cfg)
        if info.colorspace is not None:
            cc = stream.codec_context
            cc.colorspace, cc.color_range = info.colorspace, 1  # limited (MPEG) range
            cc.color_primaries, cc.color_trc = info.color_primaries, info.color_trc
        return stream

    @staticmethod
    def _encoder_options(codec: str, cfg: EncodeConfig) -> dict[str, str]:
        if codec in ("libx264", "libx265"):
            opts = {"crf": str(cfg.crf), "preset": cfg.preset}
        elif codec == "libvpx-vp9":
            opts = {"crf": str(cfg.crf), "b": "0", "cpu-used": str(VP9_SPEED[cfg.preset]),
                    "row-mt": "1", "deadline": "good"}
        elif codec.endswith("_nvenc"):
            opts = {"rc": "vbr", "cq": str(cfg.crf), "b": "0"}
        else:
            opts = {}
        opts.update(cfg.options)
        return opts

    def _next_pts(self, frame: Frame) -> int:
        pts = frame.pts
        if pts is not None and frame.time_base != self.info.time_base:
            pts = int(round(pts * frame.time_base / self.info.time_base))
        if pts is None or (self._last_pts is not None and pts <= self._last_pts):
            step = int(round(1 / (self.info.rate * self.info.time_base))) if self.info.rate else 1
            pts = (self._last_pts + max(step, 1)) if self._last_pts is not None else 0
            self.pts_fixed += 1
        self._last_pts = pts
        return pts

    def write(self, frame: Frame, rgb: np.ndarray) -> None:
        vf = av.VideoFrame.from_ndarray(rgb, format="rgb24")
        if self.info.colorspace is not None:
            vf = vf.reformat(format=self._stream.pix_fmt, dst_color_range=1,
                             dst_colorspace=SWS_MATRIX.get(self.info.colorspace, "ITU601"))
        vf.pts = self._next_pts(frame)
        vf.time_base = self.info.time_base
        if self.audio is not None:
            self.audio.write_until(float(vf.pts * self.info.time_base) + 0.5)
        try:
            for packet in self._stream.encode(vf):
                self._container.mux(packet)
        except OSError as exc:
            raise OutputError(f"writing {self.path} failed: {exc.strerror or exc}") from None
        self.frames_written += 1

    def close(self, complete: bool = True) -> Path | None:
        """Flush and finalise; rename to the final (or ``.partial``) name. None if nothing written."""
        if self._container is None:
            return None
        try:
            for packet in self._stream.encode(None):
                self._container.mux(packet)
            if self.audio is not None:
                end = None
                if not complete and self._last_pts is not None:
                    end = float(self._last_pts * self.info.time_base)
                self.audio.finish(end)
                self.audio.close()
            self._container.close()
        except (OSError, av.error.FFmpegError) as exc:
            self.abort()
            raise OutputError(f"finishing {self.path} failed: {getattr(exc, 'strerror', None) or exc}") from None
        self._container = None
        if self.frames_written == 0:
            self._tmp.unlink(missing_ok=True)
            return None
        final = self.path if complete else partial_path(self.path)
        os.chmod(self._tmp, 0o666 & ~_umask())
        os.replace(self._tmp, final)
        return final

    def abort(self) -> None:
        """Drop everything: close without finalising and remove the temporary file."""
        if getattr(self, "audio", None) is not None:
            self.audio.close()
        if getattr(self, "_container", None) is not None:
            try:
                self._container.close()
            except Exception:  # noqa: BLE001 - best effort on a failing output
                pass
            self._container = None
        self._tmp.unlink(missing_ok=True)


class ImageSink:
    """Stylized stills: one file (single-image input) or one file per frame in a directory."""

    def __init__(self, path: Path, single: bool):
        self.path = Path(path)
        self.single = single
        self.frames_written = 0
        if single:
            if self.path.suffix.lower() not in IMAGE_SUFFIXES:
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
        from PIL import Image

        target = self._target(frame)
        tmp = target.with_name(f".{target.stem}.part{target.suffix}")
        try:
            Image.fromarray(rgb).save(tmp, quality=95) if target.suffix.lower() in (".jpg", ".jpeg") \
                else Image.fromarray(rgb).save(tmp)
            os.replace(tmp, target)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise OutputError(f"writing {target} failed: {exc.strerror or exc}") from None
        self.frames_written += 1

    def close(self, complete: bool = True) -> Path | None:
        return self.path if self.frames_written else None

    def abort(self) -> None:
        pass


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
    """A video sink for video extensions, else an image sink (file or directory)."""
    if output.suffix.lower() in CONTAINERS:
        if info.rate is None:
            info.rate = Fraction(25)
        return VideoFileSink(output, info, cfg)
    if info.kind == "video":
        raise OutputError(f"unsupported output extension {output.suffix or '(none)'!r} for a video "
                          f"(use one of: {', '.join(sorted(CONTAINERS))})")
    return ImageSink(output, single_image)
