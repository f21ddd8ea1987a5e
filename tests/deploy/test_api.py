"""``vidstyle.export_model``: the Python API behind ``vidstyle export``, on a tiny model at small sizes."""

from __future__ import annotations

import pytest
from conftest import make_model

import vidstyle
from vidstyle.deploy import api
from vidstyle.deploy.api import ExportResult, export_model
from vidstyle.errors import ConfigError, ModelError, OutputError
from vidstyle.export import quantize
from vidstyle.export.tensorrt import Profile
from vidstyle.models.contract import read_onnx_metadata


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return make_model(tmp_path_factory.mktemp("export_api") / "tiny.safetensors", name="tiny")


def test_static_onnx_export_is_written_and_checked_against_torch(tmp_path, model):
    result = export_model(model, tmp_path / "t.onnx", dynamic=False, height=32, width=48, batch=2)
    assert result.path == tmp_path / "t.onnx" and result.path.is_file()
    assert (result.format, result.precision, result.int8_gate) == ("onnx", "fp32", None)
    assert [(r.batch, r.height, r.width) for r in result.parity] == [(2, 32, 48)]  # the fixed shape only
    assert result.parity[0].max_abs < 2e-3 and result.parity[0].psnr_db > 55
    assert result.worst_psnr_db == result.parity[0].psnr_db
    assert read_onnx_metadata(result.path)["model"]["name"] == "tiny"


def test_default_output_name_carries_the_precision(tmp_path, model, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = export_model(str(model), precision="fp16", parity=False, dynamic=False, height=16, width=16)
    assert result.path.name == "tiny-fp16.onnx" and (tmp_path / "tiny-fp16.onnx").is_file()
    assert result.parity == () and result.worst_psnr_db is None
    assert read_onnx_metadata(result.path)["precision"] == "fp16"


def test_the_package_exports_it():
    assert vidstyle.export_model is export_model and vidstyle.ExportResult is ExportResult
    assert {"export_model", "ExportResult"} <= set(vidstyle.__all__)


@pytest.mark.parametrize(
    "settings,message",
    [
        ({"opset": 5}, "opset 5 is too old: vidstyle exports need opset >= 17"),
        ({"opset": 999}, "opset 999 is newer than this onnx package knows"),
        ({"format": "tensorrt", "precision": "int8"}, "--int8 is for --format onnx"),
        ({"format": "tflite"}, "format 'tflite' is not one of: onnx, tensorrt"),
        ({"precision": "bf16"}, "precision 'bf16' is not one of: fp32, fp16, int8"),
        ({"batch": 0}, "batch 0 is below the minimum 1"),
        ({"height": 4}, "size 1280x4 is below the minimum 8x8 px"),
        (
            {"format": "tensorrt", "profile": Profile((720, 1280), (360, 640), (1088, 1920))},
            "TensorRT sizes must grow from min to opt to max",
        ),
        ({"format": "tensorrt", "profile": Profile(max_batch=2, opt_batch=4)}, "TensorRT batches"),
    ],
)
def test_bad_settings_are_config_errors_raised_before_the_model_is_read(tmp_path, settings, message):
    with pytest.raises(ConfigError, match=message):  # the model does not exist: no ModelError first
        export_model("no-such-style", tmp_path / "x.onnx", **settings)
    assert list(tmp_path.iterdir()) == []


def test_unknown_model_and_missing_directory(tmp_path, model):
    with pytest.raises(ModelError, match="no-such-style"):
        export_model("no-such-style", tmp_path / "x.onnx")
    with pytest.raises(OutputError, match="output directory does not exist"):
        export_model(model, tmp_path / "missing" / "x.onnx")


def test_a_file_that_fails_its_check_is_removed(tmp_path, model, monkeypatch):
    def failing_check(*args, **kwargs):
        raise ModelError("parity check failed: on purpose")

    monkeypatch.setattr(api, "parity_check", failing_check)
    out = tmp_path / "t.onnx"
    with pytest.raises(ModelError, match="on purpose"):
        export_model(model, out, dynamic=False, height=16, width=16)
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_a_write_error_is_an_output_error_and_leaves_nothing(tmp_path, model, monkeypatch):
    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(api, "export_onnx", full_disk)
    with pytest.raises(OutputError, match="writing .*t.onnx failed: No space left on device"):
        export_model(model, tmp_path / "t.onnx")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_int8_export_passes_its_gate_against_fp32(tmp_path, monkeypatch):
    monkeypatch.setattr(quantize, "CAL_FRAMES", 16)  # the same recipe on fewer, smaller frames
    monkeypatch.setattr(quantize, "CAL_SIZE", (72, 96))
    monkeypatch.setattr(quantize, "GATE_FRAMES", 2)
    out = tmp_path / "s.onnx"
    result = export_model("starry_night-small", out, precision="int8", dynamic=False, height=72, width=96)
    assert result.path == out and out.is_file() and result.parity == ()
    assert result.int8_gate is not None and result.int8_gate.size == (72, 96)
    assert result.worst_psnr_db == result.int8_gate.psnr_min >= 30.0
    assert read_onnx_metadata(out)["quantization"]["format"] == "QDQ"
