"""The headline numbers of a ``benchmarks/gpu/run.sh`` run, from its results folder, as JSON.

    python benchmarks/gpu/summarize.py WORKDIR STEPS_TSV [--table]

WORKDIR holds ``results/`` (what the steps wrote); STEPS_TSV has one ``name<TAB>exit<TAB>seconds``
line per step. Prints the summary JSON, or with ``--table`` a short human table of the same. Never
fails on missing or partial results: what is absent is left out.
"""

from __future__ import annotations

import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def _load(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def tests_summary(xml_path: Path) -> dict | None:
    try:
        root = ET.parse(xml_path).getroot()
    except (OSError, ET.ParseError):
        return None
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    if suite is None:
        return None
    failed = [
        f"{c.get('classname')}::{c.get('name')}"
        for c in suite.iter("testcase")
        if c.find("failure") is not None or c.find("error") is not None
    ]
    return {k: int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")} | {"failed": failed}


def best_stylize(rows: list[dict]) -> dict:
    """Per style, variant and resolution: the batch with the highest fps."""
    best: dict[str, dict] = {}
    for r in rows:
        if "fps" not in r:
            continue
        key = f"{r['style']}/{r['variant']}/{r['resolution']}"
        if key not in best or r["fps"] > best[key]["fps"]:
            best[key] = {
                "fps": r["fps"],
                "batch": r["batch"],
                "ms_per_frame": r["ms_per_frame"],
                "tflops": r["tflops"],
            }
    return best


def summarize(workdir: Path, steps_tsv: Path) -> dict:
    res = workdir / "results"
    out: dict = {"steps": []}
    try:
        for line in steps_tsv.read_text().splitlines():
            name, rc, secs = line.split("\t")
            out["steps"].append({"step": name, "exit": rc, "seconds": int(secs)})
    except (OSError, ValueError):
        pass
    if (device := _load(res / "device.json")) is not None:
        out["device"] = device
    if (tests := tests_summary(res / "pytest-gpu.xml")) is not None:
        out["tests"] = tests
    stylize = {}
    errors = []
    for name in ("sweep_batch", "sweep_variants", "sweep_compile"):
        data = _load(res / f"{name}.json")
        if data:
            stylize |= best_stylize(data["rows"])
            errors += [
                f"{r['style']}/{r['variant']}/{r['resolution']}/b{r['batch']}: {r['error']}"
                for r in data["rows"]
                if "error" in r
            ]
    if stylize:
        out["stylize_alone_best"] = stylize
    if errors:
        out["stylize_errors"] = errors
    for name in ("bench_full", "bench_small", "bench_tuned"):
        data = _load(res / f"{name}.json")
        if data:
            out[name] = {
                r["label"]: {
                    "fps": round(r["fps"], 1),
                    "bottleneck": r["bottleneck"],
                    "naive_fps": r["naive_fps"] and round(r["naive_fps"], 1),
                    "stages_fps": {s["stage"]: s["fps"] and round(s["fps"], 1) for s in r["stages"]},
                    "peak_gpu_mb": r["peak_gpu_mb"] and round(r["peak_gpu_mb"]),
                }
                for r in data["results"]
            } | {"stylizer": data["settings"]["stylizer"]}
    for path in sorted(res.glob("stream_*.json")):
        data = _load(path)
        if data:
            out.setdefault("stream", {})[data["size"]] = {
                k: data.get(k)
                for k in ("output_fps", "dropped", "captured", "written", "latency_p50_ms", "latency_p95_ms")
            }
    return out


def table(summary: dict) -> str:
    lines = ["step                 exit   s"]
    lines += [f"{s['step']:20} {s['exit']:>4} {s['seconds']:4}" for s in summary.get("steps", [])]
    if "tests" in summary:
        t = summary["tests"]
        lines.append(
            f"\ngpu tests: {t['tests']} run, {t['failures']} failed, {t['errors']} errors, "
            f"{t['skipped']} skipped" + "".join(f"\n  FAILED {f}" for f in t["failed"])
        )
    if "stylize_alone_best" in summary:
        lines.append("\nstylize alone (best batch)          fps  batch  ms/frame  TFLOP/s")
        for key, v in summary["stylize_alone_best"].items():
            lines.append(
                f"  {key:32} {v['fps']:8.1f} {v['batch']:5} {v['ms_per_frame']:9.3f} {v['tflops']:7.2f}"
            )
    for name in ("bench_full", "bench_small", "bench_tuned"):
        if name in summary:
            rows = {k: v for k, v in summary[name].items() if k != "stylizer"}
            lines.append(
                f"\n{name} ({summary[name]['stylizer']}): "
                + ", ".join(f"{res} {v['fps']} fps [{v['bottleneck']}]" for res, v in rows.items())
            )
    for size, v in summary.get("stream", {}).items():
        lines.append(
            f"stream {size}: out {v['output_fps']} fps, dropped {v['dropped']}/{v['captured']}, "
            f"latency p50/p95 {v['latency_p50_ms']}/{v['latency_p95_ms']} ms"
        )
    return "\n".join(lines)


def main() -> int:
    summary = summarize(Path(sys.argv[1]), Path(sys.argv[2]))
    print(table(summary) if "--table" in sys.argv[3:] else json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
