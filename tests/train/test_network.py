"""Building the network to train: a fresh one follows the seed; where a warm start comes from.
(Warm starts and extensions end to end: tests/train/test_trainer.py.)"""

from __future__ import annotations

import pytest
import torch

from vidstyle.models.store import ModelMeta
from vidstyle.train.config import TrainConfig
from vidstyle.train.network import Start, build_network, resolve_start


def test_a_fresh_network_follows_the_seed_and_trains_every_weight():
    cpu = torch.device("cpu")
    a = build_network(Start(), "small", ["a", "b"], seed=3, device=cpu)
    b = build_network(Start(), "small", ["a", "b"], seed=3, device=cpu)
    c = build_network(Start(), "small", ["a", "b"], seed=4, device=cpu)
    assert a.net.num_styles == 2 and a.init_meta is None
    assert len(a.trainable) == len(list(a.net.parameters()))
    assert all(torch.equal(v, b.net.state_dict()[k]) for k, v in a.net.state_dict().items())
    assert not all(torch.equal(v, c.net.state_dict()[k]) for k, v in a.net.state_dict().items())


def test_start_rows_and_its_rules(tmp_path):
    base = ModelMeta(name="base", styles=[{"name": "x", "style_image": "x.jpg"}] * 3)
    assert Start().style_offset == 0 and Start(init=tmp_path / "m.safetensors").style_offset == 0
    assert Start(extend=tmp_path / "m.safetensors", base=base).style_offset == 3
    with pytest.raises(ValueError, match="base metadata"):
        Start(extend=tmp_path / "m.safetensors")
    with pytest.raises(ValueError, match="excludes init"):
        Start(init=tmp_path / "a", extend=tmp_path / "b", base=base)
    assert resolve_start(TrainConfig(), ["a"]) == Start()
