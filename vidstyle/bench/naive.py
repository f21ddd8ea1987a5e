"""The naive baseline every benchmark compares against.

OpenCV read -> torch fp32, batch 1 -> OpenCV write: what a first script does. Same model, same
frames, no overlap between decoding, inference and encoding.
"""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import torch

from ..models.store import load_model
from ..stylize.base import crop_to, pad_to_multiple


def naive_stylize(
    model_path: Path, src: Path, dst: Path, max_frames: int = 0, device: torch.device | str = "cpu"
) -> tuple[int, float]:
    """Stylize ``src`` into ``dst`` (mp4v) frame by frame on ``device``; returns (frames, seconds).

    On a GPU: each frame uploaded, stylized in fp32 and downloaded before the next is read.
    """
    device = torch.device(device)
    net, meta = load_model(model_path)
    net = net.to(device).eval()
    scale = float(meta.input_range)
    cap = cv2.VideoCapture(str(src))
    if not cap.isOpened():
        raise RuntimeError(f"OpenCV cannot open {src}")
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    w, h = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    writer = cv2.VideoWriter(str(dst), cv2.VideoWriter.fourcc(*"mp4v"), fps, (w, h))
    frames = 0
    with torch.inference_mode():  # warm-up outside the clock, as for the pipeline
        net(pad_to_multiple(torch.zeros(1, 3, h, w, device=device), 4)[0])
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    t0 = time.perf_counter()
    with torch.inference_mode():
        while not max_frames or frames < max_frames:
            ok, bgr = cap.read()
            if not ok:
                break
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            x = torch.from_numpy(rgb).to(device).permute(2, 0, 1)[None].float()
            x, size = pad_to_multiple(x / 255.0, 4)
            y = crop_to(net(x * scale) / scale, size).clamp(0, 1)[0]
            out = (y.permute(1, 2, 0).cpu().numpy() * 255 + 0.5).astype(np.uint8)
            writer.write(cv2.cvtColor(out, cv2.COLOR_RGB2BGR))
            frames += 1
    writer.release()
    cap.release()
    return frames, time.perf_counter() - t0
