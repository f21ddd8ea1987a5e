"""What writing for hard kills costs a finished file: size and encode+mux time of the same frames
with and without the flushing muxer options (vidstyle/io/sink.py ``muxer_options``).

For MKV, fragmented MP4 and a plain MP4 reference (x264): a 640x360 pan over the demo
photo, x264 medium CRF 18, each layout written ``--repeats`` times in turn; the video packets
are compared byte for byte (the bitstream must not change, only the container layout).

    python benchmarks/flush_cost.py --json benchmarks/results/flush_cost-cpu.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
import time
from pathlib import Path

import av
import numpy as np

from vidstyle.io.sink import muxer_options
from vidstyle.io.synth import demo_photo, pan_zoom
from vidstyle.sysinfo import cpu_model

OLD_FRAGMENTED = {"movflags": "frag_keyframe+empty_moov+default_base_moof", "frag_duration": "1000000"}
LAYOUTS = {  # name -> (muxer, extension, options)
    "mkv before": ("matroska", "mkv", {}),
    "mkv now": ("matroska", "mkv", muxer_options("matroska", False)),
    "fragmented mp4 before (1 s)": ("mp4", "mp4", OLD_FRAGMENTED),
    "fragmented mp4 now": ("mp4", "mp4", muxer_options("mp4", True)),
    "plain mp4 (unchanged)": ("mp4", "mp4", {}),
}


def encode(path: Path, fmt: str, options: dict[str, str], frames: list[np.ndarray], rate: int) -> float:
    start = time.perf_counter()
    with av.open(str(path), "w", format=fmt, options=dict(options)) as c:
        s = c.add_stream("libx264", rate=rate)
        s.height, s.width = frames[0].shape[:2]
        s.pix_fmt = "yuv420p"
        s.options = {"crf": "18", "preset": "medium"}
        for i, rgb in enumerate(frames):
            f = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            f.pts = i
            c.mux(s.encode(f))
        c.mux(s.encode(None))
    return time.perf_counter() - start


def bitstream(path: Path) -> str:
    digest = hashlib.sha256()
    with av.open(str(path)) as c:
        for packet in c.demux(video=0):
            if packet.size:
                digest.update(bytes(packet))
    return digest.hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    rate = 25
    frames = list(pan_zoom(demo_photo(), int(args.seconds * rate), (360, 640)))
    times: dict[str, list[float]] = {name: [] for name in LAYOUTS}
    sizes, streams = {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.repeats):
            for name, (fmt, ext, options) in LAYOUTS.items():
                path = Path(tmp) / f"{name.replace(' ', '_')}.{ext}"
                times[name].append(encode(path, fmt, options, frames, rate))
                sizes[name], streams[name] = path.stat().st_size, bitstream(path)
    rows = []
    for name in LAYOUTS:
        rows.append(
            {
                "layout": name,
                "bytes": sizes[name],
                "seconds_median": float(np.median(times[name])),
                "seconds": times[name],
                "same_bitstream_as_plain_mp4": streams[name] == streams["plain mp4 (unchanged)"],
            }
        )
        same = rows[-1]["same_bitstream_as_plain_mp4"]
        print(f"{name:30s} {sizes[name]:>9d} B  {np.median(times[name]):6.2f} s  same bitstream: {same}")
    result = {"cpu": cpu_model(), "frames": len(frames), "size": "640x360", "rate": rate, "rows": rows}
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
