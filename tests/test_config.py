"""pipeline.yaml <-> the typed config: defaults, validation messages, overrides."""

from __future__ import annotations

import pytest
import yaml
from conftest import REPO, run_cli

from vidstyle.config import PipelineConfig, config_yaml, load_config
from vidstyle.configtools import from_dict, override, to_dict
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


@pytest.mark.slow
def test_config_show_applies_file_then_flags(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("model:\n  batch: 3\n  style: wave\n")
    proc = run_cli("config", "show", "--config", str(path), "--batch", "5", "--set", "encode.crf=30")
    assert proc.returncode == 0, proc.stderr
    shown = yaml.safe_load(proc.stdout)
    assert shown["model"] == {**to_dict(PipelineConfig())["model"], "batch": 5, "style": "wave"}
    assert shown["encode"]["crf"] == 30


@pytest.mark.slow
def test_cwd_pipeline_yaml_is_picked_up(tmp_path):
    (tmp_path / "pipeline.yaml").write_text("encode:\n  crf: 40\n")
    proc = run_cli("config", "show", cwd=tmp_path)
    assert yaml.safe_load(proc.stdout)["encode"]["crf"] == 40


def test_comma_separated_numbers_from_a_flag_become_numbers():
    cfg = load_config(overrides={"temporal.occlusion": "0.02,0.4", "optimize.long_term": "1,10,20"})
    assert cfg.temporal.occlusion == [0.02, 0.4] and cfg.optimize.long_term == [1, 10, 20]
    with pytest.raises(ConfigError, match=r"optimize.long_term\[0\]: expected an integer"):
        load_config(overrides={"optimize.long_term": "a,b"})
