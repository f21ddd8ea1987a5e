"""`vidstyle batch`: the CLI starts its own local Ray and reports a bad input in one line."""

from __future__ import annotations

import json
import time

import pytest
from batch_helpers import _processes_mentioning
from conftest import run_cli

ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'ray==2.60.*')")
pytestmark = pytest.mark.slow


def test_cli_reports_a_bad_input_in_one_line(clips, tiny_model, tmp_path):
    """The CLI starts its own local Ray: exit 1, one error line for the bad file, JSON report."""
    import shutil
    import tempfile

    bad = tmp_path / "empty.mkv"
    bad.write_bytes(b"")
    ray_dir = tempfile.mkdtemp(prefix="vr", dir="/tmp")  # short: Ray's socket paths live below it
    try:
        res = run_cli(
            "batch",
            str(clips["vfr"]),
            str(bad),
            "-o",
            str(tmp_path / "out"),
            "--style",
            str(tiny_model),
            "--preset",
            "ultrafast",
            "--faces",
            "off",
            "--json",
            str(tmp_path / "r.json"),
            timeout=300,
            env={"RAY_TMPDIR": ray_dir},
        )
        deadline = time.monotonic() + 20
        while _processes_mentioning(ray_dir) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not _processes_mentioning(ray_dir), "the CLI's local Ray left processes behind"
    finally:
        shutil.rmtree(ray_dir, ignore_errors=True)
    assert res.returncode == 1, res.stderr
    assert "Traceback" not in res.stderr
    errors = [ln for ln in res.stderr.splitlines() if "error:" in ln and "empty.mkv" in ln]
    assert errors and all(ln.startswith("vidstyle: error: ") for ln in errors)
    assert (tmp_path / "out" / "vfr.mkv").is_file()
    saved = json.loads((tmp_path / "r.json").read_text())
    assert [f["status"] for f in saved["files"]] == ["failed", "done"] or sorted(
        f["status"] for f in saved["files"]
    ) == ["done", "failed"]
