"""``vidstyle demo``: make a sample clip (portrait pan/zoom + tone) and stylize it; on a fresh
install it then waits for the default style's models (ONNX export, int8) being prepared in the
background, so that `make demo` leaves them ready for the user's first own run."""

from __future__ import annotations

import argparse

from .common import add_pipeline_args, config_from_args

MIN_SECONDS, MAX_SECONDS = 0.1, 3600.0  # sample length: a few frames .. an hour at 29.97 fps


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="generate a sample clip and stylize it with the default style")
    p.add_argument(
        "-o",
        "--output-dir",
        default="out/demo",
        metavar="DIR",
        help="where the sample and its stylized copy go (default: out/demo)",
    )
    p.add_argument(
        "--seconds",
        type=float,
        default=4.0,
        help=f"sample length (default 4; {MIN_SECONDS:g} to {MAX_SECONDS:g})",
    )
    add_pipeline_args(p, run=True)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import ConfigError
    from ..io.synth import demo_clip
    from ..log import log
    from ..pipeline.api import Pipeline
    from ..stylize.prepare import running_builds, wait_for_builds
    from .files import writing

    cfg = config_from_args(args)
    if not MIN_SECONDS <= args.seconds <= MAX_SECONDS:  # NaN too
        raise ConfigError(f"--seconds must be {MIN_SECONDS:g} to {MAX_SECONDS:g}, got {args.seconds:g}")
    with writing(args.output_dir) as out_dir:
        out_dir.mkdir(parents=True, exist_ok=True)
    sample = demo_clip(out_dir / "sample.mp4", seconds=args.seconds)
    log.info(f"sample clip: {sample} (640x360, 29.97 fps, {args.seconds:g} s, 440 Hz tone)")
    pipeline = Pipeline(cfg)
    report = pipeline.run(sample)  # -> out_dir/sample.<style>.mp4
    log.info(f"stylized ({pipeline.stylizer.name}, {report.fps:.1f} fps)")
    print(f"output: {report.output}", flush=True)
    if running_builds():  # set-up: leave the models ready for the user's first own run
        log.info("finishing the style's models for later runs (Ctrl-C leaves them to the background)")
        wait_for_builds()
    return 0
