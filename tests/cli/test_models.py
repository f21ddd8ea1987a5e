"""vidstyle models: list --json."""

from __future__ import annotations

import json

import pytest
from conftest import make_model, run_cli


@pytest.mark.slow
def test_models_list_json_fields(tmp_path, monkeypatch):
    home = tmp_path / "home"
    make_model(home / "models" / "mine.safetensors", name="mine")
    proc = run_cli("models", "list", "--json", env={"VIDSTYLE_HOME": str(home)})
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    mine = next(r for r in rows if r["name"] == "mine")
    assert {"name", "default", "style_image", "arch", "bytes"} <= set(mine)
    assert mine["bytes"] == (home / "models" / "mine.safetensors").stat().st_size
    assert sum(r["default"] for r in rows) <= 1
