"""stream.status: the JSON status lines operators read, and how soon a lost source shows in them.

The RTSP tests run against a real server on 127.0.0.1 (see test_stream.py); a publisher is frozen,
killed, or stops its video while its audio goes on, and the loss must show within
stream.read_timeout of the last frame (and, generously, within read_timeout + 3 s of a SIGSTOP or
SIGKILL).
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import test_stream
from conftest import REPO, moving_frames, probe, run_cli
from test_stream import ENV, STREAM_ARGS, free_port, publish, stderr_lines

from vidstyle.config import load_config
from vidstyle.configtools import override
from vidstyle.errors import InputError, OutputError
from vidstyle.io.synth import write_clip
from vidstyle.stream.metrics import metrics_text
from vidstyle.stream.run import run_stream
from vidstyle.stream.status import Counters, StatusJson, status_record

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

rtsp_server = test_stream.rtsp_server  # the fixture, shared with test_stream


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


def test_a_status_record_covers_the_window_since_the_line_before():
    before = Counters(mono=10.0, uptime_s=3.0, state="running", frames_in=100, frames_out=90)
    now = Counters(
        mono=12.0,
        uptime_s=5.0,
        state="reconnecting",
        frames_in=150,
        frames_out=130,
        dropped_late=7,
        dropped_at_stop=0,
        reconnects=2,
        last_frame_age_s=2.61234,
    )
    rec = status_record(now, before, [0.1, 0.3, 0.2], "rtsp://alice:hunter2@cam/x", ["rec.mp4"])
    assert set(rec) == FIELDS
    assert (rec["fps_in"], rec["fps_out"]) == (25.0, 20.0)  # 50 and 40 frames in 2 s
    assert rec["latency_ms"] == {"p50": 200.0, "max": 300.0}
    assert rec["dropped"] == {"late": 7, "at_stop": 0} and rec["reconnects"] == 2
    assert rec["source"] == "rtsp://***@cam/x" and rec["last_frame_age_s"] == 2.612
    assert abs(rec["time"] - time.time()) < 60 and rec["error"] is None
    first = status_record(now, None, [], "clip.mp4", [])
    assert first["fps_in"] == 30.0 and first["latency_ms"] is None  # the run so far: 150 frames in 5 s


def test_status_lines_go_to_stdout_flushed_and_a_bad_path_is_one_line(tmp_path, capsys):
    out = StatusJson("-")
    out.write({"state": "running"})
    assert capsys.readouterr().out == '{"state":"running"}\n'
    with pytest.raises(OutputError, match=r"cannot write the status to .*nope.*: No such file"):
        StatusJson(str(tmp_path / "nope" / "s.jsonl"))


def test_the_readme_documents_every_field():
    text = (REPO / "docs" / "streams.md").read_text()
    section = text[text.index("### Status for operators") :]
    documented = set(re.findall(r"^\| `(\w+)`(?:, `(\w+)`)? \|", section, re.M))
    assert {name for pair in documented for name in pair if name} == FIELDS


def test_a_run_that_cannot_start_still_writes_its_last_line(tmp_path, tiny_model):
    cfg = load_config(search_cwd=False)
    for key, value in (
        ("model.style", str(tiny_model)),
        ("model.backend", "torch"),
        ("faces.mode", "off"),
        ("stream.status_json", str(tmp_path / "s.jsonl")),
    ):
        cfg = override(cfg, key, value)
    with pytest.raises(InputError, match="input not found"):
        run_stream(str(tmp_path / "missing.mp4"), cfg, file_out=tmp_path / "o.mp4", status=False)
    (last,) = records(tmp_path / "s.jsonl")
    assert last["state"] == "ended" and "input not found" in last["error"] and last["frames_out"] == 0


@pytest.mark.slow
def test_status_json_of_a_paced_file(tmp_path, tiny_model):
    clip = write_clip(tmp_path / "c.mp4", moving_frames(50, 96, 128), 25)  # 2 s
    status, out = tmp_path / "status.jsonl", tmp_path / "rec.mp4"
    proc = run_cli(
        "stream",
        str(clip),
        "--realtime",
        "-o",
        str(out),
        "--status-json",
        str(status),
        "--set",
        "stream.status_every=0.3",
        "--style",
        str(tiny_model),
        "--faces",
        "off",
        "--temporal",
        "off",
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    lines = records(status)
    assert len(lines) >= 4  # first, every 0.3 s of 2 s, last
    assert_well_formed(lines)
    last = lines[-1]
    assert last["frames_out"] == probe(out)["frames"] and last["frames_in"] == 50
    assert last["frames_out"] + last["dropped"]["late"] + last["dropped"]["at_stop"] == last["frames_in"]
    assert last["outputs"] == [str(out)] and last["source"] == str(clip) and last["error"] is None
    assert any(r["fps_in"] > 5 and r["latency_ms"] is not None for r in lines[1:-1])


def _stream(url: str, out: Path, status: Path, model: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vidstyle",
            "stream",
            url,
            "-o",
            str(out),
            "--segment",
            "0",
            "--style",
            str(model),
            *STREAM_ARGS,
            "--status-json",
            str(status),
            "--set",
            "stream.status_every=0.5",
            "--set",
            "stream.reconnect_max_wait=1",
        ],
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )


def _interrupt(proc: subprocess.Popen, pub: subprocess.Popen, err: list[tuple[float, str]]) -> str:
    """Ctrl-C the stream, kill the publisher; the stream's stderr so far."""
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=30)
    pub.kill()
    pub.wait(timeout=10)
    return "".join(line for _, line in err)


READ_TIMEOUT = 1.5  # what STREAM_ARGS sets


def _assert_noticed_in_time(lost: dict, since: float | None = None) -> None:
    """A loss shows when the last frame is read_timeout old (the ticks add up to ~0.2 s), and
    within read_timeout + 3 s of ``since``, the event that caused it. (Only events the kernel
    carries out at once are timed so: a starved reader runs a few seconds behind the publisher.)"""
    assert READ_TIMEOUT - 0.2 <= lost["last_frame_age_s"] <= READ_TIMEOUT + 1.0, lost
    if since is not None:
        assert lost["time"] - since <= READ_TIMEOUT + 3.0, lost


@needs_rtsp
@pytest.mark.slow
def test_a_stalled_then_killed_publisher_is_lost_within_read_timeout(tmp_path, rtsp_server, tiny_model):
    """SIGSTOP freezes the publisher (a stalled camera or network), SIGCONT brings it back, SIGKILL
    ends it (rtsp-server-perl keeps a killed publisher's path, so none can take it over)."""
    status, out = tmp_path / "status.jsonl", tmp_path / "re.mkv"
    pub = publish(rtsp_server["publish"], 60)
    proc = _stream(rtsp_server["read"], out, status, tiny_model)
    err = stderr_lines(proc)
    try:
        wait_record(status, lambda r: r["frames_in"] >= 25, timeout=60)
        stalled_at = time.time()
        pub.send_signal(signal.SIGSTOP)
        stalled = wait_record(status, lambda r: r["state"] == "reconnecting", timeout=READ_TIMEOUT + 15)
        time.sleep(1.0)
        pub.send_signal(signal.SIGCONT)
        back = wait_record(status, lambda r: r["reconnects"] == 1 and r["state"] == "running", timeout=30)
        wait_record(status, lambda r: r["frames_in"] >= back["frames_in"] + 25, timeout=30)
        killed_at = time.time()
        pub.kill()
        killed = wait_record(
            status,
            lambda r: r["time"] > killed_at and r["state"] == "reconnecting",
            timeout=READ_TIMEOUT + 15,
        )
    finally:
        text = _interrupt(proc, pub, err)
    assert proc.returncode == 130, text
    _assert_noticed_in_time(stalled, stalled_at)
    _assert_noticed_in_time(killed, killed_at)
    logged = [t for t, line in err if "source lost" in line]
    assert (
        len(logged) == 2 and abs(logged[0] - stalled["time"]) < 1.0 and abs(logged[1] - killed["time"]) < 1.0
    )
    assert "reconnected, frames flowing again" in text
    lines = records(status)
    assert_well_formed(lines)
    assert lines[-1]["reconnects"] == 1 and lines[-1]["frames_out"] == probe(out)["frames"]


@needs_rtsp
@pytest.mark.slow
def test_video_that_stops_while_audio_flows_is_lost_within_read_timeout(tmp_path, rtsp_server, tiny_model):
    """PyAV's read timeout alone restarts at every audio packet: such a source was never lost. (Not
    timed from the signal: a starved publisher runs its handler late, and a starved reader lags.)"""
    status, out = tmp_path / "status.jsonl", tmp_path / "av.mkv"
    pub = publish(rtsp_server["publish"], 60, "--audio")
    proc = _stream(rtsp_server["read"], out, status, tiny_model)
    err = stderr_lines(proc)
    try:
        wait_record(status, lambda r: r["frames_in"] >= 25, timeout=60)
        pub.send_signal(signal.SIGUSR1)  # the video stops, the audio goes on
        lost = wait_record(status, lambda r: r["state"] == "reconnecting", timeout=READ_TIMEOUT + 15)
        audio_still_on = pub.poll() is None
    finally:
        text = _interrupt(proc, pub, err)
    assert proc.returncode == 130, text
    assert audio_still_on  # noticed while packets still flow (it was not, before)
    _assert_noticed_in_time(lost)
    assert "source lost (no video frame for" in text
    assert_well_formed(records(status))


def _samples(text: str) -> dict[str, float]:
    return {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line and not line.startswith("#")
    }


def test_metrics_read_the_same_counters_as_the_status_lines():
    now = Counters(
        mono=5.0,
        uptime_s=5.0,
        state="reconnecting",
        frames_in=1_234_567,
        frames_out=1_200_000,
        dropped_late=30_000,
        dropped_at_stop=4,
        reconnects=3,
        last_frame_age_s=2.7,
    )
    rec = status_record(now, None, [0.1, 0.2, 0.4], "cam", [])
    text = metrics_text(now, [0.1, 0.2, 0.4])
    got = _samples(text)
    assert got["vidstyle_stream_up"] == 0
    assert got["vidstyle_stream_frames_in_total"] == rec["frames_in"]  # exact, not 1.23457e+06
    assert got["vidstyle_stream_frames_out_total"] == rec["frames_out"]
    assert got['vidstyle_stream_dropped_total{reason="late"}'] == rec["dropped"]["late"]
    assert got['vidstyle_stream_dropped_total{reason="at_stop"}'] == rec["dropped"]["at_stop"]
    assert got["vidstyle_stream_reconnects_total"] == rec["reconnects"]
    assert got["vidstyle_stream_last_frame_age_seconds"] == rec["last_frame_age_s"]
    assert got['vidstyle_stream_latency_seconds{stat="p50"}'] * 1000 == rec["latency_ms"]["p50"]
    assert "# TYPE vidstyle_stream_frames_in_total counter" in text
    starting = _samples(metrics_text(Counters(state="starting"), []))
    assert starting["vidstyle_stream_up"] == 0 and "vidstyle_stream_last_frame_age_seconds" not in starting


@pytest.mark.slow
def test_metrics_endpoint_serves_a_running_stream(tmp_path, tiny_model):
    clip = write_clip(tmp_path / "c.mp4", moving_frames(150, 96, 128), 25)  # 6 s
    status, port = tmp_path / "status.jsonl", free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "vidstyle",
            "stream",
            str(clip),
            "--realtime",
            "-o",
            str(tmp_path / "rec.mp4"),
            "--metrics-port",
            str(port),
            "--status-json",
            str(status),
            "--set",
            "stream.status_every=0.3",
            "--style",
            str(tiny_model),
            "--faces",
            "off",
        ],
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    try:
        wait_record(status, lambda r: r["frames_out"] >= 10, timeout=60)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
            assert resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            scraped_at, scraped = time.time(), _samples(resp.read().decode())
        with pytest.raises(urllib.error.HTTPError, match="404"):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5)
        wait_record(status, lambda r: r["time"] > scraped_at + 0.5, timeout=10)
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode in (0, 130), err  # the clip may have ended first
    assert f"metrics: http://127.0.0.1:{port}/metrics" in err
    lines = records(status)
    before = [r for r in lines if r["time"] <= scraped_at][-1]
    after = next(r for r in lines if r["time"] >= scraped_at)
    assert scraped["vidstyle_stream_up"] == 1
    assert before["frames_in"] <= scraped["vidstyle_stream_frames_in_total"] <= after["frames_in"]
    assert before["frames_out"] <= scraped["vidstyle_stream_frames_out_total"] <= after["frames_out"]


def test_a_busy_metrics_port_is_one_line():
    from vidstyle.stream.metrics import MetricsServer

    with MetricsServer("127.0.0.1", 0) as first:
        port = int(first.url.rsplit(":", 1)[1].split("/")[0])
        with pytest.raises(OutputError, match=f"metrics server cannot listen on 127.0.0.1:{port}: "):
            MetricsServer("127.0.0.1", port)


def test_metrics_server_paths_types_and_codes():
    """/metrics (with or without a query) is the text; any other path a 404 that says where to look."""
    import http.client

    from vidstyle.stream.metrics import CONTENT_TYPE, MetricsServer

    def answer(port: int, path: str, method: str = "GET"):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            conn.request(method, path)
            resp = conn.getresponse()
            return (
                resp.status,
                [(k, v) for k, v in resp.getheaders() if k not in ("Server", "Date")],
                resp.read(),
            )
        finally:
            conn.close()

    with MetricsServer("127.0.0.1", 0) as server:
        port = int(server.url.rsplit(":", 1)[1].split("/")[0])
        assert server.url == f"http://127.0.0.1:{port}/metrics"
        server.text = lambda: "vidstyle_stream_up 1\n"
        ok = [("Content-Type", CONTENT_TYPE), ("Content-Length", "21")]
        assert answer(port, "/metrics") == (200, ok, b"vidstyle_stream_up 1\n")
        assert answer(port, "/metrics?x=1") == (200, ok, b"vidstyle_stream_up 1\n")
        missing = b"not found: try /metrics\n"
        assert answer(port, "/") == (404, [("Content-Type", CONTENT_TYPE), ("Content-Length", "24")], missing)
        assert answer(port, "/metrics/x")[0] == 404
        assert answer(port, "/metrics", "POST")[0] == 501
