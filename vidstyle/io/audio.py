"""Carry a source's audio streams into the output: stream copy, or transcode when the container
cannot hold the codec. Packets are muxed in time order alongside the video (``write_until``)."""

from __future__ import annotations

from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av

from ..errors import OutputError
from ..log import log

AudioEncoder = Literal["libopus", "aac"]
# what to transcode to when the output container cannot take the source codec
TRANSCODE_CODEC: dict[str, AudioEncoder] = {"webm": "libopus", "ogg": "libopus"}
DEFAULT_TRANSCODE: AudioEncoder = "aac"


class AudioPassthrough:
    """All audio streams of ``source_path`` into ``output`` (an open PyAV output container).

    ``mode``: auto (copy if possible, else transcode), copy (fail if impossible), transcode, none.
    """

    def __init__(
        self,
        source_path: Path,
        output: av.container.OutputContainer,
        mode: str,
        bitrate: int = 192_000,
        start: float = 0.0,
    ):
        """``start`` (s): source time that is time 0 of the output (--start); audio before it is
        left out and the rest moved earlier by as much."""
        self._input: av.container.InputContainer | None = None
        self._packets: Iterator[av.Packet[av.AudioStream]] | None = None
        self._pending: av.Packet[av.AudioStream] | None = None
        self.copied: list[str] = []
        self.transcoded: list[str] = []
        if mode == "none":
            return
        inp = av.open(str(source_path), metadata_errors="ignore")
        if not inp.streams.audio:
            inp.close()
            return
        self._input = inp
        self._map: dict[int, tuple[av.AudioStream, bool]] = {}
        fmt = output.format.name.split(",")[0]
        for s in inp.streams.audio:
            name = s.codec_context.name
            copy = mode in ("auto", "copy") and name in output.supported_codecs
            if mode == "copy" and not copy:
                inp.close()
                raise OutputError(
                    f"cannot copy {name} audio into a {fmt} file; "
                    f"use --audio transcode or another output container"
                )
            out_stream: av.AudioStream
            if copy:
                out_stream = output.add_stream_from_template(s)
                self.copied.append(name)
            else:
                target = TRANSCODE_CODEC.get(fmt, DEFAULT_TRANSCODE)
                rate = s.codec_context.sample_rate or 48000
                if target == "libopus" and rate not in (8000, 12000, 16000, 24000, 48000):
                    rate = 48000
                out_stream = output.add_stream(target, rate=rate)
                out_stream.layout = s.layout if s.layout.nb_channels <= 2 else "stereo"
                out_stream.bit_rate = bitrate
                self.transcoded.append(f"{name}->{target}")
            if s.language:
                out_stream.metadata["language"] = s.language
            self._map[s.index] = (out_stream, copy)
        self._output = output
        self._start = start
        if start:
            try:
                inp.seek(int(start * av.time_base), backward=True)
            except (av.error.FFmpegError, OSError) as exc:
                log.warning(f"audio: cannot seek to {start:g} s ({exc}); the audio is read from the start")
        self._packets = inp.demux(inp.streams.audio)

    @property
    def active(self) -> bool:
        return self._input is not None

    def describe(self) -> str:
        parts = [f"copied {', '.join(self.copied)}"] if self.copied else []
        parts += [f"transcoded {', '.join(self.transcoded)}"] if self.transcoded else []
        return "; ".join(parts)

    def _next(self, packets: Iterator[av.Packet[av.AudioStream]]) -> av.Packet[av.AudioStream] | None:
        if self._pending is not None:
            pkt, self._pending = self._pending, None
            return pkt
        try:
            return next(packets)
        except StopIteration:
            return None
        except av.error.FFmpegError as exc:
            log.warning(f"audio ends early: {exc}")
            return None

    def write_until(self, t: float | None) -> None:
        """Mux audio packets that start before ``t`` seconds (all remaining when None)."""
        packets = self._packets
        if packets is None:
            return
        while True:
            pkt = self._next(packets)
            if pkt is None:
                self._finish_streams()
                return
            start = pkt.pts if pkt.pts is not None else pkt.dts
            if start is not None and t is not None and float(start * pkt.time_base) - self._start >= t - 1e-6:
                self._pending = pkt
                return
            self._mux(pkt)

    def _shift(self, pkt: av.Packet[av.AudioStream]) -> bool:
        """Move ``pkt`` by --start; False when it ends before the start (left out)."""
        if not self._start or pkt.pts is None or not pkt.time_base:
            return True
        offset = int(round(self._start / pkt.time_base))
        if pkt.pts + (pkt.duration or 0) <= offset:
            return False
        pkt.pts -= offset
        if pkt.dts is not None:
            pkt.dts -= offset
        return True

    def _mux(self, pkt: av.Packet[av.AudioStream]) -> None:
        out_stream, copy = self._map[pkt.stream.index]
        if pkt.size and not self._shift(pkt):
            return
        if copy:
            if pkt.dts is None and pkt.size == 0:
                return  # demuxer's flush packet
            pkt.stream = out_stream
            self._output.mux(pkt)
            return
        try:
            frames = pkt.decode()
        except av.error.FFmpegError as exc:
            log.debug(f"skipping undecodable audio packet: {exc}")
            return
        rate = out_stream.codec_context.sample_rate
        for frame in frames:
            if frame.time is not None and frame.sample_rate == rate:
                frame.pts = int(round(frame.time * rate))  # keep A/V sync of late-starting audio
                frame.time_base = Fraction(1, rate)
            else:
                frame.pts = None  # the encoder's resampler lays out contiguous timestamps
            self._output.mux(out_stream.encode(frame))

    def _finish_streams(self) -> None:
        for out_stream, copy in self._map.values():
            if not copy:
                self._output.mux(out_stream.encode(None))
        self.close()

    def finish(self, end_time: float | None) -> None:
        """Write the rest of the audio (only what starts before ``end_time`` s when given, so it
        ends within one audio packet of the video), flush encoders."""
        if self._packets is None:
            return
        self.write_until(end_time)
        if self._packets is not None:  # stopped at end_time: flush the transcoders
            self._finish_streams()

    def close(self) -> None:
        if self._packets is not None:
            self._packets.close()  # type: ignore[attr-defined]  # demux() is a generator; stubs say Iterator
            self._packets = None
        if self._input is not None:
            self._input.close()
            self._input = None
