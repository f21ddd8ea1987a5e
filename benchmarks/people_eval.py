"""Person masks and per-person styles, measured on the dev clips with people (a benchmark, not a test).

    python benchmarks/people_eval.py [--shared ../shared/data] [--json FILE] [--grid FILE]

Clips: 05_default_juggle.mp4 (1280x720, one person, full body; its first --frames frames), the
three ASL clips (640x480, one signer each) and "asl pair": again.mkv and book.mkv side by side
(1280x480, two real people, as many frames as the shorter one).

1. Masks: the pipeline's own person masks (flow, MTCNN face tracks, segmentation, the person
   tracker; captured before postprocessing) against a reference made without MediaPipe: OpenCV's
   GrabCut (colour models, 5 iterations on the frame scaled to a 640 px long side) inside a box
   with everything outside it taken as background, on every 12th frame. ASL clips: one
   hand-placed box per signer that holds them in every frame and keeps out the dark chair and
   blue panel beside them (``BOXES``); the largest connected blob is kept. The juggling clip has
   no reference: GrabCut cannot tell him from the tree trunks behind him, even in a tight box.
   The reference is written as a contact sheet (``--sheet``: frame, reference, ours) to be
   checked by eye; GrabCut errs too, so the IoU is an agreement, not a ground truth. The
   synthetic clip of tests/people_helpers.py has exact masks.
2. Ids: the id of the largest person region per frame (per half for the pair) and how often it
   changes, per 100 frames; all ids created over the clip.
3. Cost: end-to-end fps on the pair clip (--cost-frames frames, stylized at a 480 px long side,
   torch backend everywhere so the rows compare like with like) for: no person features; people
   stylized over the original room (1 style); two styles of one multi-style (CIN) net (one batched
   pass); three styles of it; two separate models of the same size (starry_night-small and the
   CIN net: two passes). The CIN net is the small architecture with random weights (timing only:
   the bundle has no multi-style model yet).
4. ``--grid``: a still grid for the README.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

BOXES = {"again": (130, 10, 490, 480), "book": (170, 10, 460, 480), "walk": (170, 10, 460, 480)}
EVERY = 12


def read_frames(path: Path, limit: int = 0) -> tuple[list[np.ndarray], Fraction]:
    from vidstyle.io.source import open_source

    src = open_source(str(path))
    try:
        rate = src.info.rate or Fraction(25)
        frames = [f.rgb for _, f in zip(range(limit or 10**9), src)]
    finally:
        src.close()
    return frames, rate


def grabcut_reference(rgb: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """H x W bool: GrabCut inside ``box`` (frame px) on a copy scaled to a 640 px long side, its
    largest blob."""
    h, w = rgb.shape[:2]
    s = min(1.0, 640 / max(h, w))
    small = cv2.resize(rgb, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)[:, :, ::-1].copy()
    x1, y1, x2, y2 = (round(v * s) for v in box)
    mask = np.zeros(small.shape[:2], np.uint8)
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.grabCut(small, mask, (x1, y1, x2 - x1, y2 - y1), bgd, fgd, 5, cv2.GC_INIT_WITH_RECT)
    fg = ((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)).astype(np.uint8)
    count, comp, stats, _ = cv2.connectedComponentsWithStats(fg, connectivity=8)
    if count > 2:  # the person is the largest blob; the rest is background GrabCut let in
        fg = (comp == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))).astype(np.uint8)
    return cv2.resize(fg, (w, h), interpolation=cv2.INTER_NEAREST) > 0


class _NullSink:
    def write(self, frame, rgb) -> None:
        pass


def captured_people(pipe, clip: Path) -> dict[int, object]:
    """Run the pipeline's own stages on ``clip``; the PersonMasks of each frame index."""
    from vidstyle.io.source import open_source
    from vidstyle.pipeline.runner import Runner
    from vidstyle.pipeline.stage import BaseStage

    got: dict[int, object] = {}

    class Capture(BaseStage):
        name = "capture"

        def process(self, items):
            for it in items:
                got[it.frame.index] = it.people_debug
            return items

    stages = pipe.stages(_NullSink())
    post = next(i for i, s in enumerate(stages) if s.name == "postprocess")
    stages.insert(post, Capture())
    source = open_source(str(clip))
    try:
        result = Runner(source, stages, pipe.cfg.run.queue_size).run()
    finally:
        source.close()
    if result.error is not None:
        raise result.error
    return got


def dominant(people, cols: slice | None = None) -> int:
    """Id with the largest region (in ``cols`` of the label map), 0 when nobody is there."""
    if people is None or not people.ids:
        return 0
    labels = people.labels if cols is None else people.labels[:, cols]
    ids, counts = np.unique(labels[labels > 0], return_counts=True)
    return int(ids[np.argmax(counts)]) if len(ids) else 0


def switches(seq: list[int]) -> int:
    seen = [s for s in seq if s]
    return sum(1 for a, b in zip(seen, seen[1:]) if a != b)


def mask_rows(
    pipe,
    name: str,
    clip: Path,
    frames: list[np.ndarray],
    boxes: list[tuple],
    halves: bool,
    sheet: list[np.ndarray],
) -> dict:
    captured = captured_people(pipe, clip)
    h, w = frames[0].shape[:2]
    ious = []
    for t in range(0, len(frames), EVERY) if boxes else ():
        people = captured.get(t)
        ours = (
            np.zeros((h, w), bool)
            if people is None or not people.ids
            else cv2.resize(people.masks.sum(0), (w, h)) > 0.5
        )
        ref = np.zeros((h, w), bool)
        for box in boxes:
            ref |= grabcut_reference(frames[t], box)
        ious.append(float((ours & ref).sum() / max((ours | ref).sum(), 1)))
        if t % (2 * EVERY) == 0 and len(sheet) < 40:
            tile = lambda m: np.repeat(m[:, :, None].astype(np.uint8) * 255, 3, 2)  # noqa: E731
            row = np.hstack([frames[t], tile(ref), tile(ours)])
            s = 480 / row.shape[1]
            row = cv2.resize(row, (480, round(row.shape[0] * s)), interpolation=cv2.INTER_AREA)
            cv2.putText(
                row, f"{name} #{t}", (4, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 0, 0), 1, cv2.LINE_AA
            )
            sheet.append(row)
    n = len(frames)
    parts = [slice(0, None)] if not halves else [slice(0, w // 2), slice(w // 2, None)]
    doms = []
    for part in parts:
        seq = []
        for t in range(n):
            people = captured.get(t)
            if people is None:
                seq.append(0)
                continue
            sx = people.labels.shape[1] / w
            cols = slice(round((part.start or 0) * sx), None if part.stop is None else round(part.stop * sx))
            seq.append(dominant(people, cols))
        doms.append(seq)
    ids = pipe_ids(captured)
    n_switch = sum(switches(s) for s in doms)
    return {
        "clip": name,
        "frames": n,
        "size": f"{w}x{h}",
        "iou_mean": round(float(np.mean(ious)), 3) if ious else None,
        "iou_min": round(float(np.min(ious)), 3) if ious else None,
        "iou_frames": len(ious),
        "ids": ids,
        "id_switches": n_switch,
        "id_switches_per_100": round(100 * n_switch / n, 2),
        "dominant_ids": sorted({d for s in doms for d in s if d}),
    }


def pipe_ids(captured: dict) -> list[int]:
    ids = set()
    for people in captured.values():
        if people is not None:
            ids.update(int(i) for i in people.ids)
    return sorted(ids)


def main() -> int:
    from common import machine, save_json  # benchmarks/common.py

    from vidstyle import Pipeline
    from vidstyle.config import load_config
    from vidstyle.io.synth import write_clip

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--frames", type=int, default=96, help="frames of the juggling clip")
    ap.add_argument("--cost-frames", type=int, default=30)
    ap.add_argument("--style", default="starry_night-small", help="style used where one is needed")
    ap.add_argument(
        "--parts",
        default="masks,cost",
        help="what to measure: masks, cost (comma list, or none for just the grid)",
    )
    ap.add_argument("--json", type=Path)
    ap.add_argument("--sheet", type=Path, help="reference contact sheet (JPEG)")
    ap.add_argument("--grid", type=Path, help="README still grid (JPEG)")
    args = ap.parse_args()

    dev = args.shared / "video" / "dev"
    if not (dev / "05_default_juggle.mp4").is_file():
        print(f"no dev clips in {dev}", file=sys.stderr)
        return 1

    def pipeline(**over) -> Pipeline:
        base = {
            "model.style": args.style,
            "model.backend": "torch",
            "model.max_side": 480,
            "run.progress": "off",
        }
        return Pipeline(load_config(search_cwd=False, overrides={**base, **over}))

    result: dict = {"machine": machine(), "masks": [], "cost": []}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        clips = {}
        frames, rate = read_frames(dev / "05_default_juggle.mp4", args.frames)
        clips["juggle"] = (write_clip(tmp / "juggle.mkv", frames, rate, crf=10), frames, [], False)
        asl = {}
        for name in ("again", "book", "walk"):
            frames, rate = read_frames(dev / "asl" / f"{name}.mkv")
            asl[name] = (frames, rate)
            clips[name] = (
                write_clip(tmp / f"{name}.mkv", frames, rate, crf=10),
                frames,
                [BOXES[name]],
                False,
            )
        n = min(len(asl["again"][0]), len(asl["book"][0]))
        pair = [np.hstack([a, b]) for a, b in zip(asl["again"][0][:n], asl["book"][0][:n])]
        x1, y1, x2, y2 = BOXES["book"]
        clips["asl pair"] = (
            write_clip(tmp / "pair.mkv", pair, asl["again"][1], crf=10),
            pair,
            [BOXES["again"], (x1 + 640, y1, x2 + 640, y2)],
            True,
        )

        # 1 + 2: masks and ids (people stylized, room original; the masks do not depend on the style)
        masks_pipe = pipeline(
            **{"people.background": "original", "people.debug": True, "model.max_side": 320}
        )
        sheet: list[np.ndarray] = []
        parts = set(args.parts.split(","))
        for name, (clip, frames, boxes, halves) in clips.items() if "masks" in parts else ():
            row = mask_rows(masks_pipe, name, clip, frames, boxes, halves, sheet)
            print(row, flush=True)
            result["masks"].append(row)
        if args.sheet is not None and sheet:
            args.sheet.parent.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(args.sheet), np.vstack(sheet)[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 80])

        # 3: cost per extra style
        cost_clip = write_clip(tmp / "cost.mkv", pair[: args.cost_frames], asl["again"][1], crf=10)
        warm_clip = write_clip(tmp / "warm.mkv", pair[:4], asl["again"][1], crf=10)
        cin = _random_cin(tmp / "home")
        rows = [
            ("no person features", {}, 1),
            ("people in 1 style, room original", {"people.background": "original"}, 1),
            (
                "2 styles of one CIN net (1 batched pass)",
                {
                    "model.style": f"{cin}:s0",
                    "people.background": "original",
                    "people.person_styles": f"{cin}:s0,{cin}:s1",
                },
                1,
            ),
            (
                "3 styles of one CIN net (1 batched pass)",
                {
                    "model.style": f"{cin}:s0",
                    "people.background": f"{cin}:s2",
                    "people.person_styles": f"{cin}:s0,{cin}:s1",
                },
                1,
            ),
            ("2 separate models (2 passes)", {"people.style": f"{cin}:s0"}, 2),
        ]
        base_fps = None
        for label, over, passes in rows if "cost" in parts else ():
            pipe = pipeline(**over)
            pipe.run(warm_clip, tmp / "warm.out.mkv")
            t0 = time.perf_counter()
            report = pipe.run(cost_clip, tmp / "cost.out.mkv")
            wall = time.perf_counter() - t0
            fps = report.frames_out / wall
            base_fps = base_fps or fps
            styles = len(pipe.people_plan.styles()) if pipe.people_plan is not None else 1
            stylize = next(s for s in report.stats if s["stage"] == "stylize")
            row = {
                "config": label,
                "styles": styles,
                "stylizer_passes": passes,
                "fps": round(fps, 3),
                "cost_vs_plain": round(1 - fps / base_fps, 3),
                "stylize_stage_fps": stylize["fps"],
            }
            print(row, flush=True)
            result["cost"].append(row)

        save_json(args.json, result)
        if args.grid is not None:
            _grid(pipeline, tmp, clips, args.grid)
    return 0


def _random_cin(home: Path) -> str:
    """A random 3-style small-architecture model in a temporary user model folder (timing only)."""
    import os

    import torch

    from vidstyle.models.store import ModelMeta, save_model
    from vidstyle.models.transformer_net import ArchConfig, TransformerNet

    os.environ["VIDSTYLE_HOME"] = str(home)
    torch.manual_seed(0)
    net = TransformerNet(ArchConfig(channels=16, res_blocks=3, num_styles=3))
    meta = ModelMeta(
        name="cin3",
        arch="small",
        styles=[{"name": f"s{i}"} for i in range(3)],
        placeholder=True,
        description="random weights, for timing",
    )
    save_model(net, meta, home / "models" / "cin3.safetensors", dtype=torch.float32)
    return "cin3"


def _grid(pipeline, tmp: Path, clips: dict, out: Path) -> None:
    """Rows: a juggling frame and the pair; columns: original, people stylized, room stylized,
    each person their own look over a blurred room, and the --debug-people overlay."""
    from vidstyle.io.synth import write_clip

    looks = [
        ("people", {"people.background": "original"}),
        ("room", {"people.style": "original"}),
        ("per person", {"people.background": "blur", "people.person_styles": "starry_night,original"}),
        ("debug", {"people.debug": True}),
    ]
    rows = []
    for name, start in (("juggle", 30), ("asl pair", 20)):
        _, frames, _, _ = clips[name]
        short = write_clip(tmp / f"grid-{name.replace(' ', '_')}.mkv", frames[start : start + 8], 24, crf=10)
        tiles = [frames[start + 7]]
        for _, over in looks:
            res = tmp / "grid.out.mkv"
            pipeline(**{**over, "model.max_side": 640}).run(short, res)
            tiles.append(read_frames(res)[0][-1])
        h = 240
        rows.append(
            np.hstack(
                [
                    cv2.resize(t, (round(t.shape[1] * h / t.shape[0]), h), interpolation=cv2.INTER_AREA)
                    for t in tiles
                ]
            )
        )
    width = min(r.shape[1] for r in rows)
    grid = np.vstack([cv2.resize(r, (width, round(r.shape[0] * width / r.shape[1]))) for r in rows])
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), grid[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 85])


if __name__ == "__main__":
    sys.exit(main())
