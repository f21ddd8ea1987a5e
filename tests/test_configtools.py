"""configtools: overrides and their validation messages."""

from __future__ import annotations

import pytest

from vidstyle.config import PipelineConfig
from vidstyle.configtools import from_dict, override
from vidstyle.errors import ConfigError


@pytest.mark.parametrize(
    "key,value,message",
    [
        ("model.batch", "-2", "model.batch: -2 is below the minimum 0"),
        ("model.batch", "2.5", "model.batch: expected an integer, got 2.5"),
        ("run.stats", "maybe", "run.stats: expected true or false, got 'maybe'"),
        ("model.precision", "fp8", "model.precision: 'fp8' is not one of: auto, fp32, fp16, bf16, int8"),
        ("model.styel", "x", "unknown config key 'model.styel' (did you mean 'model.style'?)"),
        ("modle.style", "x", "unknown config key 'modle' (did you mean 'model'?)"),
        ("encode.crf.x", "1", "config key 'encode.crf' has no sub-keys"),
    ],
)
def test_override_errors_name_the_key(key, value, message):
    with pytest.raises(ConfigError) as err:
        override(PipelineConfig(), key, value)
    assert str(err.value) == message


def test_string_fields_keep_literal_text():
    cfg = override(PipelineConfig(), "model.style", "1e3")
    assert cfg.model.style == "1e3"
    cfg = override(PipelineConfig(), "model.device", "cuda:1")
    assert cfg.model.device == "cuda:1"


def test_from_dict_rejects_wrong_section_type():
    with pytest.raises(ConfigError, match="model: expected a mapping of settings"):
        from_dict(PipelineConfig, {"model": [1, 2]})
