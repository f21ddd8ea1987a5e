"""Faces: detection with landmarks, tracking, soft masks, the three modes, and face metrics."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from conftest import decode_rgb, moving_frames, needs_shared, run_cli

from vidstyle import stylize_file
from vidstyle.compose.faces import FacePreserver, luma_face, rgb_to_ycbcr, ycbcr_to_rgb
from vidstyle.config import FacesConfig
from vidstyle.eval.faces import evaluate_faces, landmark_nme
from vidstyle.faces.detector import Faces, MTCNNDetector
from vidstyle.faces.masks import ellipse_mask, face_ellipse
from vidstyle.faces.passes import DetectionPasses
from vidstyle.faces.tracker import FaceTracker
from vidstyle.io.synth import demo_photo, pan_zoom, write_clip

FAST = {"encode__preset": "ultrafast", "run__progress": "off", "encode__crf": 0, "encode__pix_fmt": "yuv444p"}


@pytest.fixture(scope="module")
def detector():
    return MTCNNDetector(min_face=20)


@pytest.fixture(scope="module")
def portrait_frames():
    """A camera move over Grace Hopper's portrait (ships with matplotlib: no ../shared needed)."""
    return list(pan_zoom(demo_photo(), 10, (240, 320), zoom=(1.0, 1.2), pan=(0.06, 0.03), center=(0.5, 0.36)))


def one_face(box, landmarks) -> Faces:
    return Faces(np.array([box], np.float32), np.array([landmarks], np.float32), np.array([0.99], np.float32))


def test_landmarks_follow_the_camera_move(detector, portrait_frames):
    """The eyes found in the last frame sit where the known zoom/pan carries the first frame's eyes."""
    first, last = detector.detect([portrait_frames[0], portrait_frames[-1]])
    assert len(first) == 1 and len(last) == 1
    # replay pan_zoom's affine for t = 0 and t = 1 to map first-frame points to the last frame
    ih, iw = demo_photo().shape[:2]
    base = max(240 / ih, 320 / iw)

    def to_image(p, t):
        s = base * (1.0 + 0.2 * t)
        cx, cy = iw * (0.5 + 0.06 * (t - 0.5)), ih * (0.36 + 0.03 * (t - 0.5))
        return (p - [160, 120]) / s + [cx, cy], s, (cx, cy)

    pts0, _, _ = to_image(first.landmarks[0], 0.0)
    _, s1, (cx1, cy1) = to_image(np.zeros(2), 1.0)
    predicted = (pts0 - [cx1, cy1]) * s1 + [160, 120]
    iod = np.linalg.norm(last.landmarks[0][1] - last.landmarks[0][0])
    assert landmark_nme(predicted, last.landmarks[0]) < 0.08
    eyes = last.landmarks[0][:2]
    x1, y1, x2, y2 = last.boxes[0]
    assert eyes[0, 0] < eyes[1, 0] and (eyes[:, 1] < (y1 + y2) / 2).all()  # eyes: upper half
    assert 0.25 < iod / (x2 - x1) < 0.65


@needs_shared
def test_detector_on_shared_photos(shared, detector):
    from PIL import Image

    expected = {
        "two_people.jpg": 2,
        "obama_obama.jpg": 2,
        "obama_small.jpg": 1,
        "biden_biden.jpg": 1,
        "rose_leslie_img2.jpg": 1,
    }
    for name, count in expected.items():
        img = np.array(Image.open(shared / "faces" / "photos" / name).convert("RGB"))
        (faces,) = detector.detect([img])
        assert len(faces) == count, name
        for box, marks in zip(faces.boxes, faces.landmarks):
            x1, y1, x2, y2 = box
            assert (marks[:, 0] > x1).all() and (marks[:, 0] < x2).all(), name
            assert marks[0, 0] < marks[1, 0] and marks[:2, 1].max() < marks[3:, 1].min(), name


def test_tracker_holds_moves_and_fades():
    det = one_face([10, 10, 30, 40], [[15, 20], [25, 20], [20, 27], [16, 33], [24, 33]])
    assert FaceTracker(fade_frames=4).update(det)[0].visibility == 1.0  # there from the first frame
    tracker = FaceTracker(fade_frames=4, hold=1)
    assert tracker.update(Faces.empty()) == []
    tracks = tracker.update(det)
    assert len(tracks) == 1 and tracks[0].visibility == pytest.approx(0.25)  # a newcomer fades in
    for _ in range(3):
        tracks = tracker.update(None)  # between detections: kept
    assert len(tracks) == 1 and tracks[0].visibility == 1.0
    motion = np.zeros((25, 25, 2), np.float32)
    motion[..., 0] = 2.0  # content moved 2 px (at half scale) right
    tracks = tracker.update(None, motion, motion_scale=2.0)
    assert tracks[0].box[0] == pytest.approx(14.0) and tracks[0].landmarks[0, 0] == pytest.approx(19.0)
    moved = one_face([15, 10, 35, 40], [[20, 20], [30, 20], [25, 27], [21, 33], [29, 33]])
    tracks = tracker.update(moved)  # matched: same id, pulled towards it
    assert len(tracks) == 1 and tracks[0].id == 0 and 14 < tracks[0].box[0] <= 15
    tracker.update(Faces.empty())  # one miss: held (hold=1)
    assert tracker.update(None)[0].visibility == 1.0
    tracker.update(Faces.empty())  # second miss: fades out over 4 frames
    vis = [t.visibility for t in tracker.update(None)]
    for _ in range(4):
        tracks = tracker.update(None)
    assert vis and 0 < vis[0] < 1 and tracks == [] and tracker.tracks == []


def test_mask_is_one_inside_zero_outside_and_smooth():
    e = face_ellipse(
        np.array([40, 30, 80, 90], np.float32),
        np.array([[50, 50], [70, 50], [60, 62], [52, 75], [68, 75]], np.float32),
    )
    mask = ellipse_mask((120, 160), [e], [1.0])[0, 0]
    assert mask[int(e.cy), int(e.cx)] == 1 and mask[5, 150] == 0 and mask[115, 5] == 0
    row = mask[int(e.cy)]  # along a horizontal line through the centre
    steps = (row[1:] - row[:-1]).abs()
    assert steps.max() < 0.25  # no hard edge
    right = row[int(e.cx) :]
    assert bool((right[1:] <= right[:-1] + 1e-6).all())  # falls monotonically outwards
    half = ellipse_mask((120, 160), [e], [0.5])[0, 0]
    assert half.max() == pytest.approx(0.5)  # track visibility scales the mask


@pytest.mark.parametrize("side", [12, 16, 32, 128])
def test_mask_takes_in_hair_line_jaw_and_chin_at_every_size(side):
    """Box h x 0.8h at (16, 16): full weight over the box, 0.15 h above it (hair line), at the
    chin and at the jaw's corners; and the ramp outside is at least 3 px wide however small."""
    h, w = float(side), 0.8 * side
    x1, y1 = 16.0, 16.0 + 0.3 * side
    box = np.array([x1, y1, x1 + w, y1 + h], np.float32)
    marks = np.array(
        [
            [x1 + 0.3 * w, y1 + 0.35 * h],
            [x1 + 0.7 * w, y1 + 0.35 * h],
            [x1 + 0.5 * w, y1 + 0.55 * h],
            [x1 + 0.33 * w, y1 + 0.75 * h],
            [x1 + 0.67 * w, y1 + 0.75 * h],
        ],
        np.float32,
    )
    e = face_ellipse(box, marks)
    size = int(y1 + 2 * h + 16)
    mask = ellipse_mask((size, size), [e], [1.0])[0, 0]
    cx = x1 + w / 2
    inside = [
        (cx, y1 - 0.15 * h),
        (cx, y1 + h),
        (x1 + 0.05 * w, y1 + 0.5 * h),
        (x1 + w - 0.05 * w, y1 + 0.5 * h),
        (x1 + 0.1 * w, y1 + 0.8 * h),
        (x1 + 0.9 * w, y1 + 0.8 * h),
    ]
    for x, y in inside:
        assert mask[int(round(y)), int(round(x))] == 1, (x, y)
    col = mask[:, int(cx)]
    below = col[int(y1 + h) :]
    ramp = int(((below > 0) & (below < 1)).sum())
    assert ramp >= 2 and below[-1] == 0  # a soft edge of a few px, then nothing


def test_strength_follows_face_size_in_strokes():
    from vidstyle.compose.faces import face_strengths
    from vidstyle.faces.strength import size_strength

    assert size_strength(12, 0.35) == 0 and size_strength(40, 0.35) == pytest.approx(0.35)
    assert size_strength(26, 0.35) == pytest.approx(0.35 * 0.5)  # half way from 3 to 10 strokes
    assert size_strength(52, 0.35, stroke_px=8) == pytest.approx(
        0.175
    )  # coarser strokes: same face keeps less
    values = size_strength(np.array([8, 20, 32, 300]), 1.0)
    assert np.all(np.diff(values) >= 0) and values[0] == 0 and values[-1] == 1
    cfg = FacesConfig()
    assert face_strengths(cfg, [16, 200]) == pytest.approx([0.35 / 7, 0.35])
    assert face_strengths(FacesConfig(strength="0.5"), [16, 200]) == [0.5, 0.5]  # a number: fixed


def test_small_faces_keep_less_style_than_large_ones_in_one_frame():
    """Two faces in one frame: the 16-px one is put back almost as the original, the 120-px one
    keeps 0.35 of the style."""
    cfg = FacesConfig(fade_frames=1)
    stylized, original = torch.zeros(1, 3, 200, 300), torch.ones(1, 3, 200, 300)
    boxes = [[20, 20, 33, 36], [120, 40, 216, 160]]
    marks = [
        [[23, 25], [30, 25], [26, 29], [24, 32], [29, 32]],
        [[145, 80], [190, 80], [168, 105], [150, 130], [185, 130]],
    ]
    det = Faces(np.array(boxes, np.float32), np.array(marks, np.float32), np.array([0.99, 0.99], np.float32))
    out, mask, _ = FacePreserver(cfg).apply(stylized, original, (200, 300), det, None)
    small, large = float(out[0, 0, 28, 26]), float(out[0, 0, 100, 168])
    assert small == pytest.approx(1 - 0.35 / 7, abs=1e-4) and large == pytest.approx(0.65, abs=1e-4)


def test_blend_strength_zero_restores_the_original_inside_the_face():
    cfg = FacesConfig(mode="blend", strength="0", feather=0.2, fade_frames=1)
    stylized, original = torch.zeros(1, 3, 120, 160), torch.ones(1, 3, 120, 160)
    det = one_face([40, 30, 80, 90], [[50, 50], [70, 50], [60, 62], [52, 75], [68, 75]])
    out, mask, tracks = FacePreserver(cfg).apply(stylized, original, (120, 160), det, None)
    assert len(tracks) == 1
    assert torch.equal(out[..., 55:65, 55:65], original[..., 55:65, 55:65])  # face centre
    assert torch.equal(out[..., :10, :], stylized[..., :10, :])  # far away
    assert out[..., 55, 55].tolist() == [[1.0, 1.0, 1.0]]


def test_luma_keeps_original_luminance_detail_and_stylized_colour():
    g = torch.Generator().manual_seed(0)
    original = torch.rand(1, 3, 64, 64, generator=g)
    stylized = torch.zeros(1, 3, 64, 64)
    stylized[:, 0], stylized[:, 1], stylized[:, 2] = 0.8, 0.4, 0.2
    assert torch.allclose(ycbcr_to_rgb(rgb_to_ycbcr(original)), original, atol=2e-3)
    face = luma_face(original, stylized, strength=0.0, sigma=4.0)
    yo, yf = rgb_to_ycbcr(original)[:, 0], rgb_to_ycbcr(face)[:, 0]
    detail_o = yo - yo.mean()
    detail_f = yf - yf.mean()
    corr = (detail_o * detail_f).sum() / (detail_o.norm() * detail_f.norm())
    assert corr > 0.85  # the original's fine structure is there
    ys = rgb_to_ycbcr(stylized)
    assert abs(float(yf.mean() - ys[:, 0].mean())) < 0.08  # the stylized tone
    cf = rgb_to_ycbcr(face)[:, 1:]
    assert torch.allclose(cf.mean((2, 3)), ys[:, 1:].mean((2, 3)), atol=0.05)  # stylized colour


def test_restyle_uses_the_stylizer_on_the_face(tiny_model):
    from vidstyle.models.store import load_model
    from vidstyle.stylize.torch_backend import TorchStylizer

    net, meta = load_model(tiny_model)
    stylizer = TorchStylizer(net, meta, torch.device("cpu"))
    frame = torch.from_numpy(moving_frames(1, 120, 160)[0]).permute(2, 0, 1)[None].float() / 255
    stylized = stylizer(frame)
    det = one_face([40, 30, 80, 90], [[50, 50], [70, 50], [60, 62], [52, 75], [68, 75]])
    restyle = FacePreserver(FacesConfig(mode="restyle", fade_frames=1), stylizer)
    out, _, _ = restyle.apply(stylized, frame, (120, 160), det, None)
    centre = (..., slice(50, 70), slice(50, 70))
    assert not torch.allclose(out[centre], stylized[centre], atol=0.02)  # restyled, not the old one
    assert not torch.allclose(out[centre], frame[centre], atol=0.02)  # and not the photo
    assert torch.equal(out[..., :5, :], stylized[..., :5, :])


def test_metrics_on_hand_made_cases(detector, portrait_frames):
    summary, rows = evaluate_faces(portrait_frames[:4], portrait_frames[:4], detector)
    assert summary["recall"] == 1.0 and summary["nme"] == pytest.approx(0.0, abs=1e-6)
    assert [r.faces for r in rows] == [1, 1, 1, 1]
    blank = [np.full((120, 160, 3), 128, np.uint8)] * 3
    summary, rows = evaluate_faces(blank, blank, detector)
    assert summary["faces"] == 0 and summary["recall"] is None and summary["nme"] is None
    assert "no faces" in summary["note"]
    noise = [
        np.random.default_rng(i).integers(0, 255, f.shape, np.uint8)
        for i, f in enumerate(portrait_frames[:2])
    ]
    summary, _ = evaluate_faces(portrait_frames[:2], noise, detector)
    assert summary["faces"] == 2 and summary["recall"] == 0.0 and summary["nme"] is None


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


class CountingDetector:
    """Records the image size and min_face of every call; finds nothing (scheduling only)."""

    def __init__(self):
        self.calls = []

    def detect(self, images, min_face=None):
        self.calls.append((images[0].shape[:2], len(images), min_face))
        return [Faces.empty() for _ in images]


def test_small_face_pass_schedule_and_scale():
    det = CountingDetector()
    passes = DetectionPasses(det, long_side=640, min_face=24, small_face=12, small_every=10)
    frame = np.zeros((720, 1280, 3), np.uint8)
    assert passes.regular_floor(720, 1280) == 48  # 24 px at half size
    found = passes.detect([0, 5], [frame, frame])
    assert [f.min_side for f in found] == [12, 48]  # frame 0: small-face pass at full size
    assert det.calls == [((360, 640), 1, 24), ((720, 1280), 1, 12.0)]
    for i in (10, 15, 20, 25):  # no small face seen: 3x rarer
        passes.detect([i], [frame])
    assert passes.small_passes == 1
    passes.detect([30], [frame])
    assert passes.small_passes == 2
    small_only = DetectionPasses(det, long_side=640, min_face=24, small_face=0)
    assert small_only.small_plan(720, 1280) is None  # off
    assert (
        DetectionPasses(det, 640, 12, 12).small_plan(360, 640) is None
    )  # the regular pass already finds 12 px


def test_tracks_of_small_faces_live_through_coarse_passes():
    tracker = FaceTracker(fade_frames=1, hold=0)
    small = one_face([10, 10, 24, 26], [[13, 15], [20, 15], [17, 19], [14, 22], [20, 22]])
    small.min_side = 12.0
    assert len(tracker.update(small)) == 1
    coarse = Faces.empty()
    coarse.min_side = 48.0
    for _ in range(5):  # passes that cannot see a 16 px face: kept
        assert len(tracker.update(coarse)) == 1
    fine = Faces.empty()
    fine.min_side = 12.0
    tracker.update(fine)  # the finest pass misses it: gone (hold 0)
    assert tracker.update(None) == []


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
