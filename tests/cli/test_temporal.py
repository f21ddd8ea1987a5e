"""Temporal blending end to end: less flicker (measured by E_warp), resets at scene cuts, and
`vidstyle eval flicker`."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import decode_rgb, make_model, moving_frames, probe, psnr, run_cli

from vidstyle import stylize_file
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
