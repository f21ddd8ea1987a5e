"""A PyTorch checkpoint given where a vidstyle model belongs (``--style candy.pth``) points to
``vidstyle models import`` (issue 35, item 4), instead of "corrupt safetensors header"."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import run_cli
from PIL import Image

from vidstyle.errors import ModelError
from vidstyle.models.catalog import resolve_style
from vidstyle.models.store import read_meta


def test_a_checkpoint_is_told_apart_by_its_bytes_and_its_name(tmp_path):
    torch.save({"w": torch.zeros(2)}, tmp_path / "candy.pth")
    (tmp_path / "candy.pth").rename(tmp_path / "renamed.safetensors")  # the bytes tell
    with pytest.raises(
        ModelError, match=r"renamed.safetensors is a PyTorch checkpoint, not a vidstyle model"
    ):
        read_meta(tmp_path / "renamed.safetensors")
    (tmp_path / "noise.pt").write_bytes(b"\x00" * 100)  # the name tells
    with pytest.raises(ModelError, match=r"noise.pt is a \.pt file, not a vidstyle model: convert it"):
        read_meta(tmp_path / "noise.pt")
    with pytest.raises(ModelError, match="model file not found: missing.pth"):
        resolve_style("missing.pth")


@pytest.mark.slow
def test_stylize_with_a_pth_style_points_to_models_import(tmp_path):
    photo = tmp_path / "photo.png"
    Image.fromarray(np.full((32, 40, 3), 90, np.uint8)).save(photo)
    torch.save({"conv1.conv2d.weight": torch.zeros(32, 3, 9, 9)}, tmp_path / "candy.pth")
    proc = run_cli(
        "stylize", str(photo), "-o", str(tmp_path / "out.png"), "--style", str(tmp_path / "candy.pth")
    )
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.strip().splitlines() == [
        f"vidstyle: error: {tmp_path / 'candy.pth'} is a PyTorch checkpoint, not a vidstyle model: convert "
        f"it once with `vidstyle models import {tmp_path / 'candy.pth'} --name candy`, then use --style candy"
    ]
    assert "safetensors" not in proc.stderr and not (tmp_path / "out.png").exists()
    assert not list(Path(tmp_path).glob("out*"))
