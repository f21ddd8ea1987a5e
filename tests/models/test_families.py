"""Network families: a second family registered here runs through files, the catalog, the torch
and ONNX Runtime backends and the memory plan without any change to vidstyle; files that name no
family hold a transformer_net; an unknown family is a one-line error."""

from __future__ import annotations

import json
import logging
from fractions import Fraction
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from vidstyle.config import ModelConfig
from vidstyle.errors import ModelError
from vidstyle.export.onnx import export_onnx
from vidstyle.models.catalog import BUNDLED_DIR, list_styles, resolve_style
from vidstyle.models.contract import activation_bytes_of, read_onnx_metadata
from vidstyle.models.families import DEFAULT_FAMILY, family, family_names, register, unregister
from vidstyle.models.mix import parse_style_mix
from vidstyle.models.store import ModelMeta, load_model, read_header, read_meta, save_model
from vidstyle.stylize.base import style_runs
from vidstyle.stylize.onnx_backend import OnnxStylizer
from vidstyle.stylize.torch_backend import TorchStylizer

CPU = torch.device("cpu")


class TinyNet(nn.Module):
    """Stride-2 conv, nearest x2, conv, plus a per-style colour shift mixed by ``style`` (S,) or
    (N, S); inputs in [0, 1], H and W even."""

    def __init__(self, width: int, styles: int):
        super().__init__()
        self.width, self.styles = width, styles
        self.down = nn.Conv2d(3, width, 3, stride=2, padding=1)
        self.up = nn.Conv2d(width, 3, 3, padding=1)
        self.shift = nn.Parameter(torch.randn(styles, 3) * 0.2)

    def forward(self, x: torch.Tensor, style: torch.Tensor | None = None) -> torch.Tensor:
        y = self.up(F.interpolate(torch.relu(self.down(x)), scale_factor=2.0, mode="nearest"))
        shift = self.shift[0] if style is None else style @ self.shift
        return torch.sigmoid(y + shift.reshape(-1, 3, 1, 1))


class TinyFamily:
    """All a family provides, for :class:`TinyNet`; its figures differ from transformer_net's."""

    name = "tiny"
    presets = {"one": {"width": 4, "styles": 1}}
    size_multiple = 2

    def num_styles(self, arch: dict) -> int:
        if set(arch) != {"width", "styles"}:
            raise TypeError(f"tiny arch keys are width, styles (got {sorted(arch)})")
        return int(arch["styles"])

    def build(self, arch: dict) -> nn.Module:
        return TinyNet(arch["width"], self.num_styles(arch))

    def arch_of(self, net: nn.Module) -> dict:
        assert isinstance(net, TinyNet)
        return {"width": net.width, "styles": net.styles}

    def preset_name(self, arch: dict) -> str:
        return next((n for n, p in self.presets.items() if p["width"] == arch["width"]), "custom")

    def style_input(self, arch: dict) -> tuple[int, ...] | None:
        return (arch["styles"],) if arch["styles"] > 1 else None

    def choose_style(self, meta: ModelMeta, index: int, mix: str = "") -> list[float] | None:
        if mix:
            return parse_style_mix(mix, meta.style_names, meta.name)
        if len(meta.styles) == 1:
            return None  # nothing to choose: the network runs without a style input
        return [float(i == index) for i in range(len(meta.styles))]

    def activation_bytes_per_px(self, arch: dict, precision: str) -> float:
        return 100.0 * arch["width"] * (0.5 if precision in ("fp16", "bf16") else 1.0)

    def int8_refusal(self, arch: dict) -> str | None:
        return "tiny nets do not quantize"


@pytest.fixture
def tiny():
    fam = register(TinyFamily())
    yield fam
    unregister("tiny")


def save_tiny(path: Path, styles: int, seed: int = 0) -> Path:
    torch.manual_seed(seed)
    net = TinyNet(6, styles)
    names = [{"name": f"t{i}" if styles > 1 else "tinyfam", "style_image": ""} for i in range(styles)]
    meta = ModelMeta(name="tinyfam", family="tiny", arch="custom", styles=names, input_range=1.0)
    return save_model(net, meta, path, dtype=torch.float32)


def frames(n: int = 2, h: int = 37, w: int = 45) -> torch.Tensor:
    torch.manual_seed(7)
    return torch.rand(n, 3, h, w)


def test_registry_knows_transformer_net_and_refuses_a_second_family_of_the_same_name(tiny):
    assert DEFAULT_FAMILY == "transformer_net" and family_names() == ["tiny", "transformer_net"]
    assert family("tiny") is tiny
    with pytest.raises(ValueError, match="already registered"):
        register(TinyFamily())


@pytest.mark.parametrize("styles", [1, 2])
def test_a_second_family_saves_loads_and_runs_on_torch(tmp_path, tiny, styles):
    path = save_tiny(tmp_path / "t.safetensors", styles)
    header = json.loads(read_header(path)["__metadata__"]["vidstyle"])
    assert header["family"] == "tiny" and header["arch_config"] == {"width": 6, "styles": styles}
    net, meta = load_model(path)
    assert isinstance(net, TinyNet) and meta.family == "tiny" and not net.training
    entry = resolve_style(str(path))
    assert entry.meta.family == "tiny" and entry.style() == (None if styles == 1 else [1.0, 0.0])
    stylizer = TorchStylizer(net, meta, CPU, style=entry.style())
    assert stylizer.activation_bytes_per_px == 600.0  # the family's figure, not 32 x channels
    x = frames()
    y = stylizer(x)
    assert y.shape == x.shape and 0 <= y.min() and y.max() <= 1
    with torch.no_grad():
        want = net(F.pad(x, (0, 1, 0, 1), mode="reflect"))[..., :37, :45]  # padded to even sides
    assert torch.allclose(y, want, atol=1e-5)
    if styles == 2:  # a style per call: (S,) for the batch, (N, S) one per frame
        second = stylizer(x, torch.tensor([0.0, 1.0]))
        assert (second - y).abs().max() > 0.01
        per_frame = stylizer(x, torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
        assert torch.allclose(per_frame[0], y[0], atol=1e-6) and torch.allclose(
            per_frame[1], second[1], atol=1e-6
        )


@pytest.mark.parametrize("styles", [1, 2])
def test_a_second_family_exports_to_onnx_and_runs_on_onnx_runtime(tmp_path, tiny, styles):
    net, meta = load_model(save_tiny(tmp_path / "t.safetensors", styles, seed=1))
    path = export_onnx(net, meta, tmp_path / "t.onnx")
    info = read_onnx_metadata(path)
    assert info["family"] == "tiny" and info["model"]["family"] == "tiny"
    assert info["style_input"] == (styles > 1)
    onnx = OnnxStylizer(path, CPU)
    assert onnx.activation_bytes_per_px == 600.0 == activation_bytes_of(info, "fp32")
    reference = TorchStylizer(net, meta, CPU)
    x = frames(3)
    assert torch.allclose(onnx(x), reference(x), atol=1e-4)
    if styles == 2:
        rows = torch.tensor([[0.0, 1.0], [0.0, 1.0], [0.3, 0.7]])
        assert torch.allclose(onnx(x, rows), reference(x, rows), atol=1e-4)  # runs of equal rows
    else:
        with pytest.raises(ModelError, match="style of shape"):
            onnx(x, torch.tensor([0.5, 0.5]))  # one style: nothing to mix


def test_a_second_family_goes_through_the_factory_and_the_int8_rule_asks_it(
    tmp_path, tiny, monkeypatch, caplog
):
    from vidstyle.stylize import precision
    from vidstyle.stylize.factory import build_stylizer

    monkeypatch.setenv("VIDSTYLE_HOME", str(tmp_path / "home"))
    monkeypatch.setattr(precision, "cpu_has_int8_dot", lambda: True)
    path = save_tiny(tmp_path / "t.safetensors", 2, seed=2)
    m = ModelConfig(style=str(path), style_mix="t0=1,t1=3", backend="onnx", precision="auto")
    with caplog.at_level(logging.INFO, logger="vidstyle"):
        onnx = build_stylizer(m, CPU, threads=1)
    assert (
        onnx.precision == "fp32"
        and "precision auto: fp32 for tinyfam (tiny nets do not quantize)" in caplog.text
    )
    eager = build_stylizer(ModelConfig(style=str(path), style_mix="t0=1,t1=3", backend="torch"), CPU, 1)
    x = frames(1)
    assert eager.activation_bytes_per_px == onnx.activation_bytes_per_px == 600.0
    assert torch.allclose(onnx(x), eager(x), atol=1e-4)
    assert torch.allclose(eager(x), eager(x, torch.tensor([0.25, 0.75])), atol=1e-6)  # the configured mix


def test_catalog_lists_a_second_family_and_skips_it_once_unknown(tmp_path, tiny, monkeypatch):
    monkeypatch.setenv("VIDSTYLE_HOME", str(tmp_path))
    save_tiny(tmp_path / "models" / "tinyfam.safetensors", 1)
    entry = next(e for e in list_styles() if e.name == "tinyfam")
    assert entry.to_json()["family"] == "tiny" and entry.source == "user"
    unregister("tiny")
    assert all(e.name != "tinyfam" for e in list_styles())  # listing others still works
    register(tiny)


def test_an_unknown_family_is_a_one_line_error_naming_the_known_ones(tmp_path, tiny):
    path = save_tiny(tmp_path / "t.safetensors", 1)
    unregister("tiny")
    try:
        with pytest.raises(ModelError) as err:
            read_meta(path)
    finally:
        register(tiny)
    text = str(err.value)
    assert "\n" not in text and str(path) in text
    assert "unknown network family 'tiny'" in text and "known: transformer_net" in text


def test_files_without_a_family_hold_a_transformer_net():
    bundled = sorted(BUNDLED_DIR.glob("*.safetensors"))
    assert bundled
    for path in bundled:
        raw = json.loads(read_header(path)["__metadata__"]["vidstyle"])
        assert "family" not in raw  # written before families existed, and left so
        meta = read_meta(path)
        assert meta.family == "transformer_net" and meta.network_family() is family("transformer_net")
    # ... and a file written now says so
    assert json.loads(ModelMeta(name="x", styles=[{"name": "x"}]).to_json())["family"] == "transformer_net"


def test_transformer_net_family_figures():
    fam = family("transformer_net")
    full, small = fam.presets["full"], fam.presets["small"]
    assert fam.activation_bytes_per_px(full, "fp32") == 32 * 32
    assert (
        fam.activation_bytes_per_px(small, "fp16")
        == fam.activation_bytes_per_px(small, "bf16")
        == 32 * 16 / 2
    )
    assert fam.activation_bytes_per_px(full, "int8") == 32 * 32  # int8 graphs keep float activations
    assert fam.int8_refusal(full) is None and "32 channels" in (fam.int8_refusal(small) or "")
    assert fam.style_input(full) is None and fam.style_input({**small, "num_styles": 3}) == (3,)
    assert fam.preset_name(small) == "small" and fam.preset_name({**full, "channels": 8}) == "custom"
    with pytest.raises(TypeError):
        fam.num_styles({"width": 4})


def test_style_runs_cut_a_batch_where_the_row_changes():
    rows = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    runs = style_runs(rows, 4, 2, "m")
    assert [(a, b, r.tolist()) for a, b, r in runs] == [(0, 2, [1, 0]), (2, 3, [0, 1]), (3, 4, [1, 0])]
    assert style_runs(None, 3, 2, "m") == [(0, 3, None)]
    assert len(style_runs(torch.tensor([0.5, 0.5]), 3, 2, "m")) == 1
    for bad in (torch.ones(3), torch.ones(3, 2), torch.ones(1, 1, 2)):
        with pytest.raises(ModelError, match="m: style of shape"):
            style_runs(bad, 4, 2, "m")


class Fake:
    """A stylizer whose activations per pixel are given."""

    def __init__(self, per_px: float):
        self.name, self.device, self.precision = "fake", CPU, "fp32"
        self.activation_bytes_per_px = per_px

    def __call__(self, batch, style=None):
        return batch


def test_the_memory_plan_budgets_the_stylizers_activation_bytes(tmp_path, monkeypatch):
    from vidstyle.io.frame import VideoInfo
    from vidstyle.pipeline import scheduling
    from vidstyle.pipeline.api import Pipeline
    from vidstyle.pipeline.memory import GPU_SHARE

    info = VideoInfo(1000, 800, Fraction(25), Fraction(1, 25), frames=100)
    plans = [
        Pipeline(stylizer=Fake(a), run__progress="off").memory_plan(info, tmp_path / "o.mp4")
        for a in (100, 300)
    ]
    parallel = scheduling.frames_in_parallel(Pipeline(run__progress="off").cfg, CPU)
    assert plans[1].estimate - plans[0].estimate == pytest.approx(parallel * 200 * 1000 * 800, abs=2)
    # the GPU limit: GPU_SHARE of the free memory over the family's bytes per pixel
    monkeypatch.setattr(scheduling, "available_memory", lambda *a: int(1.01e6 * 600 / GPU_SHARE))
    assert scheduling.memory_limited_side(Fake(600.0), 1000, 1000, 1) == 0
    assert scheduling.memory_limited_side(Fake(600.0), 1000, 1000, 4) == 500
    assert scheduling.memory_limited_side(Fake(2400.0), 1000, 1000, 1) == 500
