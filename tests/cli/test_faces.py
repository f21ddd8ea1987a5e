"""Faces end to end: no faces changes nothing, the face pipeline and `vidstyle eval faces`, and
faces of every size survive stylization."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import decode_rgb, moving_frames, run_cli

from vidstyle import stylize_file
from vidstyle.eval.faces import evaluate_faces
from vidstyle.faces.detector import MTCNNDetector
from vidstyle.io.synth import demo_photo, write_clip

FAST = {"encode__preset": "ultrafast", "run__progress": "off", "encode__crf": 0, "encode__pix_fmt": "yuv444p"}


def test_no_faces_leaves_the_pipeline_output_unchanged(tmp_path, tiny_model):
    src = write_clip(tmp_path / "nofaces.mp4", moving_frames(12), 25)
    for mode in ("off", "luma"):
        stylize_file(src, tmp_path / f"{mode}.mkv", model__style=str(tiny_model), faces__mode=mode, **FAST)
    a, b = decode_rgb(tmp_path / "off.mkv"), decode_rgb(tmp_path / "luma.mkv")
    assert len(a) == len(b) == 12
    assert all(np.array_equal(x, y) for x, y in zip(a, b))


@pytest.mark.slow
def test_face_pipeline_and_metrics_cli(tmp_path, tiny_model, portrait_frames):
    src = write_clip(tmp_path / "face.mp4", portrait_frames, 25, crf=10)
    out, dbg = tmp_path / "out.mp4", tmp_path / "dbg.mp4"
    report = stylize_file(
        src,
        out,
        model__style=str(tiny_model),
        faces__mode="blend",
        faces__strength="0.2",
        faces__every=3,
        run__progress="off",
    )
    assert report.summary["faces"]["frames_with_faces"] == 10
    assert report.summary["face_detections"]["frames"] == 4  # frames 0, 3, 6, 9
    proc = run_cli(
        "stylize",
        str(src),
        "-o",
        str(dbg),
        "--style",
        str(tiny_model),
        "--debug-faces",
        "--no-progress",
        "--preset",
        "ultrafast",
    )
    assert proc.returncode == 0 and "faces (blend" in proc.stderr
    js, csv_path = tmp_path / "m.json", tmp_path / "m.csv"
    proc = run_cli("eval", "faces", str(src), str(out), "--json", str(js), "--csv", str(csv_path))
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(js.read_text())
    assert summary["faces"] == 10 and summary["recall"] is not None
    assert len(csv_path.read_text().strip().splitlines()) == 11
    off = tmp_path / "off.mp4"
    stylize_file(src, off, model__style=str(tiny_model), faces__mode="off", run__progress="off")
    proc = run_cli("eval", "faces", str(src), str(off), "--json", str(tmp_path / "off.json"))
    kept, lost = summary["recall"], json.loads((tmp_path / "off.json").read_text())["recall"]
    assert kept > lost  # the random network erases the face; preservation brings it back


@pytest.fixture(scope="module")
def sized_faces():
    """Grace Hopper at face heights 16, 32, 64 and 128 px on a textured, panning background."""
    from vidstyle.io.synth import DEMO_FACE_BOX, Head, face_crowd

    frames, boxes = face_crowd(
        [Head(demo_photo(), DEMO_FACE_BOX)],
        SIZES,
        5,
        (288, 512),
        drift=3,
        pan=12,
        centres=[(0.08, 0.2), (0.25, 0.7), (0.5, 0.35), (0.8, 0.5)],
    )
    return frames, boxes


SIZES = (16, 32, 64, 128)


@pytest.mark.slow
def test_faces_of_every_size_survive_stylization(tmp_path, detector, sized_faces):
    """starry_night-small, defaults (blend, auto strength, small-face pass) against faces off:
    every size is found on the stylized output, its NME bounded, and tighter than without
    preservation (off either loses the face or moves its landmarks more)."""
    from vidstyle.models.catalog import resolve_style

    frames, _ = sized_faces
    src = write_clip(tmp_path / "sizes.mkv", frames, 25, crf=8)
    original = decode_rgb(src)
    small = str(resolve_style("starry_night-small").model_path)
    fine = MTCNNDetector(min_face=12)
    result = {}
    for mode in ("off", "blend"):
        out = tmp_path / f"{mode}.mkv"
        stylize_file(src, out, model__style=small, faces__mode=mode, faces__fade_frames=1, **FAST)
        summary, _ = evaluate_faces(original, decode_rgb(out), fine)
        result[mode] = summary["by_size"]
    bins = ["0-24px", "24-48px", "48-96px", ">=96px"]
    assert list(result["blend"]) == bins and all(result["blend"][b]["faces"] == 5 for b in bins)
    bound = {"0-24px": 0.05, "24-48px": 0.05, "48-96px": 0.05, ">=96px": 0.05}
    for b in bins:
        on, off = result["blend"][b], result["off"].get(b, {"recall": 0.0, "nme": None})
        assert on["recall"] == 1.0, (b, result)
        assert on["nme"] < bound[b], (b, result)
        assert off["recall"] < 1.0 or off["nme"] > on["nme"], (b, result)
