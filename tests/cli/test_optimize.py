"""`vidstyle optimize`: its errors, each one line."""

from __future__ import annotations

import urllib.error
import urllib.request

import torch
from conftest import moving_frames
from optimize_helpers import clip


# ------------------------------------------------------------------------------ errors (CLI)
def cli(capsys, *args) -> tuple[int, str]:
    from vidstyle.cli import main

    code = main(["optimize", *map(str, args), "--device", "cpu", "--no-progress"])
    return code, capsys.readouterr().err


def test_error_without_vgg_weights_offline(monkeypatch, tmp_path, painting, capsys):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "torch" / "hub"))

    def refuse(*a, **k):
        raise urllib.error.URLError("no network in tests")

    monkeypatch.setattr(torch.hub, "urlopen", refuse)
    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    photo = tmp_path / "p.png"
    from PIL import Image

    Image.fromarray(moving_frames(1, 16, 16)[0]).save(photo)
    code, err = cli(capsys, photo, "-o", tmp_path / "o.png", "--style-image", painting)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code != 0 and len(lines) == 1 and "--vgg-weights FILE" in lines[0] and "Traceback" not in err
    assert not (tmp_path / "o.png").exists()


def test_error_unreadable_style_image(tmp_path, capsys):
    from PIL import Image

    photo = tmp_path / "p.png"
    Image.fromarray(moving_frames(1, 16, 16)[0]).save(photo)
    bad = tmp_path / "painting.jpg"
    bad.write_bytes(b"not a jpeg at all")
    code, err = cli(capsys, photo, "-o", tmp_path / "o.png", "--style-image", bad)
    assert code != 0 and "style image" in err and "painting.jpg" in err and "Traceback" not in err
    code, err = cli(capsys, photo, "-o", tmp_path / "o.png", "--style-image", tmp_path / "missing.jpg")
    assert code != 0 and "style image not found" in err
    code, err = cli(capsys, photo, "-o", tmp_path / "o.png")
    assert code != 0 and "--style-image" in err


def test_error_size_that_does_not_fit_memory(monkeypatch, random_vgg, painting, tmp_path, capsys):
    from vidstyle.optimize import gatys

    monkeypatch.setattr(gatys, "available_memory", lambda device=None: 1 << 20)
    video = clip(tmp_path / "c.mp4", 2, audio=False)
    vgg = tmp_path / "vgg.pth"
    torch.save(random_vgg.features.state_dict(), vgg)
    code, err = cli(
        capsys,
        video,
        "-o",
        tmp_path / "o.mp4",
        "--style-image",
        painting,
        "--vgg-weights",
        vgg,
        "--size",
        "64",
    )
    assert code != 0 and "lower --size" in err and "Traceback" not in err
    assert len([ln for ln in err.splitlines() if ln.startswith("vidstyle: error:")]) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.mp4", "vgg.pth"]  # nothing left behind
