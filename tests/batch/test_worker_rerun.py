"""A chunk worker asked again for a chunk an earlier try finished (the try was lost before it
could answer, e.g. its node died right after the rename): it reports it, it does not redo it."""

from __future__ import annotations

from conftest import moving_frames

from vidstyle.batch.plan import file_chunks, scan
from vidstyle.batch.worker import ChunkJob, ChunkWorker
from vidstyle.config import config_yaml, load_config
from vidstyle.configtools import override
from vidstyle.io.synth import write_clip


def test_a_finished_chunk_is_not_written_again(tiny_model, tmp_path):
    clip = write_clip(tmp_path / "clip.mp4", moving_frames(30), 25, gop=10)
    cfg = load_config(None, search_cwd=False)
    for key, value in {
        "model.style": str(tiny_model),
        "model.device": "cpu",
        "encode.preset": "ultrafast",
        "faces.mode": "off",
        "batch.chunk_seconds": 0.4,
    }.items():
        cfg = override(cfg, key, value)
    chunks = file_chunks(scan(clip), cfg)
    assert len(chunks) == 3
    worker = ChunkWorker(config_yaml(cfg), 1)
    target = tmp_path / "chunk-0001.mp4"
    job = ChunkJob("clip#1", clip, target, chunks[1], False, ".mp4", tmp_path / "chunk-0001.attempts")
    first = worker.run(job)
    written = target.stat()
    again = worker.run(job)
    assert first.frames == again.frames == chunks[1].frames == 10
    assert again.attempts == 2  # the ledger has both tries
    assert (target.stat().st_ino, target.stat().st_mtime_ns) == (written.st_ino, written.st_mtime_ns)
    assert not list(tmp_path.glob(".*part*"))
