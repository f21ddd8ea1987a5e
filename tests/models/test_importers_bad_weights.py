"""A user's weights file that is not one torch.save wrote, is damaged, or holds code is one line of
ours (issue 35, item 2): never torch's own pages (which end "Please file an issue" or advise
``weights_only=False``), and the code in a file never runs. ``vidstyle.weights.load_weights`` is
the one reader; ``models import`` goes through it here, ``optimize --vgg-weights`` in
tests/perceptual/test_vgg_bad_weights.py."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest
import torch
from conftest import run_cli

from vidstyle.errors import ModelError
from vidstyle.weights import load_weights

TORCH_TEXT = ("Traceback", "weights_only=False", "Please file an issue", "pickled objects", "torch.load")


class RunsCode:
    """Unpickled, it would run ``touch MARKER`` (os.system): it must never be."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class Opaque:
    """A plain object of a class: not a tensor, so weights_only refuses it."""


def garbage(d: Path) -> Path:
    (d / "garbage.pth").write_bytes(bytes(range(7, 256)) * 40)
    return d / "garbage.pth"


def truncated_zip(d: Path) -> Path:
    torch.save({"w": torch.zeros(64, 64)}, d / "whole.pth")
    data = (d / "whole.pth").read_bytes()
    (d / "cut.pth").write_bytes(data[: len(data) // 2])
    return d / "cut.pth"


def zip_with_code(d: Path) -> Path:
    torch.save({"conv1.conv2d.weight": RunsCode(d / "PWNED")}, d / "evil.pth")
    return d / "evil.pth"


def legacy_with_code(d: Path) -> Path:
    torch.save({"w": RunsCode(d / "PWNED")}, d / "old.pth", _use_new_zipfile_serialization=False)
    return d / "old.pth"


def raw_pickle_with_code(d: Path) -> Path:
    (d / "raw.pth").write_bytes(pickle.dumps(RunsCode(d / "PWNED"), protocol=2))
    return d / "raw.pth"


def object_of_a_class(d: Path) -> Path:
    torch.save({"x": Opaque()}, d / "thing.pth")
    return d / "thing.pth"


CASES = [
    (garbage, "is not a PyTorch weights file (it starts with neither the zip archive nor the pickle"),
    (truncated_zip, "is not a PyTorch weights file (a damaged or truncated zip archive)"),
    (zip_with_code, "holds objects other than tensors (posix.system), refused: vidstyle loads weights only"),
    (legacy_with_code, "holds objects other than tensors (posix.system), refused"),
    (raw_pickle_with_code, "is not a PyTorch weights file (a Python pickle that torch.save did not write"),
    (object_of_a_class, "Opaque), refused: vidstyle loads weights only"),
]


@pytest.mark.parametrize("build,expected", CASES, ids=[c[0].__name__ for c in CASES])
def test_load_weights_says_what_the_file_is_in_one_line(tmp_path, build, expected):
    path = build(tmp_path)
    with pytest.raises(ModelError) as caught:
        load_weights(path)
    message = str(caught.value)
    assert message.startswith(str(path)) and expected in message
    assert "\n" not in message and not any(text in message for text in TORCH_TEXT)
    assert not (tmp_path / "PWNED").exists()


def test_load_weights_reads_what_torch_save_wrote(tmp_path):
    state = {"w": torch.arange(6.0).view(2, 3)}
    torch.save(state, tmp_path / "new.pth")
    torch.save(state, tmp_path / "old.pth", _use_new_zipfile_serialization=False)
    for name in ("new.pth", "old.pth"):
        loaded = load_weights(tmp_path / name)
        assert isinstance(loaded, dict) and torch.equal(loaded["w"], state["w"])


@pytest.mark.slow
@pytest.mark.parametrize("build,expected", CASES[:3], ids=[c[0].__name__ for c in CASES[:3]])
def test_models_import_of_a_bad_file_is_one_line(tmp_path, build, expected):
    path = build(tmp_path)
    proc = run_cli(
        "models", "import", str(path), "--name", "bad", env={"VIDSTYLE_HOME": str(tmp_path / "home")}
    )
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"vidstyle: error: {path} {expected}"), proc.stderr
    assert not any(text in proc.stderr for text in TORCH_TEXT), proc.stderr
    assert not (tmp_path / "PWNED").exists() and not (tmp_path / "home").exists()
