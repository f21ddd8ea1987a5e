"""A corpus of bad or unusual inputs, made on the fly with PyAV/PIL, each with its expected outcome.

Each :class:`Case` builds its input in a directory and says what `vidstyle stylize` must do with
it: the exit code, a pattern the one-line error (or a warning/note) must contain, and, when an
output is expected, its frame count and size. Nothing is committed as binary.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from vidstyle.io.synth import textured, tone, write_clip


def lit(text: str) -> str:
    """A literal message as a regex."""
    return re.escape(text)


def frames(n: int, h: int = 48, w: int = 64, seed: int = 0) -> list[np.ndarray]:
    base = textured(h, w + n, seed)
    return [np.ascontiguousarray(base[:, i : i + w]) for i in range(n)]


@dataclass
class Case:
    name: str
    build: Callable[[Path], Path]  # -> input path
    code: int = 0
    pattern: str = ""  # regex searched in stderr (the error line for failures)
    output: str = "out.mkv"  # output file name ("" = the case gives -o itself)
    frames: int | None = None  # expected output frames (None: not checked)
    frames_between: tuple[int, int] | None = None  # exclusive bounds, for inputs cut mid-stream
    size: tuple[int, int] | None = None  # expected output (width, height)
    audio_streams: int | None = None
    args: list[str] = field(default_factory=list)
    command: str = "stylize"


def _bytes(name: str, data: bytes) -> Callable[[Path], Path]:
    def build(d: Path) -> Path:
        (d / name).write_bytes(data)
        return d / name

    return build


def _clip(name: str, n: int = 6, h: int = 48, w: int = 64, **kw) -> Callable[[Path], Path]:
    return lambda d: write_clip(d / name, frames(n, h, w), kw.pop("rate", 25), **kw)


def _cut(name: str, fraction: float, n: int = 60) -> Callable[[Path], Path]:
    def build(d: Path) -> Path:
        full = write_clip(d / f"full{Path(name).suffix}", frames(n), 25)
        data = full.read_bytes()
        (d / name).write_bytes(data[: int(len(data) * fraction)])
        return d / name

    return build


def _garbage(name: str, at: float, size: float, n: int = 100) -> Callable[[Path], Path]:
    """A clip with noise written over ``size`` of it at ``at`` (both shares of the file)."""

    def build(d: Path) -> Path:
        data = bytearray(write_clip(d / f"clean{Path(name).suffix}", frames(n), 25).read_bytes())
        start = int(len(data) * at)
        data[start : start + int(len(data) * size)] = np.random.default_rng(7).bytes(int(len(data) * size))
        (d / name).write_bytes(bytes(data))
        return d / name

    return build


def _hdr_pq(d: Path) -> Path:
    """10-bit HEVC tagged BT.2020 / PQ (HDR10-style), as phones record it."""
    with av.open(str(d / "hdr.mkv"), "w") as out:
        s = out.add_stream("libx265", rate=25)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p10le"
        s.options = {
            "x265-params": "log-level=error:colorprim=bt2020:transfer=smpte2084:colormatrix=bt2020nc"
        }
        for i, rgb in enumerate(frames(5)):
            vf = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p10le")
            vf.pts = i
            out.mux(s.encode(vf))
        out.mux(s.encode(None))
    return d / "hdr.mkv"


def _audio_only(d: Path) -> Path:
    with av.open(str(d / "audio.m4a"), "w", format="mp4") as out:
        s = out.add_stream("aac", rate=48000)
        s.layout = "stereo"
        pcm = tone(0.5)
        for start in range(0, pcm.shape[1], 1024):
            f = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(pcm[:, start : start + 1024]), format="fltp", layout="stereo"
            )
            f.sample_rate, f.pts = 48000, start
            out.mux(s.encode(f))
        out.mux(s.encode(None))
    return d / "audio.m4a"


def _zero_frames(d: Path) -> Path:
    with av.open(str(d / "zero.mkv"), "w") as out:
        s = out.add_stream("mpeg4", rate=25)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        out.start_encoding()
    return d / "zero.mkv"


def _encoded(
    name: str, codec: str, pix_fmt: str, n: int = 5, alpha: bool = False, options: dict | None = None
) -> Callable[[Path], Path]:
    def build(d: Path) -> Path:
        with av.open(str(d / name), "w") as out:
            s = out.add_stream(codec, rate=25)
            s.width, s.height, s.pix_fmt = 64, 48, pix_fmt
            s.options = options or {}
            for i, rgb in enumerate(frames(n)):
                img = np.dstack([rgb, np.full((48, 64, 1), 100, np.uint8)]) if alpha else rgb
                vf = av.VideoFrame.from_ndarray(img, format="rgba" if alpha else "rgb24")
                vf.pts = i
                out.mux(s.encode(vf))
            out.mux(s.encode(None))
        return d / name

    return build


def _pts(name: str, pts: list[int]) -> Callable[[Path], Path]:
    """Packets re-stamped with ``pts`` (duplicates, negatives) in units of 1/25 s."""

    def build(d: Path) -> Path:
        with av.open(str(d / name), "w") as out:
            s = out.add_stream("mpeg4", rate=25)  # intra+P only: packet order = frame order
            s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
            for i, rgb in enumerate(frames(len(pts))):
                vf = av.VideoFrame.from_ndarray(rgb, format="rgb24")
                vf.pts = i
                for pkt in s.encode(vf):
                    pkt.pts = pkt.dts = pts[i]
                    out.mux(pkt)
            out.mux(s.encode(None))
        return d / name

    return build


def _multi(name: str, videos: int = 1, audios: int = 1, subtitles: bool = False) -> Callable[[Path], Path]:
    def build(d: Path) -> Path:
        srt = None
        if subtitles:
            (d / "s.srt").write_text("1\n00:00:00,000 --> 00:00:00,150\nhello\n")
            srt = av.open(str(d / "s.srt"))
        with av.open(str(d / name), "w") as out:
            vs = []
            for _ in range(videos):
                s = out.add_stream("libx264", rate=25)
                s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
                vs.append(s)
            aus = []
            for _ in range(audios):
                a = out.add_stream("aac", rate=48000)
                a.layout = "stereo"
                aus.append(a)
            st = out.add_stream_from_template(srt.streams[0]) if srt else None
            for i, rgb in enumerate(frames(10)):
                for s in vs:
                    vf = av.VideoFrame.from_ndarray(rgb, format="rgb24")
                    vf.pts = i
                    out.mux(s.encode(vf))
            for s in vs:
                out.mux(s.encode(None))
            for k, a in enumerate(aus):
                pcm = tone(0.4, freq=330.0 * (k + 1))
                for start in range(0, pcm.shape[1], 1024):
                    f = av.AudioFrame.from_ndarray(
                        np.ascontiguousarray(pcm[:, start : start + 1024]), format="fltp", layout="stereo"
                    )
                    f.sample_rate, f.pts = 48000, start
                    out.mux(a.encode(f))
                out.mux(a.encode(None))
            if srt:
                for pkt in srt.demux(srt.streams[0]):
                    if pkt.dts is not None:
                        pkt.stream = st
                        out.mux(pkt)
        if srt:
            srt.close()
        return d / name

    return build


def _exif_jpeg(d: Path) -> Path:
    from PIL import Image

    exif = Image.Exif()
    exif[0x0112] = 8  # rotate 90 counter-clockwise to display
    Image.fromarray(frames(1, 30, 50)[0]).save(d / "exif.jpg", exif=exif)
    return d / "exif.jpg"


def _big_png(d: Path) -> Path:
    from PIL import Image

    small = textured(270, 480, seed=9)
    Image.fromarray(np.repeat(np.repeat(small, 16, 0), 16, 1)).save(d / "8k.png", compress_level=1)
    return d / "8k.png"


def _output_under_a_file(d: Path) -> Path:
    (d / "blocker").write_text("a file, not a directory")
    return write_clip(d / "in.mp4", frames(3), 25)


def _corrupt_model(d: Path) -> Path:
    (d / "bad.safetensors").write_bytes(b'\x10\x00\x00\x00\x00\x00\x00\x00{"a": 1}garbage')
    return write_clip(d / "in.mp4", frames(3), 25)


def _evil_pth(d: Path) -> Path:
    import torch

    class Evil:
        def __reduce__(self):
            import os

            return (os.system, (f"touch {d / 'PWNED'}",))

    torch.save({"conv1.conv2d.weight": Evil()}, d / "evil.pth")
    return d / "evil.pth"


def _config(text: str) -> Callable[[Path], Path]:
    def build(d: Path) -> Path:
        (d / "bad.yaml").write_text(text)
        return write_clip(d / "in.mp4", frames(3), 25)

    return build


def vfr_jump(d: Path) -> Path:
    pts = [0, 40, 80, 3080, 3120, 3160]  # a 3 s hole (ms)
    return write_clip(d / "jump.mkv", frames(6), 25, pts=pts, time_base=Fraction(1, 1000))


CASES: list[Case] = [
    Case("zero_bytes", _bytes("empty.mp4", b""), 1, lit("file is empty (0 bytes)"), output=""),
    Case(
        "random_bytes",
        _bytes("noise.mp4", np.random.default_rng(0).bytes(50_000)),
        1,
        "not a video we can decode",
    ),
    Case("text_file", _bytes("notes.mp4", b"just some text\n" * 100), 1, lit("not a video we can decode")),
    Case("mp4_moov_at_end_cut", _cut("cut.mp4", 0.5), 1, lit("not a video we can decode")),
    Case(
        "mkv_cut_mid_cluster",
        _cut("cut.mkv", 0.55),
        0,
        lit("warning: input ended early"),
        frames_between=(0, 60),
    ),  # some frames, not all 60
    Case("mp4_noise_mid_file", _garbage("noisy.mp4", 0.3, 0.05), 0, "could not be decoded and were skipped"),
    # FFmpeg's Matroska demuxer ends at a damaged cluster: what came before is kept, and said so
    Case("mkv_noise_mid_file", _garbage("noisy.mkv", 0.3, 0.05), 0, lit("input ended early (frames stop at")),
    Case("audio_only", _audio_only, 1, lit("no video stream (contains: audio)")),
    Case("zero_frames", _zero_frames, 1, "not a video we can decode|no decodable frames"),
    Case("single_frame", _clip("one.mp4", 1), 0, frames=1, size=(64, 48)),
    Case("size_1x1", _clip("one.mkv", 3, 1, 1, pix_fmt="yuv444p"), 0, frames=3, size=(1, 1)),
    Case("size_2x2", _clip("two.mkv", 3, 2, 2), 0, frames=3, size=(2, 2)),
    Case("size_3x5", _clip("odd.mkv", 3, 5, 3, pix_fmt="yuv444p"), 0, frames=3, size=(3, 5)),
    Case("size_101x57", _clip("odd.mp4", 4, 57, 101, pix_fmt="yuv444p"), 0, frames=4, size=(101, 57)),
    Case("vfr_pts_jump", vfr_jump, 0, frames=6),
    Case("duplicate_pts", _pts("dup.mkv", [0, 1, 1, 2, 3, 3, 4, 5]), 0, lit("re-timed"), frames=8),
    Case("negative_pts", _pts("neg.mkv", [-3, -2, -1, 0, 1, 2, 3, 4]), 0, frames=8),
    Case("rotation_90", _clip("r90.mp4", 3, rotation=90), 0, frames=3, size=(48, 64)),
    Case("rotation_180", _clip("r180.mp4", 3, rotation=180), 0, frames=3, size=(64, 48)),
    Case("rotation_270", _clip("r270.mp4", 3, rotation=270), 0, frames=3, size=(48, 64)),
    Case("yuv420p10le", _encoded("ten.mkv", "ffv1", "yuv420p10le"), 0, frames=5, size=(64, 48)),
    Case("yuv444p", _encoded("full.mp4", "libx264", "yuv444p"), 0, frames=5),
    Case("rgb24", _encoded("rgb.mov", "png", "rgb24"), 0, frames=5),
    Case(
        "alpha_png_in_mov",
        _encoded("alpha.mov", "png", "rgba", alpha=True),
        0,
        lit("alpha channel"),
        frames=5,
    ),
    Case(
        "interlaced",
        _encoded(
            "inter.mkv",
            "libx264",
            "yuv420p",
            options={"flags": "+ildct+ilme", "x264-params": "interlaced=1:tff=1"},
        ),
        0,
        "interlaced",
        frames=5,
    ),
    Case(
        "two_video_streams",
        _multi("twov.mkv", videos=2, audios=0),
        0,
        lit("2 video streams: using the first"),
        frames=10,
    ),
    Case(
        "video_stream_chosen",
        _multi("twov.mkv", videos=2, audios=0),
        0,
        lit("using stream 1"),
        frames=10,
        args=["--video-stream", "1"],
    ),
    Case(
        "video_stream_missing",
        _multi("twov.mkv", videos=2, audios=0),
        1,
        lit("no video stream 5 (it has 2"),
        args=["--video-stream", "5"],
    ),
    Case("hdr_pq_10bit", _hdr_pq, 0, lit("HDR input (PQ): the output is 8-bit SDR, tagged BT.709"), frames=5),
    Case(
        "style_is_a_painting",
        _clip("in.mp4", 3),
        1,
        lit("is an image, not a style model; did you mean `vidstyle optimize --style-image"),
        args=["--style", "{dir}/starry.jpg"],
    ),
    Case("two_audio_streams", _multi("twoa.mkv", audios=2), 0, frames=10, audio_streams=2),
    Case(
        "subtitles",
        _multi("subs.mkv", subtitles=True),
        0,
        lit("subtitle stream(s) are not carried"),
        frames=10,
        audio_streams=1,
    ),
    Case("exif_rotated_jpeg", _exif_jpeg, 0, output="out.png", size=(30, 50)),
    Case("missing_input", lambda d: d / "nope.mp4", 1, lit("input not found")),
    Case(
        "missing_output_dir",
        _clip("in.mp4", 3),
        1,
        lit("output directory does not exist"),
        output="nodir/out.mp4",
    ),
    Case(
        "unsupported_output_extension",
        _clip("in.mp4", 3),
        1,
        lit("unsupported output extension '.xyz'"),
        output="out.xyz",
    ),
    Case(
        "output_dir_is_a_file",
        _output_under_a_file,
        1,
        lit("output directory is not a directory"),
        output="blocker/out.mp4",
    ),
    Case(
        "output_equals_input",
        lambda d: write_clip(d / "same.mp4", frames(3), 25),
        1,
        lit("is the input file"),
        output="same.mp4",
    ),
    Case(
        "unknown_style",
        _clip("in.mp4", 3),
        1,
        lit("unknown style 'no-such-style'"),
        args=["--style", "no-such-style"],
    ),
    Case("corrupt_safetensors", _corrupt_model, 1, lit("corrupt"), args=["--style", "{dir}/bad.safetensors"]),
    Case("pickle_with_code", _evil_pth, 1, lit("refused"), command="import"),
    Case(
        "config_wrong_type",
        _config("model:\n  batch: many\n"),
        2,
        lit("model.batch: expected an integer"),
        args=["--config", "{dir}/bad.yaml"],
    ),
    Case(
        "config_unknown_key",
        _config("encode:\n  quality: 5\n"),
        2,
        lit("unknown config key 'encode.quality'"),
        args=["--config", "{dir}/bad.yaml"],
    ),
    Case(
        "config_out_of_range",
        _config("temporal:\n  alpha: 1.5\n"),
        2,
        lit("temporal.alpha: 1.5 is above the maximum 1"),
        args=["--config", "{dir}/bad.yaml"],
    ),
]
