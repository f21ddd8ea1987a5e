"""Bad input and bad settings: one clear line on stderr, non-zero exit, nothing left behind."""

from __future__ import annotations

import pytest

from conftest import moving_frames, probe, run_cli
from vidstyle.io.synth import write_clip


def assert_clean_error(proc, pattern: str, code: int = 1) -> None:
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr
    errors = [ln for ln in lines if ln.startswith("vidstyle: error:")]
    assert len(errors) == 1, proc.stderr
    assert pattern in errors[0], errors[0]


def outputs_in(directory):
    return sorted(p.name for p in directory.iterdir() if p.name.startswith(("out", ".out")))


@pytest.fixture()
def style_args(tiny_model):
    return ["--style", str(tiny_model), "--no-progress", "--preset", "ultrafast"]


def test_missing_input(tmp_path, style_args):
    proc = run_cli("stylize", str(tmp_path / "nope.mp4"), "-o", str(tmp_path / "out.mp4"), *style_args)
    assert_clean_error(proc, "input not found")
    assert outputs_in(tmp_path) == []


def test_zero_bytes(tmp_path, style_args):
    (tmp_path / "empty.mp4").write_bytes(b"")
    proc = run_cli("stylize", str(tmp_path / "empty.mp4"), "-o", str(tmp_path / "out.mp4"), *style_args)
    assert_clean_error(proc, "file is empty (0 bytes)")


@pytest.mark.parametrize("content", [b"hello, this is a text file\n" * 20, bytes(range(256)) * 64])
def test_not_a_video(tmp_path, style_args, content):
    (tmp_path / "fake.mp4").write_bytes(content)
    proc = run_cli("stylize", str(tmp_path / "fake.mp4"), "-o", str(tmp_path / "out.mp4"), *style_args)
    assert_clean_error(proc, "not a video we can decode")
    assert outputs_in(tmp_path) == []


def test_mp4_with_index_at_end_cut_midway(tmp_path, style_args):
    src = write_clip(tmp_path / "full.mp4", moving_frames(40), 25)
    data = src.read_bytes()
    (tmp_path / "cut.mp4").write_bytes(data[: len(data) // 2])   # moov is at the end: gone
    proc = run_cli("stylize", str(tmp_path / "cut.mp4"), "-o", str(tmp_path / "out.mp4"), *style_args)
    assert_clean_error(proc, "cut.mp4")
    assert outputs_in(tmp_path) == []


def test_truncated_mkv_yields_playable_output_of_decoded_frames(tmp_path, style_args):
    src = write_clip(tmp_path / "full.mkv", moving_frames(60), 25)
    data = src.read_bytes()
    (tmp_path / "cut.mkv").write_bytes(data[: int(len(data) * 0.6)])
    out = tmp_path / "out.mkv"
    proc = run_cli("stylize", str(tmp_path / "cut.mkv"), "-o", str(out), *style_args)
    assert proc.returncode == 0, proc.stderr
    assert "warning: input ended early" in proc.stderr
    frames = probe(out)["frames"]
    assert 10 < frames < 60


def test_unknown_style(tmp_path, basic_clip):
    proc = run_cli("stylize", str(basic_clip), "-o", str(tmp_path / "out.mp4"), "--style", "no_such_style")
    assert_clean_error(proc, "unknown style 'no_such_style'")
    assert outputs_in(tmp_path) == []


def test_missing_output_directory(tmp_path, basic_clip, style_args):
    proc = run_cli("stylize", str(basic_clip), "-o", str(tmp_path / "nodir" / "out.mp4"), *style_args)
    assert_clean_error(proc, "output directory does not exist")


def test_output_equal_to_input_is_refused(tmp_path, style_args):
    src = write_clip(tmp_path / "same.mp4", moving_frames(5), 25)
    before = src.read_bytes()
    proc = run_cli("stylize", str(src), "-o", str(src), *style_args)
    assert_clean_error(proc, "is the input file")
    assert src.read_bytes() == before


def test_unsupported_output_extension(tmp_path, basic_clip, style_args):
    proc = run_cli("stylize", str(basic_clip), "-o", str(tmp_path / "out.xyz"), *style_args)
    assert_clean_error(proc, "unsupported output extension '.xyz'")


@pytest.mark.parametrize("setting,pattern", [
    ("model.stlye=x", "unknown config key 'model.stlye' (did you mean 'model.style'?)"),
    ("model.batch=-1", "model.batch: -1 is below the minimum 0"),
    ("model.batch=four", "model.batch: expected an integer, got 'four'"),
    ("encode.preset=warp9", "encode.preset: 'warp9' is not one of"),
    ("model.device=tpu", "model.device: 'tpu' is not valid (auto, cpu, cuda or cuda:N)"),
])
def test_bad_config_values(tmp_path, basic_clip, setting, pattern):
    proc = run_cli("stylize", str(basic_clip), "-o", str(tmp_path / "out.mp4"), "--set", setting)
    assert_clean_error(proc, pattern, code=2)
    assert outputs_in(tmp_path) == []


@pytest.mark.parametrize("text,pattern", [
    ("model:\n  batch: [1, 2\n", "line"),
    ("model:\n  colour: red\n", "unknown config key 'model.colour'"),
    ("encode: 5\n", "encode: expected a mapping"),
    ("- just\n- a list\n", "expected a mapping of settings at the top level"),
])
def test_malformed_config_file(tmp_path, basic_clip, text, pattern):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(text)
    proc = run_cli("stylize", str(basic_clip), "-o", str(tmp_path / "out.mp4"), "--config", str(cfg))
    assert_clean_error(proc, pattern, code=2)
    assert "bad.yaml" in proc.stderr


def test_bad_flag_value_reads_like_config_error(tmp_path, basic_clip):
    proc = run_cli("stylize", str(basic_clip), "-o", str(tmp_path / "out.mp4"), "--crf", "99")
    assert_clean_error(proc, "encode.crf: 99 is above the maximum 63", code=2)
