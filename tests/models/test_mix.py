"""models.mix: parsing --style-mix against a model's styles."""

from __future__ import annotations

import pytest
from conftest import make_model

from vidstyle.errors import ConfigError
from vidstyle.models.mix import parse_style_mix
from vidstyle.models.store import load_model


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
