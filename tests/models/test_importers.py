"""models.importers: safe import of foreign checkpoints (pytorch/examples), pickled code refused."""

from __future__ import annotations

import os

import pytest
import torch
from conftest import run_cli

from vidstyle.errors import ModelError
from vidstyle.models.importers import import_checkpoint
from vidstyle.models.store import load_model
from vidstyle.models.transformer_net import TransformerNet


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
