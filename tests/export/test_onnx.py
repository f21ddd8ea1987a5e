"""ONNX export and the ONNX Runtime backend on the CPU; TensorRT engine files without a GPU."""

from __future__ import annotations

import pytest
import torch
from conftest import decode_rgb, moving_frames, psnr, run_cli

from vidstyle import stylize_file
from vidstyle.errors import ModelError
from vidstyle.export.onnx import export_onnx
from vidstyle.export.parity import parity_check
from vidstyle.export.tensorrt import check_compatible, read_engine, write_engine
from vidstyle.io.synth import write_clip
from vidstyle.models.contract import read_onnx_metadata
from vidstyle.models.store import ModelMeta
from vidstyle.models.transformer_net import ARCH_PRESETS, TransformerNet
from vidstyle.stylize.onnx_backend import OnnxStylizer
from vidstyle.stylize.torch_backend import TorchStylizer

CPU = torch.device("cpu")
SMALL_SIZES = ((37, 45), (64, 90), (250, 314))


def random_net(arch: str, num_styles: int = 1, seed: int = 0) -> tuple[TransformerNet, ModelMeta]:
    torch.manual_seed(seed)
    preset = ARCH_PRESETS[arch]
    net = TransformerNet(type(preset)(preset.channels, preset.res_blocks, num_styles)).eval()
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.05)
        net.out.conv.weight.mul_(50.0)
        net.out.conv.bias.fill_(120.0)
    styles = [{"name": f"style{i}", "style_image": f"s{i}.jpg"} for i in range(num_styles)]
    return net, ModelMeta(
        name=f"{arch}{num_styles}", arch=arch, arch_config=net.arch.to_dict(), styles=styles
    )


@pytest.mark.parametrize("arch,num_styles", [("full", 1), ("small", 1), ("small", 3)])
def test_export_parity_dynamic_shapes_and_metadata(tmp_path, arch, num_styles):
    net, meta = random_net(arch, num_styles)
    path = export_onnx(net, meta, tmp_path / "m.onnx")
    import onnx

    model = onnx.load(str(path))
    dims = [d.dim_param for d in model.graph.input[0].type.tensor_type.shape.dim]
    assert dims == ["batch", "", "height", "width"]  # one file, any size and batch
    assert model.opset_import[0].version >= 17
    info = read_onnx_metadata(path)
    assert info["style_names"] == meta.style_names and info["input_range"] == "0-1"
    assert ModelMeta(**info["model"]) == meta
    assert info["style_input"] == (num_styles > 1)
    weights = [0.0, 1.0, 0.0] if num_styles == 3 else None
    reference = TorchStylizer(net, meta, CPU, style=weights)
    candidate = OnnxStylizer(path, CPU, style=weights)
    rows = parity_check(reference, candidate, sizes=SMALL_SIZES)
    assert len(rows) == 6 and all(r.max_abs < 1e-3 for r in rows)


def test_multi_style_input_selects_and_mixes(tmp_path):
    net, meta = random_net("small", 2, seed=1)
    path = export_onnx(net, meta, tmp_path / "m.onnx")
    x = torch.rand(1, 3, 40, 48)
    a = OnnxStylizer(path, CPU, style=[1.0, 0.0])(x)
    b = OnnxStylizer(path, CPU, style=[0.0, 1.0])(x)
    mix = OnnxStylizer(path, CPU, style=[0.5, 0.5])(x)
    want = TorchStylizer(net, meta, CPU, style=[0.5, 0.5])(x)
    assert (a - b).abs().max() > 0.05
    assert torch.allclose(mix, want, atol=1e-3)


def test_fp16_export_is_close(tmp_path):
    net, meta = random_net("small")
    path = export_onnx(net, meta, tmp_path / "h.onnx", fp16=True)
    rows = parity_check(TorchStylizer(net, meta, CPU), OnnxStylizer(path, CPU), "fp16", sizes=SMALL_SIZES[:2])
    assert all(r.psnr_db > 40 for r in rows)


def test_parity_check_fails_loudly_on_a_different_model(tmp_path):
    net, meta = random_net("small", seed=1)
    other, _ = random_net("small", seed=2)
    path = export_onnx(other, meta, tmp_path / "other.onnx")
    with pytest.raises(ModelError, match="parity check failed"):
        parity_check(TorchStylizer(net, meta, CPU), OnnxStylizer(path, CPU), sizes=SMALL_SIZES[:1])


def test_pipeline_onnx_backend_matches_torch(tmp_path, tiny_model):
    src = write_clip(tmp_path / "in.mp4", moving_frames(6), 25)
    opts = dict(
        model__style=str(tiny_model),
        encode__crf=0,
        encode__pix_fmt="yuv444p",
        run__progress="off",
        encode__preset="ultrafast",
    )
    a = stylize_file(src, tmp_path / "torch.mkv", model__backend="torch", **opts)
    b = stylize_file(src, tmp_path / "onnx.mkv", model__backend="onnx", **opts)
    assert a.stylizer.startswith("torch") and b.stylizer == "onnxruntime-cpu"
    for x, y in zip(decode_rgb(tmp_path / "torch.mkv"), decode_rgb(tmp_path / "onnx.mkv")):
        assert psnr(x, y) > 45


@pytest.mark.slow
def test_foreign_onnx_needs_its_contract_and_handles_fixed_shapes(tmp_path):
    """A file without our metadata, fixed to batch 2 and 48x64: range flag required; frames are
    resized to the model's size and the batch is filled."""
    import onnx

    net, meta = random_net("small", seed=3)
    path = export_onnx(net, meta, tmp_path / "fixed.onnx", dynamic=False, height=48, width=64, batch=2)
    model = onnx.load(str(path))
    del model.metadata_props[:]
    foreign = tmp_path / "foreign.onnx"
    onnx.save(model, str(foreign))
    with pytest.raises(ModelError, match="--input-range"):
        OnnxStylizer(foreign, CPU)
    stylizer = OnnxStylizer(foreign, CPU, input_range="0-1")
    x = torch.rand(3, 3, 48, 64)
    y = stylizer(x)
    assert y.shape == (3, 3, 48, 64)
    assert torch.allclose(y, TorchStylizer(net, meta, CPU)(x), atol=1e-3)
    assert stylizer(torch.rand(1, 3, 30, 50)).shape == (1, 3, 30, 50)
    proc = run_cli(
        "stylize",
        str(write_clip(tmp_path / "c.mp4", moving_frames(3), 25)),
        "-o",
        str(tmp_path / "o.mp4"),
        "--style",
        str(foreign),
        "--input-range",
        "0-1",
        "--no-progress",
    )
    assert proc.returncode == 0, proc.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    "content,pattern",
    [(b"\x08\x01garbage" * 10, "not a readable ONNX model"), (b"", "not a readable ONNX model")],
)
def test_corrupt_onnx_gives_clear_error(tmp_path, basic_clip, content, pattern):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(content)
    proc = run_cli(
        "stylize", str(basic_clip), "-o", str(tmp_path / "o.mp4"), "--style", str(bad), "--input-range", "0-1"
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "error:" in proc.stderr and ("ONNX" in proc.stderr or "onnx" in proc.stderr)


def test_wrong_shaped_onnx_is_refused(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])],
        "flat",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 10])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])],
    )
    path = tmp_path / "flat.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    with pytest.raises(ModelError, match="expected one N x 3 x H x W image input"):
        OnnxStylizer(path, CPU, input_range="0-1")


@pytest.mark.slow
def test_export_cli_writes_a_checked_file(tmp_path, tiny_model):
    out = tmp_path / "tiny.onnx"
    proc = run_cli("export", str(tiny_model), "--format", "onnx", "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "parity with torch: ok" in proc.stderr and "640x360" in proc.stdout
    assert read_onnx_metadata(out)["model"]["name"] == "tiny"


def test_engine_file_header_and_mismatch(tmp_path):
    here = {"gpu": "NVIDIA H100 80GB HBM3", "compute_capability": "9.0", "tensorrt": "10.3.0"}
    path = tmp_path / "m.engine"
    write_engine(path, {**here, "profile": {}}, b"\x00engine-bytes")
    header, blob = read_engine(path)
    assert blob == b"\x00engine-bytes" and header["gpu"] == here["gpu"]
    check_compatible(header, here, path)
    with pytest.raises(ModelError, match="engine built for NVIDIA H100.*TensorRT 10.3.0.*rebuild"):
        check_compatible(header, {**here, "tensorrt": "10.7.0"}, path)
    (tmp_path / "junk.engine").write_bytes(b"not an engine")
    with pytest.raises(ModelError, match="not a vidstyle TensorRT engine"):
        read_engine(tmp_path / "junk.engine")


def _has_tensorrt() -> str | None:
    try:
        import tensorrt  # noqa: F401
    except ImportError:
        return "TensorRT is not installed"
    return None if torch.cuda.is_available() else "no CUDA GPU"


@pytest.mark.gpu
@pytest.mark.skipif(_has_tensorrt() is not None, reason=f"TensorRT path: {_has_tensorrt()}")
def test_tensorrt_engine_parity(tmp_path):
    from vidstyle.export.tensorrt import Profile, build_engine
    from vidstyle.stylize.tensorrt_backend import TensorRTStylizer

    net, meta = random_net("full")
    onnx_path = export_onnx(net, meta, tmp_path / "m.onnx")
    engine = build_engine(
        onnx_path, tmp_path / "m.engine", fp16=True, profile=Profile((32, 32), (360, 640), (720, 1280), 4, 2)
    )
    cuda = torch.device("cuda")
    rows = parity_check(
        TorchStylizer(net, meta, cuda), TensorRTStylizer(engine, cuda), "fp16", sizes=((250, 314), (360, 640))
    )
    assert all(r.psnr_db > 36 for r in rows)


def test_export_shape_flags():
    from vidstyle.cli import build_parser

    parse = build_parser().parse_args
    assert parse(["export", "m"]).static is False  # dynamic shapes by default
    assert parse(["export", "m", "--dynamic"]).static is False
    assert parse(["export", "m", "--static"]).static is True
    with pytest.raises(SystemExit):
        parse(["export", "m", "--static", "--dynamic"])
