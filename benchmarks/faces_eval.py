"""Face preservation, measured per mode on the signing clips (a benchmark, not a test).

    python benchmarks/faces_eval.py [--style default] [--shared ../shared/data] [--json FILE]
                                    [--modes off,blend,luma,restyle] [--precisions auto,onnx-int8,...]

For each ../shared/data/video/dev/asl clip (640x480, its first --frames frames) and each face mode
(off, blend, luma, restyle): stylize (temporal blending on), then `eval faces` against the original:
detection recall, landmark NME and the share of faces the descriptor network still verifies as the
same person (distance < 0.6); and the end-to-end fps with its cost against faces off. With several
``--precisions`` (backend-precision, e.g. onnx-fp32,onnx-int8,torch-bf16) the table repeats per
precision, which is how reduced precisions are checked for face quality.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

MODES = ("off", "blend", "luma", "restyle")


def main() -> int:
    from common import machine, save_json  # benchmarks/common.py
    from temporal_eval import cut  # a sibling script: the clips cut the same way

    from vidstyle import Pipeline
    from vidstyle.config import load_config
    from vidstyle.eval.faces import IdentityScorer, evaluate_faces
    from vidstyle.faces.detector import MTCNNDetector
    from vidstyle.io.source import open_source
    from vidstyle.models.catalog import resolve_style

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--style", default="default")
    ap.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--every", type=int, default=2, help="evaluate every N-th frame")
    ap.add_argument("--frames", type=int, default=40, help="frames per clip (its start)")
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--precisions", default="auto", help="comma list of backend-precision specs")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    from vidstyle.bench.precisions import spec_config

    def frames(path: Path):
        src = open_source(str(path))
        try:
            yield from (f.rgb for f in src)
        finally:
            src.close()

    entry = resolve_style(args.style)
    clips = sorted((args.shared / "video" / "dev" / "asl").glob("*.mkv"))
    if not clips:
        print(f"no clips in {args.shared / 'video/dev/asl'}", file=sys.stderr)
        return 1
    identity = IdentityScorer(str(args.shared / "faces" / "recognition_net"))
    detector = MTCNNDetector(min_face=20)
    per_mode: dict[tuple[str, str], dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        warm = cut(clips[0], Path(tmp) / "warm.mkv", 8)
        clips = [cut(c, Path(tmp) / c.name, args.frames) for c in clips]
        for spec, mode in ((p, m) for p in args.precisions.split(",") for m in args.modes.split(",")):
            cfg = load_config(
                search_cwd=False,
                overrides={"model.style": str(entry.model_path), "run.progress": "off", "faces.mode": mode},
            )
            pipe = Pipeline(cfg if spec == "auto" else spec_config(cfg, spec))
            pipe.run(warm, Path(tmp) / "warm.out.mkv")
            totals = {"faces": 0, "recalled": 0, "nme_sum": 0.0, "same": 0, "frames": 0, "seconds": 0.0}
            for clip in clips:
                out = Path(tmp) / f"{clip.stem}.{mode}.mkv"
                t0 = time.perf_counter()
                report = pipe.run(clip, out)
                totals["seconds"] += time.perf_counter() - t0
                totals["frames"] += report.frames_out
                s, _ = evaluate_faces(frames(clip), frames(out), detector, identity, every=args.every)
                totals["faces"] += s["faces"]
                totals["recalled"] += s["recalled"]
                totals["nme_sum"] += (s["nme"] or 0.0) * s["recalled"]
                totals["same"] += s["identity_same"]
            row = {
                "mode": mode,
                "precision": spec,
                "stylizer": pipe.stylizer.name,
                "faces": totals["faces"],
                "recall": totals["recalled"] / max(totals["faces"], 1),
                "nme": totals["nme_sum"] / max(totals["recalled"], 1) if totals["recalled"] else None,
                "identity_share": totals["same"] / max(totals["faces"], 1),
                "fps": totals["frames"] / totals["seconds"],
            }
            per_mode[(spec, mode)] = row
            print(json.dumps(row), flush=True)
    for (spec, _), row in per_mode.items():
        if (spec, "off") in per_mode:
            row["fps_cost"] = 1 - row["fps"] / per_mode[(spec, "off")]["fps"]
    result = {
        "style": entry.name,
        "clips": [c.name for c in clips],
        "machine": machine(),
        "every": args.every,
        "modes": list(per_mode.values()),
    }
    print(json.dumps(result, indent=2))
    save_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
