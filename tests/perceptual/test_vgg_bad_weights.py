"""``optimize --vgg-weights FILE`` with a file that is not VGG16 weights is one line of ours
(issue 35, item 2), through the one reader ``vidstyle.weights.load_weights``: torch's own text
(its "Please file an issue", its advice to load with ``weights_only=False``) never reaches the
user, and code in the file never runs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import run_cli
from PIL import Image

from vidstyle.errors import ModelError
from vidstyle.perceptual.vgg import load_vgg

TORCH_TEXT = ("Traceback", "weights_only=False", "Please file an issue", "pickled objects", "torch.load")


class RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.marker}",))


def bad_files(d):
    """(file, what its one line must say) for random bytes, a cut zip and a pickle with code."""
    (d / "garbage.pth").write_bytes(np.random.default_rng(1).bytes(4000))
    torch.save({"0.weight": torch.zeros(64, 3, 3, 3)}, d / "whole.pth")
    data = (d / "whole.pth").read_bytes()
    (d / "cut.pth").write_bytes(data[: len(data) // 2])
    torch.save({"0.weight": RunsCode(d / "PWNED")}, d / "evil.pth")
    return [
        (d / "garbage.pth", "is not a PyTorch weights file"),
        (d / "cut.pth", "is not a PyTorch weights file (a damaged or truncated zip archive)"),
        (d / "evil.pth", "holds objects other than tensors (posix.system), refused"),
    ]


def test_load_vgg_of_bad_files(tmp_path):
    for path, expected in bad_files(tmp_path):
        with pytest.raises(ModelError) as caught:
            load_vgg(path)
        assert expected in str(caught.value) and "\n" not in str(caught.value)
    torch.save([torch.zeros(1)], tmp_path / "list.pth")  # tensors, but not a state dict
    with pytest.raises(ModelError, match="not VGG16 weights"):
        load_vgg(tmp_path / "list.pth")
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.slow
def test_optimize_vgg_weights_bad_files_are_one_line(tmp_path):
    photo = tmp_path / "photo.png"
    Image.fromarray(np.full((32, 40, 3), 90, np.uint8)).save(photo)
    out = tmp_path / "out.png"
    for path, expected in bad_files(tmp_path):
        proc = run_cli(
            "optimize", str(photo), "-o", str(out), "--style-image", str(photo), "--vgg-weights", str(path)
        )
        assert proc.returncode == 1, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"vidstyle: error: {path} {expected}"), proc.stderr
        assert not any(text in proc.stderr for text in TORCH_TEXT), proc.stderr
    assert not (tmp_path / "PWNED").exists() and not out.exists()
