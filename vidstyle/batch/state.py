"""What survives a crash or Ctrl-C: finished chunk files and a small manifest per output.

Layout, beside the outputs::

    OUT_DIR/.vidstyle-batch/<output path>/manifest.json   what the chunks below were made from
    OUT_DIR/.vidstyle-batch/<output path>/chunk-0003.mp4  a finished chunk (renamed when complete)
    OUT_DIR/.vidstyle-batch/<output path>.done.json       the output is finished, and from what

A chunk file exists only once complete (written under a temporary name first), so its presence
means done. The fingerprint covers the source (path, size, mtime), the effective config and the
chunk plan: a rerun of the same command skips finished outputs and chunks, a changed source or
setting starts that file over.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from ..config import BatchConfig, PipelineConfig, RunConfig, config_yaml
from .plan import Chunk

WORK_DIR = ".vidstyle-batch"


def fingerprint(source: Path, cfg: PipelineConfig, chunks: list[Chunk]) -> str:
    """A hash of everything the output depends on (``batch.ray`` and worker sizing excluded)."""
    from ..version import __version__

    st = source.stat()
    relevant = config_yaml(_without_scheduling(cfg))
    text = json.dumps(
        [
            __version__,
            str(source.resolve()),
            st.st_size,
            st.st_mtime_ns,
            relevant,
            [(c.first, c.end, c.warm_pts) for c in chunks],
        ]
    )
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _without_scheduling(cfg: PipelineConfig) -> PipelineConfig:
    """The config minus what only decides where and how fast work runs (the chunk plan, which
    ``batch.chunk_seconds`` and ``batch.overlap`` decide, is hashed on its own)."""
    return dataclasses.replace(
        cfg, batch=BatchConfig(), run=RunConfig(), model=dataclasses.replace(cfg.model, workers=0, threads=0)
    )


@dataclass
class FileState:
    """The work folder of one output file."""

    out_dir: Path
    relative: Path

    @property
    def output(self) -> Path:
        return self.out_dir / self.relative

    @property
    def folder(self) -> Path:
        return self.out_dir / WORK_DIR / self.relative

    @property
    def done_file(self) -> Path:
        return self.folder.with_name(self.folder.name + ".done.json")

    def chunk_path(self, index: int) -> Path:
        return self.folder / f"chunk-{index:04d}.mp4"

    def whole_path(self) -> Path:
        return self.folder / f"whole{self.relative.suffix}"

    def attempts_file(self, index: int) -> Path:
        return self.folder / f"chunk-{index:04d}.attempts"

    def finished(self, fp: str) -> bool:
        """The output exists and was made from this very fingerprint."""
        return self.output.is_file() and _read(self.done_file).get("fingerprint") == fp

    def prepare(self, fp: str) -> None:
        """Keep the chunks of an interrupted run with the same fingerprint; else start afresh.
        Half-written temporary files of killed workers are removed either way."""
        manifest = self.folder / "manifest.json"
        if self.folder.is_dir() and _read(manifest).get("fingerprint") != fp:
            shutil.rmtree(self.folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        for leftover in self.folder.glob(".*.part.*"):
            leftover.unlink(missing_ok=True)
        for attempts in self.folder.glob("*.attempts"):
            attempts.unlink()
        _write(manifest, {"fingerprint": fp})

    def complete(self, fp: str, summary: dict) -> None:
        """Record the finished output and drop its chunks."""
        _write(self.done_file, {"fingerprint": fp, **summary})
        shutil.rmtree(self.folder, ignore_errors=True)


def _read(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _write(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, path)
