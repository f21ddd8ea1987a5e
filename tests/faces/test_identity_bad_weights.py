"""The identity network's weights file goes through the one reader of torch files (issue 35,
item 2): a file that is not torch.save's, or one holding code, is one line of ours."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vidstyle.errors import ModelError
from vidstyle.faces.identity import load_identity_net


class RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        import os

        return (os.system, (f"touch {self.marker}",))


def test_identity_weights_that_are_not_weights(tmp_path):
    (tmp_path / "noise.pth").write_bytes(np.random.default_rng(2).bytes(3000))
    with pytest.raises(ModelError, match=r"noise.pth is not a PyTorch weights file \(") as caught:
        load_identity_net(tmp_path / "noise.pth")
    assert "pickled" not in str(caught.value) and "\n" not in str(caught.value)
    torch.save({"fc": RunsCode(tmp_path / "PWNED")}, tmp_path / "evil.pth")
    with pytest.raises(ModelError, match=r"holds objects other than tensors \(posix.system\), refused"):
        load_identity_net(tmp_path / "evil.pth")
    assert not (tmp_path / "PWNED").exists()
    torch.save([torch.zeros(2)], tmp_path / "list.pth")
    with pytest.raises(ModelError, match="not the face descriptor network's weights"):
        load_identity_net(tmp_path / "list.pth")
