"""The CUDA path against the CPU: fp16 parity, batches, CUDA graphs and compile, the memory guard at
4K/8K, faces and compose on the device, the whole pipeline. Every test here is marked ``gpu`` and
skips without a CUDA device; ``benchmarks/gpu/run.sh`` runs them on the GPU machine (``-m gpu``).

The PSNR bounds marked PROVISIONAL were chosen from fp16-vs-fp32 differences measured with torch's
CPU half-precision kernels (benchmarks/gpu/README.md); cuDNN's fp16 convolutions accumulate
differently, so they must be re-measured on the GPU and set from what it gives.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import torch
from conftest import REPO, decode_rgb
from conftest import psnr as psnr_uint8

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (torch sees none)"),
]

BUNDLED = REPO / "vidstyle" / "models" / "bundled"
# PROVISIONAL (see the module docstring): on the CPU, fp16 weights and activations against fp32
# gave 77.5 dB (full) and 78.1 dB (small) on two 180x320 frames of the demo photo, 77.1 / 77.4 dB
# channels-last, and bf16 59 dB. cuDNN's fp16 kernels (tensor cores, Winograd) may round more;
# 50 dB still fails a broken path (wrong layout, overflowing norm: < 30 dB). Re-measure on the GPU.
FP16_PSNR_DB = 50.0
CUDA = torch.device("cuda") if torch.cuda.is_available() else None


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    """dB between two images in [0, 1], on any devices."""
    return psnr_uint8(a.float().cpu().numpy() * 255, b.float().cpu().numpy() * 255)


def photo_frames(n: int, size=(360, 640)) -> torch.Tensor:
    """n frames of the demo portrait (a slow zoom), N x 3 x H x W float in [0, 1] on the host."""
    from vidstyle.io.synth import demo_photo, pan_zoom

    frames = pan_zoom(demo_photo(), n, size, zoom=(1.0, 1.2), center=(0.5, 0.4))
    return torch.stack([torch.from_numpy(f).permute(2, 0, 1).float() / 255 for f in frames])


def stylizer(device: str, style: str = "starry_night", **extra):
    from vidstyle.config import load_config
    from vidstyle.pipeline.scheduling import load_stylizer

    return load_stylizer(
        load_config(
            search_cwd=False,
            overrides={
                "model.style": str(BUNDLED / f"{style}.safetensors"),
                "model.backend": "torch",
                "model.device": device,
                **extra,
            },
        )
    )


@pytest.mark.parametrize("style", ["starry_night", "starry_night-small"])
def test_fp16_channels_last_on_cuda_matches_fp32_on_cpu(style):
    x = photo_frames(2)
    ref = stylizer("cpu", style, **{"model.precision": "fp32"})(x)
    gpu = stylizer("cuda", style)  # auto: fp16, channels_last
    assert gpu.name == "torch-cuda-fp16" and gpu.channels_last
    y = gpu(x.to(CUDA))
    assert y.device.type == "cuda" and y.dtype == torch.float32 and y.shape == x.shape
    assert torch.isfinite(y).all()
    assert psnr(y, ref) > FP16_PSNR_DB


def test_fp32_on_cuda_matches_the_cpu_closely():
    x = photo_frames(1)
    ref = stylizer("cpu", **{"model.precision": "fp32"})(x)
    y = stylizer("cuda", **{"model.precision": "fp32", "model.channels_last": "off"})(x.to(CUDA))
    assert psnr(y, ref) > 50  # TF32 convolutions are allowed to differ a little


def test_a_batch_equals_the_same_frames_one_by_one():
    gpu = stylizer("cuda")
    x = photo_frames(4).to(CUDA)
    batch = gpu(x)
    single = torch.cat([gpu(x[i : i + 1]) for i in range(4)])
    assert psnr(batch, single) > 50  # instance norm is per frame: only kernel choice differs
    assert psnr(batch[0], batch[3]) < 40  # and the frames really differ


def test_cuda_graphs_replay_fresh_inputs_and_keep_earlier_outputs():
    from vidstyle.stylize.accel import GraphedNet

    eager = stylizer("cuda")
    graphed = stylizer("cuda", **{"model.cuda_graphs": "true"})
    assert graphed.name.endswith("-cudagraphs") and isinstance(graphed.net, GraphedNet)
    frames = photo_frames(6).to(CUDA)
    a, b, c = frames[0:2], frames[2:4], frames[4:6]
    out_a = graphed(a)  # first sight of the shape: eager
    out_b = graphed(b)  # second: captured, then replayed
    out_c = graphed(c)  # replay with new input
    assert len(graphed.net.graphs) == 1
    for x, y in ((a, out_a), (b, out_b), (c, out_c)):
        assert psnr(y, eager(x)) > 50  # out_b is intact after c's replay
    assert psnr(out_b, out_c) < 40


def test_compile_with_cuda_graphs_matches_eager():
    from vidstyle.stylize.accel import CompiledNet, GraphedNet

    eager = stylizer("cuda", "starry_night-small")
    fast = stylizer(
        "cuda",
        "starry_night-small",
        **{"model.compile": "true", "model.compile_mode": "default", "model.cuda_graphs": "true"},
    )
    assert isinstance(fast.net, GraphedNet) and isinstance(fast.net.net, CompiledNet)
    x = photo_frames(2, (256, 320)).to(CUDA)
    fast(x)
    assert not fast.net.net.gate.admitted  # a shape seen once is neither compiled nor captured
    for _ in range(2):
        y = fast(x)
    assert fast.net.graphs and fast.net.net.gate.admitted
    assert fast.net.net.failed is None, fast.net.net.failed
    assert psnr(y, eager(x)) > 40


def test_stylized_bytes_per_pixel_stay_under_the_memory_guards_estimate():
    """The guard budgets the family's activation bytes per pixel (transformer_net: 32 x base
    channels, halved in fp16): measure the real peak."""
    gpu = stylizer("cuda")
    x = torch.rand(1, 3, 1080, 1920, device=CUDA)
    gpu(x)
    torch.cuda.synchronize()
    base = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    gpu(x)
    torch.cuda.synchronize()
    per_px = (torch.cuda.max_memory_allocated() - base) / (1080 * 1920)
    assert per_px < gpu.activation_bytes_per_px, f"{per_px:.0f} B/px"


def test_memory_guard_at_4k_and_8k():
    from vidstyle.pipeline.memory import GPU_SHARE
    from vidstyle.pipeline.scheduling import memory_limited_side

    gpu = stylizer("cuda")
    free = torch.cuda.mem_get_info()[0]
    per_frame_4k = 2160 * 3840 * gpu.activation_bytes_per_px
    if free * GPU_SHARE > 8 * per_frame_4k:
        assert memory_limited_side(gpu, 2160, 3840, 8) == 0  # 4K x 8 fits: no limit
    # 8K with only ~3 GiB left free: the guard picks a side at which 8 frames in parallel still fit
    ballast = torch.empty(max(0, free - (3 << 30)), dtype=torch.uint8, device=CUDA)
    try:
        side = memory_limited_side(gpu, 4320, 7680, 8)
        assert 64 <= side < 7680
        h, w = round(4320 * side / 7680) // 4 * 4, side
        y = gpu(torch.rand(8, 3, h, w, device=CUDA))
        torch.cuda.synchronize()
        assert y.shape == (8, 3, h, w)
    finally:
        del ballast
        torch.cuda.empty_cache()


def test_transfers_round_trip_through_pinned_memory():
    from vidstyle.io.transfer import download, upload

    host = torch.randint(0, 255, (720, 1280, 3), dtype=torch.uint8)
    dev = upload(host, CUDA)
    back = download(dev.mul(1))
    assert dev.is_cuda and back.device.type == "cpu" and back.is_pinned()
    assert torch.equal(back, host)


def test_mtcnn_on_cuda_finds_the_same_faces_as_on_the_cpu():
    from vidstyle.faces.detector import MTCNNDetector
    from vidstyle.io.synth import demo_photo

    image = np.ascontiguousarray(demo_photo())
    cpu = MTCNNDetector("cpu").detect([image])[0]
    gpu = MTCNNDetector(CUDA).detect([image, image])
    assert len(cpu) >= 1
    for faces in gpu:
        assert len(faces) == len(cpu)
        assert np.abs(faces.boxes - cpu.boxes).max() < 2.0
        assert np.abs(faces.landmarks - cpu.landmarks).max() < 2.0


def _compose_run(device: torch.device, mode: str) -> list[torch.Tensor]:
    """Three frames through ComposeStage (temporal blend + detail restore + faces) on ``device``."""
    from vidstyle.config import FacesConfig, TemporalConfig
    from vidstyle.faces.detector import Faces
    from vidstyle.io.frame import Frame
    from vidstyle.pipeline.item import Item
    from vidstyle.pipeline.stages import ComposeStage

    torch.manual_seed(0)
    h, w = 96, 128
    stylized = torch.rand(3, 3, 3, h, w)
    original = torch.rand(3, 3, h, w)
    flow = torch.randn(1, 2, h // 2, w // 2) * 1.5
    mask = (torch.rand(1, 1, h // 2, w // 2) > 0.2).float()
    faces = Faces(
        np.array([[40, 20, 80, 70]], np.float32),
        np.array([[[52, 38], [68, 38], [60, 48], [54, 58], [66, 58]]], np.float32),
        np.array([0.99], np.float32),
    )
    stage = ComposeStage(TemporalConfig(), FacesConfig(mode=mode), stylizer=lambda x: 1 - x)
    outs = []
    for i in range(3):
        item = Item(Frame(index=i, rgb=np.zeros((h, w, 3), np.uint8), pts=i, time_base=Fraction(1, 25)))
        item.image = original[i].to(device)
        item.stylized = stylized[i, 0].to(device)
        item.flow_bw, item.consistency = (flow, mask) if i else (None, None)
        item.flow_from = i - 1 if i else None
        item.faces = faces if i == 0 else None
        stage.process([item])
        assert item.stylized.device.type == device.type
        outs.append(item.stylized.cpu())
    return outs


@pytest.mark.parametrize("mode", ["blend", "luma", "restyle"])
def test_compose_on_cuda_matches_the_cpu(mode):
    for cpu, gpu in zip(_compose_run(torch.device("cpu"), mode), _compose_run(CUDA, mode)):
        assert (cpu - gpu).abs().max() < 1e-4


@pytest.mark.parametrize("extra", [[], ["--cuda-graphs"]], ids=["eager", "cudagraphs"])
def test_the_pipeline_on_cuda_matches_the_cpu(tmp_path, extra):
    """Decode, flow, faces, stylize (fp16), compose, encode: the GPU output is the CPU output."""
    from vidstyle.cli import main
    from vidstyle.io.synth import demo_clip

    clip = demo_clip(tmp_path / "in.mp4", seconds=1.0, size=(360, 640))
    outs = {}
    for device in ("cpu", "cuda"):
        out = tmp_path / f"{device}.mp4"
        args = [
            "stylize",
            str(clip),
            "-o",
            str(out),
            "--device",
            device,
            "--backend",
            "torch",
            "--style",
            str(BUNDLED / "starry_night-small.safetensors"),
            "--no-progress",
            "--crf",
            "12",
        ]
        assert main(args + (extra if device == "cuda" else [])) == 0
        outs[device] = decode_rgb(out)
    assert len(outs["cpu"]) == len(outs["cuda"]) >= 25
    for a, b in zip(outs["cpu"], outs["cuda"]):
        assert psnr_uint8(a, b) > 30
