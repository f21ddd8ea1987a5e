"""Temporal blending: the formula, resets, and less flicker end to end (measured by E_warp)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from conftest import decode_rgb, make_model, moving_frames, probe, psnr, run_cli

from vidstyle import stylize_file
from vidstyle.compose.temporal import TemporalState, restore_detail, temporal_blend
from vidstyle.eval.flicker import warping_errors
from vidstyle.io.synth import textured, write_clip
from vidstyle.models.catalog import default_style_name, resolve_style

FAST = {
    "encode__preset": "ultrafast",
    "run__progress": "off",
    "encode__crf": 0,
    "encode__pix_fmt": "yuv444p",
    "model__precision": "fp32",
}  # no first-use int8 quantization


def test_blend_formula(device, dtype):
    s, w = (
        torch.rand(1, 3, 8, 8, device=device, dtype=dtype),
        torch.rand(1, 3, 8, 8, device=device, dtype=dtype),
    )
    c = (torch.rand(1, 1, 8, 8, device=device) > 0.5).to(dtype)
    assert torch.equal(temporal_blend(s, w, c, 0.0), s)  # alpha 0: per-frame, exactly
    assert torch.equal(temporal_blend(s, w, torch.zeros_like(c), 0.9), s)
    out = temporal_blend(s, w, c, 0.6)
    expected = c * (0.6 * w + 0.4 * s) + (1 - c) * s
    assert torch.allclose(out, expected, atol=1e-6)


def test_restore_detail_gives_back_the_contrast_a_blend_of_two_textures_loses(device, dtype):
    g = torch.Generator().manual_seed(0)
    base = torch.full((1, 3, 64, 64), 0.5)
    s = (base + 0.1 * torch.randn(1, 3, 64, 64, generator=g)).to(device, dtype)  # fresh strokes
    w = (base + 0.1 * torch.randn(1, 3, 64, 64, generator=g)).to(device, dtype)  # previous, not aligned
    blended = temporal_blend(s, w, torch.ones(1, 1, 64, 64, device=device, dtype=dtype), 0.7)
    inner = (..., slice(8, -8), slice(8, -8))
    assert blended[inner].std() < 0.8 * s[inner].std()  # the blend washes strokes out
    restored = restore_detail(blended, s, radius=4)
    assert abs(restored[inner].std() / s[inner].std() - 1) < 0.15
    assert torch.allclose(restore_detail(s, s), s, atol=1e-5)  # nothing lost: unchanged
    assert torch.allclose(restored.mean(), blended.mean(), atol=1e-3)  # brightness kept


@pytest.mark.parametrize("shape,radius", [((1, 3, 37, 64), 4), ((2, 1, 7, 5), 4), ((1, 2, 1, 9), 2)])
def test_box_mean_matches_avg_pool_including_borders(shape, radius):
    from vidstyle.compose.temporal import _box

    x = torch.rand(shape) * 255
    ref = torch.nn.functional.avg_pool2d(x, 2 * radius + 1, stride=1, padding=radius, count_include_pad=False)
    assert torch.allclose(_box(x, radius), ref, atol=1e-3)
    assert _box(x.half(), radius).dtype == torch.float16


def test_state_resets_on_first_frame_and_scene_cut():
    state = TemporalState(alpha=0.8, scene_cut=0.5)
    s1, s2, s3 = (torch.rand(1, 3, 16, 16) for _ in range(3))
    flow = torch.zeros(1, 2, 8, 8)
    assert torch.equal(state.step(s1, None, None), s1)  # first frame
    out2 = state.step(s2, flow, torch.ones(1, 1, 8, 8))
    assert torch.allclose(out2, 0.8 * s1 + 0.2 * s2, atol=1e-6)  # zero flow: previous output
    assert torch.equal(state.step(s3, flow, torch.zeros(1, 1, 8, 8)), s3)  # cut: fresh start
    assert state.summary() == {"blended": 1, "scene_resets": 1, "mean_consistent": 0.5}


@pytest.fixture(scope="module")
def noisy_clip(tmp_path_factory):
    """A camera pan with sensor noise: per-frame stylization turns the noise into flicker."""
    rng = np.random.default_rng(0)
    frames = [
        np.clip(f.astype(np.int16) + rng.normal(0, 6, f.shape), 0, 255).astype(np.uint8)
        for f in moving_frames(16, 96, 128, seed=4)
    ]
    return write_clip(tmp_path_factory.mktemp("noisy") / "noisy.mp4", frames, 25, crf=4)


@pytest.fixture(scope="module")
def flicker_model(tmp_path_factory):
    """The bundled default style when there is one, else a fixed random network."""
    if default_style_name():
        return str(resolve_style("default").model_path)
    return str(make_model(tmp_path_factory.mktemp("m") / "flicker.safetensors", channels=8, res_blocks=2))


def test_stabilised_output_flickers_less(tmp_path, noisy_clip, flicker_model):
    outs = {}
    for mode in ("off", "blend"):
        outs[mode] = tmp_path / f"{mode}.mkv"
        stylize_file(noisy_clip, outs[mode], model__style=flicker_model, temporal__mode=mode, **FAST)
    original = decode_rgb(noisy_clip)
    e_orig, e_off, e_blend = warping_errors(
        original, [original, decode_rgb(outs["off"]), decode_rgb(outs["blend"])]
    )
    assert e_blend.e_warp < 0.7 * e_off.e_warp
    assert len(e_off.per_pair) == 15


def test_warping_error_is_small_for_consistent_and_large_for_shuffled():
    frames = moving_frames(10, 80, 100, seed=5)
    shuffled = [frames[i] for i in np.random.default_rng(1).permutation(10)]
    consistent, mixed = warping_errors(frames, [frames, shuffled])
    assert consistent.e_warp < 2e-3
    assert mixed.e_warp > 20 * consistent.e_warp


def test_scene_cut_resets_the_blend(tmp_path, tiny_model):
    a, b = textured(72, 96, seed=10), textured(72, 96, seed=11)[::-1].copy()
    frames = [np.roll(a, 2 * i, axis=1) for i in range(6)] + [np.roll(b, 2 * i, axis=1) for i in range(6)]
    src = write_clip(tmp_path / "cut.mp4", frames, 25, crf=0, pix_fmt="yuv444p")
    on = stylize_file(src, tmp_path / "on.mkv", model__style=str(tiny_model), **FAST)
    stylize_file(src, tmp_path / "off.mkv", model__style=str(tiny_model), temporal__mode="off", **FAST)
    assert on.summary["temporal"]["scene_resets"] == 1
    assert on.summary["temporal"]["blended"] == 10
    blended, per_frame = decode_rgb(tmp_path / "on.mkv"), decode_rgb(tmp_path / "off.mkv")
    assert psnr(blended[6], per_frame[6]) > 45  # first frame after the cut: fresh
    assert psnr(blended[8], per_frame[8]) < psnr(blended[6], per_frame[6])


@pytest.mark.slow
def test_compare_video_and_flicker_cli(tmp_path, noisy_clip, tiny_model):
    out, side, ref = tmp_path / "out.mp4", tmp_path / "side.mp4", tmp_path / "ref.mp4"
    proc = run_cli(
        "stylize",
        str(noisy_clip),
        "-o",
        str(out),
        "--style",
        str(tiny_model),
        "--compare",
        str(side),
        "--no-progress",
        "--preset",
        "ultrafast",
    )
    assert proc.returncode == 0, proc.stderr
    assert "temporal: 15 frames blended" in proc.stderr
    info = probe(side)
    assert (info["width"], info["height"], info["frames"]) == (3 * 128, 96, 16)
    run_cli(
        "stylize",
        str(noisy_clip),
        "-o",
        str(ref),
        "--style",
        str(tiny_model),
        "--temporal",
        "off",
        "--no-progress",
        "--preset",
        "ultrafast",
    )
    js, png = tmp_path / "f.json", tmp_path / "f.png"
    proc = run_cli(
        "eval", "flicker", str(noisy_clip), str(out), "--ref", str(ref), "--json", str(js), "--plot", str(png)
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(js.read_text())
    assert data["ratio"] == pytest.approx(data["stylized"]["e_warp"] / data["reference"]["e_warp"])
    assert data["ratio"] < 1 and len(data["stylized"]["per_pair"]) == 15
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_flicker_cli_rejects_mismatched_videos(tmp_path, noisy_clip):
    short = write_clip(tmp_path / "short.mp4", moving_frames(5, 96, 128), 25)
    proc = run_cli("eval", "flicker", str(noisy_clip), str(short))
    assert proc.returncode == 1 and "cannot compare: video 2 has fewer frames" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_compose_skips_flow_that_points_to_a_dropped_frame():
    """If a frame vanished between the flow stage and compose, its successor's flow points to a
    frame whose output compose never made: that pair must not be blended."""
    from fractions import Fraction

    from vidstyle.config import FacesConfig, TemporalConfig
    from vidstyle.io.frame import Frame
    from vidstyle.pipeline.item import Item
    from vidstyle.pipeline.stages import ComposeStage

    stage = ComposeStage(TemporalConfig(alpha=0.9, scene_cut=0.0), FacesConfig(mode="off"))

    def item(index: int, flow_from: int | None) -> Item:
        it = Item(Frame(index, np.zeros((8, 8, 3), np.uint8), index, Fraction(1, 25)))
        it.stylized = torch.full((3, 8, 8), float(index))
        it.image = it.stylized.clone()
        it.flow_bw, it.consistency = torch.zeros(1, 2, 8, 8), torch.ones(1, 1, 8, 8)
        it.flow_from = flow_from
        return it

    a, b, d = item(0, None), item(1, 0), item(3, 2)  # frame 2 was dropped after the flow stage
    stage.process([a, b, d])
    assert torch.allclose(b.stylized, torch.full((3, 8, 8), 0.9 * 0 + 0.1 * 1))  # blended with frame 0
    assert torch.equal(d.stylized, torch.full((3, 8, 8), 3.0))  # not blended
    assert stage.temporal.summary()["blended"] == 1
