"""Inputs -> files -> keyframe-aligned chunks with a warm-up overlap.

Everything here runs on the driver and reads packets only (no decoding): the frame timestamps
and the keyframes come from the demuxer's packet flags.
"""

from __future__ import annotations

import bisect
import glob as globlib
import math
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from ..config import PipelineConfig
from ..errors import InputError
from ..io.source import VIDEO_SUFFIXES, is_glob


@dataclass(frozen=True)
class InputFile:
    """One video to stylize: ``source`` -> ``out_dir / relative``."""

    source: Path
    relative: Path


def collect_inputs(specs: list[str]) -> tuple[list[InputFile], list[tuple[str, str]]]:
    """Files, folders (recursively, video extensions) and quoted globs, in a stable order.

    Returns the files and ``(spec, error)`` for specs that name nothing. A folder's files keep
    their path below the folder (mirrored under the output folder); other files keep their name.
    Two inputs with the same output name are an error for the second one.
    """
    files: list[InputFile] = []
    errors: list[tuple[str, str]] = []
    seen: dict[Path, Path] = {}

    def add(source: Path, relative: Path) -> None:
        if relative in seen:
            if seen[relative].resolve() != source.resolve():
                errors.append((str(source), f"same output name as {seen[relative]}: {relative}"))
            return
        seen[relative] = source
        files.append(InputFile(source, relative))

    for spec in specs:
        path = Path(os.path.expanduser(spec))
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and _is_video(p))
            if not found:
                errors.append(
                    (spec, f"no video files in folder (looked for {', '.join(sorted(VIDEO_SUFFIXES))})")
                )
            for p in found:
                add(p, p.relative_to(path))
        elif path.exists():
            add(path, Path(path.name))
        elif is_glob(spec):
            found = sorted(Path(p) for p in globlib.glob(os.path.expanduser(spec), recursive=True))
            found = [p for p in found if p.is_file() and _is_video(p)]
            if not found:
                errors.append((spec, "the pattern matches no video files"))
            for p in found:
                add(p, Path(p.name))
        else:
            errors.append((spec, "input not found"))
    return files, errors


def _is_video(path: Path) -> bool:
    return path.suffix.lower() in VIDEO_SUFFIXES and not path.name.startswith(".")


@dataclass
class FileScan:
    """A video's frame timestamps (presentation order) and keyframe timestamps, from packets.

    ``pts`` and ``keyframes`` count ``time_base`` units. ``chunkable`` is False when some packet
    has no timestamp or two share one: such a file is processed as one chunk.
    """

    pts: list[int]
    keyframes: list[int]
    time_base: Fraction
    chunkable: bool
    rate: Fraction | None = None  # the stream's average (else guessed) frame rate

    @property
    def frames(self) -> int:
        return len(self.pts)


def scan(path: Path) -> FileScan:
    """Demux the first video stream's packets (no decoding). Raises InputError when unreadable."""
    try:
        with av.open(str(path), metadata_errors="ignore") as c:
            if not c.streams.video:
                raise InputError(f"{path}: no video stream")
            stream = c.streams.video[0]
            pts: list[int] = []
            keyframes: list[int] = []
            missing = False
            for packet in c.demux(stream):
                if packet.size == 0:
                    continue
                if packet.pts is None:
                    missing = True
                    continue
                pts.append(packet.pts)
                if packet.is_keyframe:
                    keyframes.append(packet.pts)
            tb = Fraction(stream.time_base)
            rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    except av.error.FFmpegError as exc:
        raise InputError(
            f"{path}: not a video we can decode ({getattr(exc, 'strerror', None) or exc})"
        ) from None
    pts.sort()
    unique = all(a < b for a, b in zip(pts, pts[1:]))
    if not pts and not missing:
        raise InputError(f"{path}: the video stream has no packets")
    return FileScan(
        pts,
        sorted(keyframes),
        tb,
        chunkable=bool(pts) and not missing and unique,
        rate=Fraction(rate) if rate else None,
    )


@dataclass(frozen=True)
class Chunk:
    """Frames ``first`` .. ``end - 1`` (presentation order) of a file.

    The chunk writes the frames with ``start_pts <= pts < end_pts`` (``end_pts`` None: to the end)
    and runs the pipeline from ``warm_pts`` on, so ``first - warm frame index`` frames warm it up.
    """

    index: int
    first: int
    end: int
    start_pts: int
    end_pts: int | None
    warm_pts: int

    @property
    def frames(self) -> int:
        return self.end - self.first


def plan_chunks(pts: list[int], keyframes: list[int], chunk_ticks: int, overlap: int) -> list[Chunk]:
    """Split sorted frame ``pts`` at keyframes into chunks of about ``chunk_ticks``.

    A boundary is the first keyframe at least ``chunk_ticks`` after the chunk's start; a last
    piece shorter than half a chunk joins the one before; a video shorter than 1.5 chunks (or
    ``chunk_ticks`` <= 0) stays whole. Each chunk but the first warms up on the ``overlap``
    frames before it.
    """
    if not pts:
        return []
    bounds = [0]
    if chunk_ticks > 0 and pts[-1] - pts[0] >= 1.5 * chunk_ticks:
        for key in keyframes:
            i = bisect.bisect_left(pts, key)
            if i >= len(pts) or pts[i] != key:
                continue
            if key - pts[bounds[-1]] >= chunk_ticks and pts[-1] - key >= chunk_ticks / 2:
                bounds.append(i)
    chunks = []
    for k, first in enumerate(bounds):
        end = bounds[k + 1] if k + 1 < len(bounds) else len(pts)
        chunks.append(
            Chunk(
                k, first, end, pts[first], pts[end] if end < len(pts) else None, pts[max(0, first - overlap)]
            )
        )
    return chunks


def warmup_frames(alpha: float, faces_every: int = 0, faces_fade: int = 0) -> int:
    """Frames after which the blend has forgotten its start: alpha^W <= 1/255 (half a grey level).

    W = ceil(ln(1/255) / ln(alpha)): 16 at alpha 0.7, 25 at 0.8. With faces on, at least one
    detection round plus a fade-in (``faces_every + faces_fade``) so tracks are settled too.
    """
    blend = 0 if alpha <= 0 else 120 if alpha >= 1 else math.ceil(math.log(1 / 255) / math.log(alpha))
    return max(blend, faces_every + faces_fade if faces_every else 0)


def overlap_frames(cfg: PipelineConfig) -> int:
    """``batch.overlap``, or its automatic value for the configured blend and faces."""
    if cfg.batch.overlap >= 0:
        return cfg.batch.overlap
    alpha = cfg.temporal.alpha if cfg.temporal.mode != "off" else 0.0
    faces = cfg.faces.mode != "off"
    return warmup_frames(alpha, cfg.faces.every if faces else 0, cfg.faces.fade_frames if faces else 0)


def file_chunks(found: FileScan, cfg: PipelineConfig) -> list[Chunk]:
    """The chunks of one scanned file under ``cfg.batch`` (one chunk when it cannot be split)."""
    if not found.chunkable:
        return [
            Chunk(
                0, 0, found.frames, found.pts[0] if found.pts else 0, None, found.pts[0] if found.pts else 0
            )
        ]
    ticks = int(cfg.batch.chunk_seconds / found.time_base)
    return plan_chunks(found.pts, found.keyframes, ticks, overlap_frames(cfg))
