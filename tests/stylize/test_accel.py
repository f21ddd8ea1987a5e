"""The torch backend's speed-ups on the CPU: shape gate, compile fallbacks, CUDA-graph refusal,
the channels-last instance norm, and the flags that switch them on. (On a GPU: test_gpu.py.)"""

from __future__ import annotations

import logging

import pytest
import torch
import torch.nn.functional as F

from vidstyle.models.transformer_net import ArchConfig, TransformerNet, instance_norm_nhwc, is_channels_last
from vidstyle.stylize import accel
from vidstyle.stylize.accel import CompiledNet, GraphedNet, ShapeGate, accelerate, input_key


def test_shape_gate_admits_a_repeated_shape_and_caps_the_count():
    gate = ShapeGate(after=2, limit=2)
    assert not gate.admit("a") and gate.admit("a") and gate.admit("a")
    assert not gate.admit("b") and gate.admit("b")
    assert not gate.admit("c") and not gate.admit("c")  # limit reached: stays on the slow path
    assert gate.admitted == {"a", "b"}


def test_input_key_tells_layouts_apart():
    x = torch.rand(1, 3, 8, 8)
    assert input_key(x) != input_key(x.contiguous(memory_format=torch.channels_last))
    assert input_key(x) == input_key(torch.rand(1, 3, 8, 8))


def test_channels_last_instance_norm_matches_and_keeps_the_layout():
    torch.manual_seed(0)
    x = (torch.randn(2, 6, 20, 12) * 4 + 2).contiguous(memory_format=torch.channels_last)
    w, b = torch.randn(6), torch.randn(6)
    y = instance_norm_nhwc(x, w, b, 1e-5)
    assert torch.allclose(y, F.instance_norm(x.contiguous(), weight=w, bias=b, eps=1e-5), atol=1e-5)
    assert is_channels_last(y) and not is_channels_last(x.contiguous())


def test_transformer_net_in_channels_last_equals_nchw():
    torch.manual_seed(0)
    net = TransformerNet(ArchConfig(channels=4, res_blocks=1, num_styles=2)).eval()
    x, w = torch.rand(2, 3, 32, 40) * 255, torch.tensor([0.3, 0.7])
    with torch.no_grad():
        ref = net(x, w)
        y = net.to(memory_format=torch.channels_last)(x.contiguous(memory_format=torch.channels_last), w)
    assert is_channels_last(y)
    assert (y - ref).abs().max() < 1e-3 * ref.abs().max()


def test_compiled_net_falls_back_to_eager_with_one_warning(caplog):
    net = TransformerNet(ArchConfig(channels=4, res_blocks=1)).eval()
    wrapped = CompiledNet(net, "default", ShapeGate(after=1))

    def broken(*_):
        raise RuntimeError("inductor: C++ compile error\nsecond line")

    wrapped.compiled = broken  # what a failed first-call compile raises
    x, w = torch.rand(1, 3, 16, 16), torch.ones(1)
    with caplog.at_level(logging.WARNING, logger="vidstyle"), torch.no_grad():
        y1, y2 = wrapped(x, w), wrapped(x, w)
    assert torch.equal(y1, net(x, w)) and torch.equal(y2, y1)
    warnings = [r.getMessage() for r in caplog.records if "torch.compile failed" in r.getMessage()]
    assert warnings == [
        "torch.compile failed (RuntimeError: inductor: C++ compile error); running the network uncompiled"
    ]


def test_compiled_net_lets_out_of_memory_through():
    wrapped = CompiledNet(lambda x, w: x, "default", ShapeGate(after=1))

    def oom(*_):
        raise torch.OutOfMemoryError("CUDA out of memory")

    wrapped.compiled = oom
    with pytest.raises(torch.OutOfMemoryError):
        wrapped(torch.rand(1, 3, 8, 8), torch.ones(1))
    assert wrapped.failed is None  # the stylize stage halves the batch and retries


def test_no_compiler_means_no_compile_and_a_warning(monkeypatch, caplog):
    monkeypatch.setattr(accel.shutil, "which", lambda _name: None)
    net = TransformerNet(ArchConfig(channels=4, res_blocks=1))
    with caplog.at_level(logging.WARNING, logger="vidstyle"):
        out, suffix = accelerate(net, torch.device("cpu"), True, "max-autotune", False)
    assert out is net and suffix == ""
    assert "cannot torch.compile here (no C++ compiler (g++) on the PATH" in caplog.text


def test_cuda_graphs_on_the_cpu_are_refused_with_a_warning(caplog):
    net = TransformerNet(ArchConfig(channels=4, res_blocks=1))
    with caplog.at_level(logging.WARNING, logger="vidstyle"):
        out, suffix = accelerate(net, torch.device("cpu"), False, "default", True)
    assert out is net and suffix == ""
    assert "CUDA graphs need a CUDA device; running without them" in caplog.text
    graphed = GraphedNet(net, ShapeGate(after=1))  # host tensors never reach a capture
    x, w = torch.rand(1, 3, 16, 16), torch.ones(1)
    with torch.no_grad():
        assert torch.equal(graphed(x, w), net(x, w)) and not graphed.graphs


def test_with_cuda_graphs_the_compile_mode_drops_its_own():
    assert accel.WITHOUT_CUDAGRAPHS["max-autotune"] == "max-autotune-no-cudagraphs"
    assert accel.WITHOUT_CUDAGRAPHS["reduce-overhead"] == "default"


def test_flags_reach_the_config():
    from vidstyle.cli import build_parser
    from vidstyle.cli.common import config_from_args

    args = build_parser().parse_args(
        [
            "bench",
            "--compile",
            "--compile-mode",
            "max-autotune",
            "--cuda-graphs",
            "--channels-last",
            "on",
            "--batch",
            "4",
        ]
    )
    m = config_from_args(args).model
    assert (m.compile, m.compile_mode, m.cuda_graphs, m.channels_last, m.batch) == (
        True,
        "max-autotune",
        True,
        "on",
        4,
    )


@pytest.mark.slow
def test_compile_on_the_cpu_matches_eager(tiny_model):
    """Inductor's CPU kernels (gcc) for a tiny network: the same output as eager."""
    if accel.compile_problem(torch.device("cpu")):
        pytest.skip(accel.compile_problem(torch.device("cpu")))
    from vidstyle.config import load_config
    from vidstyle.pipeline.scheduling import load_stylizer

    def stylizer(**extra):
        return load_stylizer(
            load_config(
                search_cwd=False,
                overrides={
                    "model.style": str(tiny_model),
                    "model.backend": "torch",
                    "model.device": "cpu",
                    **extra,
                },
            )
        )

    eager = stylizer()
    compiled = stylizer(**{"model.compile": "true", "model.compile_mode": "default"})
    assert compiled.name == "torch-cpu-fp32-compiled[default]"
    x = torch.rand(1, 3, 32, 48)
    for _ in range(3):  # the 2nd call compiles, the 3rd reuses it
        y = compiled(x)
    assert isinstance(compiled.net, CompiledNet) and compiled.net.failed is None
    assert compiled.net.gate.admitted  # the compiled path was taken
    assert torch.allclose(y, eager(x), atol=1e-4)
