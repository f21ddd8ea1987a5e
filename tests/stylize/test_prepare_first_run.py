"""A fresh install's first run starts at once in fp32 while a real background process prepares
the ONNX export and the int8 model; the next run uses what it made. (Each test waits for a real
builder process: slow.)"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time

import pytest
import torch
from conftest import decode_rgb, make_model, moving_frames, run_cli

from vidstyle.config import load_config
from vidstyle.export import quantize
from vidstyle.io.synth import write_clip
from vidstyle.models.catalog import resolve_style
from vidstyle.pipeline.scheduling import load_stylizer
from vidstyle.stylize import cache, precision, prepare
from vidstyle.stylize.handover import Handover


@pytest.fixture(autouse=True)
def fresh_home(tmp_path, monkeypatch):
    """An empty home, the background way on (the suite's conftest prepares in the foreground),
    and a small calibration (passed on to the builder process)."""
    monkeypatch.setenv("VIDSTYLE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv(prepare.PREPARE_ENV, raising=False)
    monkeypatch.setattr(quantize, "CAL_FRAMES", 8)
    monkeypatch.setattr(quantize, "CAL_SIZE", (48, 64))
    monkeypatch.setattr(quantize, "GATE_FRAMES", 2)
    monkeypatch.setattr(quantize, "GATE_SIZE", (48, 64))
    yield
    assert prepare.wait_for_builds(timeout=300), "a background build did not end"


@pytest.fixture(scope="module")
def wide_model(tmp_path_factory):
    """Base width 32: a network auto considers for int8."""
    path = tmp_path_factory.mktemp("wide") / "wide.safetensors"
    return make_model(path, channels=32, gain=10.0, name="wide")


@pytest.fixture
def no_foreground_build(monkeypatch):
    """Exporting or quantizing in this process fails the test (the builder is another process)."""

    def refuse(*args, **kwargs):
        raise AssertionError("the run waited for a model build")

    monkeypatch.setattr(cache, "export_onnx", refuse)
    monkeypatch.setattr(quantize, "quantize_onnx", refuse)


def stylizer_for(style, **extra):
    overrides = {"model.style": str(style), "model.device": "cpu", "model.workers": 2, **extra}
    return load_stylizer(load_config(search_cwd=False, overrides=overrides))


def frames(n: int = 2) -> torch.Tensor:
    rgb = moving_frames(n, 40, 56)
    return torch.stack([torch.from_numpy(f).permute(2, 0, 1).float().div(255) for f in rgb])


def until_settled(stylizer: Handover, x: torch.Tensor, timeout: float = 240.0) -> list[torch.Tensor]:
    """Call ``stylizer`` on ``x`` until it stops waiting for its next engine; every output."""
    outs, deadline = [], time.monotonic() + timeout
    while stylizer.waiting and time.monotonic() < deadline:
        outs.append(stylizer(x))
        time.sleep(0.2)
    outs.append(stylizer(x))
    return outs


@pytest.mark.slow
def test_first_use_starts_in_torch_and_hands_over_to_the_export(tiny_model, caplog, no_foreground_build):
    with caplog.at_level(logging.INFO, logger="vidstyle"):
        s = stylizer_for(tiny_model)
    assert isinstance(s, Handover) and s.name.startswith("torch")
    lines = [r.getMessage() for r in caplog.records if "first use of" in r.getMessage()]
    assert len(lines) == 1 and "fp32 right away" in lines[0]
    x = frames()
    want = s.current(x)  # torch fp32
    outs = until_settled(s, x)
    assert s.current.name == "onnxruntime-cpu" and s.switched_after > 0
    assert all(torch.allclose(o, want, atol=1e-4) for o in outs)  # same precision: same frames


@pytest.mark.slow
def test_a_failed_background_build_is_a_warning_and_the_run_goes_on(tiny_model, caplog):
    blocked = cache.onnx_cache_path(resolve_style(str(tiny_model)), False)
    blocked.mkdir(parents=True)  # a directory where the export goes: the builder fails
    with caplog.at_level(logging.INFO, logger="vidstyle"):
        s = stylizer_for(tiny_model)
        outs = until_settled(s, frames())
    assert s.current.name.startswith("torch") and len(outs) >= 2 and s.switched_after == 0
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("the ONNX export is not available" in w for w in warnings), warnings
    assert prepare.wait_for_builds(timeout=60)
    blocked.rmdir()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="vidstyle"):
        stylizer_for(tiny_model)  # the next run says what failed and tries again
    assert "failed last time" in caplog.text and "first use of" in caplog.text


@pytest.mark.slow
def test_the_next_run_uses_the_int8_model_the_background_made(wide_model, monkeypatch, caplog):
    monkeypatch.setattr(precision, "cpu_has_int8_dot", lambda: True)
    with caplog.at_level(logging.INFO, logger="vidstyle"):
        first = stylizer_for(wide_model)
    assert isinstance(first, Handover)
    assert "preparing its int8 model in the background once this run ends" in caplog.text
    first(frames())  # the build starts after the first frames
    assert prepare.wait_for_builds(timeout=300)
    gates = list((cache.cache_dir() / "onnx").glob("*.gate.json"))
    assert len(gates) == 1 and not list(gates[0].parent.glob("*.building"))
    # how this machine's check came out is its own business; here int8 passed it
    gate = json.loads(gates[0].read_text())
    gates[0].write_text(json.dumps({**gate, "psnr_min": 40.0, "speedup": 1.5}))

    def refuse(*args, **kwargs):
        raise AssertionError("quantized again")

    monkeypatch.setattr(quantize, "quantize_onnx", refuse)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="vidstyle"):
        second = stylizer_for(wide_model)
    assert second.name.endswith("-int8") and "precision auto: int8" in caplog.text
    assert "first use of" not in caplog.text


@pytest.mark.slow
def test_cli_first_run_logs_one_line_and_writes_its_output(tmp_path, tiny_model):
    """A real `vidstyle stylize` process on an empty home: one line says what happens, the
    frames are written, the builder outlives the run and leaves the export for the next one."""
    src = write_clip(tmp_path / "in.mp4", moving_frames(6), 25)
    out = tmp_path / "out.mp4"
    env = {"VIDSTYLE_HOME": str(tmp_path / "home")}
    args = ("stylize", str(src), "-o", str(out), "--style", str(tiny_model), "--set", "run.progress=off")
    proc = run_cli(*args, env=env)
    assert proc.returncode == 0, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if "first use of" in ln]
    assert len(lines) == 1 and "fp32 right away" in lines[0], proc.stderr
    assert "exporting" not in proc.stderr  # not in the foreground
    assert len(decode_rgb(out)) == 6
    onnx_dir = tmp_path / "home" / "cache" / "onnx"
    deadline = time.monotonic() + 240
    while list(onnx_dir.glob("*.building")) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert list(onnx_dir.glob("*-fp32.onnx")) and not list(onnx_dir.glob("*.building"))
    again = run_cli(*args, "-y", env=env)
    assert again.returncode == 0 and "first use of" not in again.stderr
    assert "[onnxruntime-cpu]" in again.stderr


@pytest.mark.slow
def test_demo_leaves_the_models_ready(tmp_path, tiny_model):
    """`vidstyle demo` (what `make demo` runs) waits for the background build it started."""
    home = tmp_path / "home"
    proc = run_cli(
        "demo",
        "-o",
        str(tmp_path / "demo"),
        "--seconds",
        "0.2",
        "--style",
        str(tiny_model),
        env={"VIDSTYLE_HOME": str(home)},
    )
    assert proc.returncode == 0, proc.stderr
    assert "first use of" in proc.stderr and "finishing the style's models" in proc.stderr
    onnx_dir = home / "cache" / "onnx"
    assert list(onnx_dir.glob("*-fp32.onnx")) and not list(onnx_dir.glob("*.building"))


@pytest.mark.slow
def test_int8_asked_for_waits_for_a_background_build_of_it(tiny_model, monkeypatch):
    """`--precision int8` quantizes in the foreground: not over a builder's files."""
    entry = resolve_style(str(tiny_model))
    target = cache.int8_cache_path(entry.meta.name, entry.model_path)
    lock = prepare.lock_path(target)
    cache.cached_onnx(entry, False)  # exported: nothing else delays the quantizer
    builder = subprocess.Popen(  # stands in for a builder: ends after a few seconds, taking its lock
        [sys.executable, "-c", "import os, sys, time; time.sleep(5); os.unlink(sys.argv[1])", str(lock)]
    )
    lock.write_text(str(builder.pid))
    seen = []
    quantize_onnx = quantize.quantize_onnx

    def record(*args, **kwargs):
        seen.append(builder.poll())
        return quantize_onnx(*args, **kwargs)

    monkeypatch.setattr(quantize, "quantize_onnx", record)
    s = stylizer_for(tiny_model, **{"model.precision": "int8"})
    assert s.name.endswith("-int8") and seen == [0]  # quantized after the builder had ended
