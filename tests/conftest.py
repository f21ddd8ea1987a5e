"""Shared fixtures: tiny style models, generated clips, the ../shared data root, CLI runners."""

from __future__ import annotations

import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch

REPO = Path(__file__).resolve().parents[1]

# Helper modules (tests/*_helpers.py): fixtures that tests in several folders use, beside the plain
# helpers they go with; as plugins, their asserts are rewritten too.
pytest_plugins = [
    "animation_helpers",
    "batch_helpers",
    "face_helpers",
    "optimize_helpers",
    "people_helpers",
    "stream_helpers",
    "train_helpers",
]


def shared_data_dir() -> Path | None:
    """``$VIDSTYLE_SHARED`` or ``<repo>/../shared``, its ``data`` folder, when present."""
    root = Path(os.environ.get("VIDSTYLE_SHARED", REPO.parent / "shared"))
    data = root / "data"
    return data if data.is_dir() else None


SHARED = shared_data_dir()
needs_shared = pytest.mark.skipif(
    SHARED is None, reason="../shared/data is not present (set VIDSTYLE_SHARED)"
)


@pytest.fixture(scope="session")
def shared() -> Path:
    if SHARED is None:
        pytest.skip("../shared/data is not present (set VIDSTYLE_SHARED)")
    return SHARED


DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.fixture(params=DEVICES)
def device(request) -> torch.device:
    """Each device the pure tensor math must work on: the CPU, and CUDA when a GPU is present."""
    return torch.device(request.param)


@pytest.fixture(params=[torch.float32, torch.float64], ids=["fp32", "fp64"])
def dtype(request) -> torch.dtype:
    """Each float type the pure tensor math must work in."""
    return request.param


@pytest.fixture(autouse=True, scope="session")
def _isolated_home(tmp_path_factory):
    """Keep tests away from the real user model directory and cache; one cache per session, so
    each test model is exported to ONNX once."""
    os.environ["VIDSTYLE_HOME"] = str(tmp_path_factory.mktemp("vidstyle_home"))
    # models are prepared before the first frame (no background builds, one engine per run);
    # tests/stylize/test_prepare_first_run.py tests the background way
    os.environ["VIDSTYLE_PREPARE"] = "wait"


def make_model(
    path: Path,
    channels: int = 4,
    res_blocks: int = 1,
    num_styles: int = 1,
    seed: int = 0,
    name: str = "tiny",
    gain: float = 100.0,
) -> Path:
    """A small random TransformerNet saved in our format (fast enough for every test).

    ``gain`` scales the last layer: the default spreads the output over tens of grey levels;
    lower gains give a gentler network whose output changes little with compression noise.
    """
    from vidstyle.models.store import ModelMeta, save_model
    from vidstyle.models.transformer_net import ArchConfig, TransformerNet

    torch.manual_seed(seed)
    net = TransformerNet(ArchConfig(channels=channels, res_blocks=res_blocks, num_styles=num_styles))
    with torch.no_grad():  # make the output depend visibly on the input
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.1)
        net.out.conv.weight.mul_(gain)  # output spread of tens of levels around mid-grey
        net.out.conv.bias.fill_(127.0)
    styles = [
        {"name": f"s{i}" if num_styles > 1 else name, "style_image": f"s{i}.jpg"} for i in range(num_styles)
    ]
    meta = ModelMeta(
        name=name, arch="custom", styles=styles, placeholder=True, description="random test network"
    )
    return save_model(net, meta, path, dtype=torch.float32)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    return make_model(tmp_path_factory.mktemp("models") / "tiny.safetensors")


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("clips")


def moving_frames(n: int, h: int = 96, w: int = 128, seed: int = 0):
    """n frames of a textured image panning right 2 px per frame (RGB uint8)."""
    from vidstyle.io.synth import textured

    big = textured(h, w + 2 * n + 8, seed)
    return [np.ascontiguousarray(big[:, 2 * i : 2 * i + w]) for i in range(n)]


@pytest.fixture(scope="session")
def basic_clip(clip_dir) -> Path:
    """2 s, 128x96, 25 fps H.264 MP4 with a stereo AAC tone."""
    from vidstyle.io.synth import tone, write_clip

    return write_clip(clip_dir / "basic.mp4", moving_frames(50), 25, audio=tone(2.0))


def run_cli(
    *args: str, timeout: float = 120, env: dict | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    """``python -m vidstyle ARGS`` in a subprocess (real exit codes and stderr)."""
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "vidstyle", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
        cwd=cwd,
    )


def probe(path: Path) -> dict:
    """Frame count, exact average rate, per-frame pts, duration and audio of a video file."""
    import av

    with av.open(str(path)) as c:
        v = c.streams.video[0]
        pts = [f.pts for f in c.decode(v)]
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        audio = [
            (s.codec_context.name, float(s.duration * s.time_base) if s.duration else None)
            for s in c.streams.audio
        ]
        return {
            "frames": len(pts),
            "rate": Fraction(v.average_rate) if v.average_rate else None,
            "pts": pts,
            "time_base": Fraction(v.time_base),
            "width": v.codec_context.width,
            "height": v.codec_context.height,
            "audio": audio,
            "duration": c.duration / 1e6 if c.duration else None,
        }


def decode_rgb(path: Path) -> list[np.ndarray]:
    import av

    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two uint8 images."""
    from vidstyle.export.parity import psnr as psnr_db

    return psnr_db(a, b, peak=255.0)
