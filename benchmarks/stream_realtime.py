"""Sustained real-time streaming (a benchmark, not a test).

    python benchmarks/stream_realtime.py [--style starry_night-small] [--size 360x640] [--fps 30]
                                         [--seconds 75] [--paced-file] [--set KEY=VALUE ...] [--json FILE]

Starts rtsp-server-perl on 127.0.0.1, publishes a generated camera move at --fps for --seconds,
and runs `vidstyle stream` on it (to a file) for seconds - 10; reports achieved output fps,
dropped frames and end-to-end latency p50/p95. ``--paced-file`` needs no RTSP server (the GPU
machine has none): the camera move is written to a file first and played at its own frame rate
(`vidstyle stream FILE --realtime`), dropping the oldest frame when the pipeline falls behind,
as from a camera; latency then counts from when a frame left the decoder.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import threading
import time
from fractions import Fraction
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def publish(url: str, size: tuple[int, int], fps: int, seconds: float, ready: threading.Event) -> None:
    import av

    from vidstyle.io.synth import demo_photo, pan_zoom

    frames = list(pan_zoom(demo_photo(), 150, size, zoom=(1.0, 1.3), center=(0.5, 0.4)))
    frames += frames[::-1]
    out = av.open(url, "w", format="rtsp", options={"rtsp_transport": "udp"})
    s = out.add_stream("libx264", rate=fps)
    s.height, s.width = size
    s.pix_fmt = "yuv420p"
    s.options = {"preset": "ultrafast", "tune": "zerolatency", "g": str(fps)}
    t0 = time.monotonic()
    for i in range(int(seconds * fps)):
        vf = av.VideoFrame.from_ndarray(frames[i % len(frames)], format="rgb24")
        vf.pts, vf.time_base = i, Fraction(1, fps)
        out.mux(s.encode(vf))
        if i == fps:
            ready.set()
        time.sleep(max(0.0, t0 + (i + 1) / fps - time.monotonic()))
    out.close()


def main() -> int:
    from common import machine, save_json  # benchmarks/common.py

    from vidstyle.config import load_config
    from vidstyle.models.catalog import resolve_style

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--style", default="default")
    ap.add_argument("--size", default="360x640", help="HxW")
    ap.add_argument("--fps", type=int, default=30)
    ap.add_argument("--seconds", type=float, default=75)
    ap.add_argument("--faces", default="blend")
    ap.add_argument("--temporal", default="blend")
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="any pipeline knob, e.g. model.max_side=320 or flow.backend=dis",
    )
    ap.add_argument(
        "--paced-file",
        action="store_true",
        help="play a generated file in real time instead of publishing over RTSP",
    )
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    knobs = dict(kv.split("=", 1) for kv in args.set)
    size = tuple(int(v) for v in args.size.split("x"))
    entry = resolve_style(args.style)
    cfg = load_config(
        search_cwd=False,
        overrides={
            "model.style": str(entry.model_path),
            "stream.rtsp_transport": "udp",
            "faces.mode": args.faces,
            "temporal.mode": args.temporal,
            "stream.segment_seconds": 0,
            **knobs,
        },
    )
    if args.paced_file:
        report = paced_file_run(cfg, size, args.fps, args.seconds)
    else:
        report = rtsp_run(cfg, size, args.fps, args.seconds)
    result = {
        "style": entry.name,
        "size": args.size,
        "input_fps": args.fps,
        "seconds": round(report.seconds, 1),
        "source": "paced file" if args.paced_file else "rtsp",
        "captured": report.captured,
        "written": report.written,
        "dropped": report.dropped,
        "output_fps": round(report.output_fps, 2),
        "latency_p50_ms": round(1000 * report.latency_p50, 1) if report.latency_p50 else None,
        "latency_p95_ms": round(1000 * report.latency_p95, 1) if report.latency_p95 else None,
        "faces": args.faces,
        "temporal": args.temporal,
        "knobs": knobs,
        "machine": machine(),
    }
    print(json.dumps(result, indent=2))
    save_json(args.json, result)
    return 0


def paced_file_run(cfg, size: tuple[int, int], fps: int, seconds: float):
    """``vidstyle stream FILE --realtime`` on a generated camera move, frames dropped as live."""
    import tempfile

    from vidstyle.configtools import override
    from vidstyle.io.synth import demo_photo, pan_zoom, write_clip
    from vidstyle.stream.run import run_stream

    cfg = override(cfg, "stream.drop_policy", "drop_oldest")
    n = int(seconds * fps)
    frames = list(pan_zoom(demo_photo(), 150, size, zoom=(1.0, 1.3), center=(0.5, 0.4)))
    frames = (frames + frames[::-1]) * (n // 300 + 1)
    with tempfile.TemporaryDirectory() as tmp:
        clip = write_clip(Path(tmp) / "camera.mp4", frames[:n], fps, crf=18)
        return run_stream(str(clip), cfg, file_out=Path(tmp) / "live.mkv", realtime=True, status=False)


def rtsp_run(cfg, size: tuple[int, int], fps: int, seconds: float):
    """rtsp-server-perl on loopback, a publisher at ``fps``, and the stream for seconds - 10."""
    from vidstyle.stream.run import run_stream

    client, source = free_port(), free_port()
    server = subprocess.Popen(
        [
            "rtsp-server-perl",
            "-c",
            str(client),
            "-s",
            str(source),
            "-l",
            "0",
            "--client_listen_address",
            "127.0.0.1",
            "--source_listen_address",
            "127.0.0.1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(1.5)
        ready = threading.Event()
        pub = threading.Thread(
            target=publish, args=(f"rtsp://127.0.0.1:{source}/cam", size, fps, seconds, ready), daemon=True
        )
        pub.start()
        ready.wait(30)
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            report = run_stream(
                f"rtsp://127.0.0.1:{client}/cam",
                cfg,
                file_out=Path(tmp) / "live.mkv",
                duration=seconds - 10,
                status=False,
            )
        pub.join(timeout=30)
    finally:
        server.terminate()
    return report


if __name__ == "__main__":
    sys.exit(main())
