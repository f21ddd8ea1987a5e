"""``vidstyle eval flicker|faces``: flicker (warping error) and face metrics of stylized videos."""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from ..eval.flicker import FlickerResult


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="quality metrics: flicker (warping error), faces")
    esub = p.add_subparsers(dest="eval_command", metavar="METRIC", required=True)
    fl = esub.add_parser(
        "flicker",
        help="warping error (Lai et al. 2018) of STYLIZED against ORIGINAL's optical flow; lower is steadier",
    )
    fl.add_argument("original", metavar="ORIGINAL")
    fl.add_argument("stylized", metavar="STYLIZED")
    fl.add_argument(
        "--ref",
        metavar="PERFRAME",
        help="a reference to compare with, e.g. the same "
        "clip stylized with --temporal off; prints the ratio STYLIZED/REF",
    )
    fl.add_argument("--json", metavar="FILE", help="write the results (with per-pair values) as JSON")
    fl.add_argument("--plot", metavar="FILE", help="write a per-frame flicker plot (PNG)")
    fl.add_argument(
        "--long-side",
        type=int,
        default=480,
        metavar="PX",
        help="evaluate at this long side (px; 0: full size; default 480)",
    )
    fl.add_argument("--flow", choices=("farneback", "dis"), default="farneback")
    fl.set_defaults(func=run_flicker)
    register_faces(esub)


def _frames(path: str) -> Iterator[np.ndarray]:
    """RGB frames (H x W x 3 uint8) of a video or images, decoded lazily."""
    from ..io.source import open_source

    source = open_source(path)
    try:
        for frame in source:
            yield frame.rgb
    finally:
        source.close()


def run_flicker(args: argparse.Namespace) -> int:
    from ..config import FlowConfig
    from ..configtools import from_dict
    from ..errors import InputError
    from ..eval.flicker import warping_errors
    from .files import check_plot_file, check_report_files, writing
    from .report import table

    flow = from_dict(FlowConfig, {"backend": args.flow, "long_side": args.long_side}, prefix="flow.")
    names = ["original (floor)", "stylized"] + (["reference"] if args.ref else [])
    paths = [args.original, args.stylized] + ([args.ref] if args.ref else [])
    check_report_files([args.json, args.plot], inputs=paths)
    check_plot_file(args.plot)
    try:
        results = warping_errors(_frames(args.original), [_frames(p) for p in paths], flow)
    except ValueError as exc:
        raise InputError(f"cannot compare: {exc}") from None
    data: dict[str, Any] = {
        name.split()[0]: {"path": p, **r.to_dict()} for name, p, r in zip(names, paths, results)
    }
    rows = [[n, p, f"{r.e_warp:.6f}"] for n, p, r in zip(names, paths, results)]
    if args.ref:
        ratio = results[1].e_warp / results[2].e_warp if results[2].e_warp > 0 else float("nan")
        data["ratio"] = ratio
        rows.append(["ratio stylized/reference", "", f"{ratio:.3f}"])
    data["flow"] = {"backend": flow.backend, "long_side": flow.long_side}
    print(table(rows, ["video", "file", "E_warp"]))
    if args.json:
        with writing(args.json) as path:
            path.write_text(json.dumps(data, indent=2))
    if args.plot:
        with writing(args.plot) as path:
            plot_flicker(path, names, results)
    return 0


def plot_flicker(path: Path, names: list[str], results: list[FlickerResult]) -> None:
    """Per-pair warping error of each video, one line each, to an image file."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 3.5), dpi=100)
    for name, r in zip(names, results):
        ax.plot(range(1, len(r.per_pair) + 1), r.per_pair, label=f"{name} (mean {r.e_warp:.4f})")
    ax.set_xlabel("frame pair (t, t+1)")
    ax.set_ylabel("warping error")
    ax.set_title("Per-frame flicker (lower is steadier)")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def register_faces(esub: argparse._SubParsersAction) -> None:
    fa = esub.add_parser("faces", help="face recall, landmark NME and identity of STYLIZED against ORIGINAL")
    fa.add_argument("original", metavar="ORIGINAL")
    fa.add_argument("stylized", metavar="STYLIZED")
    fa.add_argument(
        "--identity-weights",
        metavar="PTH",
        help="face descriptor weights (faceapi_recognition_net_dequantized_torch.pth) "
        "to also report the share of faces still verified as the same person",
    )
    fa.add_argument("--every", type=int, default=1, metavar="N", help="evaluate every N-th frame")
    fa.add_argument(
        "--min-face",
        type=int,
        default=12,
        metavar="PX",
        help="smallest face searched in both videos (px, at least 12; default 12)",
    )
    fa.add_argument("--json", metavar="FILE", help="write the summary as JSON")
    fa.add_argument("--csv", metavar="FILE", help="write per-frame rows as CSV")
    fa.add_argument("--device", default="cpu", metavar="cpu|cuda")
    fa.set_defaults(func=run_faces)


def _fmt(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def run_faces(args: argparse.Namespace) -> int:
    import csv

    from ..config import DEVICE_PATTERN
    from ..errors import ConfigError, InputError
    from ..eval.faces import IdentityScorer, evaluate_faces, rows_as_dicts
    from ..faces.detector import MTCNNDetector
    from ..stylize.device import resolve_device
    from .files import check_report_files, writing
    from .report import table

    if args.every < 1:
        raise ConfigError("--every must be at least 1")
    if args.min_face < 12:
        raise ConfigError("--min-face must be at least 12 (px; MTCNN's smallest cell)")
    if not re.fullmatch(DEVICE_PATTERN, args.device):
        raise ConfigError(f"--device: {args.device!r} is not valid (auto, cpu, cuda or cuda:N)")
    device = str(resolve_device(args.device))
    check_report_files([args.json, args.csv], inputs=[args.original, args.stylized])
    identity = IdentityScorer(args.identity_weights, device) if args.identity_weights else None
    detector = MTCNNDetector(device, min_face=args.min_face)
    try:
        summary, rows = evaluate_faces(
            _frames(args.original), _frames(args.stylized), detector, identity, every=args.every
        )
    except ValueError as exc:
        raise InputError(f"cannot compare: {exc}") from None
    lines = [
        ["frames evaluated", summary["frames_evaluated"]],
        ["faces in original", summary["faces"]],
        ["detection recall (IoU>=0.5)", _fmt(summary["recall"], ".3f")],
        ["landmark NME", _fmt(summary["nme"], ".4f")],
    ]
    if identity is not None:
        lines += [
            ["identity share (dist<0.6)", _fmt(summary["identity_share"], ".3f")],
            ["mean identity distance", _fmt(summary["identity_distance"], ".3f")],
        ]
    print(table(lines, ["metric", "value"]))
    if len(summary["by_size"]) > 1:
        heads = ["face height", "faces", "recall", "NME"] + (["identity"] if identity is not None else [])
        print(
            table(
                [
                    [k, v["faces"], _fmt(v["recall"], ".3f"), _fmt(v["nme"], ".4f")]
                    + ([_fmt(v["identity_share"], ".3f")] if identity is not None else [])
                    for k, v in summary["by_size"].items()
                ],
                heads,
            )
        )
    if "note" in summary:
        print(summary["note"])
    if args.json:
        with writing(args.json) as path:
            path.write_text(json.dumps(summary, indent=2))
    if args.csv:
        dicts = rows_as_dicts(rows)
        with writing(args.csv) as path, path.open("w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(dicts[0]) if dicts else ["index"])
            writer.writeheader()
            writer.writerows(dicts)
    return 0
