"""stylize's answers to flag mistakes (issue 35): the message names the real problem, the exit
code follows the README's rule, and a failed run leaves nothing behind."""

from __future__ import annotations

import pytest
import torch
from conftest import moving_frames
from PIL import Image

from vidstyle.cli import main
from vidstyle.io.synth import write_clip

FAST = ["--no-progress", "--preset", "ultrafast", "--faces", "off"]


def stylize(capsys, *argv) -> tuple[int, str]:
    code = main(["stylize", *map(str, argv), *FAST])
    return code, capsys.readouterr().err


def error_lines(err: str) -> list[str]:
    return [ln for ln in err.splitlines() if ln.startswith("vidstyle: error:")]


@pytest.fixture()
def clip(tmp_path):
    return write_clip(tmp_path / "in.mp4", moving_frames(10, 48, 64), 25)


def test_compare_and_output_the_same_file_is_a_flag_error_that_says_so(tmp_path, clip, tiny_model, capsys):
    out = tmp_path / "out.mp4"
    code, err = stylize(capsys, clip, "-o", out, "--compare", out, "--style", tiny_model)
    assert code == 2, err
    (line,) = error_lines(err)
    assert f"--compare {out} and the output {out} are the same file" in line
    assert "input file" not in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]


def test_compare_through_another_spelling_of_the_output_is_caught_too(tmp_path, clip, tiny_model, capsys):
    (tmp_path / "sub").mkdir()
    code, err = stylize(
        capsys,
        clip,
        "-o",
        tmp_path / "out.mp4",
        "--compare",
        tmp_path / "sub/../out.mp4",
        "--style",
        tiny_model,
    )
    assert code == 2 and "are the same file" in err, err


def image_folder(path, broken_at: int | None = None, n: int = 10):
    path.mkdir()
    for i, rgb in enumerate(moving_frames(n, 48, 64)):
        target = path / f"f{i:03d}.png"
        if i == broken_at:
            target.write_bytes(b"not a png")
        else:
            Image.fromarray(rgb).save(target)
    return path


def test_a_failed_image_folder_run_removes_the_folder_it_made(tmp_path, tiny_model, capsys):
    src = image_folder(tmp_path / "frames", broken_at=1, n=3)
    out = tmp_path / "styled"
    code, err = stylize(capsys, src, "-o", out, "--style", tiny_model)
    assert code == 1 and "f001.png: not an image we can read" in err, err
    assert not out.exists()


def test_a_folder_that_was_there_before_is_kept(tmp_path, tiny_model, capsys):
    src = image_folder(tmp_path / "frames", broken_at=1, n=3)
    out = tmp_path / "styled"
    out.mkdir()
    code, err = stylize(capsys, src, "-o", out, "--style", tiny_model)
    assert code == 1, err
    assert out.is_dir() and list(out.iterdir()) == []


def test_start_past_the_end_names_the_end(tmp_path, clip, tiny_model, capsys):
    code, err = stylize(capsys, clip, "-o", tmp_path / "o.mp4", "--start", "12", "--style", tiny_model)
    assert code == 1, err
    (line,) = error_lines(err)
    assert "--start 12 s is past the end of the input (0.40 s)" in line, line
    assert not (tmp_path / "o.mp4").exists()


def test_start_past_the_end_of_an_animated_image_or_an_image_folder(tmp_path, tiny_model, capsys):
    pictures = [Image.fromarray(f) for f in moving_frames(5, 48, 64)]
    pictures[0].save(tmp_path / "a.gif", save_all=True, append_images=pictures[1:], duration=100, loop=0)
    code, err = stylize(
        capsys, tmp_path / "a.gif", "-o", tmp_path / "o.gif", "-ss", "3", "--style", tiny_model
    )
    assert code == 1 and "--start 3 s is past the end of the input (0.50 s)" in err, err
    src = image_folder(tmp_path / "frames")
    code, err = stylize(capsys, src, "-o", tmp_path / "styled", "-ss", "0.4", "--style", tiny_model)
    assert code == 1, err
    assert "--start 0.4 s is past the end of the input (0.40 s: 10 images at 25 fps)" in err
    assert not (tmp_path / "styled").exists()


@pytest.mark.parametrize("spec", ["frames", "frames/*.png"])
def test_start_and_duration_cut_an_image_sequence_by_the_images_times(tmp_path, tiny_model, capsys, spec):
    image_folder(tmp_path / "frames")
    out = tmp_path / "styled"
    code, err = stylize(capsys, tmp_path / spec, "-o", out, "-ss", "0.1", "-t", "0.2", "--style", tiny_model)
    assert code == 0, err
    # at 25 fps the images begin every 0.04 s: those in [0.1, 0.3) s are 3..7, names kept
    assert sorted(p.name for p in out.iterdir()) == [f"f{i:03d}.png" for i in range(3, 8)]
    assert "5 frames ->" in err


def test_a_duration_alone_keeps_the_first_images(tmp_path, tiny_model, capsys):
    image_folder(tmp_path / "frames")
    out = tmp_path / "styled"
    code, err = stylize(capsys, tmp_path / "frames", "-o", out, "-t", "0.2", "--style", tiny_model)
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == [f"f{i:03d}.png" for i in range(5)]


def test_a_span_between_two_images_is_refused_plainly(tmp_path, tiny_model, capsys):
    image_folder(tmp_path / "frames")
    code, err = stylize(
        capsys, tmp_path / "frames", "-o", tmp_path / "s", "-ss", "0.01", "-t", "0.01", "--style", tiny_model
    )
    assert code == 1 and "no image begins between 0.01 and 0.02 s (they are 0.04 s apart)" in err, err
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize(
    "flags,message",
    [
        pytest.param(
            ["--device", "cuda"],
            "no CUDA GPU is available",
            marks=pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA"),
            id="device-cuda",
        ),
        pytest.param(["--video-stream", "5"], "no video stream 5", id="video-stream-5"),
    ],
)
def test_no_overwriting_warning_before_an_error_that_aborts(
    tmp_path, clip, tiny_model, capsys, flags, message
):
    out = tmp_path / "out.mp4"
    out.write_bytes(b"precious")
    code, err = stylize(capsys, clip, "-o", out, "--style", tiny_model, *flags)
    assert code in (1, 2) and message in err, err
    assert "warning: overwriting" not in err
    assert out.read_bytes() == b"precious"


def test_the_overwriting_warning_still_comes_when_the_run_writes(tmp_path, clip, tiny_model, capsys):
    out = tmp_path / "out.mp4"
    out.write_bytes(b"precious")
    code, err = stylize(capsys, clip, "-o", out, "--style", tiny_model)
    assert code == 0 and f"warning: overwriting {out}" in err, err
    assert err.index("warning: overwriting") < err.index(f"-> {out}")  # before the run starts writing
