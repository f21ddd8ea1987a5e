"""Bad input and bad settings through a real ``vidstyle`` process: one clear line on stderr,
non-zero exit, nothing left behind. Bad *inputs* live in the corpus (tests/corpus.py), which runs
them in-process; this file keeps one of them through the real process, and the settings errors."""

from __future__ import annotations

import pytest
from conftest import run_cli


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


@pytest.mark.slow
def test_missing_input(tmp_path, style_args):
    proc = run_cli("stylize", str(tmp_path / "nope.mp4"), "-o", str(tmp_path / "out.mp4"), *style_args)
    assert_clean_error(proc, "input not found")
    assert outputs_in(tmp_path) == []


@pytest.mark.slow
@pytest.mark.parametrize(
    "setting,pattern",
    [
        ("model.stlye=x", "unknown config key 'model.stlye' (did you mean 'model.style'?)"),
        ("model.batch=-1", "model.batch: -1 is below the minimum 0"),
        ("model.batch=four", "model.batch: expected an integer, got 'four'"),
        ("encode.preset=warp9", "encode.preset: 'warp9' is not one of"),
        ("model.device=tpu", "model.device: 'tpu' is not valid (auto, cpu, cuda or cuda:N)"),
    ],
)
def test_bad_config_values(tmp_path, basic_clip, setting, pattern):
    proc = run_cli("stylize", str(basic_clip), "-o", str(tmp_path / "out.mp4"), "--set", setting)
    assert_clean_error(proc, pattern, code=2)
    assert outputs_in(tmp_path) == []


@pytest.mark.slow
@pytest.mark.parametrize(
    "text,pattern",
    [
        ("model:\n  batch: [1, 2\n", "line"),
        ("model:\n  colour: red\n", "unknown config key 'model.colour'"),
        ("encode: 5\n", "encode: expected a mapping"),
        ("- just\n- a list\n", "expected a mapping of settings at the top level"),
    ],
)
def test_malformed_config_file(tmp_path, basic_clip, text, pattern):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(text)
    proc = run_cli("stylize", str(basic_clip), "-o", str(tmp_path / "out.mp4"), "--config", str(cfg))
    assert_clean_error(proc, pattern, code=2)
    assert "bad.yaml" in proc.stderr


@pytest.mark.slow
def test_bad_flag_value_reads_like_config_error(tmp_path, basic_clip):
    proc = run_cli("stylize", str(basic_clip), "-o", str(tmp_path / "out.mp4"), "--crf", "99")
    assert_clean_error(proc, "encode.crf: 99 is above the maximum 63", code=2)
