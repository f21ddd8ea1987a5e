"""The output's quality when ``encode.crf`` is auto (-1): it follows the source's quality class.

A source's class is told by its video bits per pixel per frame (bits/px: bit rate / (width x
height x frame rate)). A well-encoded source (at least ``REFERENCE_BPP``), a lossless one, an
image or a live stream gets CRF 18 (visually lossless for x264) and no cap. A leaner one gets 6
CRF more per halving of its bits/px (x264's rate roughly halves per +6), up to ``MAX_AUTO_CRF``,
and its video bit rate is capped (VBV) at ``encode.size_cap`` times the source's: a stylized
picture holds far more detail than most sources (painted strokes), so a CRF alone still gave
outputs many times the source's size. Measurements: docs/performance.md
(benchmarks/encode_size.py).
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import av

from ..log import log
from .frame import VideoInfo

DEFAULT_CRF = 18  # x264's "visually lossless"; what a high-quality source gets
REFERENCE_BPP = 0.1  # bits/px at and above which a source counts as high quality
MAX_AUTO_CRF = 30  # the auto CRF never goes above this
SAMPLE_SECONDS = 10.0  # of packets read when the container states no bit rate
# codecs whose bits/px say nothing about quality: kept at DEFAULT_CRF
LOSSLESS_CODECS = {
    "ffv1",
    "huffyuv",
    "ffvhuff",
    "utvideo",
    "magicyuv",
    "rawvideo",
    "png",
    "apng",
    "gif",
    "qtrle",
}


def crf_for_bits_per_pixel(bpp: float | None) -> int:
    """The auto CRF of a source with ``bpp`` video bits per pixel per frame (None: unknown)."""
    if bpp is None or bpp <= 0 or bpp >= REFERENCE_BPP:
        return DEFAULT_CRF
    return min(MAX_AUTO_CRF, DEFAULT_CRF + round(6 * math.log2(REFERENCE_BPP / bpp)))


def auto_crf(info: VideoInfo, codec: str) -> int:
    """The CRF (cq for NVENC) for a stylized copy of the source ``info`` describes."""
    return auto_rate(info, codec, 0.0)[0]


def auto_rate(info: VideoInfo, codec: str, size_cap: float) -> tuple[int, int | None]:
    """(CRF, video bit rate cap in bit/s or None) for a stylized copy of the source ``info``
    describes; the cap is ``size_cap`` times the source's rate, for sources below REFERENCE_BPP."""
    if info.kind != "video" or info.path is None or not info.rate or info.codec in LOSSLESS_CODECS:
        return DEFAULT_CRF, None
    pixels, rate = info.width * info.height, float(info.rate)
    return _auto_rate(Path(info.path), info.codec, pixels, rate, size_cap)


@lru_cache(maxsize=32)
def _auto_rate(path: Path, codec: str, pixels: int, rate: float, size_cap: float) -> tuple[int, int | None]:
    """Cached per source, and logged once when it is not the default."""
    bits = video_bit_rate(path, codec)
    bpp = bits / (pixels * rate) if bits else None
    crf = crf_for_bits_per_pixel(bpp)
    if bits is None or bpp is None or crf == DEFAULT_CRF:
        return DEFAULT_CRF, None
    cap = int(size_cap * bits) if size_cap > 0 else None
    log.info(
        f"encode: crf {crf}"
        + (f", at most {cap / 1000:.0f} kbit/s" if cap else "")
        + f" to follow the source's {bits / 1000:.0f} kbit/s ({bpp:.3f} bits/px; crf "
        f"{DEFAULT_CRF} and no cap from {REFERENCE_BPP} bits/px up; --crf N to choose)"
    )
    return crf, cap


def video_bit_rate(path: Path, codec: str) -> float | None:
    """Bit/s of the video stream of ``path`` with ``codec`` (the first video stream else): the
    container's figure when it states one, else measured over its first SAMPLE_SECONDS."""
    try:
        with av.open(str(path), metadata_errors="ignore") as c:
            videos = list(c.streams.video)
            if not videos:
                return None
            stream = next((s for s in videos if s.codec_context.name == codec), videos[0])
            if stream.bit_rate:
                return float(stream.bit_rate)
            size, first, last = 0, None, None
            for packet in c.demux(stream):
                if packet.pts is None or not packet.size:
                    continue
                t = float(packet.pts * packet.time_base)
                first = t if first is None else min(first, t)
                last = t if last is None else max(last, t)
                size += packet.size
                if last - first >= SAMPLE_SECONDS:
                    break
            rate = stream.average_rate
    except (av.error.FFmpegError, OSError, ValueError):
        return None
    span = (last - first if first is not None and last is not None else 0.0) + (
        1 / float(rate) if rate else 0.0
    )
    return 8 * size / span if span > 0 and size else None
