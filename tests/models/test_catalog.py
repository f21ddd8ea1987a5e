"""models.catalog: user and bundled styles, resolution, mixes across models, bundled models shippable."""

from __future__ import annotations

import pytest
import torch
from conftest import make_model

from vidstyle.errors import ModelError
from vidstyle.models.catalog import list_styles, resolve_style, resolve_style_mix
from vidstyle.models.store import load_model


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
