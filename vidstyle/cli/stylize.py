"""``vidstyle stylize INPUT [-o OUTPUT]``: stylize a video file, an image, or a folder of images."""

from __future__ import annotations

import argparse

from .common import add_pipeline_args, config_from_args


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "stylize",
        help="stylize a video file, image, image folder or glob",
        description="Stylize INPUT (mp4/mkv/mov/webm/avi, an image, a folder or glob "
        "of images) into OUTPUT with the source's frame rate, timing, "
        "size and audio.",
    )
    p.add_argument("input", metavar="INPUT")
    p.add_argument(
        "-o",
        "--output",
        metavar="OUTPUT",
        help="output file (container from its extension) or folder for image inputs; "
        "default: INPUT.<style>.<ext> beside the input",
    )
    p.add_argument(
        "--compare", metavar="FILE", help="also write a side-by-side video: original | per-frame | stabilised"
    )
    p.add_argument(
        "--video-stream",
        dest="input.video_stream",
        metavar="N",
        help="which video stream of the input to stylize (0: the first; like ffmpeg -map 0:v:N)",
    )
    p.add_argument(
        "--start",
        "-ss",
        dest="input.start",
        metavar="S",
        help="start S seconds into the input (the output starts at 0; image folders: the "
        "images from S x input.image_fps on)",
    )
    p.add_argument(
        "--duration",
        "-t",
        dest="input.duration",
        metavar="S",
        help="stylize only S seconds (try a few seconds of a long file; image folders: "
        "S x input.image_fps images)",
    )
    add_pipeline_args(p, encode=True, run=True)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import InputError
    from ..log import log
    from ..pipeline.api import Pipeline
    from .report import print_stats

    cfg = config_from_args(args)
    report = Pipeline(cfg).run(args.input, args.output, compare=args.compare)
    if report.output is None:
        raise InputError("no frames were written")
    frames = f"{report.frames_out} frame{'' if report.frames_out == 1 else 's'}"
    log.info(f"wrote {report.output} ({frames} in {report.wall_s:.1f} s, {report.fps:.1f} fps)")
    temporal = report.summary.get("temporal")
    if temporal and report.frames_out > 1:  # one frame has nothing to blend with
        log.info(
            f"temporal: {temporal['blended']} frames blended, {temporal['scene_resets']} "
            f"scene resets, {100 * temporal['mean_consistent']:.0f}% of pixels consistent"
        )
    faces = report.summary.get("faces")
    if faces:
        lo, hi = faces.get("strength_range", (faces["strength"],) * 2)
        strength = f"{lo:g}" if lo == hi else f"{lo:g}..{hi:g} by face size"
        log.info(
            f"faces ({faces['mode']}, strength {strength}): in "
            f"{faces['frames_with_faces']} of {report.frames_out} frames, up to {faces['max_faces']} at once"
        )
    if report.compare is not None:
        log.info(f"side-by-side: {report.compare}")
    if cfg.run.stats:
        print_stats(report.stats, report.wall_s)
    return 0
