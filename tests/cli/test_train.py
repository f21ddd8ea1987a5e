"""`vidstyle train` end to end on a tiny generated training set (train_helpers.py)."""

from __future__ import annotations

import torch
from train_helpers import SIZE


def test_cli_trains_end_to_end(data, tmp_path, capsys):
    from vidstyle.cli import main
    from vidstyle.models.store import load_model
    from vidstyle.perceptual.vgg import vgg16_features

    torch.manual_seed(0)
    vgg_file = tmp_path / "vgg.pth"
    torch.save(vgg16_features().state_dict(), vgg_file)
    out = tmp_path / "models" / "tiny.safetensors"
    args = [
        "train",
        "--style",
        str(data / "swirl.jpg"),
        "--style",
        str(data / "stripes.jpg"),
        "--content",
        str(data / "content"),
        "-o",
        str(out),
        "--vgg-weights",
        str(vgg_file),
        "--arch",
        "small",
        "--steps",
        "3",
        "--batch",
        "2",
        "--image-size",
        str(SIZE),
        "--device",
        "cpu",
        "--no-progress",
        "--set",
        f"run.sample_size={SIZE}",
        "--set",
        "data.style_size=48",
    ]
    assert main(args) == 0
    net, meta = load_model(out)
    assert meta.name == "tiny" and meta.style_names == ["swirl", "stripes"]
    with torch.no_grad():
        y = net(torch.rand(1, 3, 16, 16) * 255, torch.tensor([0.5, 0.5]))
    assert y.shape == (1, 3, 16, 16) and torch.isfinite(y).all()
    # resume and extend by one step from the last checkpoint
    last = out.with_suffix(".run") / "checkpoints" / "last.safetensors"
    assert main(["train", "--resume", str(last), "-o", str(out), "--steps", "4", "--no-progress"]) == 0
    assert load_model(out)[1].recipe["steps"] == 4
    # user errors are one line and a non-zero exit code
    assert (
        main(
            [
                "train",
                "--style",
                str(tmp_path / "nope.jpg"),
                "--content",
                str(data / "content"),
                "-o",
                str(out),
                "--vgg-weights",
                str(vgg_file),
            ]
        )
        == 1
    )
    assert main(["train", "--dump-config", "--steps", "7"]) == 0
    assert "steps: 7" in capsys.readouterr().out
