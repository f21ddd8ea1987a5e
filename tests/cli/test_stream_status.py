"""`vidstyle stream --status-json` and `--metrics-port`: the status lines of a paced file, how soon
a lost source shows in them, and the metrics endpoint of a running stream.

The RTSP tests run against a real server on 127.0.0.1 (stream_helpers.py); a publisher is
frozen, killed, or stops its video while its audio goes on, and the loss must show within
stream.read_timeout of the last frame (and, generously, within read_timeout + 3 s of a SIGSTOP
or SIGKILL)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from conftest import moving_frames, probe, run_cli
from stream_helpers import (
    ENV,
    STREAM_ARGS,
    _samples,
    assert_well_formed,
    free_port,
    needs_rtsp,
    publish,
    records,
    stderr_lines,
    wait_record,
)

from vidstyle.io.synth import write_clip


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
