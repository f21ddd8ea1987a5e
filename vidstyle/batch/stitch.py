"""Join a file's chunk segments into the final output without re-encoding, then add its audio.

The segments' packets are remuxed in order into the output container (chosen by its extension,
as ``stylize`` does). Each segment starts at pts 0 (an MP4 that starts later stores the delay
as an edit list in the movie's 1/1000 s timescale, which would round 29.97 fps timestamps), so
its start time in the source is added back to every pts and dts. A segment's first packets carry
dts extrapolated back from its first frame, which can fall at or before the previous segment's
last dts; those are moved just past it (never past the packet's pts). The source's audio is
copied (or transcoded) once, interleaved with the video, by the same code ``stylize`` uses.
The file is written under a temporary name and renamed when complete.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av

from ..config import EncodeConfig
from ..errors import OutputError
from ..io.audio import AudioPassthrough
from ..io.sink import CONTAINERS, publish, temp_name


def stitch(
    segments: list[Path],
    starts: list[int],
    source: Path,
    output: Path,
    encode: EncodeConfig,
    time_base: Fraction,
    rate: Fraction | None,
) -> int:
    """Remux ``segments`` (MP4, same codec settings) + the audio of ``source`` into ``output``.

    ``starts``: each segment's first pts in the source, in ``time_base`` units. ``time_base`` and
    ``rate``: the source video's, given to the output stream as ``stylize`` does. Returns the
    number of video packets (frames) written.
    """
    fmt = CONTAINERS[output.suffix.lower()][0]
    tmp = temp_name(output)
    try:
        with av.open(str(tmp), "w", format=fmt) as out:
            frames = _remux(segments, starts, source, out, encode, time_base, rate)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, (av.error.FFmpegError, OSError)):
            raise OutputError(
                f"joining the chunks of {output.name} failed: {getattr(exc, 'strerror', None) or exc}"
            ) from None
        raise
    publish(tmp, output)
    return frames


def _remux(
    segments: list[Path],
    starts: list[int],
    source: Path,
    out,
    encode: EncodeConfig,
    time_base: Fraction,
    rate: Fraction | None,
) -> int:
    video = None
    audio = None
    extradata = None
    last_dts: Fraction | None = None
    frames = 0
    try:
        for path, start in zip(segments, starts):
            with av.open(str(path)) as seg:
                stream = seg.streams.video[0]
                if video is None:
                    video = out.add_stream_from_template(stream)
                    video.time_base = time_base
                    if rate:
                        video.codec_context.framerate = rate
                    extradata = stream.codec_context.extradata
                    audio = AudioPassthrough(source, out, encode.audio, encode.audio_bitrate)
                elif stream.codec_context.extradata != extradata:
                    raise OutputError(
                        f"{path.name} was encoded with other codec parameters than the "
                        f"first chunk; cannot join without re-encoding"
                    )
                offset = round(start * time_base / Fraction(stream.time_base))
                for packet in seg.demux(stream):
                    if packet.size == 0 or packet.dts is None:
                        continue  # the demuxer's flush packet
                    packet.dts += offset
                    if packet.pts is not None:
                        packet.pts += offset
                    last_dts = _fix_dts(packet, packet.dts, last_dts)
                    packet.stream = video
                    out.mux(packet)
                    frames += 1
                    if audio is not None and packet.pts is not None:
                        audio.write_until(float(packet.pts * packet.time_base) + 0.5)
        if audio is not None:
            audio.finish(None)
    finally:
        if audio is not None:
            audio.close()
    return frames


def _fix_dts(packet: av.Packet, dts: int, last: Fraction | None) -> Fraction:
    """Keep decode times strictly increasing across segment joins (the packet's ``dts`` is moved
    just past ``last``, the previous packet's dts in seconds); returns this packet's dts in seconds."""
    tb = Fraction(packet.time_base)
    if last is not None and dts * tb <= last:
        dts = int(last / tb) + 1
        if packet.pts is not None and dts > packet.pts:
            raise OutputError("chunk timestamps overlap; cannot join without re-encoding")
        packet.dts = dts
    return dts * tb
