"""``vidstyle optimize INPUT -o OUTPUT --style-image PAINTING``: quality mode, any painting,
no training (Gatys et al. for images, Ruder et al. for videos)."""

from __future__ import annotations

import argparse

from .common import add_config_args, add_encode_args, add_run_args, config_from_args

EPILOG = """examples:
  vidstyle optimize portrait.jpg -o portrait.starry.jpg --style-image starry_night.jpg --preserve-color
  vidstyle optimize clip.mp4 -o clip.starry.mp4 --style-image starry_night.jpg --size 384
  vidstyle optimize clip.mp4 -o clip.fast.mp4 --style-image starry_night.jpg \\
      --init style-net:starry_night --iters 100      # refine a feed-forward model's output
  vidstyle optimize clip.mp4 -o clip.wave.mp4 --style-image wave.jpg --passes 15   # Ruder's multi-pass

A stopped video job continues from its last finished frame when run again (the frames wait in
OUTPUT.optimize/ beside the output). Every knob: `vidstyle config show` (section optimize)."""

# flag -> config key under optimize.
_FLAGS = (
    ("--style-image", "style_image", "PAINTING", "the painting whose style is transferred (required)"),
    ("--size", "size", "PX", "long side of the optimized image (default 512; 0: the input's size)"),
    ("--style-scale", "style_scale", "S", "painting resized to S x the optimized long side"),
    ("--iters", "iters", "N", "iterations per image / per video frame (the first frame gets 2N)"),
    ("--iters-first", "iters_first", "N", "iterations for a video's first frame"),
    ("--optimizer", "optimizer", "lbfgs|adam", "L-BFGS (default) or Adam"),
    ("--init", "init", "content|noise|style-net:NAME", "start image (default noise)"),
    ("--content-weight", "content_weight", "W", "content loss weight (default 5)"),
    ("--style-weight", "style_weight", "W", "style loss weight (default 1e2)"),
    ("--tv-weight", "tv_weight", "W", "total variation weight (default 1e-3)"),
    ("--temporal-weight", "temporal_weight", "W", "video: temporal loss weight (default 1e3)"),
    ("--long-term", "long_term", "J,J,..", "video: long-term temporal offsets, e.g. 1,10,20,40"),
    ("--passes", "passes", "N", "video: multi-pass over the clip (Ruder's 15), default 1"),
    ("--faces", "faces", "off|weighted|identity|both", "portraits: keep faces recognisable"),
    ("--identity-weights", "identity_weights", "PATH", "face descriptor network (--faces identity)"),
    (
        "--vgg-weights",
        "vgg_weights",
        "PTH",
        "VGG16 weights file (default: torchvision's ImageNet weights, downloaded once)",
    ),
    ("--device", "device", "auto|cpu|cuda[:N]", "where to optimize"),
    ("--precision", "precision", "auto|fp32|fp16|bf16", "VGG precision on CUDA (losses stay fp32)"),
    ("--work-dir", "work_dir", "DIR", "where finished frames wait for a resume"),
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "optimize",
        help="quality mode: optimize an image or video towards any painting",
        description="Style transfer by optimization (Gatys et al.; Ruder et al. for "
        "video: flow-warped starts and a consistency-masked temporal "
        "loss). Any painting, no training; slow, best on a GPU. Videos keep "
        "the source's frame rate, timing, size and audio.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("input", metavar="INPUT", help="an image, a folder or glob of images, or a video")
    p.add_argument(
        "-o",
        "--output",
        metavar="OUTPUT",
        help="output of the same kind; default INPUT.<painting>.<ext> beside the input",
    )
    g = p.add_argument_group("optimization")
    for flag, key, metavar, help_text in _FLAGS:
        g.add_argument(flag, dest=f"optimize.{key}", metavar=metavar, help=help_text)
    g.add_argument(
        "--preserve-color",
        dest="optimize.preserve_color",
        action="store_const",
        const="true",
        help="keep the content's colours (luminance-only transfer)",
    )
    add_encode_args(p)
    add_run_args(p)
    add_config_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import InputError
    from ..log import log
    from ..optimize.run import OptimizePipeline
    from .report import print_stats

    cfg = config_from_args(args)
    report = OptimizePipeline(cfg).run(args.input, args.output)
    if report.output is None:
        raise InputError("no frames were written")
    resumed = report.summary.get("resumed_frames")
    log.info(
        f"wrote {report.output} ({report.frames_out} frames in {report.wall_s:.1f} s, "
        f"{report.wall_s / max(report.frames_out, 1):.1f} s per frame"
        + (f", {resumed} resumed from an earlier run" if resumed else "")
        + ")"
    )
    if cfg.run.stats:
        print_stats(report.stats, report.wall_s)
    return 0
