"""The README's exit codes on every command: 1 bad input/output/model, 2 bad configuration or flag
value; one ``vidstyle: error:`` line, no traceback, nothing written. Each case fails before any
video is decoded, so most run in-process; a few go through a real ``vidstyle`` process."""

from __future__ import annotations

import shlex

import pytest
from conftest import run_cli

from vidstyle.cli import main


def assert_one_error(code: int, stderr: str, want_code: int, message: str) -> None:
    errors = [ln for ln in stderr.splitlines() if ln.startswith("vidstyle: error:")]
    assert code == want_code, stderr
    assert "Traceback" not in stderr
    assert len(errors) == 1 and message in errors[0], stderr


def case(name: str, code: int, message: str, command: str):
    """A command line (shell words; {tmp} and {model} filled in by the test), its exit code and
    the message of its one error line."""
    return pytest.param(shlex.split(command), code, message, id=name)


CASES = [
    case(
        "export-opset-old",
        2,
        "opset 5 is too old: vidstyle exports need opset >= 17",
        "export {model} --opset 5",
    ),
    case(
        "export-opset-new",
        2,
        "opset 999 is newer than this onnx package knows",
        "export {model} --opset 999",
    ),
    case("export-int8-tensorrt", 2, "--int8 is for --format onnx", "export {model} --format tensorrt --int8"),
    case("export-batch-0", 2, "batch 0 is below the minimum 1", "export {model} --batch 0"),
    case(
        "export-height-4",
        2,
        "size 1280x4 is below the minimum 8x8 px",
        "export {model} --static --height 4",
    ),
    case(
        "export-trt-sizes",
        2,
        "TensorRT sizes must grow from min to opt to max",
        "export {model} --format tensorrt --min-size 1920x1080",
    ),
    case("export-no-dir", 1, "output directory does not exist", "export {model} -o {tmp}/missing/m.onnx"),
    case("export-unknown-style", 1, "no-such-style", "export no-such-style"),
    case("faces-every", 2, "--every must be at least 1", "eval faces {tmp}/a.mp4 {tmp}/b.mp4 --every 0"),
    case(
        "faces-min-face",
        2,
        "--min-face must be at least 12",
        "eval faces {tmp}/a.mp4 {tmp}/b.mp4 --min-face 8",
    ),
    case(
        "faces-device",
        2,
        "--device: 'tpu' is not valid",
        "eval faces {tmp}/a.mp4 {tmp}/b.mp4 --device tpu",
    ),
    case(
        "faces-csv-no-dir",
        1,
        "output directory does not exist",
        "eval faces {tmp}/a.mp4 {tmp}/b.mp4 --csv {tmp}/missing/f.csv",
    ),
    case(
        "flicker-long-side",
        2,
        "flow.long_side: -1 is below the minimum 0",
        "eval flicker {tmp}/a.mp4 {tmp}/b.mp4 --long-side -1",
    ),
    case(
        "flicker-json-no-dir",
        1,
        "output directory does not exist",
        "eval flicker {tmp}/a.mp4 {tmp}/b.mp4 --json {tmp}/missing/r.json",
    ),
    case(
        "flicker-json-is-input",
        1,
        "b.mp4 is the input file",
        "eval flicker {tmp}/a.mp4 {tmp}/b.mp4 --json {tmp}/b.mp4",
    ),
    case(
        "flicker-plot-ext",
        1,
        "unsupported plot extension '.xyz'",
        "eval flicker {tmp}/a.mp4 {tmp}/b.mp4 --plot {tmp}/p.xyz",
    ),
    case("bench-input", 1, "--input not found", "bench --model {model} --input {tmp}/none.mp4"),
    case("bench-frames", 2, "--frames must be >= 2", "bench --model {model} --frames 1"),
    case(
        "bench-precisions",
        2,
        "--precisions 'onnx-fp23': model.precision: 'fp23' is not one of",
        "bench --model {model} --precisions onnx-fp23",
    ),
    case(
        "bench-csv-no-dir",
        1,
        "output directory does not exist",
        "bench --model {model} --csv {tmp}/missing/b.csv",
    ),
    case(
        "models-import-name",
        2,
        "bad style name 'bad name': use letters, digits, _ and -",
        "models import {tmp}/w.pth --name 'bad name'",
    ),
    case("demo-seconds", 2, "--seconds must be 0.1 to 3600, got 0", "demo -o {tmp}/demo --seconds 0"),
    case(
        "stream-duration",
        2,
        "--duration must be 0 (no limit) or more",
        "stream {tmp}/a.mp4 --preview --duration -1",
    ),
]


@pytest.mark.parametrize("argv,code,message", CASES)
def test_exit_code_and_message(tmp_path, tiny_model, capsys, argv, code, message):
    args = [a.format(tmp=tmp_path, model=tiny_model) for a in argv]
    got = main(args)
    assert_one_error(got, capsys.readouterr().err, code, message)
    assert list(tmp_path.iterdir()) == []  # nothing written, no directory made


@pytest.mark.slow
@pytest.mark.parametrize(
    "argv,code,message",
    [
        (["export", "{model}", "--opset", "5"], 2, "opset 5 is too old"),
        (["eval", "faces", "{tmp}/a.mp4", "{tmp}/b.mp4", "--every", "0"], 2, "--every must be at least 1"),
        (["bench", "--model", "{model}", "--input", "{tmp}/none.mp4"], 1, "--input not found"),
    ],
)
def test_a_real_process_exits_with_the_same_codes(tmp_path, tiny_model, argv, code, message):
    proc = run_cli(*[a.format(tmp=tmp_path, model=tiny_model) for a in argv])
    assert_one_error(proc.returncode, proc.stderr, code, message)
