"""What users bring from ffmpeg: -y/-n, codec-specific quality bounds, HEVC that Apple plays,
HDR input tagged honestly."""

from __future__ import annotations

import av
import pytest
from conftest import moving_frames, probe, run_cli
from corpus import _hdr_pq

from vidstyle.cli import main
from vidstyle.io.synth import tone, write_clip

FAST = ["--no-progress", "--preset", "ultrafast", "--faces", "off", "--temporal", "off"]


@pytest.fixture()
def clip(tmp_path):
    return write_clip(tmp_path / "in.mp4", moving_frames(4, 48, 64), 25)


def stylize(capsys, *argv) -> tuple[int, str]:
    code = main(["stylize", *map(str, argv), *FAST])
    return code, capsys.readouterr().err


def test_an_existing_output_is_overwritten_with_a_warning_refused_with_n_quiet_with_y(
    tmp_path, clip, tiny_model, capsys
):
    out = tmp_path / "out.mp4"
    out.write_bytes(b"precious")
    code, err = stylize(capsys, clip, "-o", out, "--style", tiny_model, "-n")
    assert code == 1 and "exists (not overwritten: -n" in err and out.read_bytes() == b"precious"
    code, err = stylize(capsys, clip, "-o", out, "--style", tiny_model)
    assert code == 0 and f"overwriting {out}" in err and out.stat().st_size > 100
    code, err = stylize(capsys, clip, "-o", out, "--style", tiny_model, "-y")
    assert code == 0 and "overwriting" not in err


def test_an_existing_directory_as_output_is_named_as_such(tmp_path, clip, tiny_model, capsys):
    (tmp_path / "renders").mkdir()
    code, err = stylize(capsys, clip, "-o", tmp_path / "renders", "--style", tiny_model)
    assert code == 1 and "renders is an existing directory; give a file name" in err
    assert list((tmp_path / "renders").iterdir()) == []


def test_crf_is_bounded_by_the_codec(tmp_path, clip, tiny_model, capsys):
    code, err = stylize(capsys, clip, "-o", tmp_path / "o.mp4", "--style", tiny_model, "--crf", "60")
    assert code == 2 and "encode.crf: 60 is above libx264's maximum 51" in err
    assert list(tmp_path.glob(".o*")) == [] and not (tmp_path / "o.mp4").exists()


@pytest.mark.slow
def test_hevc_in_mp4_is_quiet_and_tagged_hvc1(tmp_path, clip, tiny_model):
    out = tmp_path / "h.mp4"
    proc = run_cli(
        "stylize", str(clip), "-o", str(out), "--style", str(tiny_model), "--codec", "libx265", *FAST
    )
    assert proc.returncode == 0, proc.stderr
    assert "x265 [info]" not in proc.stderr  # no encoder banner and statistics
    with av.open(str(out)) as c:
        assert c.streams.video[0].codec_tag == "hvc1"


def test_hdr_input_gives_an_sdr_output_tagged_bt709(tmp_path, tiny_model, capsys):
    src = _hdr_pq(tmp_path)
    out = tmp_path / "sdr.mp4"
    code, err = stylize(capsys, src, "-o", out, "--style", tiny_model)
    assert code == 0 and "HDR input (PQ)" in err, err
    with av.open(str(out)) as c:
        frame = next(c.decode(video=0))
    assert (frame.format.name, frame.color_trc, frame.color_primaries, frame.colorspace) == (
        "yuv420p",
        1,
        1,
        1,
    )


def test_start_and_duration_cut_a_few_seconds_with_their_audio(tmp_path, tiny_model, capsys):
    src = write_clip(tmp_path / "long.mp4", moving_frames(150, 48, 64), 25, audio=tone(6.0))
    out = tmp_path / "cut.mp4"
    code, err = stylize(capsys, src, "-o", out, "--style", tiny_model, "-ss", "3.3", "-t", "2")
    assert code == 0, err
    info = probe(out)
    times = [float(p * info["time_base"]) for p in info["pts"]]
    assert info["frames"] == 50  # the frames at 3.32 .. 5.28 s
    assert times[0] == pytest.approx(0.02, abs=0.001)  # re-timed to start near 0, like ffmpeg -ss
    assert times[-1] == pytest.approx(1.98, abs=0.001)
    assert info["audio"][0][1] == pytest.approx(2.02, abs=0.03)  # cut with the video
    assert "could not be decoded" not in err and "ended early" not in err
