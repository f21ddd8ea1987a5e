"""pipeline.yaml <-> the typed config: defaults, files, values from flags."""

from __future__ import annotations

import pytest
import yaml
from conftest import REPO

from vidstyle.config import PipelineConfig, config_yaml, load_config
from vidstyle.configtools import override
from vidstyle.errors import ConfigError


def test_pipeline_yaml_documents_every_default():
    """The shipped pipeline.yaml is exactly the defaults, with a help comment per key."""
    assert (REPO / "pipeline.yaml").read_text() == config_yaml(PipelineConfig())
    assert load_config(REPO / "pipeline.yaml") == PipelineConfig()


def test_yaml_round_trip_of_non_defaults(tmp_path):
    cfg = override(override(PipelineConfig(), "model.batch", "7"), "encode.options", {"tune": "film"})
    path = tmp_path / "p.yaml"
    path.write_text(config_yaml(cfg))
    assert load_config(path) == cfg
    assert yaml.safe_load(path.read_text())["model"]["batch"] == 7


def test_partial_file_keeps_other_defaults(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("encode:\n  crf: 23\n")
    cfg = load_config(path)
    assert cfg.encode.crf == 23 and cfg.encode.preset == "medium" and cfg.model.style == "default"


def test_comma_separated_numbers_from_a_flag_become_numbers():
    cfg = load_config(overrides={"temporal.occlusion": "0.02,0.4", "optimize.long_term": "1,10,20"})
    assert cfg.temporal.occlusion == [0.02, 0.4] and cfg.optimize.long_term == [1, 10, 20]
    with pytest.raises(ConfigError, match=r"optimize.long_term\[0\]: expected an integer"):
        load_config(overrides={"optimize.long_term": "a,b"})
