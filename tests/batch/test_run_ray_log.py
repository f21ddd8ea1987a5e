"""Ray's own log lines in a batch: its token-authentication notice is dropped, nothing else."""

from __future__ import annotations

import logging
import shutil
import tempfile
import time

import pytest
from conftest import moving_frames, run_cli

from vidstyle.batch.run import TOKEN_NOTICE, quiet_token_notice
from vidstyle.io.synth import tone, write_clip

ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'ray==2.60.*')")


def test_only_the_token_notice_is_dropped(caplog):
    """The filter sits on the logger Ray writes the notice with, and passes its other messages
    (e.g. the warning that token authentication is off) and every other Ray logger's."""
    from ray._private.authentication import authentication_token_setup as setup

    quiet_token_notice()
    quiet_token_notice()  # idempotent: one filter
    logger = logging.getLogger(setup.__name__)
    assert len(logger.filters) == 1
    with caplog.at_level(logging.WARNING):
        setup._warn_token_auth_enabled()  # the very call ray.init makes
        setup._warn_token_auth_disabled()
        logging.getLogger("ray").warning(f"{TOKEN_NOTICE} (another logger)")
    messages = [r.getMessage() for r in caplog.records]
    assert not any(
        m.startswith(TOKEN_NOTICE) and r.name == setup.__name__ for m, r in zip(messages, caplog.records)
    )
    assert any("Token authentication is disabled" in m for m in messages)
    assert f"{TOKEN_NOTICE} (another logger)" in messages


@pytest.mark.slow
def test_batch_stderr_has_no_token_notice(tiny_model, tmp_path, monkeypatch):
    """A real `vidstyle batch` on a local Ray instance (RAY_AUTH_MODE unset, so Ray turns token
    authentication on and logs the notice): its stderr has our lines, not Ray's notice."""
    clip = write_clip(tmp_path / "clip.mp4", moving_frames(10), 25, audio=tone(0.4))
    ray_dir = tempfile.mkdtemp(prefix="vr", dir="/tmp")  # short: Ray's socket paths live below it
    monkeypatch.delenv("RAY_AUTH_MODE", raising=False)
    try:
        res = run_cli(
            "batch",
            str(clip),
            "-o",
            str(tmp_path / "out"),
            "--style",
            str(tiny_model),
            "--preset",
            "ultrafast",
            "--faces",
            "off",
            timeout=300,
            env={"RAY_TMPDIR": ray_dir},
        )
    finally:
        time.sleep(1)
        shutil.rmtree(ray_dir, ignore_errors=True)
    assert res.returncode == 0, res.stderr
    assert "clip.mp4: 10 frames" in res.stderr
    assert "Token authentication" not in res.stderr, res.stderr
