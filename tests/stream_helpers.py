"""What the live-stream tests share: an RTSP server on 127.0.0.1 (Debian's rtsp-server-perl) and
a publisher for it (rtsp_publish.py), the stream's stderr read by a thread, the JSON status
lines and Prometheus samples a stream writes, and a 2 s clip with audio.

Every wait is bounded; every socket is on loopback."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import moving_frames

from vidstyle.io.synth import tone, write_clip

PUBLISH = Path(__file__).with_name("rtsp_publish.py")
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


@pytest.fixture()
def rtsp_server():
    client, source, rtp = free_port(), free_port(), 20000 + (os.getpid() % 2000) * 10
    proc = subprocess.Popen(
        [
            "rtsp-server-perl",
            "-c",
            str(client),
            "-s",
            str(source),
            "-l",
            "1",
            "--client_listen_address",
            "127.0.0.1",
            "--source_listen_address",
            "127.0.0.1",
            "--rtp_start_port",
            str(rtp),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(client, timeout=30)  # Perl loads its modules slowly on a busy machine (46 s seen)
        wait_port(source, timeout=30)
        yield {"read": f"rtsp://127.0.0.1:{client}/cam", "publish": f"rtsp://127.0.0.1:{source}/cam"}
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def publish(url: str, seconds: float, *extra: str) -> subprocess.Popen:
    """Start a publisher and wait (at most 30 s) until its stream is on the server."""
    proc = subprocess.Popen(
        [sys.executable, str(PUBLISH), url, str(seconds), *extra],
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    ready = threading.Event()
    threading.Thread(target=lambda: proc.stdout.readline() and ready.set(), daemon=True).start()
    if not ready.wait(30):
        proc.kill()
        raise TimeoutError("the publisher did not start")
    return proc


STREAM_ARGS = [
    "--rtsp-transport",
    "udp",
    "--faces",
    "off",
    "--backend",
    "torch",
    "--set",
    "stream.read_timeout=1.5",
    "--set",
    "stream.open_timeout=3",
    "--set",
    "encode.crf=8",
]


def stderr_lines(proc: subprocess.Popen) -> list[tuple[float, str]]:
    """(time.time(), line) of each line of ``proc``'s stderr, filled in by a thread."""
    got: list[tuple[float, str]] = []

    def read() -> None:
        for line in proc.stderr:
            got.append((time.time(), line))

    threading.Thread(target=read, daemon=True).start()
    return got


def wait_line(lines: list[tuple[float, str]], text: str, timeout: float) -> float:
    """When a line holding ``text`` came (time.time()); TimeoutError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for t, line in list(lines):
            if text in line:
                return t
        time.sleep(0.05)
    raise TimeoutError(f"no {text!r} within {timeout:g} s in: {''.join(line for _, line in lines)}")


FIELDS = {
    "time",
    "uptime_s",
    "state",
    "source",
    "outputs",
    "frames_in",
    "frames_out",
    "fps_in",
    "fps_out",
    "dropped",
    "latency_ms",
    "reconnects",
    "last_frame_age_s",
    "error",
}
TOTALS = ("time", "uptime_s", "frames_in", "frames_out", "reconnects")  # never decrease
needs_rtsp = pytest.mark.skipif(
    shutil.which("rtsp-server-perl") is None, reason="rtsp-server-perl is not installed (.ci/run installs it)"
)


def records(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.endswith("}")]


def wait_record(path: Path, check, timeout: float) -> dict:
    """The first line of ``path`` that ``check`` accepts, waiting at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = next((r for r in records(path) if check(r)), None)
        if found is not None:
            return found
        time.sleep(0.1)
    raise AssertionError(f"no such status line within {timeout:g} s: {records(path)[-3:]}")


def assert_well_formed(lines: list[dict]) -> None:
    assert lines and all(set(r) == FIELDS for r in lines)
    for key in TOTALS:
        values = [r[key] for r in lines]
        assert values == sorted(values), key
    for reason in ("late", "at_stop"):
        values = [r["dropped"][reason] for r in lines]
        assert values == sorted(values), reason
    assert (
        all(r["state"] in ("running", "reconnecting") for r in lines[:-1]) and lines[-1]["state"] == "ended"
    )
    assert all(
        r["latency_ms"] is None or 0 <= r["latency_ms"]["p50"] <= r["latency_ms"]["max"] for r in lines
    )


def _samples(text: str) -> dict[str, float]:
    return {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line and not line.startswith("#")
    }


@pytest.fixture(scope="module")
def av_clip(tmp_path_factory):
    """2 s at 25 fps, 128x96, with a stereo AAC tone."""
    return write_clip(tmp_path_factory.mktemp("sf") / "clip.mp4", moving_frames(50), 25, audio=tone(2.0))
