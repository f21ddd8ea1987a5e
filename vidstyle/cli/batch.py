"""``vidstyle batch INPUT... -o OUT_DIR``: many files and long videos, chunked, on Ray."""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import add_pipeline_args, config_from_args


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "batch",
        help="stylize many files (long ones in parallel chunks) on Ray",
        description="Stylize every INPUT (files, folders searched recursively for "
        "videos, or quoted globs) into OUT_DIR/<input name>, with what "
        "`vidstyle stylize` keeps (frame count, rate, timestamps, size, "
        "audio). Long videos are split at keyframes into chunks stylized "
        "in parallel by Ray workers and joined without re-encoding. A "
        "local Ray instance is started unless --ray names a cluster. "
        "Rerunning the same command skips finished outputs and chunks.",
    )
    p.add_argument("inputs", metavar="INPUT", nargs="+")
    p.add_argument("-o", "--output", metavar="OUT_DIR", required=True, help="output folder")
    p.add_argument(
        "--json",
        metavar="REPORT",
        help="write per-file status, frames, seconds, fps, chunks and retries as JSON",
    )
    g = p.add_argument_group("batch")
    g.add_argument(
        "--ray",
        dest="batch.ray",
        metavar="ADDRESS",
        help="join a Ray cluster: auto, or ray://HOST:10001 (default: a local instance)",
    )
    g.add_argument(
        "--chunk-seconds",
        dest="batch.chunk_seconds",
        metavar="S",
        help="chunk length for long videos (default 60; 0: never split)",
    )
    g.add_argument(
        "--overlap",
        dest="batch.overlap",
        metavar="N",
        help="warm-up frames decoded before each chunk and dropped (default: auto from --alpha)",
    )
    g.add_argument(
        "--workers",
        dest="batch.workers",
        metavar="N",
        help="chunk workers (default: as many as the CPUs/GPUs allow)",
    )
    g.add_argument(
        "--gpus-per-task",
        dest="batch.gpus_per_task",
        metavar="G",
        help="GPUs per worker, fractions allowed (default: 1 when the cluster has GPUs)",
    )
    g.add_argument(
        "--cpus-per-task", dest="batch.cpus_per_task", metavar="C", help="CPUs per worker (default 1)"
    )
    g.add_argument(
        "--retries",
        dest="batch.retries",
        metavar="N",
        help="retries of a chunk whose worker died (default 2)",
    )
    add_pipeline_args(p, encode=True, run=True)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..batch.run import run_batch
    from ..log import log

    cfg = config_from_args(args)
    report = run_batch(args.inputs, Path(args.output), cfg, Path(args.json) if args.json else None)
    done = sum(f.status == "done" for f in report.files)
    skipped = sum(f.status == "skipped" for f in report.files)
    log.info(
        f"batch: {done} done, {skipped} skipped, {len(report.failed)} failed; {report.frames} "
        f"frames in {report.seconds:.1f} s ({report.fps:.1f} fps, {report.workers} workers)"
    )
    for f in report.failed:
        log.error(f"failed: {f.error}")
    return report.exit_code
