"""int8 (ONNX Runtime static QDQ) models: quality against fp32, caching, refusals, the auto gate."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
from conftest import make_model, moving_frames, run_cli

from vidstyle.config import load_config
from vidstyle.errors import ConfigError, ModelError
from vidstyle.export import quantize
from vidstyle.export.parity import psnr
from vidstyle.export.quality import ssim
from vidstyle.pipeline.scheduling import load_stylizer
from vidstyle.stylize import precision as precision_mod

BOUND_DB = 30.0  # the default model.precision_gate_db


@pytest.fixture(autouse=True)
def small_calibration(monkeypatch):
    """Calibrate and check on a few small frames: the recipe is the same, the test stays fast."""
    monkeypatch.setattr(quantize, "CAL_FRAMES", 16)
    monkeypatch.setattr(quantize, "CAL_SIZE", (72, 96))
    monkeypatch.setattr(quantize, "GATE_FRAMES", 2)
    monkeypatch.setattr(quantize, "GATE_SIZE", (72, 96))


def stylizer_for(style, precision: str, **extra):
    overrides = {
        "model.style": str(style),
        "model.precision": precision,
        "model.device": "cpu",
        "model.backend": "onnx",
        **extra,
    }
    return load_stylizer(load_config(search_cwd=False, overrides=overrides))


def clip_batch(n: int = 3) -> torch.Tensor:
    frames = np.stack(moving_frames(n, 96, 128, seed=3))
    return torch.from_numpy(frames).permute(0, 3, 1, 2).float().div(255)


@pytest.mark.slow
def test_int8_small_model_stays_above_the_bound_on_a_clip():
    fp32 = stylizer_for("starry_night-small", "fp32")
    int8 = stylizer_for("starry_night-small", "int8")
    assert int8.precision == "int8" and int8.name.endswith("-int8") and fp32.precision == "fp32"
    x = clip_batch()
    want, got = fp32(x).numpy(), int8(x).numpy()
    assert got.shape == want.shape
    assert psnr(got, want) >= BOUND_DB
    assert min(ssim(a.transpose(1, 2, 0), b.transpose(1, 2, 0)) for a, b in zip(got, want)) > 0.9
    assert not np.array_equal(got, want)  # it really ran the quantized graph


def test_second_use_reuses_the_cached_int8_model(monkeypatch):
    first = stylizer_for("starry_night-small", "int8")
    stamp = first.path.stat().st_mtime_ns

    def no_requantize(*args, **kwargs):
        raise AssertionError("quantized again")

    monkeypatch.setattr(quantize, "quantize_onnx", no_requantize)
    second = stylizer_for("starry_night-small", "int8")
    assert second.path == first.path and second.path.stat().st_mtime_ns == stamp
    assert second.path.with_suffix(".gate.json").is_file()


@pytest.fixture(scope="module")
def wide_model(tmp_path_factory):
    """Base width 32: auto considers int8 only for networks at least that wide."""
    return make_model(
        tmp_path_factory.mktemp("wide") / "wide.safetensors",
        channels=32,
        res_blocks=1,
        gain=10.0,
        name="wide",
    )


@pytest.mark.slow
def test_auto_picks_fp32_when_the_gate_fails(wide_model, monkeypatch, caplog):
    monkeypatch.setattr(precision_mod, "cpu_has_int8_dot", lambda: True)
    with caplog.at_level(logging.INFO, logger="vidstyle"):
        s = stylizer_for(wide_model, "auto", **{"model.precision_gate_db": 150.0})
    assert s.precision == "fp32" and not s.name.endswith("-int8")
    assert "precision auto: fp32" in caplog.text and "misses the gate" in caplog.text
    assert "PSNR" in caplog.text  # the log names the measured numbers


@pytest.mark.slow
def test_auto_without_int8_instructions_stays_fp32(wide_model, monkeypatch):
    monkeypatch.setattr(precision_mod, "cpu_has_int8_dot", lambda: False)
    monkeypatch.setattr(quantize, "quantize_onnx", lambda *a, **k: pytest.fail("quantized"))
    s = stylizer_for(wide_model, "auto", **{"model.precision_gate_db": 0.0})
    assert s.precision == "fp32"


def test_gate_decision():
    gate = quantize.GateResult(31.0, 34.0, 0.95, 1.4, 6, (288, 512))
    assert gate.passes(30.0) and not gate.passes(31.5)
    assert not quantize.GateResult(40.0, 41.0, 0.99, 0.9, 6, (288, 512)).passes(30.0)  # slower: no


def _no_conv_onnx(path):
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, "H", "W"])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3, "H", "W"])
    graph = helper.make_graph([helper.make_node("Sigmoid", ["x"], ["y"])], "g", [x], [y])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return path


def test_foreign_models_the_quantizer_cannot_take_are_refused_clearly(tmp_path):
    plain = _no_conv_onnx(tmp_path / "sigmoid.onnx")
    with pytest.raises(ModelError, match="no convolutions to quantize"):
        stylizer_for(plain, "int8", **{"model.input_range": "0-1"})
    already = stylizer_for("starry_night-small", "int8").path  # an int8 file given as a foreign model
    with pytest.raises(ModelError, match="already quantized"):
        stylizer_for(already, "int8")
    assert not list(tmp_path.glob("*.tmp"))


def test_foreign_int8_that_fails_its_check_is_refused(tmp_path):
    import shutil

    from vidstyle.models.catalog import resolve_style
    from vidstyle.stylize.cache import cached_onnx

    foreign = tmp_path / "theirs.onnx"  # our export without being told it is ours: foreign
    shutil.copy(cached_onnx(resolve_style("starry_night-small"), False), foreign)
    ok = stylizer_for(foreign, "int8", **{"model.precision_gate_db": 20.0})
    assert ok.precision == "int8"
    with pytest.raises(ModelError, match="differs too much from fp32"):
        stylizer_for(foreign, "int8", **{"model.precision_gate_db": 150.0})


def test_int8_needs_onnx_runtime():
    with pytest.raises(ConfigError, match="int8 runs on ONNX Runtime"):
        stylizer_for("starry_night-small", "int8", **{"model.backend": "torch"})


@pytest.mark.slow
def test_cli_int8_refusal_is_one_line(tmp_path, basic_clip):
    plain = _no_conv_onnx(tmp_path / "sigmoid.onnx")
    proc = run_cli(
        "stylize",
        str(basic_clip),
        "-o",
        str(tmp_path / "o.mp4"),
        "--style",
        str(plain),
        "--input-range",
        "0-1",
        "--precision",
        "int8",
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "vidstyle: error:" in proc.stderr and "no convolutions to quantize" in proc.stderr
    assert not (tmp_path / "o.mp4").exists()


def test_calibration_frames_vary_and_ssim_scores():
    frames = list(quantize.calibration_frames(8, (40, 56)))
    assert len(frames) == 8 and all(f.shape == (40, 56, 3) and f.dtype == np.uint8 for f in frames)
    means = [f.mean() for f in frames]
    assert max(means) - min(means) > 30  # dark and bright scenes both occur
    a = frames[0].astype(np.float32) / 255
    noisy = np.clip(a + np.random.default_rng(0).normal(0, 0.05, a.shape), 0, 1)
    assert ssim(a, a) == pytest.approx(1.0)
    assert 0.0 < ssim(a, noisy) < 0.95


@pytest.mark.slow
def test_export_int8_writes_a_checked_int8_file(tmp_path, monkeypatch):
    from vidstyle.cli import main
    from vidstyle.models.contract import read_onnx_metadata

    out = tmp_path / "small-int8.onnx"
    assert main(["export", "starry_night-small", "--int8", "-o", str(out)]) == 0
    meta = read_onnx_metadata(out)
    assert meta["precision"] == "int8" and meta["quantization"]["format"] == "QDQ"
    from vidstyle.deploy import api as deploy_api

    # the export API measures the gate: a 3 dB result must fail the export
    monkeypatch.setattr(
        deploy_api, "measure_gate", lambda *a, **k: quantize.GateResult(3.0, 3.0, 0.1, 2.0, 1, (8, 8))
    )
    bad = tmp_path / "bad-int8.onnx"
    assert main(["export", "starry_night-small", "--int8", "-o", str(bad)]) == 1
    assert not bad.exists()  # a failed check leaves no file


def test_int8_rules_live_in_precision():
    """Where int8 runs, when auto tries it and how its cache is keyed: one module answers."""
    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert precision_mod.int8_problem(cpu) is None and precision_mod.int8_problem(cpu, "onnx") is None
    assert "on a GPU use fp16" in (precision_mod.int8_problem(cuda, "onnx") or "")
    assert "use --backend onnx" in (precision_mod.int8_problem(cpu, "torch") or "")
    assert precision_mod.tries_int8("auto", cpu) and precision_mod.tries_int8("int8", cpu)
    assert not precision_mod.tries_int8("fp32", cpu) and not precision_mod.tries_int8("auto", cuda)
    assert precision_mod.int8_tag([1.0]) == "" and precision_mod.int8_tag(None) == ""
    assert precision_mod.int8_tag([1.0, 0.0]) != precision_mod.int8_tag([0.0, 1.0])
    assert precision_mod.foreign_int8_tag(None, False) == "-meta"
    assert precision_mod.foreign_int8_tag("0-255", True) == "-0-255-bgr"
