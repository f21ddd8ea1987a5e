"""``vidstyle stream SOURCE``: stylize a live stream, webcam or paced file into live outputs."""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import add_overwrite_args, add_pipeline_args, config_from_args


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "stream",
        help="stylize a live stream (rtsp/rtmp/srt/udp/http), a webcam, or a file in real time",
        description="SOURCE: rtsp://, rtmp://, srt://, udp://, http(s):// URL; a webcam "
        "(/dev/videoN or N); or a file (with --realtime to play it at its own "
        "rate). Stops at the end of a file, after --duration, or on Ctrl-C/SIGTERM "
        "with every output flushed and closed.",
    )
    p.add_argument("source", metavar="SOURCE")
    p.add_argument(
        "-o",
        "--output",
        action="append",
        default=[],
        metavar="rtsp://...|FILE",
        help="publish to an RTSP server, or record to a file (one file; segments with --segment "
        "or a %%03d pattern in the name); repeatable",
    )
    p.add_argument(
        "--preview",
        action="store_true",
        help="serve original | stylized as MJPEG on http://127.0.0.1:PORT (see stream.preview_port)",
    )
    p.add_argument(
        "--realtime",
        action="store_true",
        help="a file source behaves like a camera: played at its own rate, frames the pipeline "
        "is too slow for are dropped, timestamps stay the file's (without it: every frame "
        "is kept, as fast as the pipeline goes)",
    )
    p.add_argument(
        "--duration", type=float, default=0.0, metavar="S", help="stop after S seconds (0: no limit)"
    )
    g = p.add_argument_group("stream")
    g.add_argument("--rtsp-transport", dest="stream.rtsp_transport", metavar="tcp|udp")
    g.add_argument("--drop-policy", dest="stream.drop_policy", metavar="auto|drop_oldest|block")
    g.add_argument(
        "--segment",
        dest="stream.segment_seconds",
        metavar="S",
        help="file outputs: a new file every S seconds, named NAME-000.EXT... (default: one file)",
    )
    g.add_argument("--preview-port", dest="stream.preview_port", metavar="PORT")
    g.add_argument(
        "--status-json",
        dest="stream.status_json",
        metavar="PATH|-",
        help="append a JSON status object per line to PATH ('-': standard output) every "
        "stream.status_every seconds, at each change of state and at the end (fields: README)",
    )
    g.add_argument(
        "--metrics-port",
        dest="stream.metrics_port",
        metavar="PORT",
        help="serve Prometheus text metrics at http://127.0.0.1:PORT/metrics (see stream.metrics_host)",
    )
    add_overwrite_args(p)
    add_pipeline_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import signal

    from ..errors import ConfigError, OutputError
    from ..io.sink import check_output, check_overwrite, video_container
    from ..log import log
    from ..stream.run import run_stream

    cfg = config_from_args(args)
    if not args.duration >= 0:  # NaN too
        raise ConfigError(f"--duration must be 0 (no limit) or more, got {args.duration:g}")
    rtsp = [o for o in args.output if o.lower().startswith(("rtsp://", "rtsps://"))]
    files = [Path(o) for o in args.output if o not in rtsp]
    if len(rtsp) > 1 or len(files) > 1:
        raise OutputError("give at most one RTSP output and one file output")
    for f in files:  # -n refuses now; the "overwriting" warning waits until the output opens
        check_overwrite(f, "yes" if cfg.run.overwrite == "warn" else cfg.run.overwrite)
        video_container(f)
        check_output(f, [Path(args.source)] if Path(args.source).is_file() else [])
    if not args.output and not args.preview:
        raise OutputError("no output: give -o rtsp://...|FILE and/or --preview")
    report = run_stream(
        args.source,
        cfg,
        file_out=files[0] if files else None,
        rtsp_out=rtsp[0] if rtsp else None,
        preview=args.preview,
        realtime=args.realtime,
        duration=args.duration,
    )
    how = f"stopped by {signal.Signals(report.stopped_by).name}" if report.stopped_by else "ended"
    log.info(f"stream {how}: {report.line()}")
    for out in report.outputs:
        log.info(f"output: {out}")
    return 128 + report.stopped_by if report.stopped_by else 0  # the same codes as `stylize`
