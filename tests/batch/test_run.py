"""`vidstyle.batch` on a local Ray instance (num_cpus=2): round trips, chunk seams, failures,
resume and a worker killed mid-chunk. Ray is started once for the module."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from batch_helpers import _children
from conftest import decode_rgb, probe, psnr

from vidstyle import batch, stylize_file
from vidstyle.batch.worker import KILL_ONCE_ENV

ray = pytest.importorskip("ray", reason="ray is not installed (pip install 'ray==2.60.*')")
pytestmark = pytest.mark.slow
FAST = {"encode__preset": "ultrafast", "run__progress": "off", "faces__mode": "off"}
# lossless output, so that seam comparisons see the pipeline and not the encoder
LOSSLESS = {**FAST, "encode__crf": 0, "encode__pix_fmt": "yuv444p", "encode__preset": "fast"}
# 61 frames at 25 fps with keyframes every 10 frames: chunks of 0.6 s give 3 chunks
CHUNKED = {"batch__chunk_seconds": 0.6}


@pytest.fixture(scope="module")
def local_ray():
    before = _children()
    ray.init(num_cpus=2, num_gpus=0, include_dashboard=False, log_to_driver=False, logging_level="warning")
    yield ray
    ray.shutdown()
    deadline = time.monotonic() + 20
    while _children() - before and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not _children() - before, "ray.shutdown() left processes behind"


def _same_as_source(out: Path, src: Path) -> None:
    """What `vidstyle stylize` promises (tests/cli/test_stylize.py): frames, rate, pts, size, audio."""
    a, b = probe(src), probe(out)
    assert b["frames"] == a["frames"]
    assert b["rate"] == a["rate"]
    assert [p * b["time_base"] for p in b["pts"]] == [p * a["time_base"] for p in a["pts"]]
    assert (b["width"], b["height"]) == (a["width"], a["height"])
    assert [c for c, _ in b["audio"]] == [c for c, _ in a["audio"]]
    for (_, da), (_, db) in zip(a["audio"], b["audio"]):
        assert db == pytest.approx(da, abs=0.03) if da else True


def test_several_files_round_trip(local_ray, clips, tiny_model, tmp_path):
    inputs = [clips["long"], clips["vfr"], clips["ntsc"].parent]
    report = batch(
        inputs,
        tmp_path / "out",
        model__style=str(tiny_model),
        **FAST,
        **CHUNKED,
        json_path=tmp_path / "r.json",
    )
    assert report.exit_code == 0, [f.error for f in report.files]
    outs = {Path(f.output).name: f for f in report.files}
    assert set(outs) == {"long.mp4", "vfr.mkv", "ntsc.mp4"}
    assert (tmp_path / "out" / "ntsc.mp4").is_file()  # a folder's files mirrored
    assert outs["long.mp4"].chunks == 3 and outs["vfr.mkv"].chunks == 1
    for name, src in (("long.mp4", clips["long"]), ("vfr.mkv", clips["vfr"]), ("ntsc.mp4", clips["ntsc"])):
        _same_as_source(tmp_path / "out" / name, src)
    saved = json.loads((tmp_path / "r.json").read_text())
    assert saved["failed"] == 0 and {f["status"] for f in saved["files"]} == {"done"}
    assert all(f["frames"] > 0 and f["fps"] > 0 for f in saved["files"])
    assert not list((tmp_path / "out").rglob(".*part*"))


def test_chunked_equals_one_process_run(local_ray, clips, tiny_model, tmp_path):
    """3 chunks: the same frames, timestamps, audio and A/V start as `stylize`; seam frames above
    47 dB PSNR against the unchunked output (lossless encode, tiny model, alpha 0.7). Measured at
    the two seams: 48.7/48.8 dB with the auto overlap of 16 frames, 34.5/36.1 dB with 8, and
    16.1/16.5 dB with none (the blend restarts cold)."""
    src = clips["long"]
    ref = tmp_path / "ref.mp4"
    stylize_file(src, ref, model__style=str(tiny_model), **LOSSLESS)
    report = batch([src], tmp_path / "out", model__style=str(tiny_model), **LOSSLESS, **CHUNKED)
    out = tmp_path / "out" / "long.mp4"
    assert report.files[0].chunks == 3
    a, b = probe(ref), probe(out)
    assert b["pts"] == a["pts"] and b["time_base"] == a["time_base"] and b["rate"] == a["rate"]
    assert b["audio"] == a["audio"] and b["duration"] == a["duration"]
    assert _start_times(out) == _start_times(ref)  # A/V start offset
    got, want = decode_rgb(out), decode_rgb(ref)
    assert len(got) == len(want) == 61
    seams = [20, 40]  # first frames of chunks 1, 2
    assert all(psnr(got[i], want[i]) > 47 for i in seams), [psnr(got[i], want[i]) for i in seams]
    assert all(np.array_equal(got[i], want[i]) for i in range(20))  # chunk 0 is the same run


def _start_times(path: Path) -> list:
    import av

    with av.open(str(path)) as c:
        return [(s.type, s.start_time and float(s.start_time * s.time_base)) for s in c.streams]


def test_bad_file_is_reported_others_done_and_rerun_skips(local_ray, clips, tiny_model, tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42 not really a video" * 10)
    out = tmp_path / "out"
    kw = dict(model__style=str(tiny_model), **FAST, **CHUNKED)
    first = batch([clips["long"], bad, clips["vfr"]], out, **kw)
    status = {Path(f.input).name: f.status for f in first.files}
    assert status == {"long.mp4": "done", "broken.mp4": "failed", "vfr.mkv": "done"}
    assert first.exit_code == 1 and "broken.mp4" in first.failed[0].error
    assert "\n" not in first.failed[0].error
    assert not (out / "broken.mp4").exists()
    mtimes = {p: p.stat().st_mtime_ns for p in out.glob("*.*")}
    second = batch([clips["long"], bad, clips["vfr"]], out, **kw)
    status = {Path(f.input).name: f.status for f in second.files}
    assert status == {"long.mp4": "skipped", "broken.mp4": "failed", "vfr.mkv": "skipped"}
    assert {p: p.stat().st_mtime_ns for p in out.glob("*.*")} == mtimes


def test_killed_worker_is_retried(local_ray, clips, tiny_model, tmp_path, monkeypatch):
    """A worker dying mid-chunk (os._exit on chunk 1's first try): Ray restarts it, the chunk is
    retried, and the output is complete. With no retries allowed the file fails (its later
    chunks are not started), and the next run resumes from the chunk that did finish."""
    monkeypatch.setenv(KILL_ONCE_ENV, "1")
    kw = dict(model__style=str(tiny_model), **FAST, **CHUNKED, batch__workers=1)
    report = batch([clips["long"]], tmp_path / "out", **kw)
    f = report.files[0]
    assert f.status == "done" and f.retries == 1 and f.chunks == 3
    _same_as_source(tmp_path / "out" / "long.mp4", clips["long"])

    failed = batch([clips["long"]], tmp_path / "once", **kw, batch__retries=0)
    assert failed.exit_code == 1 and "worker died" in failed.files[0].error
    assert not (tmp_path / "once" / "long.mp4").exists()
    monkeypatch.delenv(KILL_ONCE_ENV)
    resumed = batch([clips["long"]], tmp_path / "once", **kw, batch__retries=0)
    f = resumed.files[0]
    assert f.status == "done" and f.chunks_resumed == 1  # chunk 0; chunk 2 never started
    _same_as_source(tmp_path / "once" / "long.mp4", clips["long"])
