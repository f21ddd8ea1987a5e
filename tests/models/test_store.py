"""models.store: our model file format (safetensors + JSON metadata), round trips and damaged files."""

from __future__ import annotations

import pytest
import torch
from conftest import make_model

from vidstyle.errors import ModelError
from vidstyle.models.store import ModelMeta, load_model, read_meta, save_model
from vidstyle.models.transformer_net import TransformerNet


def test_save_load_round_trip(tmp_path):
    path = make_model(tmp_path / "m.safetensors", num_styles=2, name="duo")
    net, meta = load_model(path)
    assert meta.style_names == ["s0", "s1"] and meta.arch_obj().num_styles == 2
    assert read_meta(path) == meta
    again = save_model(net, meta, tmp_path / "again.safetensors", dtype=torch.float32)
    net2, _ = load_model(again)
    for (k, v), (_, v2) in zip(net.state_dict().items(), net2.state_dict().items()):
        assert torch.equal(v, v2), k


def test_fp16_file_is_half_the_size_and_close(tmp_path):
    net = TransformerNet()
    meta = ModelMeta(name="x", styles=[{"name": "x", "style_image": ""}])
    p16 = save_model(net, meta, tmp_path / "a.safetensors")
    p32 = save_model(net, meta, tmp_path / "b.safetensors", dtype=torch.float32)
    assert p16.stat().st_size < 0.55 * p32.stat().st_size
    x = torch.rand(1, 3, 32, 32) * 255
    with torch.no_grad():
        assert torch.allclose(load_model(p16)[0](x), net.eval()(x), atol=0.5)


@pytest.mark.parametrize(
    "damage,pattern",
    [
        (lambda b: b[:100], "corrupt"),
        (lambda b: b"\xff" * 8 + b[8:], "corrupt safetensors header"),
        (lambda b: b[:4], "too short"),
        (lambda b: b[: len(b) // 2], "corrupt model file"),
    ],
)
def test_corrupt_model_files_give_clear_errors(tmp_path, tiny_model, damage, pattern):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(damage(tiny_model.read_bytes()))
    with pytest.raises(ModelError, match=pattern):
        load_model(bad)


def test_safetensors_without_our_metadata(tmp_path):
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(2)}, str(tmp_path / "foreign.safetensors"))
    with pytest.raises(ModelError, match="without vidstyle metadata"):
        read_meta(tmp_path / "foreign.safetensors")
