"""`vidstyle batch` against `vidstyle stylize` one file after another (a benchmark, not a test).

    python benchmarks/batch_scale.py [--clips 3] [--seconds 6] [--chunk-seconds 2]
                                     [--style starry_night-small] [--size 240x320]
                                     [--json benchmarks/results/batch_scale-cpu.json]

The same generated clips (a camera move over the demo portrait with a tone, 25 fps, a keyframe
every second) go through:
  - `stylize`: one Pipeline (model loaded once), the clips one by one, all cores to one run;
  - `batch`, 1 worker holding all cores (cpus_per_task = cores);
  - `batch`, one worker per core (cpus_per_task = 1).
Reported: wall seconds (including Ray's start and the workers' model loading: the wall minus
the chunk seconds per worker is ``seconds_outside_chunks``), frames/s and the ratio to
`stylize`; per-chunk rates (frames per worker-second, what the cluster estimate in the
README uses); and seam flicker: E_warp (Lai et al., the original's flow) of the frame pairs
that straddle a chunk boundary against the pairs inside chunks, for the batch output and for the
unchunked `stylize` output at the same pairs, and for `stylize` with the encoder's keyframes
forced onto the seams (each chunk starts with a keyframe: this separates the keyframe's own
effect from the chunking's).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, save_json


def make_clips(folder: Path, n: int, seconds: float, size: tuple[int, int]) -> list[Path]:
    from vidstyle.io.synth import demo_photo, pan_zoom, tone, write_clip

    frames = int(round(seconds * 25))
    photo = demo_photo()
    clips = []
    for k in range(n):
        images = pan_zoom(
            photo,
            frames,
            size,
            zoom=(1.0 + 0.1 * k, 1.3 + 0.1 * k),
            pan=(0.08, 0.05),
            center=(0.5, 0.35 + 0.05 * k),
        )
        clips.append(write_clip(folder / f"clip{k}.mp4", images, Fraction(25), audio=tone(seconds), gop=25))
    return clips


def frames_of(path: Path) -> list[np.ndarray]:
    import av

    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def seam_flicker(src: Path, videos: dict[str, Path], seams: list[int]) -> dict:
    """E_warp of pairs (t, t+1) with t+1 a chunk's first frame, against all other pairs."""
    from vidstyle.eval.flicker import warping_errors

    results = warping_errors(frames_of(src), [frames_of(v) for v in videos.values()])
    at = set(s - 1 for s in seams)  # pair index t: (t, t+1)

    def split(errors: list[float]) -> dict:
        seam = [e for t, e in enumerate(errors) if t in at and not np.isnan(e)]
        inner = [e for t, e in enumerate(errors) if t not in at and not np.isnan(e)]
        return {
            "seam_pairs": len(seam),
            "e_warp_seam": float(np.mean(seam)) if seam else None,
            "e_warp_within": float(np.mean(inner)),
            "seam_over_within": float(np.mean(seam) / np.mean(inner)) if seam else None,
        }

    return {name: split(res.per_pair) for name, res in zip(videos, results)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--chunk-seconds", type=float, default=2.0)
    ap.add_argument("--style", default="starry_night-small")
    ap.add_argument("--size", default="240x320", help="HxW of the generated clips")
    ap.add_argument("--json", type=Path, default=Path("benchmarks/results/batch_scale-cpu.json"))
    args = ap.parse_args()

    from vidstyle import Pipeline, batch
    from vidstyle.batch.plan import file_chunks, overlap_frames, scan
    from vidstyle.config import load_config
    from vidstyle.sysinfo import cpu_count

    h, w = (int(v) for v in args.size.split("x"))
    cores = cpu_count()
    settings = {"model.style": args.style, "run.progress": "off"}
    work = Path(tempfile.mkdtemp(prefix="vidstyle-batch-bench-"))
    try:
        clips = make_clips(work, args.clips, args.seconds, (h, w))
        cfg = load_config(None, settings, search_cwd=False)
        total = sum(scan(c).frames for c in clips)

        t0 = time.perf_counter()
        pipeline = Pipeline(cfg)
        (work / "stylize").mkdir()
        for clip in clips:
            pipeline.run(clip, work / "stylize" / clip.name)
        stylize_s = time.perf_counter() - t0
        runs = {
            "stylize": {
                "workers": 1,
                "cpus_per_worker": cores,
                "seconds": round(stylize_s, 2),
                "fps": round(total / stylize_s, 3),
            }
        }

        for name, workers, cpus in (("batch_1_worker", 1, cores), (f"batch_{cores}_workers", cores, 1)):
            report = batch(
                clips,
                work / name,
                config=cfg,
                batch__chunk_seconds=args.chunk_seconds,
                batch__workers=workers,
                batch__cpus_per_task=cpus,
                batch__gpus_per_task=0,
            )
            assert report.exit_code == 0, [f.error for f in report.failed]
            worker_s = sum(f.worker_seconds for f in report.files)
            runs[name] = {
                "workers": report.workers,
                "cpus_per_worker": cpus,
                "seconds": round(report.seconds, 2),
                "fps": round(report.fps, 3),
                "vs_stylize": round(report.fps / runs["stylize"]["fps"], 3),
                "chunks": sum(f.chunks for f in report.files),
                "frames_per_worker_second": round(report.frames / worker_s, 3),
                "seconds_outside_chunks": round(report.seconds - worker_s / report.workers, 2),
            }
            print(f"{name}: {runs[name]}", flush=True)
        print(f"stylize: {runs['stylize']}", flush=True)

        # the same unchunked run with the encoder's keyframes put at the seams: how much of the
        # seam flicker is the keyframe (an IDR frame is coded differently from P-frames)
        keyint = int(round(args.chunk_seconds * 25))
        keyed = Pipeline(
            load_config(
                None,
                {
                    **settings,
                    "encode.options": {"x264-params": f"keyint={keyint}:min-keyint={keyint}:scenecut=0"},
                },
                search_cwd=False,
            )
        )
        (work / "stylize_keyframes_at_seams").mkdir()
        seams = {}
        for clip in clips:
            keyed.run(clip, work / "stylize_keyframes_at_seams" / clip.name)
            chunks = file_chunks(
                scan(clip),
                load_config(
                    None, {**settings, "batch.chunk_seconds": str(args.chunk_seconds)}, search_cwd=False
                ),
            )
            videos = {
                "batch": work / f"batch_{cores}_workers" / clip.name,
                "stylize": work / "stylize" / clip.name,
                "stylize_keyframes_at_seams": work / "stylize_keyframes_at_seams" / clip.name,
            }
            seams[clip.name] = seam_flicker(clip, videos, [c.first for c in chunks[1:]])
        result = {
            "machine": {
                **machine(),
                "note": "2-core machine shared with other jobs: timings are "
                "noisy; compare the ratios within this run",
            },
            "settings": {
                "clips": args.clips,
                "seconds": args.seconds,
                "size": f"{w}x{h}",
                "frames": total,
                "style": args.style,
                "chunk_seconds": args.chunk_seconds,
                "overlap_frames": overlap_frames(cfg),
            },
            "runs": runs,
            "seam_flicker": seams,
        }
        save_json(args.json, result)
        print(result["seam_flicker"])
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
