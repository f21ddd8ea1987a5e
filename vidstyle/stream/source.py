"""Live frame sources: network streams, webcams, and files played at their own pace.

A capture thread reads without ever waiting for the pipeline; decoded frames wait in a small
buffer. When the pipeline falls behind, ``drop_oldest`` discards the oldest waiting frame (live
default, keeps latency bounded) and ``block`` makes capture wait (file default, keeps every
frame). A lost network source is reopened with exponential back-off.

Loss: a live source is lost when no video frame has come for ``read_timeout`` seconds. Frames,
not packets, are watched: PyAV's read timeout restarts at every packet of any stream, so a camera
whose audio goes on while its video has died would never count as lost. The watch is checked at
each packet; when nothing arrives at all, PyAV's read timeout (the same seconds) ends the wait.
The first frame after an open (a keyframe, which can be a GOP away) may take ``open_timeout``.

Timestamps: live frames are stamped with their capture time (ms since the start, time base
1/1000), so output timestamps keep increasing across reconnects and follow the real timing of
the stream. A file keeps its own pts and time base, paced or not, so a recording of it lasts as
long as the file and its audio can be carried along.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Generator, Iterator
from fractions import Fraction
from pathlib import Path

import av

from ..config import StreamConfig
from ..errors import InputError
from ..io.frame import Frame, VideoInfo
from ..io.source import FrameSource, check_readable, source_kind, stream_duration, to_rgb, upright
from ..log import log, redact

TIME_BASE = Fraction(1, 1000)


def _open_error(
    spec: str, exc: BaseException, timeout: float, elapsed: float = 0.0, transport: str = "tcp"
) -> InputError:
    """A clear message for a failed open; ``elapsed`` >= ``timeout`` means the peer never answered
    (FFmpeg then reports whatever its last read saw)."""
    where = redact(spec)
    text = str(exc)
    if elapsed >= 0.9 * timeout:
        return InputError(f"{where}: no answer within {timeout:g} s")
    if isinstance(exc, av.error.HTTPUnauthorizedError) or "401" in text or "Unauthorized" in text:
        return InputError(f"{where}: authentication failed (check the user name and password)")
    if isinstance(exc, av.error.HTTPForbiddenError) or "403" in text:
        return InputError(f"{where}: access forbidden by the server")
    if isinstance(exc, (av.error.HTTPNotFoundError,)) or "404" in text or "Not Found" in text:
        return InputError(f"{where}: no such stream on the server (404)")
    if "400" in text or "Bad Request" in text:
        other = "udp" if transport == "tcp" else "tcp"
        return InputError(
            f"{where}: the server answered 400 Bad Request to RTSP over {transport} "
            f"(try --rtsp-transport {other})"
        )
    if isinstance(exc, ConnectionRefusedError) or "refused" in text.lower():
        return InputError(f"{where}: connection refused (is the server running?)")
    if isinstance(exc, (TimeoutError, av.error.ExitError)) or "timed out" in text.lower():
        return InputError(f"{where}: no answer within {timeout:g} s")
    reason = getattr(exc, "strerror", None) or text
    return InputError(f"{where}: cannot open ({redact(str(reason)).strip()})")


class LiveSource(FrameSource):
    """Frames of ``spec`` (URL, webcam or file) from a capture thread. ``realtime`` paces files."""

    def __init__(self, spec: str, cfg: StreamConfig, realtime: bool = False):
        self.spec = spec
        self.cfg = cfg
        self.kind = source_kind(spec)
        self.realtime = realtime or self.kind != "file"
        policy = cfg.drop_policy
        # a paced file behaves like a camera: frames the pipeline is too slow for are dropped
        self.drop = self.realtime if policy == "auto" else policy == "drop_oldest"
        self.captured = 0
        self.dropped_late = 0  # replaced by a newer frame while the pipeline was behind
        self.dropped_at_stop = 0  # still waiting when the run stopped
        self.delivered = 0
        self.reconnects = 0  # counted when frames flow again, not when the socket opens
        self._lost_at: float | None = None  # when the current outage began
        self.last_frame_at: float | None = None  # monotonic time of the newest captured frame
        self._frame_deadline = float("inf")  # the next frame must come by then, or the source is lost
        self.truncated = ""
        self.error: BaseException | None = None
        self._buffer: collections.deque[Frame] = collections.deque()
        self._in_flight = 0  # delivered, not yet released by the sink
        self.in_flight_limit = 0  # 0: no limit (set by the runner from stream.in_flight)
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._done = False
        self._t0 = time.monotonic()
        self._container = self._open()
        first = self._first_frame()
        self.info = VideoInfo(
            width=first.width,
            height=first.height,
            rate=self._rate,
            time_base=self._time_base,
            frames=0,
            kind="stream",
            notes=[],
        )
        if self.kind == "file":
            self.info.path, self.info.duration = Path(spec), self._duration
        self.info.audio_streams = self._audio_streams
        self._push(first)
        self._thread = threading.Thread(target=self._capture, name="vidstyle-capture", daemon=True)
        self._thread.start()

    # -- opening ---------------------------------------------------------------------------
    def _open(self) -> av.container.InputContainer:
        cfg = self.cfg
        options: dict[str, str] = {}
        fmt = None
        target = self.spec
        if self.kind == "file":
            check_readable(Path(self.spec))
        elif self.kind == "webcam":
            fmt = "v4l2"
            target = self.spec if self.spec.startswith("/dev/") else f"/dev/video{self.spec}"
            if not Path(target).exists():
                raise InputError(f"webcam {target} not found")
            if cfg.webcam_size:
                options["video_size"] = cfg.webcam_size
            if cfg.webcam_fps:
                options["framerate"] = cfg.webcam_fps
        elif self.spec.lower().startswith("rtsp"):
            options["rtsp_transport"] = cfg.rtsp_transport
        t0 = time.monotonic()
        try:
            container = av.open(
                target,
                format=fmt,
                options=options,
                metadata_errors="ignore",
                timeout=(cfg.open_timeout, cfg.read_timeout),
            )
        except (av.error.FFmpegError, OSError) as exc:
            raise _open_error(
                self.spec, exc, cfg.open_timeout, time.monotonic() - t0, cfg.rtsp_transport
            ) from None
        if not container.streams.video:
            container.close()
            raise InputError(f"{redact(self.spec)}: no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        self._rate = Fraction(rate) if rate and 0 < rate < 1000 else Fraction(30)
        own_time_base = stream.time_base if self.kind == "file" else None
        own_clock = bool(own_time_base)
        self._time_base = Fraction(own_time_base) if own_time_base else TIME_BASE
        self._audio_streams = len(container.streams.audio)
        self._duration = stream_duration(stream) if own_clock else None
        self._frames = self._decode(container, stream)
        if self.kind != "file":  # the first frame waits for a keyframe
            self._frame_deadline = time.monotonic() + cfg.open_timeout
        return container

    def _decode(self, container, stream) -> Generator[Frame, None, None]:
        rotation = None
        first_time = None
        start = time.monotonic()
        for packet in container.demux():  # every stream, so the frame watch sees each packet
            if time.monotonic() > self._frame_deadline:
                raise TimeoutError(self._stall_reason(first=rotation is None))
            if packet.stream.index != stream.index:
                continue
            for vf in packet.decode():
                if rotation is None:
                    rotation = int(round((vf.rotation or 0) / 90.0)) * 90
                if self.kind == "file" and self.realtime and vf.time is not None:
                    first_time = vf.time if first_time is None else first_time
                    delay = start + (vf.time - first_time) - time.monotonic()
                    if delay > 0 and self._stop.wait(delay):
                        return
                now = time.monotonic()
                self.last_frame_at = now
                index, self.captured = self.captured, self.captured + 1
                own_clock = self._time_base is not TIME_BASE
                pts = vf.pts if own_clock else int(round((now - self._t0) * 1000))
                yield Frame(index, upright(to_rgb(vf), rotation), pts, self._time_base, capture_time=now)
                if self.kind != "file":  # from when capture reads on: a push that waited
                    self._frame_deadline = time.monotonic() + self.cfg.read_timeout  # is no stall

    def _stall_reason(self, first: bool) -> str:
        """``first``: no frame has come since this open."""
        if first or self.last_frame_at is None:
            return f"no video frame within {self.cfg.open_timeout:g} s of connecting"
        return f"no video frame for {time.monotonic() - self.last_frame_at:.1f} s"

    def _lost_reason(self, exc: BaseException) -> str:
        """Why a read failed, in words (PyAV's read timeout says only 'Immediate exit requested')."""
        if isinstance(exc, av.error.ExitError):
            return f"nothing received for {self.cfg.read_timeout:g} s"
        return redact(str(getattr(exc, "strerror", None) or exc))

    def _first_frame(self) -> Frame:
        try:
            return next(self._frames)
        except StopIteration:
            self._container.close()
            raise InputError(f"{redact(self.spec)}: the stream ended before its first frame") from None
        except TimeoutError as exc:
            self._container.close()
            raise InputError(f"{redact(self.spec)}: connected, but {exc}") from None
        except (av.error.FFmpegError, OSError) as exc:
            self._container.close()
            raise _open_error(
                self.spec, exc, self.cfg.read_timeout, transport=self.cfg.rtsp_transport
            ) from None

    # -- capture thread --------------------------------------------------------------------
    def _capture(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    for frame in self._frames:
                        if self._lost_at is not None:  # a reconnect counts once frames flow again
                            self.reconnects += 1
                            log.info(
                                f"{redact(self.spec)}: reconnected, frames flowing again (after "
                                f"{time.monotonic() - self._lost_at:.1f} s)"
                            )
                            self._lost_at = None
                        self._push(frame)
                        if self._stop.is_set():
                            break
                    if self._stop.is_set() or self.kind == "file":
                        return
                    lost = "the stream ended"
                except (av.error.FFmpegError, OSError) as exc:
                    if self._stop.is_set():
                        return
                    if self.kind == "file":
                        self.truncated = f"decoding stopped: {exc}"
                        return
                    lost = self._lost_reason(exc)
                if not self.cfg.reconnect:
                    raise InputError(f"{redact(self.spec)}: source lost ({lost})")
                self._reconnect(lost)
        except BaseException as exc:  # noqa: BLE001 - handed to the pipeline's thread
            self.error = exc
        finally:
            with self._cond:
                self._done = True
                self._cond.notify_all()

    def _reconnect(self, why: str) -> None:
        """Reopen the source with back-off. A reopened source that sends nothing and is lost again
        is the same outage (one warning, ``give_up_after`` from the first loss)."""
        if self._lost_at is None:
            log.warning(f"{redact(self.spec)}: source lost ({why}); reconnecting")
            self._lost_at = time.monotonic()
        else:
            log.debug(f"reopened, but no frames came ({why}); retrying")
        self._close_container()
        wait, lost_at = 0.25, self._lost_at
        while not self._stop.is_set():
            if self.cfg.give_up_after and time.monotonic() - lost_at > self.cfg.give_up_after:
                raise InputError(
                    f"{redact(self.spec)}: source lost and not back after {self.cfg.give_up_after:g} s"
                )
            if self._stop.wait(wait):
                return
            try:
                self._container = self._open()
            except InputError as exc:
                log.debug(f"reconnect failed: {exc}")
                wait = min(wait * 2, self.cfg.reconnect_max_wait)
                continue
            log.debug(
                f"{redact(self.spec)}: reopened after {time.monotonic() - lost_at:.1f} s, waiting for frames"
            )
            return

    def _push(self, frame: Frame) -> None:
        with self._cond:
            if self._stop.is_set():
                self.dropped_at_stop += 1
                return
            if self.drop:
                while len(self._buffer) >= self.cfg.buffer:
                    self._buffer.popleft()
                    self.dropped_late += 1
            else:
                while len(self._buffer) >= self.cfg.buffer and not self._stop.is_set():
                    self._cond.wait(0.1)
            self._buffer.append(frame)
            self._cond.notify_all()

    # -- the pipeline's side ---------------------------------------------------------------
    def __iter__(self) -> Iterator[Frame]:
        while True:
            with self._cond:
                # Admission: while the pipeline is full, capture keeps replacing the waiting frame, so
                # the frame taken when a slot frees is the newest one, not one that went stale. Every
                # frame taken is released by the sink; a stop or an abort (stop()) ends the wait.
                while (
                    self.in_flight_limit
                    and self._in_flight >= self.in_flight_limit
                    and not self._stop.is_set()
                ):
                    self._cond.wait(0.05)
                while not self._buffer and not self._done and not self._stop.is_set():
                    self._cond.wait(0.1)
                if self._buffer and not self._stop.is_set():
                    frame = self._buffer.popleft()
                    self._in_flight += 1
                    self._cond.notify_all()
                else:
                    break
            self.delivered += 1
            yield frame
        if self.error is not None:
            raise self.error

    def release(self) -> None:
        """A delivered frame has left the pipeline (written to the outputs)."""
        with self._cond:
            self._in_flight = max(0, self._in_flight - 1)
            self._cond.notify_all()

    def stop(self) -> None:
        """End capture; frames already waiting are discarded (counted as dropped)."""
        self._stop.set()
        with self._cond:
            self.dropped_at_stop += len(self._buffer)
            self._buffer.clear()
            self._cond.notify_all()

    def _close_container(self) -> None:
        try:
            self._frames.close()
            self._container.close()
        except Exception:  # noqa: BLE001 - closing a broken connection
            pass

    def close(self) -> None:
        self.stop()
        self._thread.join(timeout=self.cfg.read_timeout + 2)
        if not self._thread.is_alive():  # never close a container under a blocked read
            self._close_container()

    @property
    def dropped(self) -> int:
        return self.dropped_late + self.dropped_at_stop

    @property
    def state(self) -> str:
        """``running``, or ``reconnecting`` from the moment a loss is noticed until frames flow again."""
        return "running" if self._lost_at is None else "reconnecting"

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self._t0
