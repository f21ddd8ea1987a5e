"""The memory plan: what a run holds for its frame size, and what it lowers to fit a budget."""

from __future__ import annotations

import pytest
from conftest import moving_frames, probe, run_cli

from vidstyle.errors import InputError
from vidstyle.io.synth import write_clip
from vidstyle.models.families import family
from vidstyle.pipeline.memory import GB, MIN_LOOKAHEAD, Shape, encoder_frames, estimate, plan

# the full TransformerNet's activations per stylized pixel in fp32 (32 B x 32 base channels)
FULL_FP32 = family("transformer_net").activation_bytes_per_px(
    family("transformer_net").presets["full"], "fp32"
)
STAGES = ["flow", "faces", "preprocess", "stylize", "compose", "postprocess", "encode"]


def shape(h: int, w: int, **kw) -> Shape:
    args = dict(
        stages=STAGES,
        parallel=2,
        activation_bytes_per_px=FULL_FP32,
        on_host=True,
        temporal=True,
        encoder_frames=encoder_frames("libx264", "medium", 2),
        lookahead=40,
    )
    return Shape(h, w, **{**args, **kw})


def test_encoder_frames_follow_the_preset_and_a_fixed_lookahead():
    assert encoder_frames("libx264", "medium", 2) == 40 + 3 + 3 + 2
    assert encoder_frames("libx264", "ultrafast", 2) < encoder_frames("libx264", "slow", 2)
    assert encoder_frames("libx264", "medium", 2, lookahead=10) == 18
    assert encoder_frames("h264_nvenc", "medium", 16) < 10


def test_estimate_grows_with_frame_size_queue_depth_and_stylization_size():
    small, big = estimate(shape(1080, 1920), 8, 0), estimate(shape(2160, 3840), 8, 0)
    assert 3.8 < big / small < 4.2  # linear in the pixels
    rgb = 3 * 2160 * 3840
    assert big - estimate(shape(2160, 3840), 1, 0) > 7 * len(STAGES) * rgb  # each queue's frames
    assert estimate(shape(2160, 3840), 8, 1920) < big  # stylizing smaller saves the float images
    # 8000 x 8000 with the defaults (the old guard stylized at about 2700 px there): the estimate
    # covers the 20 GB peak the issue measured
    assert estimate(shape(8000, 8000), 8, 2700) > 20 * GB
    # the GPU holds the float images and activations: the host keeps less
    assert estimate(shape(2160, 3840, on_host=False), 8, 0) < big


def test_a_frame_that_fits_changes_nothing():
    p = plan(shape(1080, 1920), 8, 0, available=16 * GB)
    assert (p.queue_size, p.max_side, p.lookahead, p.lowered) == (8, 0, None, [])
    assert p.budget == int(0.6 * 16 * GB) and p.estimate <= p.budget


def test_huge_frames_lower_queue_then_lookahead_then_size_and_fit_the_budget():
    s = shape(8000, 8000)
    p = plan(s, 8, 0, available=23 * GB)  # the machine: 23 GB free
    assert p.budget == int(0.6 * 23 * GB)
    assert p.estimate <= p.budget
    assert p.queue_size == 1 and p.lookahead == MIN_LOOKAHEAD and 64 <= p.max_side < 8000
    assert [w.split(" ")[0] for w in p.lowered] == ["queue", "encoder", "stylization"]
    # a GPU run keeps only the uint8 frames on the host: shallower queues are enough there
    q = plan(shape(8000, 8000, on_host=False), 8, 0, available=23 * GB)
    assert 1 <= q.queue_size < 8 and q.max_side == 0 and q.estimate <= q.budget
    # the shape given in is left as it was (the look-ahead cut is the plan's, not the caller's)
    assert s.encoder_frames == encoder_frames("libx264", "medium", 2) and s.lookahead == 40


def test_a_short_input_is_not_charged_for_queues_it_cannot_fill():
    full = estimate(shape(2160, 3840), 8, 0)
    one = estimate(shape(2160, 3840, frames=1), 8, 0)
    assert one < full - 20 * 3 * 2160 * 3840  # one frame in flight, not dozens
    assert estimate(shape(2160, 3840, frames=1), 1, 0) == one


def test_memory_limit_overrides_the_share_of_free_memory():
    p = plan(shape(2160, 3840), 8, 0, limit_gb=2.0, available=100 * GB)
    assert p.budget == 2 * GB and p.estimate <= 2 * GB and p.max_side < 3840


def test_no_settable_lookahead_goes_straight_to_a_smaller_size():
    p = plan(shape(8000, 8000, lookahead=0), 8, 0, available=23 * GB)
    assert p.lookahead is None and p.estimate <= p.budget


def test_a_frame_that_cannot_fit_is_refused_with_the_numbers():
    with pytest.raises(
        InputError,
        match=r"8000x8000 frames need about [\d.]+ GB even with the smallest "
        r"settings, over the 0\.5 GB budget \(run.memory_limit\)",
    ):
        plan(shape(8000, 8000), 8, 0, limit_gb=0.5, available=100 * GB)


def test_a_tight_limit_lowers_the_settings_and_the_run_completes(tmp_path):
    clip = write_clip(tmp_path / "in.mp4", moving_frames(40, 240, 320))  # enough to fill the queues
    out = tmp_path / "out.mp4"
    proc = run_cli(
        "stylize",
        str(clip),
        "-o",
        str(out),
        "--style",
        "starry_night-small",
        "--faces",
        "off",
        "--set",
        "run.memory_limit=0.12",
    )
    assert proc.returncode == 0, proc.stderr
    assert "lowered queue size 8 -> " in proc.stderr and "memory budget" in proc.stderr
    assert probe(out)["frames"] == 40


def test_a_limit_no_setting_meets_is_one_line_and_leaves_no_output(tmp_path):
    clip = write_clip(tmp_path / "in.mp4", moving_frames(40, 240, 320))
    out = tmp_path / "out.mp4"
    proc = run_cli(
        "stylize",
        str(clip),
        "-o",
        str(out),
        "--style",
        "starry_night-small",
        "--set",
        "run.memory_limit=0.01",
    )
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines()[-1].startswith("vidstyle: error: 320x240 frames need about")
    assert "Traceback" not in proc.stderr and not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]


def test_a_shorter_lookahead_keeps_the_encoders_other_frames_on_many_cores():
    """Only the look-ahead is cut: B-frames and 24 frame threads of 16 cores stay counted."""
    from dataclasses import replace

    s = shape(8000, 8000, encoder_frames=encoder_frames("libx264", "medium", 16), lookahead=40)
    p = plan(s, 8, 0, available=23 * GB)
    assert p.lookahead == MIN_LOOKAHEAD
    cut = replace(s, encoder_frames=encoder_frames("libx264", "medium", 16, lookahead=MIN_LOOKAHEAD))
    assert p.estimate == estimate(cut, p.queue_size, p.max_side)
