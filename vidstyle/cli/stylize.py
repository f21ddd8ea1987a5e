"""``vidstyle stylize INPUT [-o OUTPUT]``: stylize a video file, an image, or a folder of images."""

from __future__ import annotations

import argparse

from .common import add_config_args, add_encode_args, add_model_args, add_run_args, config_from_args


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("stylize", help="stylize a video file, image, image folder or glob",
                       description="Stylize INPUT (mp4/mkv/mov/webm/avi, an image, a folder or glob "
                                   "of images) into OUTPUT with the source's frame rate, timing, "
                                   "size and audio.")
    p.add_argument("input", metavar="INPUT")
    p.add_argument("-o", "--output", metavar="OUTPUT",
                   help="output file (container from its extension) or folder for image inputs; "
                        "default: INPUT.<style>.<ext> beside the input")
    add_model_args(p)
    add_encode_args(p)
    add_run_args(p)
    add_config_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..log import log
    from ..pipeline.api import Pipeline
    from .report import print_stats

    cfg = config_from_args(args)
    report = Pipeline(cfg).run(args.input, args.output)
    if report.output is None:
        log.warning("no frames were written")
        return 1
    log.info(f"wrote {report.output} ({report.frames_out} frames in {report.wall_s:.1f} s, "
             f"{report.fps:.1f} fps)")
    if cfg.run.stats:
        print_stats(report.stats, report.wall_s)
    return 0
