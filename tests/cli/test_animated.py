"""Animated GIF, APNG and WebP inputs keep every frame and its own duration, into a video or into
an animation of the same kind; still ones stay images; damaged ones say so."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from animation_helpers import DURATIONS, STARTS, animated, frames, pillow_timing
from conftest import probe
from PIL import Image

from vidstyle.cli import main
from vidstyle.io.animated import webp_durations

FAST = ["--no-progress", "--preset", "ultrafast", "--faces", "off", "--temporal", "off"]


def stylize(capsys, *argv) -> tuple[int, str]:
    code = main(["stylize", *map(str, argv), *FAST])
    return code, capsys.readouterr().err


def times_ms(path: Path) -> list[float]:
    info = probe(path)
    return [float(p * info["time_base"]) * 1000 for p in info["pts"]]


@pytest.mark.parametrize("suffix", [".gif", ".png", ".webp"])
def test_every_frame_of_an_animation_reaches_a_video_at_its_own_time(tmp_path, tiny_model, capsys, suffix):
    source = animated(tmp_path / f"anim{suffix}")
    out = tmp_path / "out.mp4"
    code, err = stylize(capsys, source, "-o", out, "--style", tiny_model)
    assert code == 0, err
    assert probe(out)["frames"] == 4
    assert np.allclose(times_ms(out), STARTS, atol=1)
    assert abs(probe(out)["duration"] - 0.28) < 0.002  # the last frame keeps its 40 ms
    with av.open(str(out)) as c:  # four different pictures, not one repeated
        pictures = [f.to_ndarray(format="rgb24").astype(int) for f in c.decode(video=0)]
    assert min(np.abs(a - b).mean() for a, b in zip(pictures, pictures[1:])) > 5


@pytest.mark.parametrize("container", [".mkv", ".webm"])
def test_the_last_frame_keeps_its_duration_in_matroska(tmp_path, tiny_model, capsys, container):
    out = tmp_path / f"out{container}"
    code, err = stylize(capsys, animated(tmp_path / "anim.webp"), "-o", out, "--style", tiny_model)
    assert code == 0, err
    assert np.allclose(times_ms(out), STARTS, atol=1)
    assert abs(probe(out)["duration"] - 0.28) < 0.002


@pytest.mark.parametrize("suffix", [".gif", ".png", ".webp"])
def test_an_animation_out_of_the_same_kind_keeps_frames_durations_and_loop(
    tmp_path, tiny_model, capsys, suffix
):
    source = animated(tmp_path / f"anim{suffix}", loop=3)
    code, err = stylize(capsys, source, "--style", tiny_model)  # default name: anim.tiny<suffix>
    assert code == 0, err
    out = tmp_path / f"anim.tiny{suffix}"
    count, durations, loop = pillow_timing(out)
    assert (count, durations, loop) == (4, DURATIONS, 3)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_gif_without_a_loop_block_stays_play_once(tmp_path, tiny_model, capsys):
    pictures = frames()
    pictures[0].save(tmp_path / "once.gif", save_all=True, append_images=pictures[1:], duration=DURATIONS)
    code, err = stylize(capsys, tmp_path / "once.gif", "-o", tmp_path / "out.gif", "--style", tiny_model)
    assert code == 0, err
    assert pillow_timing(tmp_path / "out.gif") == (4, DURATIONS, None)


@pytest.mark.parametrize("suffix", [".webp", ".png", ".gif"])
def test_a_still_image_of_an_animation_format_stays_one_image(tmp_path, tiny_model, capsys, suffix):
    still = tmp_path / f"still{suffix}"
    frames(1)[0].save(still)
    code, err = stylize(capsys, still, "--style", tiny_model)
    assert code == 0, err
    out = tmp_path / f"still.tiny{suffix}"
    with Image.open(out) as im:
        assert not getattr(im, "is_animated", False) and im.size == (64, 48)
    assert "64x48 image ->" in err  # described as an image, not as "25 fps, 1 frames"


def test_a_truncated_gif_gives_the_frames_that_decode_and_says_so(tmp_path, tiny_model, capsys):
    data = animated(tmp_path / "anim.gif").read_bytes()
    cut = tmp_path / "cut.gif"
    cut.write_bytes(data[: int(len(data) * 0.7)])
    out = tmp_path / "out.mp4"
    code, err = stylize(capsys, cut, "-o", out, "--style", tiny_model)
    assert code == 0, err
    assert "input ended early (the GIF is cut short: no trailer)" in err
    got = times_ms(out)
    assert 1 <= len(got) < 4 and np.allclose(got, STARTS[: len(got)], atol=1)


def test_a_truncated_animated_webp_is_one_clear_error(tmp_path, tiny_model, capsys):
    data = animated(tmp_path / "anim.webp").read_bytes()
    cut = tmp_path / "cut.webp"
    cut.write_bytes(data[: int(len(data) * 0.7)])
    code, err = stylize(capsys, cut, "-o", tmp_path / "out.mp4", "--style", tiny_model)
    assert code == 1
    assert (
        "vidstyle: error: " in err
        and "cut.webp: cannot decode this animated WebP: the file is damaged or truncated" in err
        and "Traceback" not in err
    )
    assert not (tmp_path / "out.mp4").exists()
    stated = webp_durations(cut)  # the frame headers the cut file keeps
    assert stated == DURATIONS[: len(stated)] and len(stated) < 4


def test_an_animation_to_a_still_image_name_names_what_works(tmp_path, tiny_model, capsys):
    code, err = stylize(
        capsys, animated(tmp_path / "anim.gif"), "-o", tmp_path / "out.jpg", "--style", tiny_model
    )
    assert code == 1
    assert (
        "unsupported output extension '.jpg' for a video (use one of: .avi, .m4v, .mkv, .mov, .mp4, .webm, "
        "or .apng, .gif, .png, .webp for an animated image)" in err
    )
    assert [p.name for p in tmp_path.iterdir()] == ["anim.gif"]


def test_start_and_duration_cut_an_animated_webp_and_retime_it(tmp_path, tiny_model, capsys):
    out = tmp_path / "out.mp4"
    code, err = stylize(
        capsys,
        animated(tmp_path / "anim.webp"),
        "-o",
        out,
        "--style",
        tiny_model,
        "--start",
        "0.04",
        "--duration",
        "0.2",
    )
    assert code == 0, err
    assert np.allclose(times_ms(out), [0, 80], atol=1)  # the frames that begin at 40 and 120 ms
