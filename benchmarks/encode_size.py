"""Output size against quality for encode.crf=18 (the old default) and auto (the new one).

For each source (generated with PyAV at several qualities and contents, and real clips from
../shared/data/video/dev when present): stylize it once into a lossless reference (x264 CRF 0,
yuv420p: the exact stylized frames the encoder gets), then encode the reference's frames with
x264 medium at the old default (CRF 18), at the new default (the auto CRF and bit rate cap the
source gets: ``vidstyle/io/quality.py``), at the auto CRF without the cap, and at a sweep of
CRFs, and score each against the reference: video bytes (and their ratio to the source's video
bytes over the same frames), PSNR and SSIM of the luma plane.

    python benchmarks/encode_size.py --sources generated --json benchmarks/results/encode_size-cpu.json
    python benchmarks/encode_size.py --sources real --shared ../shared/data \
        --json benchmarks/results/encode_size-real-cpu.json
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from vidstyle.config import EncodeConfig
from vidstyle.export.quality import ssim
from vidstyle.io.encoder import encoder_options
from vidstyle.io.frame import VideoInfo
from vidstyle.io.quality import DEFAULT_CRF, auto_rate, video_bit_rate
from vidstyle.io.synth import demo_photo, pan_zoom, textured, write_clip
from vidstyle.pipeline.api import Pipeline
from vidstyle.sysinfo import cpu_model

RATE = 25
SIZE = (360, 640)
SWEEP = (18, 21, 24, 27, 30)


def noisy_texture(n: int) -> list[np.ndarray]:
    """A texture drifting 3 px a frame under fresh sensor-like noise (sigma 6) each frame."""
    rng = np.random.default_rng(1)
    h, w = SIZE
    big = textured(h, w + 3 * n + 8, 3).astype(np.float32)
    return [
        np.clip(big[:, 3 * i : 3 * i + w] + rng.normal(0, 6, (h, w, 3)), 0, 255).astype(np.uint8)
        for i in range(n)
    ]


def generated_sources(tmp: Path, seconds: float) -> dict[str, Path]:
    n = int(seconds * RATE)
    pan = list(pan_zoom(demo_photo(), n, SIZE, zoom=(1.0, 1.3), pan=(0.06, 0.04)))
    return {
        "camera move, high quality (crf 16)": write_clip(tmp / "pan16.mp4", pan, RATE, crf=16),
        "camera move, web quality (crf 26)": write_clip(tmp / "pan26.mp4", pan, RATE, crf=26),
        "camera move, low bitrate (crf 34)": write_clip(tmp / "pan34.mp4", pan, RATE, crf=34),
        "noisy texture, crf 23": write_clip(tmp / "noise23.mp4", noisy_texture(n), RATE, crf=23),
        "noisy texture, low bitrate (crf 32)": write_clip(
            tmp / "noise32.mp4", noisy_texture(n), RATE, crf=32
        ),
    }


def real_sources(shared: Path) -> dict[str, Path]:
    dev = shared / "video" / "dev"
    found = {
        "juggling (real, 720p)": dev / "05_default_juggle.mp4",
        "sign language (real, 480p)": dev / "asl" / "again.mkv",
    }
    return {name: path for name, path in found.items() if path.exists()}


def source_info(path: Path) -> VideoInfo:
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        return VideoInfo(
            s.width,
            s.height,
            Fraction(s.average_rate),
            Fraction(s.time_base),
            path=path,
            codec=s.codec_context.name,
        )


def video_bytes(path: Path, frames: int | None = None) -> int:
    """Bytes of the first ``frames`` video packets in decode order (all when None)."""
    total = 0
    with av.open(str(path)) as c:
        for i, packet in enumerate(p for p in c.demux(video=0) if p.size):
            if frames is not None and i >= frames:
                break
            total += packet.size
    return total


def decode_frames(path: Path) -> list[av.VideoFrame]:
    with av.open(str(path)) as c:
        return [f.reformat(format="yuv420p") for f in c.decode(video=0)]


def luma(frame: av.VideoFrame) -> np.ndarray:
    return frame.to_ndarray(format="gray")


def encode(frames: list[av.VideoFrame], rate: Fraction, crf: int, cap: int | None, path: Path) -> float:
    """x264 medium at ``crf`` (and bit rate cap ``cap``), the options a stylize run sets."""
    start = time.perf_counter()
    with av.open(str(path), "w", format="matroska") as c:
        s = c.add_stream("libx264", rate=rate)
        s.width, s.height, s.pix_fmt = frames[0].width, frames[0].height, "yuv420p"
        s.options = encoder_options("libx264", EncodeConfig(preset="medium"), crf, cap)
        for i, f in enumerate(frames):
            f = f.reformat(format="yuv420p")
            f.pts, f.time_base = i, Fraction(1) / rate
            c.mux(s.encode(f))
        c.mux(s.encode(None))
    return time.perf_counter() - start


def score(reference: list[np.ndarray], path: Path) -> tuple[float, float]:
    """Mean PSNR (dB) and SSIM of the luma of ``path``'s frames against ``reference``."""
    got = [luma(f) for f in decode_frames(path)]
    assert len(got) == len(reference)
    mse = [float(np.mean((a.astype(np.float64) - b) ** 2)) for a, b in zip(reference, got)]
    psnr = float(np.mean([10 * math.log10(255**2 / max(m, 1e-10)) for m in mse]))
    structure = float(np.mean([ssim(a / 255.0, b / 255.0) for a, b in zip(reference, got)]))
    return psnr, structure


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=3.0, help="of each source stylized")
    ap.add_argument("--style", default="paintings-small:wave")
    ap.add_argument(
        "--shared", type=Path, default=Path(__file__).resolve().parents[1].parent / "shared" / "data"
    )
    ap.add_argument("--sources", choices=("all", "generated", "real"), default="all")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    pipeline = Pipeline(
        model__style=args.style,
        faces__mode="off",
        run__progress="off",
        input__duration=args.seconds,
        encode__crf=0,
        encode__preset="ultrafast",
    )
    rows = []
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        sources = {
            **(generated_sources(tmp, args.seconds) if args.sources != "real" else {}),
            **(real_sources(args.shared) if args.sources != "generated" else {}),
        }
        for i, (label, src) in enumerate(sources.items()):
            ref_path = tmp / f"ref{i}.mkv"
            pipeline.run(src, ref_path)
            ref = decode_frames(ref_path)
            ref_luma = [luma(f) for f in ref]
            info = source_info(src)
            src_bits = video_bit_rate(src, info.codec) or 0.0
            bpp = src_bits / (info.width * info.height * float(info.rate))
            src_bytes = video_bytes(src, len(ref))
            auto, cap = auto_rate(info, "libx264", EncodeConfig().size_cap)
            row = {
                "source": label,
                "size": f"{info.width}x{info.height}",
                "frames": len(ref),
                "source_kbit_s": round(src_bits / 1000, 1),
                "source_bits_per_px": round(bpp, 4),
                "source_bytes": src_bytes,
                "auto_crf": auto,
                "auto_cap_kbit_s": cap / 1000 if cap else None,
                "encodes": [],
            }
            runs = [("old default", DEFAULT_CRF, None), ("new default", auto, cap)]
            runs += [("auto crf, no cap", auto, None)] if cap else []
            runs += [("sweep", crf, None) for crf in SWEEP if crf not in (DEFAULT_CRF, auto)]
            for what, crf, rate_cap in runs:
                out = tmp / f"enc{i}-{crf}-{rate_cap}.mkv"
                seconds = encode(ref, info.rate or Fraction(RATE), crf, rate_cap, out)
                size = video_bytes(out)
                psnr, structure = score(ref_luma, out)
                row["encodes"].append(
                    {
                        "what": what,
                        "crf": crf,
                        "cap_kbit_s": rate_cap / 1000 if rate_cap else None,
                        "bytes": size,
                        "x_source": round(size / src_bytes, 2),
                        "psnr_y_db": round(psnr, 2),
                        "ssim_y": round(structure, 4),
                        "encode_s": round(seconds, 2),
                    }
                )
                print(
                    f"{label:38s} {what:16s} crf {crf:2d} cap {rate_cap or 0:>8d} {size:>9d} B "
                    f"{size / src_bytes:6.2f}x source  PSNR-Y {psnr:5.2f} dB  SSIM-Y {structure:.4f}",
                    flush=True,
                )
            rows.append(row)
    result = {
        "cpu": cpu_model(),
        "style": args.style,
        "seconds": args.seconds,
        "preset": "medium",
        "rows": rows,
    }
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
