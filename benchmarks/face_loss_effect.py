"""Identity kept by the network itself: descriptor distance original <-> stylized on the face photos.

    python benchmarks/face_loss_effect.py MODEL [MODEL ...] [--shared ../shared/data] [--json FILE]

For each model (e.g. one trained with the face loss and one without), every photo in
../shared/data/faces/photos is stylized by the network alone (no inference-time face
preservation), faces are found on the original, and the 128-d descriptors of the aligned chips of
original and stylized are compared: mean distance, and the share below 0.6 (same person).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np


def main() -> int:
    import cv2
    import torch
    from common import machine, save_json  # benchmarks/common.py
    from PIL import Image

    from vidstyle.eval.faces import IdentityScorer
    from vidstyle.faces.detector import MTCNNDetector
    from vidstyle.models.catalog import resolve_style
    from vidstyle.models.store import load_model
    from vidstyle.stylize.torch_backend import TorchStylizer

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="+")
    ap.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--long-side", type=int, default=512)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    identity = IdentityScorer(str(args.shared / "faces" / "recognition_net"))
    detector = MTCNNDetector(min_face=20)
    photos = []
    for path in sorted((args.shared / "faces" / "photos").iterdir()):
        rgb = np.asarray(Image.open(path).convert("RGB"))
        s = args.long_side / max(rgb.shape[:2])
        rgb = cv2.resize(
            rgb,
            (round(rgb.shape[1] * s) // 4 * 4, round(rgb.shape[0] * s) // 4 * 4),
            interpolation=cv2.INTER_AREA,
        )
        (faces,) = detector.detect([rgb])
        if len(faces):
            photos.append((path.name, rgb, faces))
    results = []
    for spec in args.models:
        entry = resolve_style(spec)
        net, meta = load_model(entry.model_path)
        one_hot = [1.0 if i == entry.style_index else 0.0 for i in range(len(meta.styles))]
        stylizer = TorchStylizer(net, meta, torch.device("cpu"), style=one_hot)
        dists = []
        for _name, rgb, faces in photos:
            x = torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 255
            out = (stylizer(x)[0].permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)
            dists += identity.distances(rgb, out, faces.landmarks).tolist()
        row = {
            "model": entry.name,
            "face_mode": (meta.recipe.get("config", {}).get("loss", {}) or {}).get("face_mode"),
            "steps": meta.recipe.get("steps"),
            "faces": len(dists),
            "mean_distance": float(np.mean(dists)),
            "same_person_share": float(np.mean(np.array(dists) < 0.6)),
        }
        results.append(row)
        print(json.dumps(row), flush=True)
    save_json(args.json, {"machine": machine(), "photos": [p[0] for p in photos], "results": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
