"""`vidstyle config show`: the file, then the flags; pipeline.yaml from the working directory."""

from __future__ import annotations

import pytest
import yaml
from conftest import run_cli

from vidstyle.config import PipelineConfig
from vidstyle.configtools import to_dict


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
