"""A worker that cannot load the model stops the batch with the model's one-line error, at
once (not as a crash that is retried and then blamed on a dead worker)."""

from __future__ import annotations

import shutil
import tempfile
import time

import pytest
from conftest import moving_frames, run_cli

from vidstyle.io.synth import write_clip

pytest.importorskip("ray", reason="ray is not installed (pip install 'ray==2.60.*')")


@pytest.mark.slow
def test_a_missing_model_is_one_line(tmp_path):
    clip = write_clip(tmp_path / "clip.mp4", moving_frames(10), 25)
    ray_dir = tempfile.mkdtemp(prefix="vr", dir="/tmp")  # short: Ray's socket paths live below it
    try:
        res = run_cli(
            "batch",
            str(clip),
            "-o",
            str(tmp_path / "out"),
            "--style",
            str(tmp_path / "nosuch.safetensors"),
            timeout=300,
            env={"RAY_TMPDIR": ray_dir},
        )
    finally:
        time.sleep(1)
        shutil.rmtree(ray_dir, ignore_errors=True)
    assert res.returncode == 1, res.stderr
    assert "Traceback" not in res.stderr and "worker died" not in res.stderr, res.stderr
    errors = [ln for ln in res.stderr.splitlines() if "error" in ln.lower()]
    assert errors == [f"vidstyle: error: model file not found: {tmp_path / 'nosuch.safetensors'}"], res.stderr
    assert not (tmp_path / "out" / "clip.mp4").exists()
