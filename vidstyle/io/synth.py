"""Make real test and demo clips with PyAV: camera moves over a photo, tones as audio.

Used by ``vidstyle demo``, ``vidstyle bench`` and the tests; nothing is downloaded. The demo photo
is Grace Hopper's portrait (US Navy, public domain) that ships in matplotlib's sample data.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np


def demo_photo() -> np.ndarray:
    """Grace Hopper's portrait, RGB uint8 (600 x 512), from matplotlib's sample data."""
    import matplotlib.cbook as cbook
    from PIL import Image

    with Image.open(cbook.get_sample_data("grace_hopper.jpg")) as im:
        return np.asarray(im.convert("RGB"))


def textured(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A smooth random colour texture with detail at several scales, RGB uint8 H x W x 3."""
    rng = np.random.default_rng(seed)
    img = np.zeros((h, w, 3), np.float32)
    for cells, amp in ((4, 0.5), (16, 0.3), (64, 0.2)):
        small = rng.random((max(2, h * cells // max(h, w)), max(2, w * cells // max(h, w)), 3))
        img += amp * cv2.resize(small.astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    return np.clip(img * 255, 0, 255).astype(np.uint8)


def pan_zoom(image: np.ndarray, n_frames: int, size: tuple[int, int],
             zoom: tuple[float, float] = (1.0, 1.25), pan: tuple[float, float] = (0.08, 0.04),
             center: tuple[float, float] = (0.5, 0.5)) -> Iterator[np.ndarray]:
    """A slow camera move over ``image``: frames of ``size`` (H, W), zooming and panning.

    ``zoom``: start/end magnification of the crop; ``pan``: total (x, y) travel as a share of the
    image; ``center``: (x, y) the move is centred on, as a share of the image.
    """
    ih, iw = image.shape[:2]
    out_h, out_w = size
    base = max(out_h / ih, out_w / iw)   # cover the frame at zoom 1
    for i in range(n_frames):
        t = i / max(n_frames - 1, 1)
        s = base * (zoom[0] + (zoom[1] - zoom[0]) * t)
        cx = iw * (center[0] + pan[0] * (t - 0.5))
        cy = ih * (center[1] + pan[1] * (t - 0.5))
        m = np.array([[s, 0, out_w / 2 - s * cx], [0, s, out_h / 2 - s * cy]], np.float32)
        yield cv2.warpAffine(image, m, (out_w, out_h), flags=cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_REFLECT)


def tone(seconds: float, sample_rate: int = 48000, freq: float = 440.0, channels: int = 2) -> np.ndarray:
    """A sine tone with a slow tremolo, float32 (channels, samples) in [-0.5, 0.5]."""
    t = np.arange(int(round(seconds * sample_rate))) / sample_rate
    wave = 0.4 * np.sin(2 * np.pi * freq * t) * (0.75 + 0.25 * np.sin(2 * np.pi * 0.5 * t))
    return np.repeat(wave[None].astype(np.float32), channels, axis=0)


def write_clip(path: str | Path, frames: Iterable[np.ndarray], rate: Fraction | int = 25, *,
               pts: Sequence[int] | None = None, time_base: Fraction | None = None,
               codec: str = "libx264", pix_fmt: str = "yuv420p", crf: int = 18,
               audio: np.ndarray | None = None, audio_rate: int = 48000, audio_codec: str = "aac",
               rotation: int = 0, container_format: str | None = None, gop: int = 0) -> Path:
    """Encode RGB frames into ``path``; ``pts`` (in ``time_base``) makes variable frame rate.

    ``audio``: float32 (channels, samples) at ``audio_rate``. ``rotation``: display rotation in
    degrees counter-clockwise, stored as the stream's display matrix. ``gop``: a keyframe at
    least every this many frames (0: the encoder's default).
    """
    path = Path(path)
    rate = Fraction(rate)
    with av.open(str(path), "w", format=container_format) as out:
        vs = out.add_stream(codec, rate=rate)
        vs.pix_fmt = pix_fmt
        if codec in ("libx264", "libx265"):
            vs.options = {"crf": str(crf), "preset": "veryfast"}
        if gop:
            vs.codec_context.gop_size = gop
        tb = time_base or Fraction(1, 1) / rate
        vs.codec_context.time_base = tb
        vs.time_base = tb
        if rotation:
            vs.set_display_rotation(rotation)
        as_ = None
        if audio is not None:
            as_ = out.add_stream(audio_codec, rate=audio_rate)
            as_.layout = "stereo" if audio.shape[0] == 2 else "mono"
        first = True
        for i, rgb in enumerate(frames):
            if first:
                vs.height, vs.width = rgb.shape[:2]
                first = False
            vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            vf.pts = pts[i] if pts is not None else i
            vf.time_base = tb
            out.mux(vs.encode(vf))
        out.mux(vs.encode(None))
        if as_ is not None:
            step = 1024
            for start in range(0, audio.shape[1], step):
                chunk = np.ascontiguousarray(audio[:, start:start + step])
                af = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=as_.layout.name)
                af.sample_rate = audio_rate
                af.pts = start
                af.time_base = Fraction(1, audio_rate)
                out.mux(as_.encode(af))
            out.mux(as_.encode(None))
    return path


def demo_clip(path: str | Path, seconds: float = 4.0, size: tuple[int, int] = (360, 640),
              rate: Fraction = Fraction(30000, 1001)) -> Path:
    """The demo's sample: a pan/zoom over the portrait at 29.97 fps with a 440 Hz tone."""
    n = int(round(seconds * rate))
    frames = pan_zoom(demo_photo(), n, size, zoom=(1.0, 1.3), pan=(0.06, 0.04), center=(0.5, 0.36))
    return write_clip(path, frames, rate, audio=tone(n / rate))
