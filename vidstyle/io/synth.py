"""Make real test and demo clips with PyAV: camera moves over a photo, tones as audio.

Used by ``vidstyle demo``, ``vidstyle bench`` and the tests; nothing is downloaded. The demo photo
is Grace Hopper's portrait (US Navy, public domain) that ships in matplotlib's sample data.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np


def demo_photo() -> np.ndarray:
    """Grace Hopper's portrait, RGB uint8 (600 x 512), from matplotlib's sample data."""
    import matplotlib.cbook as cbook
    from PIL import Image

    with Image.open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)) as im:
        return np.asarray(im.convert("RGB"))


def textured(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A smooth random colour texture with detail at several scales, RGB uint8 H x W x 3."""
    rng = np.random.default_rng(seed)
    img = np.zeros((h, w, 3), np.float32)
    for cells, amp in ((4, 0.5), (16, 0.3), (64, 0.2)):
        small = rng.random((max(2, h * cells // max(h, w)), max(2, w * cells // max(h, w)), 3))
        img += amp * cv2.resize(small.astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    return np.clip(img * 255, 0, 255).astype(np.uint8)


# Grace Hopper's face in :func:`demo_photo` (MTCNN box x1, y1, x2, y2 px), for :func:`face_crowd`.
DEMO_FACE_BOX = (178.0, 116.0, 350.0, 327.0)


@dataclass
class Head:
    """A face to paste: an RGB photo and its face box (x1, y1, x2, y2 px) in that photo."""

    image: np.ndarray
    box: tuple[float, float, float, float]


def head_sprite(head: Head, face_height: int) -> tuple[np.ndarray, np.ndarray]:
    """(RGB uint8, alpha float32 in [0, 1]) of the head around ``head.box``, scaled so the face box
    is ``face_height`` px high; the alpha is a soft ellipse taking in hair, jaw and some neck."""
    x1, y1, x2, y2 = head.box
    bw, bh = x2 - x1, y2 - y1
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2 - 0.05 * bh
    s = face_height / bh
    half_w, half_h = 0.95 * bw * s, 1.0 * bh * s  # sprite half sizes, output px
    out_w, out_h = 2 * int(np.ceil(half_w)) + 1, 2 * int(np.ceil(half_h)) + 1
    m = np.array([[s, 0, out_w / 2 - s * cx], [0, s, out_h / 2 - s * cy]], np.float32)
    rgb = cv2.warpAffine(
        head.image,
        m,
        (out_w, out_h),
        flags=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REFLECT,
    )
    if s < 0.5:  # warpAffine does not average: pre-blur against aliasing on strong shrinks
        rgb = cv2.warpAffine(
            cv2.GaussianBlur(head.image, (0, 0), 0.4 / s),
            m,
            (out_w, out_h),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REFLECT,
        )
    yy, xx = np.mgrid[0:out_h, 0:out_w].astype(np.float32)
    r = np.hypot((xx - out_w / 2) / (0.72 * bw * s), (yy - out_h / 2) / (0.85 * bh * s))
    alpha = np.clip((1.25 - r) / 0.35, 0, 1).astype(np.float32)
    return rgb, alpha


def face_crowd(
    heads: Sequence[Head],
    face_heights: Sequence[int],
    n_frames: int,
    size: tuple[int, int] = (360, 640),
    seed: int = 0,
    drift: float = 6.0,
    pan: float = 24.0,
    centres: Sequence[tuple[float, float]] | None = None,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """A synthetic crowd: one head per entry of ``face_heights`` (face box heights, px), heads
    taken from ``heads`` in turn, laid out on a grid (or at ``centres``, (x, y) shares of the
    frame) over a textured background that pans by ``pan`` px over the clip while each head
    drifts up to ``drift`` px on its own path.

    Returns (frames, face boxes per frame as F x 4 float32 x1, y1, x2, y2 in frame px).
    """
    h, w = size
    rng = np.random.default_rng(seed)
    background = textured(h, w + int(pan) + 2, seed)
    n = len(face_heights)
    cols = max(1, int(np.ceil(np.sqrt(n * w / h))))
    rows = int(np.ceil(n / cols))
    cells = rng.permutation(rows * cols)[:n]
    placed = []
    for i, (cell, fh) in enumerate(zip(cells, face_heights)):
        head = heads[i % len(heads)]
        rgb, alpha = head_sprite(head, int(fh))
        bw = fh * (head.box[2] - head.box[0]) / (head.box[3] - head.box[1])
        ch, cw = h / rows, w / cols
        r, c = divmod(int(cell), cols)
        sh, sw = alpha.shape
        cx = (c + 0.5) * cw + rng.uniform(-0.2, 0.2) * max(0.0, cw - sw)
        cy = (r + 0.5) * ch + rng.uniform(-0.2, 0.2) * max(0.0, ch - sh)
        if centres is not None:
            cx, cy = centres[i][0] * w, centres[i][1] * h
        phase, direction = rng.uniform(0, 2 * np.pi), rng.uniform(0, 2 * np.pi)
        placed.append((rgb, alpha, cx, cy, phase, direction, fh, bw))
    frames, boxes = [], []
    for t in range(n_frames):
        u = t / max(n_frames - 1, 1)
        off = int(round(pan * u))
        frame = background[:, off : off + w].astype(np.float32)
        frame_boxes = []
        for rgb, alpha, cx, cy, phase, direction, fh, bw in placed:
            d = drift * np.sin(np.pi * u + phase)
            x, y = cx + d * np.cos(direction), cy + d * np.sin(direction)
            sh, sw = alpha.shape
            x0, y0 = int(round(x - sw / 2)), int(round(y - sh / 2))
            fx0, fy0, fx1, fy1 = max(0, x0), max(0, y0), min(w, x0 + sw), min(h, y0 + sh)
            if fx1 <= fx0 or fy1 <= fy0:
                continue
            a = alpha[fy0 - y0 : fy1 - y0, fx0 - x0 : fx1 - x0, None]
            frame[fy0:fy1, fx0:fx1] += a * (
                rgb[fy0 - y0 : fy1 - y0, fx0 - x0 : fx1 - x0] - frame[fy0:fy1, fx0:fx1]
            )
            face_cy = y0 + sh / 2 + 0.05 * fh  # the sprite is centred a little above the face box
            frame_boxes.append(
                [x0 + sw / 2 - bw / 2, face_cy - fh / 2, x0 + sw / 2 + bw / 2, face_cy + fh / 2]
            )
        frames.append(np.clip(frame, 0, 255).astype(np.uint8))
        boxes.append(np.asarray(frame_boxes, np.float32).reshape(-1, 4))
    return frames, boxes


def pan_zoom(
    image: np.ndarray,
    n_frames: int,
    size: tuple[int, int],
    zoom: tuple[float, float] = (1.0, 1.25),
    pan: tuple[float, float] = (0.08, 0.04),
    center: tuple[float, float] = (0.5, 0.5),
) -> Iterator[np.ndarray]:
    """A slow camera move over ``image``: frames of ``size`` (H, W), zooming and panning.

    ``zoom``: start/end magnification of the crop; ``pan``: total (x, y) travel as a share of the
    image; ``center``: (x, y) the move is centred on, as a share of the image.
    """
    ih, iw = image.shape[:2]
    out_h, out_w = size
    base = max(out_h / ih, out_w / iw)  # cover the frame at zoom 1
    for i in range(n_frames):
        t = i / max(n_frames - 1, 1)
        s = base * (zoom[0] + (zoom[1] - zoom[0]) * t)
        cx = iw * (center[0] + pan[0] * (t - 0.5))
        cy = ih * (center[1] + pan[1] * (t - 0.5))
        m = np.array([[s, 0, out_w / 2 - s * cx], [0, s, out_h / 2 - s * cy]], np.float32)
        yield cv2.warpAffine(image, m, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def tone(
    seconds: float | Fraction, sample_rate: int = 48000, freq: float = 440.0, channels: int = 2
) -> np.ndarray:
    """A sine tone with a slow tremolo, float32 (channels, samples) in [-0.5, 0.5]."""
    t = np.arange(int(round(seconds * sample_rate))) / sample_rate
    wave = 0.4 * np.sin(2 * np.pi * freq * t) * (0.75 + 0.25 * np.sin(2 * np.pi * 0.5 * t))
    return np.repeat(wave[None].astype(np.float32), channels, axis=0)


def write_clip(
    path: str | Path,
    frames: Iterable[np.ndarray],
    rate: Fraction | int = 25,
    *,
    pts: Sequence[int] | None = None,
    time_base: Fraction | None = None,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    crf: int = 18,
    audio: np.ndarray | None = None,
    audio_rate: int = 48000,
    audio_codec: str = "aac",
    rotation: int = 0,
    container_format: str | None = None,
    gop: int = 0,
) -> Path:
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
        if as_ is not None and audio is not None:
            step = 1024
            for start in range(0, audio.shape[1], step):
                chunk = np.ascontiguousarray(audio[:, start : start + step])
                af = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=as_.layout.name)
                af.sample_rate = audio_rate
                af.pts = start
                af.time_base = Fraction(1, audio_rate)
                out.mux(as_.encode(af))
            out.mux(as_.encode(None))
    return path


def demo_clip(
    path: str | Path,
    seconds: float = 4.0,
    size: tuple[int, int] = (360, 640),
    rate: Fraction = Fraction(30000, 1001),
) -> Path:
    """The demo's sample: a pan/zoom over the portrait at 29.97 fps with a 440 Hz tone."""
    n = int(round(seconds * rate))
    frames = pan_zoom(demo_photo(), n, size, zoom=(1.0, 1.3), pan=(0.06, 0.04), center=(0.5, 0.36))
    return write_clip(path, frames, rate, audio=tone(n / rate))
