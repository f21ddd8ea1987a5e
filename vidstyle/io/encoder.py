"""One encoded video stream inside an open PyAV output container (file or network).

Handles what every output shares: encoder choice and options, pixel format (odd sizes fall back
to yuv444p), the source's time base, rate and colour tags, and strictly increasing pts.
"""

from __future__ import annotations

import av
import numpy as np

from ..config import EncodeConfig
from ..errors import ConfigError, OutputError
from ..log import log
from .frame import Frame, VideoInfo
from .quality import DEFAULT_CRF, auto_rate

# AVCOL_SPC_* (stream tags) -> swscale matrix names
SWS_MATRIX = {1: "ITU709", 4: "FCC", 5: "ITU601", 6: "SMPTE170M", 7: "SMPTE240M", 9: "BT2020", 10: "BT2020"}
# x264/x265 presets -> libvpx-vp9 cpu-used
VP9_SPEED = {
    "ultrafast": 8,
    "superfast": 7,
    "veryfast": 6,
    "faster": 5,
    "fast": 4,
    "medium": 3,
    "slow": 2,
    "slower": 1,
    "veryslow": 0,
}


# the largest quality value (crf, or cq for NVENC) each encoder takes
MAX_CRF = {"libx264": 51, "libx265": 51, "libvpx-vp9": 63, "h264_nvenc": 51, "hevc_nvenc": 51}


def encoder_options(
    codec: str, cfg: EncodeConfig, crf: int | None = None, max_rate: int | None = None
) -> dict[str, str]:
    """FFmpeg options of ``codec`` for ``cfg``; ``crf``: the quality to use when encode.crf is
    auto (-1; see ``auto_rate``), DEFAULT_CRF when not given; ``max_rate``: a video bit rate
    cap (bit/s, VBV with a 1 s buffer) on top of the CRF."""
    crf = cfg.crf if cfg.crf >= 0 else DEFAULT_CRF if crf is None else crf
    top = MAX_CRF.get(codec)
    if top is not None and crf > top:
        raise ConfigError(f"encode.crf: {crf} is above {codec}'s maximum {top}")
    if codec in ("libx264", "libx265"):
        opts = {"crf": str(crf), "preset": cfg.preset}
        if codec == "libx265":
            opts["x265-params"] = "log-level=error"  # x265 prints its banner and stats otherwise
    elif codec == "libvpx-vp9":
        opts = {
            "crf": str(crf),
            "b": "0",
            "cpu-used": str(VP9_SPEED[cfg.preset]),
            "row-mt": "1",
            "deadline": "good",
        }
    elif codec.endswith("_nvenc"):
        opts = {"rc": "vbr", "cq": str(crf), "b": "0"}
    else:
        opts = {}
    if max_rate and opts:
        if codec == "libvpx-vp9":
            opts["b"] = str(max_rate)  # CRF with a target: libvpx's constrained quality
        else:
            opts.update(maxrate=str(max_rate), bufsize=str(max_rate))  # a 1 s buffer
    opts.update(cfg.options)
    return opts


class VideoEncoder:
    """Adds a video stream for ``info`` to ``container``; ``write`` encodes and muxes frames."""

    def __init__(
        self,
        container: av.container.OutputContainer,
        info: VideoInfo,
        codec: str,
        cfg: EncodeConfig,
        extra_options: dict[str, str] | None = None,
        where: str = "",
    ):
        self.container = container
        self.info = info
        self.where = where
        self.frames_written = 0
        self.pts_fixed = 0
        self.last_pts: int | None = None
        self.last_step: int | None = None  # pts distance between the last two frames
        self.last_duration: int | None = None  # the last frame's own stated duration (pts units)
        self._durations: dict[int, int] = {}  # pts -> stated duration of frames not yet muxed
        self.max_pts: int | None = None
        fmt = container.format.name.split(",")[0]
        # MP4/MOV take a track's length from its last packet's dts + duration: with B-frames of
        # variable-rate video that ends early, so the last packet is held back and lengthened
        self._held: av.Packet | None = None
        self._lead: float | None = None  # first packet's pts - dts (s): B-frame reordering delay
        self._hold_last = fmt in ("mp4", "mov")
        if (
            codec not in container.supported_codecs
            and av.codec.Codec(codec, "w").name not in container.supported_codecs
        ):
            raise OutputError(f"a {fmt} output cannot hold {codec} video")
        try:
            stream = container.add_stream(codec, rate=info.rate)
        except (av.error.FFmpegError, ValueError) as exc:
            raise OutputError(f"video encoder {codec} is not available: {exc}") from None
        if not isinstance(stream, av.VideoStream):  # the configurable codecs are all video encoders
            raise OutputError(f"{codec} is not a video encoder")
        stream.width, stream.height = info.width, info.height
        pix_fmt = cfg.pix_fmt
        if pix_fmt == "yuv420p" and (info.width % 2 or info.height % 2) and codec != "libvpx-vp9":
            log.warning(
                f"{info.width}x{info.height} has an odd side: encoding yuv444p to keep the "
                f"exact size (some players only play yuv420p)"
            )
            pix_fmt = "yuv444p"
        stream.pix_fmt = pix_fmt
        stream.time_base = info.time_base
        stream.codec_context.time_base = info.time_base
        if info.rate:
            stream.codec_context.framerate = info.rate
        crf, cap = auto_rate(info, codec, cfg.size_cap) if cfg.crf < 0 else (cfg.crf, None)
        stream.options = {**encoder_options(codec, cfg, crf, cap), **(extra_options or {})}
        if codec in ("libx265", "hevc_nvenc") and fmt in ("mp4", "mov"):
            stream.codec_tag = "hvc1"  # Apple players refuse HEVC tagged hev1
        if info.colorspace is not None:
            cc = stream.codec_context
            cc.colorspace, cc.color_range = info.colorspace, 1  # limited (MPEG) range
            if info.color_primaries is not None:  # sources set all three tags or none
                cc.color_primaries = info.color_primaries
            if info.color_trc is not None:
                cc.color_trc = info.color_trc
        self.stream = stream

    def next_pts(self, frame: Frame) -> int:
        """The frame's pts in the stream's time base; missing or non-increasing ones are re-timed."""
        info = self.info
        pts = frame.pts
        if pts is not None and frame.time_base != info.time_base:
            pts = int(round(pts * frame.time_base / info.time_base))
        if pts is None or (self.last_pts is not None and pts <= self.last_pts):
            step = int(round(1 / (info.rate * info.time_base))) if info.rate else 1
            pts = (self.last_pts + max(step, 1)) if self.last_pts is not None else 0
            self.pts_fixed += 1
        if self.last_pts is not None:
            self.last_step = pts - self.last_pts
        self.last_duration = (
            None
            if not frame.duration
            else max(1, int(round(frame.duration * frame.time_base / info.time_base)))
        )
        self.last_pts = pts
        self.max_pts = pts if self.max_pts is None else max(self.max_pts, pts)
        return pts

    def write(self, frame: Frame, rgb: np.ndarray) -> float:
        """Encode one H x W x 3 uint8 frame; returns its presentation time in seconds."""
        vf = av.VideoFrame.from_ndarray(rgb, format="rgb24")
        if self.info.colorspace is not None:
            vf = vf.reformat(
                format=self.stream.pix_fmt,
                dst_color_range=1,
                dst_colorspace=SWS_MATRIX.get(self.info.colorspace, "ITU601"),
            )
        vf.pts = self.next_pts(frame)
        vf.time_base = self.info.time_base
        if self.last_duration:  # encoders do not carry it to the packet: _mux does
            self._durations[vf.pts] = self.last_duration
        self._mux(self.stream.encode(vf))
        self.frames_written += 1
        return float(vf.pts * self.info.time_base)

    def flush(self) -> None:
        self._mux(self.stream.encode(None))
        held, self._held = self._held, None
        if held is not None:
            end = self.end_time
            if end is not None and held.dts is not None and held.time_base:
                # the track then ends where the last frame's display ends (see _hold_last)
                want = int(round((end - (self._lead or 0.0)) / held.time_base)) - held.dts
                held.duration = max(held.duration or 0, want)
            self._write([held])

    def _mux(self, packets: list[av.Packet]) -> None:
        if self._durations:
            self._stated_durations(packets)
        if self._lead is None and packets:
            first = packets[0]
            if first.pts is not None and first.dts is not None and first.time_base:
                self._lead = float((first.pts - first.dts) * first.time_base)
            else:
                self._lead = 0.0
        if self._hold_last and packets:
            packets, self._held = ([self._held] if self._held is not None else []) + packets[:-1], packets[-1]
        self._write(packets)

    def _stated_durations(self, packets: list[av.Packet]) -> None:
        """Give packets the durations their frames stated (the last frame's length in MKV/WebM)."""
        tb = self.info.time_base
        for packet in packets:
            if packet.pts is None or not packet.time_base:
                continue
            shown = self._durations.pop(int(round(packet.pts * packet.time_base / tb)), None)
            if shown:
                packet.duration = max(1, int(round(shown * tb / packet.time_base)))

    def _write(self, packets: list[av.Packet]) -> None:
        try:
            self.container.mux(packets)
        except OSError as exc:
            raise OutputError(f"writing {self.where} failed: {exc.strerror or exc}") from None

    @property
    def frame_step(self) -> int:
        """Display length of the last frame in pts units: its own stated duration (animated
        images), else the shorter of the previous frame's and 1/rate (a gap before the last
        frame, e.g. after dropped frames, is not its length)."""
        if self.last_duration:
            return self.last_duration
        info = self.info
        nominal = max(1, int(round(1 / (info.rate * info.time_base)))) if info.rate else None
        steps = [s for s in (self.last_step, nominal) if s]
        return min(steps) if steps else 1

    @property
    def end_time(self) -> float | None:
        """Where the video ends (s): the latest frame's time plus its display length."""
        if self.max_pts is None:
            return None
        return float((self.max_pts + self.frame_step) * self.info.time_base)
