"""Faults during a run: disk limits, a failing stage, a hanging source; and the security rules."""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import threading
import time

import pytest
from conftest import moving_frames, run_cli

from vidstyle import Pipeline
from vidstyle.config import load_config
from vidstyle.configtools import override
from vidstyle.errors import VidstyleError
from vidstyle.io.synth import write_clip
from vidstyle.pipeline.runner import Runner
from vidstyle.pipeline.scheduling import stylize_workers


@pytest.mark.slow
def test_output_over_the_size_limit_leaves_nothing(tmp_path, tiny_model):
    """Disk full, simulated with RLIMIT_FSIZE: a clear error, no file under the final name, no temp."""
    src = write_clip(tmp_path / "in.mp4", moving_frames(40, 240, 320), 25)
    out_dir = tmp_path / "out"
    out_dir.mkdir()

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (60_000, 60_000))

    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "vidstyle",
            "stylize",
            str(src),
            "-o",
            str(out_dir / "o.mkv"),
            "--style",
            str(tiny_model),
            "--crf",
            "0",
            "--no-progress",
            "--faces",
            "off",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=limit,
        env={**os.environ, "VIDSTYLE_HOME": str(tmp_path / "home")},
    )
    assert proc.returncode == 1, proc.stderr
    assert "File too large" in proc.stderr and "Traceback" not in proc.stderr
    # the ONNX export cache did not fit either: the run fell back to torch and said so
    assert "cannot write the model cache" in proc.stderr
    assert list(out_dir.iterdir()) == []


class Exploding:
    """A stylizer that fails on its third call, and counts the calls made after that."""

    FAIL_AT = 3

    def __init__(self, inner):
        self.inner, self.device, self.name, self.calls = inner, inner.device, "exploding", 0
        self.activation_bytes_per_px, self.precision = inner.activation_bytes_per_px, inner.precision

    def __call__(self, batch):
        self.calls += 1
        if self.calls == self.FAIL_AT:
            # give the frames stylized before this one time to reach the encoder, so a partial
            # file exists to check even on a loaded machine (CI once saw none without this)
            time.sleep(1.0)
            raise RuntimeError("boom in the network")
        return self.inner(batch)


def test_a_failing_stage_stops_everything_quickly(tmp_path, tiny_model):
    cfg = load_config(search_cwd=False)
    for key, value in (
        ("model.style", str(tiny_model)),
        ("run.progress", "off"),
        ("faces.mode", "off"),
        ("model.backend", "torch"),
    ):
        cfg = override(cfg, key, value)
    src = write_clip(tmp_path / "in.mp4", moving_frames(200), 25)
    pipeline = Pipeline(cfg, stylizer=Exploding(Pipeline(cfg).stylizer))
    with pytest.raises(VidstyleError, match="stylize stage failed: RuntimeError: boom in the network"):
        pipeline.run(src, tmp_path / "out.mkv")
    # stopped at once: only the frames already handed to the worker pool (at most 2 per worker)
    # were stylized after the failure, not the rest of the 200
    workers = stylize_workers(cfg, pipeline.stylizer.device)
    assert pipeline.stylizer.calls - Exploding.FAIL_AT <= 2 * workers
    assert [t.name for t in threading.enumerate() if t.name.startswith("vidstyle-")] == []
    assert not (tmp_path / "out.mkv").exists()
    assert (tmp_path / "out.partial.mkv").exists()  # what was encoded is kept, marked partial


def test_queues_are_bounded():
    runner = Runner(iter([]), [type("S", (), {"name": "s", "batch_size": 3, "workers": 1})()], queue_size=5)
    assert [q.maxsize for q in runner.queues] == [5]


@pytest.mark.slow
def test_a_hanging_stream_source_times_out(tmp_path, tiny_model):
    """A server that accepts and never answers: an error after the open timeout, not a hang."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    try:
        t0 = time.monotonic()
        proc = run_cli(
            "stream",
            f"rtsp://127.0.0.1:{port}/cam",
            "-o",
            str(tmp_path / "x.mkv"),
            "--style",
            str(tiny_model),
            "--backend",
            "torch",
            "--set",
            "stream.open_timeout=2",
            timeout=60,
        )
        elapsed = time.monotonic() - t0
    finally:
        srv.close()
    assert proc.returncode == 1 and "no answer within 2 s" in proc.stderr, proc.stderr
    assert elapsed < 30


@pytest.mark.slow
def test_config_paths_are_never_shell_expanded(tmp_path, basic_clip):
    marker = tmp_path / "PWNED"
    proc = run_cli(
        "stylize", str(basic_clip), "-o", str(tmp_path / "o.mp4"), "--style", f"$(touch {marker}).safetensors"
    )
    assert proc.returncode == 1 and "model file not found: $(touch" in proc.stderr
    assert not marker.exists()


@pytest.mark.slow
def test_credentials_are_redacted_in_all_output(tmp_path, tiny_model):
    port = socket.socket()
    port.bind(("127.0.0.1", 0))
    number = port.getsockname()[1]
    port.close()  # closed: connection refused
    proc = run_cli(
        "-v",
        "stream",
        f"rtsp://admin:s3cr3t-pw@127.0.0.1:{number}/cam",
        "-o",
        str(tmp_path / "x.mkv"),
        "--style",
        str(tiny_model),
        "--backend",
        "torch",
        "--set",
        "stream.open_timeout=2",
        timeout=60,
    )
    assert proc.returncode == 1
    assert "s3cr3t" not in proc.stderr + proc.stdout and "admin" not in proc.stderr + proc.stdout
    assert "rtsp://***@127.0.0.1" in proc.stderr


def test_8k_frame_is_scaled_to_fit_memory_with_a_message(tmp_path, capsys, monkeypatch):
    """7680x4320 with the full-size network and (pretend) 4 GB free: stylized at the long side that
    fits, scaled back to 8K, and the warning says so. The plan's budget is the real free memory
    otherwise (CUDA free memory on a GPU)."""
    from conftest import make_model
    from corpus import _big_png
    from PIL import Image

    from vidstyle.cli import main
    from vidstyle.pipeline import memory

    monkeypatch.setattr(memory, "available_memory", lambda: 4 << 30)  # as the plan sees it
    model = make_model(tmp_path / "full.safetensors", channels=32, res_blocks=1, gain=10.0)
    src = _big_png(tmp_path)
    out = tmp_path / "out.png"
    code = main(
        [
            "stylize",
            str(src),
            "-o",
            str(out),
            "--style",
            str(model),
            "--faces",
            "off",
            "--backend",
            "torch",
            "--no-progress",
        ]
    )
    err = capsys.readouterr().err
    assert code == 0, err
    assert Image.open(out).size == (7680, 4320)
    # 4 GiB x 0.6, less the full-size buffers of one 8K frame, over 2 workers x 1024 B/px of
    # activations -> a long side near 920 px
    side = int(err.split("stylization long side -> ")[1].split()[0])
    assert 800 < side < 1400 and "scaled back to 7680x4320" in err
    assert "queue size" not in err  # one image never fills a queue
