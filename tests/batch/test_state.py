"""batch.state: the job fingerprint."""

from __future__ import annotations

from vidstyle.batch.plan import plan_chunks


def test_fingerprint_follows_output_settings_not_scheduling(tmp_path):
    from vidstyle.batch.state import fingerprint
    from vidstyle.config import PipelineConfig
    from vidstyle.configtools import override

    src = tmp_path / "a.mp4"
    src.write_bytes(b"x")
    chunks = plan_chunks(list(range(0, 100, 10)), [0], 0, 0)
    cfg = PipelineConfig()
    fp = fingerprint(src, cfg, chunks)
    assert fingerprint(src, override(cfg, "batch.workers", 7), chunks) == fp
    assert fingerprint(src, override(cfg, "batch.ray", "auto"), chunks) == fp
    assert fingerprint(src, override(cfg, "model.max_side", 64), chunks) != fp
    assert fingerprint(src, cfg, plan_chunks(list(range(0, 100, 10)), [0], 0, 3)[:1] * 2) != fp
    src.write_bytes(b"xy")
    assert fingerprint(src, cfg, chunks) != fp
