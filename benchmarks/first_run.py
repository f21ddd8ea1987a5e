"""Time to the first written frame of `vidstyle stylize` on a fresh install, and of the run after.

    python benchmarks/first_run.py [--seconds 1,4] [--repeats 2] [--before DIR] [--json OUT]

Each run is `vidstyle stylize clip.mp4 -o out.mp4` with default settings and the bundled default
style, as a new process with an empty ``VIDSTYLE_HOME``; the clip is `vidstyle demo`'s sample
(640x360, 29.97 fps) of each length. Measured from the process start: the first frame handed to
the encoder (the progress hook), and the process end. Then the background build is waited for and
the same command runs again in that home (the cached models). ``--before DIR``: a copy of the
``vidstyle`` package before the change (``git archive COMMIT vidstyle | tar -x -C DIR``), run
interleaved with this one in every repeat, so the ratios compare like with like on a loaded
machine.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTE = "a shared 2-core machine loaded by other jobs: compare before/after within one repeat only"

# The child: the CLI, with the progress hook reporting the first written frame on stderr.
CHILD = """
import sys, time
from vidstyle.pipeline import api
tick = api._Progress.tick
def first(self, result):
    if result.frames_out and not getattr(api, "_first_seen", False):
        api._first_seen = True
        print(f"FIRST_FRAME {time.time():.3f}", file=sys.stderr, flush=True)
    tick(self, result)
api._Progress.tick = first
from vidstyle.cli import main
sys.exit(main(sys.argv[1:]))
"""


def run_once(src: Path, clip: Path, home: Path, out: Path) -> dict:
    """One `vidstyle stylize` process of the package in ``src``: times (s) and what it logged."""
    env = {**os.environ, "PYTHONPATH": str(src), "VIDSTYLE_HOME": str(home)}
    env.pop("VIDSTYLE_PREPARE", None)
    start = time.time()
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, "stylize", str(clip), "-o", str(out), "-y"],
        env=env,
        cwd=clip.parent,  # not the checkout: `-c` puts the working directory first on sys.path
        capture_output=True,
        text=True,
    )
    total = time.time() - start
    if proc.returncode != 0:
        raise SystemExit(f"run failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    first = re.search(r"FIRST_FRAME ([0-9.]+)", proc.stderr)
    engine = re.search(r" \[([^\]]+)\]\n", proc.stderr)
    return {
        "first_frame_s": round(float(first.group(1)) - start, 2) if first else None,
        "total_s": round(total, 2),
        "engine": engine.group(1) if engine else None,
        "log": [ln for ln in proc.stderr.splitlines() if ln.startswith("vidstyle:")],
    }


def wait_for_background(home: Path, timeout: float = 1800.0) -> float:
    """Seconds until no background build runs in ``home`` (its lock files are gone)."""
    start = time.time()
    while any(home.rglob("*.building")) and time.time() - start < timeout:
        time.sleep(1.0)
    return round(time.time() - start, 1)


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from common import machine, save_json  # benchmarks/common.py

    from vidstyle.io.synth import demo_clip

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", default="1", help="clip lengths, comma-separated (default 1)")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--before", type=Path, help="the vidstyle package before the change (its parent dir)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    variants = {"after": ROOT} | ({"before": args.before.resolve()} if args.before else {})
    rows = []
    with tempfile.TemporaryDirectory(prefix="first-run-") as tmp:
        for seconds in [float(s) for s in args.seconds.split(",")]:
            clip = demo_clip(Path(tmp) / f"clip{seconds:g}.mp4", seconds=seconds)
            for repeat in range(args.repeats):
                for name, src in variants.items():
                    home = Path(tempfile.mkdtemp(prefix=f"home-{name}-", dir=tmp))
                    out = Path(tmp) / f"{name}.mp4"
                    first = run_once(src, clip, home, out)
                    ready_after = wait_for_background(home)
                    second = run_once(src, clip, home, out)
                    row = {
                        "variant": name,
                        "clip_s": seconds,
                        "repeat": repeat,
                        "first_run": first,
                        "background_ready_after_run_s": ready_after,
                        "second_run": second,
                    }
                    rows.append(row)
                    print(
                        f"{name:6s} {seconds:g} s clip #{repeat}: first frame {first['first_frame_s']} s, "
                        f"total {first['total_s']} s [{first['engine']}]; int8 ready {ready_after} s later; "
                        f"next run: first frame {second['first_frame_s']} s, total {second['total_s']} s "
                        f"[{second['engine']}]",
                        flush=True,
                    )
                    save_json(args.json, {"machine": machine(), "note": NOTE, "runs": rows})  # so far
    return 0


if __name__ == "__main__":
    sys.exit(main())
