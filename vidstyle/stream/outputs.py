"""Live outputs: RTSP push, segmented files, and an MJPEG preview over HTTP on localhost.

:class:`LiveSink` fans the stylized frames out to the configured outputs and measures what a live
user cares about: output rate and end-to-end latency (capture -> encoded), as percentiles.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from ..config import EncodeConfig, StreamConfig
from ..errors import OutputError
from ..httpd import HttpServer, Request, Response
from ..io.encoder import VideoEncoder
from ..io.frame import Frame, VideoInfo
from ..io.quality import DEFAULT_CRF
from ..io.sink import FrameSink, VideoFileSink
from ..log import log, redact


def _live_encode(cfg: EncodeConfig, stream: StreamConfig, rate: Fraction | None) -> tuple[EncodeConfig, dict]:
    """x264 for live: the stream preset, zero-latency tuning, a keyframe every 2 s, no B-frames."""
    gop = str(max(1, int(round(2 * float(rate or 30)))))
    crf = cfg.crf if cfg.crf >= 0 else DEFAULT_CRF  # auto: a live source has no bit rate to follow
    return replace(cfg, codec="libx264", preset=stream.preset, crf=min(crf + 5, 51)), {
        "tune": "zerolatency",
        "g": gop,
        "bf": "0",
    }


class RtspOutput(FrameSink):
    """Publish H.264 to an RTSP server (PyAV's rtsp muxer)."""

    def __init__(self, url: str, info: VideoInfo, cfg: EncodeConfig, stream: StreamConfig):
        self.url = url
        self.closed = False
        self.frames_written = 0
        try:
            self.container = av.open(
                url,
                "w",
                format="rtsp",
                options={"rtsp_transport": stream.rtsp_transport},
                timeout=(stream.open_timeout, stream.read_timeout),
            )
        except (av.error.FFmpegError, OSError) as exc:
            raise OutputError(f"cannot publish to {redact(url)}: {redact(str(exc))}") from None
        live_cfg, extra = _live_encode(cfg, stream, info.rate)
        self.video = VideoEncoder(self.container, info, "libx264", live_cfg, extra, where=redact(url))

    def write(self, frame: Frame, rgb: np.ndarray) -> None:
        self.video.write(frame, rgb)
        self.frames_written = self.video.frames_written

    def close(self, complete: bool = True) -> str:
        self.closed = True
        try:
            self.video.flush()
            self.container.close()
        except (av.error.FFmpegError, OSError, OutputError) as exc:
            log.warning(f"closing {redact(self.url)}: {exc}")
        return redact(self.url)

    def abort(self) -> None:
        self.closed = True
        try:
            self.container.close()
        except Exception:  # noqa: BLE001 - best effort
            pass


class SegmentedFile(FrameSink):
    """Record to ``path``: one file, or a new file every ``stream.segment_seconds``.

    Segments are asked for with ``--segment S`` (named ``stem-000.ext``, ``stem-001.ext``...) or
    with a printf pattern in the name (``rec-%03d.mp4``; every ``PATTERN_SEGMENT_S`` unless
    ``--segment`` says otherwise). Each segment is a complete file whose timestamps start at 0;
    MP4/MOV are fragmented, so a crash loses at most the last fragment. One file keeps the
    source's own timestamps, and a file source's audio.
    """

    PATTERN_SEGMENT_S = 300.0

    def __init__(self, path: Path, info: VideoInfo, cfg: EncodeConfig, stream: StreamConfig):
        self.path = Path(path)
        self.info = info
        self.pattern = _is_pattern(self.path.name)
        self.seconds = stream.segment_seconds or (self.PATTERN_SEGMENT_S if self.pattern else 0.0)
        live_cfg, extra = _live_encode(cfg, stream, info.rate)
        keep_audio = not self.seconds and info.path is not None and info.audio_streams
        if info.audio_streams and not keep_audio:
            why = (
                "segmented recordings carry no audio"
                if self.seconds
                else "audio of live sources is not carried by `vidstyle stream`"
            )
            log.info(f"the source has {info.audio_streams} audio stream(s): {why}")
        self.cfg = replace(
            live_cfg, options={**live_cfg.options, **extra}, audio=live_cfg.audio if keep_audio else "none"
        )
        # each segment starts at 0, and so does a live recording; one file of a file keeps its pts
        self._rebase = bool(self.seconds) or info.path is None
        self.segments: list[Path] = []  # finished segment files, in order
        self.frames_written = 0
        self.closed = False
        self._sink: VideoFileSink | None = None
        self._start = 0.0  # segment start (s on the frames' clock)
        self._start_pts = 0
        self._index = 0

    def _name(self) -> Path:
        if self.pattern:
            return self.path.with_name(self.path.name % self._index)
        if not self.seconds:
            return self.path
        return self.path.with_name(f"{self.path.stem}-{self._index:03d}{self.path.suffix}")

    def write(self, frame: Frame, rgb: np.ndarray) -> None:
        t = frame.time or 0.0
        if self._sink is not None and self.seconds and t - self._start >= self.seconds:
            self._rotate()
        if self._sink is None:
            info = self.info if not self.seconds else replace(self.info, audio_streams=0)
            self._sink = VideoFileSink(self._name(), info, self.cfg, fragmented=True)
            self._start, self._start_pts = t, (frame.pts or 0) if self._rebase else 0
            self._index += 1
        self._sink.write(replace(frame, pts=(frame.pts or 0) - self._start_pts), rgb)
        self.frames_written += 1

    def _rotate(self) -> None:
        if self._sink is None:
            return
        done = self._sink.close(complete=True)
        if done is not None:
            self.segments.append(done)
            if self.seconds:
                log.info(f"segment written: {done}")
        self._sink = None

    def close(self, complete: bool = True) -> Path | None:
        self.closed = True
        if self._sink is not None:
            self._rotate()
        return self.segments[-1] if self.segments else None

    def abort(self) -> None:
        self.closed = True
        if self._sink is not None:
            self._sink.abort()


def _is_pattern(name: str) -> bool:
    """``rec-%03d.mp4``: a printf integer field (``%%`` is a literal percent)."""
    import re

    return re.search(r"(?<!%)%0?\d*d", name) is not None


class PreviewServer:
    """MJPEG over HTTP: ``/`` a page, ``/stream.mjpg`` the live side-by-side, ``/frame.jpg`` one frame."""

    PAGE = (
        b"<!doctype html><title>vidstyle preview</title><style>body{margin:0;background:#111}"
        b"img{width:100%}</style><img src='/stream.mjpg' alt='original | stylized'>"
    )

    def __init__(self, host: str, port: int, width: int):
        self.width = width
        self._cond = threading.Condition()
        self._mosaic: np.ndarray | None = None
        self._jpeg: bytes | None = None
        self._seq = 0
        self._closed = False
        self.http = HttpServer(
            "preview", host, port, not_found=lambda request: self._plain(404, b"not found")
        )
        self.http.route("/", self._page)
        self.http.route("/index.html", self._page)
        # by prefix, as they always were: /frame.jpg?t=... (a cache buster) is the frame too
        self.http.route("/frame.jpg", self._frame, prefix=True)
        self.http.route("/stream.mjpg", self._stream, prefix=True)
        self.http.start()
        self.port = self.http.port
        self.url = self.http.url()

    @staticmethod
    def _plain(status: int, body: bytes, content_type: str = "text/plain") -> Response:
        return Response(status, content_type, body, {"Cache-Control": "no-store"})

    def _page(self, request: Request) -> Response:
        return self._plain(200, self.PAGE, "text/html")

    def _frame(self, request: Request) -> Response:
        jpeg = self.latest_jpeg()
        return self._plain(503, b"no frame yet") if jpeg is None else self._plain(200, jpeg, "image/jpeg")

    def _stream(self, request: Request) -> Response:
        return Response(
            200, "multipart/x-mixed-replace; boundary=frame", self._parts(), {"Cache-Control": "no-store"}
        )

    def _parts(self) -> Iterator[bytes]:
        """One multipart part per new frame, until the server closes (or a frame cannot be encoded)."""
        seq = -1
        while True:
            jpeg, seq = self.wait_jpeg(seq)
            if jpeg is None:
                return
            yield b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n%b\r\n" % (
                len(jpeg),
                jpeg,
            )

    def update(self, original: np.ndarray, stylized: np.ndarray) -> None:
        """Keep the newest side-by-side (JPEG-encoded only when someone asks)."""
        h, w = original.shape[:2]
        tile_w = max(2, self.width // 2)
        tile_h = max(2, round(h * tile_w / w))
        tiles = [
            cv2.resize(im, (tile_w, tile_h), interpolation=cv2.INTER_AREA) for im in (original, stylized)
        ]
        with self._cond:
            self._mosaic = np.hstack(tiles)
            self._jpeg = None
            self._seq += 1
            self._cond.notify_all()

    def latest_jpeg(self) -> bytes | None:
        with self._cond:
            if self._jpeg is None and self._mosaic is not None:
                ok, buf = cv2.imencode(
                    ".jpg", cv2.cvtColor(self._mosaic, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 80]
                )
                self._jpeg = buf.tobytes() if ok else None
            return self._jpeg

    def wait_jpeg(self, seen: int, timeout: float = 5.0) -> tuple[bytes | None, int]:
        """The next frame after sequence number ``seen`` (None when the server is closing)."""
        with self._cond:
            self._cond.wait_for(lambda: self._seq != seen or self._closed, timeout)
            if self._closed:
                return None, seen
            seq = self._seq
        return self.latest_jpeg(), seq

    def close(self, complete: bool = True) -> str:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self.http.close()
        return self.url

    def abort(self) -> None:
        self.close()

    def __enter__(self) -> PreviewServer:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._closed:
            self.close()


class LiveSink(FrameSink):
    """Writes each output frame to every output; measures output rate and latency."""

    def __init__(self, outputs: list, window: int = 100_000, on_written=None):
        self.outputs = outputs
        self.on_written = on_written  # called after each frame (the source's release)
        self.frames_written = 0
        self.closed = False
        self.latencies: collections.deque[float] = collections.deque(maxlen=window)
        self.first_write: float | None = None
        self.last_write: float | None = None

    def write(self, frame: Frame, rgb: np.ndarray) -> None:
        original = frame.rgb
        for out in self.outputs:
            if isinstance(out, PreviewServer):
                out.update(original, rgb)
            else:
                out.write(frame, rgb)
        now = time.monotonic()
        self.latencies.append(now - frame.capture_time)
        self.first_write = self.first_write or now
        self.last_write = now
        self.frames_written += 1
        if self.on_written is not None:
            self.on_written()

    def percentile(self, q: float) -> float | None:
        if not self.latencies:
            return None
        return float(np.percentile(np.fromiter(self.latencies, float), q))

    def close(self, complete: bool = True) -> list:  # type: ignore[override]  # one result per output
        """Close every output; their results (paths, URLs) in order."""
        self.closed = True
        results = []
        for out in self.outputs:
            try:
                results.append(out.close(complete))
            except OutputError as exc:
                log.error(str(exc))
        return results

    def abort(self) -> None:
        self.closed = True
        for out in self.outputs:
            out.abort()
