"""How much style each bundled model carries, measured (a benchmark, not a test).

    python benchmarks/style_quality.py [--shared ../shared/data] [--styles a,b] [--size 512]
                                       [--json benchmarks/results/style-quality.json]

For every bundled style (every style of every multi-style model too): the network alone (no
faces, no temporal blend) stylizes a few held-out content frames (Grace Hopper's portrait and one
frame of each dev clip: none of them is in the training set), and the VGG16 Gram distance of the
output to the style's own painting is divided by the input frame's (``vidstyle.eval.style``).
The mean ratio is the quality row of the model card: public fast-style-transfer models reach
about 0.25-0.35 on this measure; lower is more style.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np


def content_frames(shared: Path, size: int) -> dict[str, np.ndarray]:
    """Held-out frames, long side ``size`` px (0: as decoded), sides multiples of 4."""
    import cv2

    from vidstyle.io.source import open_source
    from vidstyle.io.synth import demo_photo

    frames = {"portrait": demo_photo()}
    dev = shared / "video" / "dev"
    for name, path, index in (
        ("asl_again", dev / "asl" / "again.mkv", 30),
        ("juggle", dev / "05_default_juggle.mp4", 60),
        ("sintel", dev / "sintel_market", 5),
    ):
        if path.exists():
            src = open_source(str(path))
            try:
                frames[name] = next(f.rgb for f in src if f.index == index)
            finally:
                src.close()
    out = {}
    for name, rgb in frames.items():
        h, w = rgb.shape[:2]
        s = size / max(h, w) if size else 1.0
        out[name] = cv2.resize(
            rgb, (round(w * s) // 4 * 4, round(h * s) // 4 * 4), interpolation=cv2.INTER_AREA
        )
    return out


def stylize(net, scale: float, rgb: np.ndarray, style_w: list[float]) -> np.ndarray:
    """One frame through the network alone; ``scale`` is the model's input range (1 or 255)."""
    import torch

    x = torch.from_numpy(rgb).permute(2, 0, 1)[None].float() * (scale / 255)
    with torch.inference_mode():
        y = net(x, torch.tensor([style_w])) / scale
    return (y[0].clamp(0, 1).permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)


def main() -> int:
    from common import machine, save_json  # benchmarks/common.py

    from vidstyle.eval.style import GramMeter
    from vidstyle.models.catalog import list_styles
    from vidstyle.models.store import load_model

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument(
        "--styles",
        default="",
        help="comma-separated catalog or style names (default: all bundled; "
        "also filters the styles of --model files)",
    )
    ap.add_argument(
        "--model",
        type=Path,
        action="append",
        default=[],
        help="also measure this model file (every style it holds)",
    )
    ap.add_argument(
        "--size", type=int, default=512, help="long side of the content frames (px; 0: as decoded)"
    )
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()

    vgg = args.shared / "vgg16" / "vgg16_features_relu4_3.pth"
    if not vgg.is_file():
        print(f"needs the VGG16 weights at {vgg} (--shared DIR)", file=sys.stderr)
        return 2
    frames = content_frames(args.shared, args.size)
    entries = [e for e in list_styles() if e.source == "bundled"]
    wanted = set(args.styles.split(",")) if args.styles else None
    if wanted:
        entries = [e for e in entries if e.name in wanted or e.style_name in wanted]
    jobs = [(e.name, e.model_path, e.style_index) for e in entries]
    for path in args.model:
        from vidstyle.models.store import read_meta

        meta = read_meta(path)
        jobs += [
            (f"{path.name}:{s['name']}", path, i)
            for i, s in enumerate(meta.styles)
            if not wanted or s["name"] in wanted
        ]
    rows, meters, nets = [], {}, {}
    for name, path, index in jobs:
        if path not in nets:
            net, meta = load_model(path)
            nets[path] = (net.float().eval(), meta)
        net, meta = nets[path]
        style = meta.styles[index]
        painting = args.shared / "styles" / style.get("style_image", "")
        if not painting.is_file():
            print(
                f"{name}: painting {painting.name!r} not in {args.shared / 'styles'}; skipped",
                file=sys.stderr,
            )
            continue
        meter = meters.setdefault(painting, GramMeter(vgg, painting))
        w = [1.0 if i == index else 0.0 for i in range(len(meta.styles))]
        ratios = {f: meter.ratio(rgb, stylize(net, meta.input_range, rgb, w)) for f, rgb in frames.items()}
        row = {
            "style": name,
            "model": meta.name,
            "arch": meta.arch,
            "painting": painting.name,
            "ratio_mean": float(np.mean(list(ratios.values()))),
            "ratios": {k: round(v, 4) for k, v in ratios.items()},
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    result = {"machine": machine(), "size": args.size, "frames": list(frames), "styles": rows}
    save_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
