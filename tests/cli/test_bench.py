"""`vidstyle bench` on tiny frames: every output and field is there and consistent."""

from __future__ import annotations

import csv
import json

import pytest
from conftest import run_cli


@pytest.mark.slow
def test_bench_writes_json_csv_and_plot(tmp_path, tiny_model):
    js, cs, png = tmp_path / "b.json", tmp_path / "b.csv", tmp_path / "b.png"
    proc = run_cli(
        "bench",
        "--model",
        str(tiny_model),
        "--resolutions",
        "96x64,128x72",
        "--frames",
        "4",
        "--repeats",
        "2",
        "--json",
        str(js),
        "--csv",
        str(cs),
        "--plot",
        str(png),
        "--precisions",
        "onnx-fp32,torch-bf16",
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "ours/naive" in proc.stdout and "stylize" in proc.stdout
    data = json.loads(js.read_text())
    assert {"cpu", "cores", "gpu", "torch", "onnxruntime", "date"} <= set(data["machine"])
    assert [r["label"] for r in data["results"]] == ["96x64", "128x72"]
    for r in data["results"]:
        assert r["fps"] > 0 and r["naive_fps"] > 0 and r["fps_min"] <= r["fps"] <= r["fps_max"]
        assert r["naive_ratio"] == pytest.approx(r["fps"] / r["naive_fps"])
        assert r["frames"] == 4 and r["peak_rss_mb"] > 0 and r["gflop_per_frame"] > 0
        stages = {s["stage"]: s for s in r["stages"]}
        assert {"decode", "stylize", "encode"} <= set(stages)
        assert all(0 <= s["busy_share"] <= 1.5 for s in r["stages"])
        assert r["bottleneck"] in stages
        assert r["precision"] == "fp32"  # a 4-channel net: auto keeps fp32 (int8 would not pay off)
        specs = {p["spec"]: p for p in r["stylize_precisions"]}
        assert set(specs) == {"onnx-fp32", "torch-bf16"} and all(p["fps"] > 0 for p in specs.values())
        assert specs["torch-bf16"]["precision"] == "bf16" and specs["onnx-fp32"]["precision"] == "fp32"
    rows = list(csv.DictReader(cs.open()))
    assert [row["resolution"] for row in rows] == ["96x64", "128x72"]
    assert float(rows[0]["naive_ratio"]) == pytest.approx(data["results"][0]["naive_ratio"])
    assert "stylize_fps" in rows[0] and "encode_busy_share" in rows[0]
    assert float(rows[0]["stylize_torch-bf16_fps"]) > 0 and rows[0]["precision"] == "fp32"
    assert "stylize stage alone per precision" in proc.stdout
    assert png.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.slow
def test_bad_resolution_on_the_command_line(tiny_model):
    proc = run_cli("bench", "--model", str(tiny_model), "--resolutions", "360p,huge")
    assert proc.returncode == 2 and "unknown resolution 'huge'" in proc.stderr
    assert "Traceback" not in proc.stderr
