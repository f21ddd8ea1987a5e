"""TransformerNet, our model file format, the catalog, and safe import of foreign checkpoints."""

from __future__ import annotations

import json
import os

import pytest
import torch
from conftest import make_model, run_cli

from vidstyle.errors import ConfigError, ModelError
from vidstyle.models.catalog import list_styles, resolve_style, resolve_style_mix
from vidstyle.models.importers import import_checkpoint
from vidstyle.models.mix import parse_style_mix
from vidstyle.models.store import ModelMeta, load_model, read_meta, save_model
from vidstyle.models.transformer_net import ARCH_PRESETS, ArchConfig, TransformerNet, flops_per_pixel
from vidstyle.stylize.base import crop_to, pad_to_multiple


def test_full_architecture_matches_johnson():
    net = TransformerNet(ARCH_PRESETS["full"])
    assert sum(p.numel() for p in net.parameters()) == 1_679_235
    assert flops_per_pixel(ARCH_PRESETS["full"]) == pytest.approx(0.3076e6, rel=1e-3)
    ratio = flops_per_pixel(ARCH_PRESETS["full"]) / flops_per_pixel(ARCH_PRESETS["small"])
    assert 3.0 < ratio < 5.0


@pytest.mark.parametrize("h,w", [(8, 8), (36, 64), (52, 20)])
def test_shape_is_preserved(h, w):
    net = TransformerNet(ArchConfig(channels=4, res_blocks=1)).eval()
    assert net(torch.rand(2, 3, h, w) * 255).shape == (2, 3, h, w)


@pytest.mark.parametrize("h,w", [(1, 1), (3, 5), (358, 638), (9, 13)])
def test_pad_then_crop_restores_any_size(h, w):
    x = torch.rand(1, 3, h, w)
    padded, size = pad_to_multiple(x, 4)
    assert padded.shape[-2] % 4 == 0 and padded.shape[-1] % 4 == 0 and min(padded.shape[-2:]) >= 8
    assert torch.equal(crop_to(padded, size), x)


def test_cin_one_hot_rows_select_styles():
    net = TransformerNet(ArchConfig(channels=4, res_blocks=1, num_styles=2)).eval()
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.3)
    x = torch.rand(1, 3, 16, 16) * 255
    a, b = net(x, torch.tensor([1.0, 0.0])), net(x, torch.tensor([0.0, 1.0]))
    assert not torch.allclose(a, b)
    assert torch.equal(net(x), a)  # default = style 0


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


def _as_pytorch_examples(net: TransformerNet) -> dict[str, torch.Tensor]:
    """Our weights renamed to the pytorch/examples layout (the inverse of the importer)."""
    names = {
        "down.0": ("conv1", "in1"),
        "down.1": ("conv2", "in2"),
        "down.2": ("conv3", "in3"),
        "up.0": ("deconv1", "in4"),
        "up.1": ("deconv2", "in5"),
    }
    out = {}
    for k, v in net.state_dict().items():
        parts = k.split(".")
        if parts[0] in ("down", "up"):
            conv, norm = names[f"{parts[0]}.{parts[1]}"]
            key = f"{conv}.conv2d.{parts[-1]}" if parts[2] == "conv" else f"{norm}.{parts[-1]}"
        elif parts[0] == "res":
            sub = {"conv1": "conv1.conv2d", "conv2": "conv2.conv2d", "norm1": "in1", "norm2": "in2"}[parts[2]]
            key = f"res{int(parts[1]) + 1}.{sub}.{parts[-1]}"
        else:
            key = f"deconv3.conv2d.{parts[-1]}"
        out[key] = v.reshape(-1) if ".in" in f".{key}" or key.startswith("in") else v
    out["in1.running_mean"] = torch.zeros(32)  # old checkpoints carry these; they are dropped
    return out


@pytest.mark.slow
def test_import_pytorch_examples_checkpoint(tmp_path):
    torch.manual_seed(3)
    net = TransformerNet().eval()
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    torch.save(_as_pytorch_examples(net), tmp_path / "candy.pth")
    proc = run_cli(
        "models",
        "import",
        str(tmp_path / "candy.pth"),
        "--name",
        "candy",
        "-o",
        str(tmp_path / "candy.safetensors"),
    )
    assert proc.returncode == 0, proc.stderr
    imported, meta = load_model(tmp_path / "candy.safetensors")
    assert meta.arch == "full" and meta.recipe["imported_from"] == "candy.pth"
    x = torch.rand(1, 3, 40, 44) * 255
    with torch.no_grad():
        assert torch.equal(imported(x), net(x))


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.slow
def test_pickled_code_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    torch.save({"conv1.conv2d.weight": _Evil(marker)}, tmp_path / "evil.pth")
    with pytest.raises(ModelError, match="holds objects other than tensors"):
        import_checkpoint(tmp_path / "evil.pth", "evil")
    assert not marker.exists()
    proc = run_cli("models", "import", str(tmp_path / "evil.pth"), "--name", "evil")
    assert proc.returncode == 1 and "refused" in proc.stderr and "Traceback" not in proc.stderr
    assert not marker.exists()


def test_not_a_transformer_net_checkpoint(tmp_path):
    torch.save({"fc.weight": torch.zeros(2, 2)}, tmp_path / "other.pth")
    with pytest.raises(ModelError, match="not a pytorch/examples TransformerNet"):
        import_checkpoint(tmp_path / "other.pth", "other")


def test_catalog_user_dir_and_resolution(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("VIDSTYLE_HOME", str(home))
    make_model(home / "models" / "mine.safetensors", name="mine")
    make_model(home / "models" / "duo.safetensors", name="duo", num_styles=2)
    (home / "models" / "broken.safetensors").write_bytes(b"junk")
    names = [e.name for e in list_styles()]
    assert "mine" in names and "duo:s0" in names and "duo:s1" in names
    assert resolve_style("mine").source == "user"
    entry = resolve_style("s1")  # bare style of a multi-style model
    assert entry.name == "duo:s1" and entry.style_index == 1
    assert resolve_style(str(home / "models" / "mine.safetensors")).source == "path"
    with pytest.raises(ModelError, match="unknown style 'nope'"):
        resolve_style("nope")
    with pytest.raises(ModelError, match="model file not found"):
        resolve_style(str(tmp_path / "missing.safetensors"))


def test_style_mix_finds_the_model_that_holds_its_styles(tmp_path, monkeypatch):
    """``--style-mix a=..,b=..`` without ``--style``: the default single-style model lacks a and b,
    so the multi-style model holding both runs it; a mix no model holds keeps ``--style``'s."""
    home = tmp_path / "home"
    monkeypatch.setenv("VIDSTYLE_HOME", str(home))
    make_model(home / "models" / "duo.safetensors", name="duo", num_styles=2)
    make_model(home / "models" / "trio.safetensors", name="trio", num_styles=3)
    make_model(home / "models" / "mine.safetensors", name="mine")
    assert resolve_style_mix("mine", "").name == "mine"
    assert resolve_style_mix("mine", "s0=0.5,s2=0.5").meta.name == "trio"
    assert resolve_style_mix("duo:s0", "s0=0.3,s1=0.7").meta.name == "duo"  # its own model first
    # a mix no model holds: the model with most of it, whose parse names what it lacks
    assert resolve_style_mix("mine", "s0=1,s9=1").meta.name == "duo"


def test_style_mix_parsing(tmp_path):
    _, meta = load_model(make_model(tmp_path / "d.safetensors", num_styles=2))
    assert parse_style_mix("s0=3,s1=1", meta.style_names, meta.name) == [0.75, 0.25]
    for bad, msg in [
        ("s2=1", "not a style"),
        ("s0", "NAME=WEIGHT"),
        ("s0=x", "not a number"),
        ("s0=0", "sum to zero"),
        ("s0=-1", "negative"),
    ]:
        with pytest.raises(ConfigError, match=msg):  # a bad flag value: exit 2
            parse_style_mix(bad, meta.style_names, meta.name)


@pytest.mark.slow
def test_models_list_json_fields(tmp_path, monkeypatch):
    home = tmp_path / "home"
    make_model(home / "models" / "mine.safetensors", name="mine")
    proc = run_cli("models", "list", "--json", env={"VIDSTYLE_HOME": str(home)})
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    mine = next(r for r in rows if r["name"] == "mine")
    assert {"name", "default", "style_image", "arch", "bytes"} <= set(mine)
    assert mine["bytes"] == (home / "models" / "mine.safetensors").stat().st_size
    assert sum(r["default"] for r in rows) <= 1


def test_bundled_models_are_shippable():
    """Every bundled model: fp16, within the 8 MB budget, a card and a recipe beside it, the arch
    its name says, trained (not a placeholder), and it actually restyles an image."""
    from vidstyle.models.catalog import BUNDLED_DIR
    from vidstyle.train.card import total_steps

    bundled = [e for e in list_styles() if e.source == "bundled"]
    assert bundled and sum(e.default for e in bundled) == 1
    for entry in bundled:
        path = entry.model_path
        assert path.stat().st_size <= 8 * 1024 * 1024, path
        assert (BUNDLED_DIR / f"{entry.meta.name}.md").is_file()
        assert (BUNDLED_DIR / "recipes" / f"{entry.meta.name}.yaml").is_file()
        assert entry.meta.arch == ("small" if entry.meta.name.endswith("-small") else "full")
        # trained, not a placeholder; a fine-tune's steps count with those of the runs before it
        assert not entry.meta.placeholder and total_steps(entry.meta.recipe) >= 1000
        net, meta = load_model(path)
        assert all(p.dtype == torch.float32 for p in net.parameters())  # loaded for inference
        from safetensors import safe_open

        with safe_open(str(path), "pt") as f:
            assert all(f.get_slice(k).get_dtype() == "F16" for k in f.keys())
        x = torch.linspace(0, 255, 3 * 32 * 48).reshape(1, 3, 32, 48)
        with torch.no_grad():
            y = net(x)
        assert y.shape == x.shape and torch.isfinite(y).all()
        assert (y - x).abs().mean() > 10  # a style, not an identity map


def test_bundled_multi_style_models_mix_between_their_styles():
    """Every style of a bundled multi-style model resolves by its bare name, each restyles the
    portrait, and a 50/50 mix of two styles lies between them: nearer to each pure style than the
    other pure style is."""
    from vidstyle.io.synth import demo_photo

    multi = {e.model_path: e for e in list_styles() if e.source == "bundled" and len(e.meta.styles) > 1}
    assert multi, "no multi-style model is bundled"
    photo = torch.from_numpy(demo_photo()[::4, ::4].copy()).permute(2, 0, 1)[None].float()
    x = photo[..., : photo.shape[-2] // 4 * 4, : photo.shape[-1] // 4 * 4]
    for path in multi:
        net, meta = load_model(path)
        names = meta.style_names
        assert len(names) >= 2
        for n in names:  # the bare name (a single-style model of that name comes first)
            assert resolve_style(n).style_name == n
            assert resolve_style(f"{meta.name}:{n}").model_path == path
        with torch.no_grad():
            pure = [net(x, style_w=torch.eye(len(names))[i][None]) for i in range(len(names))]
            for y in pure:
                assert (y - x).abs().mean() > 10  # a style, not the input
            for a, b in zip(range(len(names) - 1), range(1, len(names))):
                w = torch.zeros(1, len(names))
                w[0, a] = w[0, b] = 0.5
                mix = net(x, style_w=w)
                d = lambda p, q: (p - q).abs().mean().item()  # noqa: E731
                assert d(mix, pure[a]) < d(pure[b], pure[a]), (names[a], names[b])
                assert d(mix, pure[b]) < d(pure[a], pure[b]), (names[a], names[b])
