"""Person masks: instance split, ids over time, style plans, the style bank, region compositing.

Pure math and tiny models only; tests that run MediaPipe live in test_people_pipeline.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import torch

from vidstyle.compose.people import PeopleComposer, composite, restore_plain
from vidstyle.errors import ConfigError
from vidstyle.people.instances import (
    ANONYMOUS,
    attach_leftovers,
    face_seed_regions,
    grow_labels,
    majority_label,
    soft_masks,
)
from vidstyle.people.styles import PeoplePlan, parse_style_list, parse_style_map
from vidstyle.people.tracker import PersonMasks, PersonTracker


@dataclass
class FakeTrack:
    id: int
    box: np.ndarray


def blob_prob(h: int, w: int, boxes: list[tuple[int, int, int, int]]) -> np.ndarray:
    prob = np.zeros((h, w), np.float32)
    for x1, y1, x2, y2 in boxes:
        prob[y1:y2, x1:x2] = 1.0
    return prob


def test_grow_labels_splits_a_connected_region_between_seeds():
    allowed = np.ones((20, 41), bool)
    seeds = np.zeros((20, 41), np.uint16)
    seeds[10, 0], seeds[10, 40] = 1, 2
    labels = grow_labels(seeds, allowed)
    assert (labels[:, :19] == 1).all() and (labels[:, 22:] == 2).all()
    assert set(np.unique(labels)) == {1, 2}


def test_grow_labels_follows_the_foreground_not_straight_lines():
    """A U-shaped region: the pixel at the end of seed 1's arm is nearer seed 2 in a straight line
    but geodesically belongs to seed 1."""
    allowed = np.zeros((30, 30), bool)
    allowed[:, :5] = allowed[25:, :] = allowed[:, 25:] = True  # a U
    seeds = np.zeros((30, 30), np.uint16)
    seeds[0, 0], seeds[0, 29] = 1, 2
    labels = grow_labels(seeds, allowed)
    assert labels[20, 2] == 1 and labels[20, 27] == 2
    assert labels[10, 10] == 0  # outside stays unlabelled


def test_leftovers_join_near_people_or_become_new_or_anonymous():
    labels = np.zeros((40, 100), np.uint16)
    labels[10:30, 10:20] = 1
    fg = labels > 0
    fg[10:30, 22:24] = True  # 2 px from person 1: joins it
    fg[5:35, 60:90] = True  # a large far blob: a new person
    fg[0:2, 40:42] = True  # a speck: anonymous
    out, blobs = attach_leftovers(labels, fg, attach_px=4, min_area=50)
    assert (out[10:30, 22:24] == 1).all()
    assert len(blobs) == 1 and blobs[0][20, 70] and (out[5:35, 60:90] == 0).all()
    assert (out[0:2, 40:42] == ANONYMOUS).all()


def test_soft_masks_share_the_probability_and_feather_between_people():
    labels = np.zeros((10, 40), np.uint16)
    labels[:, :20], labels[:, 20:] = 1, 2
    prob = np.full((10, 40), 0.8, np.float32)
    m = soft_masks(labels, prob, [1, 2], feather_px=2.0)
    np.testing.assert_allclose(m.sum(0), prob, atol=1e-5)
    assert m[0, 5, 2] == pytest.approx(0.8, abs=1e-4) and 0.2 < m[0, 5, 19] < 0.6


def test_face_seed_region_covers_the_face_and_a_torso_strip():
    region = face_seed_regions(np.array([40, 10, 60, 30]), (100, 100), body=1.5)
    assert region[20, 50] and region[50, 50]  # face centre, below the face
    assert not region[50, 42] and not region[70, 50] and not region[20, 20]


def test_majority_label():
    labels = np.zeros((20, 20), np.uint16)
    labels[:, :12] = 3
    assert majority_label(labels, np.array([0, 0, 20, 20])) == 3
    assert majority_label(labels, np.array([14, 0, 20, 20])) == 0


def test_two_people_keep_their_ids_while_moving_and_without_faces():
    tracker = PersonTracker(smoothing=0.5, feather_px=1.0)
    h, w = 60, 120
    seen = []
    for t in range(12):
        a = (10 + t, 10, 30 + t, 60)  # person A moves right
        b = (80 - t, 10, 100 - t, 60)  # person B moves left
        prob = blob_prob(h, w, [a, b])
        # faces only on the first frames (then they turn away: the carried masks hold the ids)
        tracks = (
            [
                FakeTrack(7, np.array([a[0] + 5, 10, a[2] - 5, 20], np.float32)),
                FakeTrack(3, np.array([b[0] + 5, 10, b[2] - 5, 20], np.float32)),
            ]
            if t < 4
            else []
        )
        flow = torch.zeros(1, 2, h, w)
        flow[0, 0, :, : w // 2] = -1.0  # content moved right by 1 px on the left half, t -> t-1
        flow[0, 0, :, w // 2 :] = 1.0
        people = tracker.update(
            prob, tracks, flow if t else None, torch.ones(1, 1, h, w) if t else None, (h, w)
        )
        ys = 40
        seen.append((int(people.labels[ys, (a[0] + a[2]) // 2]), int(people.labels[ys, (b[0] + b[2]) // 2])))
    assert all(s == (1, 2) for s in seen), seen  # left person first, ids never switch
    assert tracker.id_history == [1, 2]


def test_a_returning_face_inherits_the_carried_person():
    tracker = PersonTracker(smoothing=0.0)
    prob = blob_prob(40, 40, [(10, 5, 30, 40)])
    face = np.array([14, 5, 26, 15], np.float32)
    tracker.update(prob, [FakeTrack(0, face)], None, None, (40, 40))
    tracker.update(prob, [], None, None, (40, 40))
    people = tracker.update(
        prob, [FakeTrack(5, face)], None, None, (40, 40)
    )  # the tracker lost it: new track id
    assert people.ids == [1] and tracker.id_history == [1]


def test_faceless_person_gets_an_id_and_masks_are_carried_between_segmentations():
    tracker = PersonTracker(smoothing=0.5)
    h, w = 40, 80
    prob = blob_prob(h, w, [(10, 5, 30, 40)])
    first = tracker.update(prob, [], None, None, (h, w))
    assert first.ids == [1]
    flow = torch.zeros(1, 2, h, w)
    flow[:, 0] = -4.0  # everything moved 4 px right
    carried = tracker.update(None, [], flow, torch.ones(1, 1, h, w), (h, w))
    assert carried.ids == [1]
    assert carried.labels[20, 32] == 1 and carried.labels[20, 11] == 0


def test_style_plan_resolution():
    plan = PeoplePlan("main", background="original", person_styles=("a", "b"), style_map={3: "c"})
    assert [plan.person_source(i) for i in (1, 2, 3, 4)] == ["a", "b", "c", "b"]
    assert plan.background_source() == "original"
    assert plan.styles() == ["a", "b", "c"]  # no pass for original, none for main
    assert plan.person_source(ANONYMOUS) == "a"
    simple = PeoplePlan("main", people="wave")
    assert simple.styles() == ["main", "wave"] and simple.person_source(5) == "wave"
    assert PeoplePlan("main", background="blur").styles() == ["main"]


def test_style_lists_and_maps_parse_or_name_the_key():
    assert parse_style_list("wave, the_scream") == ("wave", "the_scream")
    assert parse_style_map("1=wave,2=x:y") == {1: "wave", 2: "x:y"}
    for bad in ("wave", "0=wave", "a=wave", "1="):
        with pytest.raises(ConfigError, match="people.style_map"):
            parse_style_map(bad)
    with pytest.raises(ConfigError, match="people.person_styles"):
        parse_style_list("wave,,x")


def test_composite_and_restore_keep_plain_regions_exact():
    h, w = 8, 10
    original = torch.rand(1, 3, h, w)
    styled = torch.rand(1, 3, h, w)
    labels = np.zeros((h, w), np.uint16)
    labels[:, 5:] = 1
    people = PersonMasks([1], (labels == 1).astype(np.float32)[None], labels)
    composer = PeopleComposer(PeoplePlan("s", background="original"), ["s"], 0.02)
    out, images, weights = composer.compose([styled], original, people)
    torch.testing.assert_close(out[..., :5], original[..., :5])
    torch.testing.assert_close(out[..., 5:], styled[..., 5:])
    later = torch.rand(1, 3, h, w)  # e.g. after the temporal blend
    back = restore_plain(later, images, weights)
    torch.testing.assert_close(back[..., :5], original[..., :5])
    torch.testing.assert_close(back[..., 5:], later[..., 5:])
    torch.testing.assert_close(composite({"x": styled}, {"x": torch.ones(1, 1, h, w)}), styled)


def test_style_bank_runs_styles_of_one_cin_model_in_one_pass(tmp_path, monkeypatch):
    from dataclasses import replace

    from conftest import make_model

    from vidstyle.config import ModelConfig
    from vidstyle.stylize.bank import build_style_bank
    from vidstyle.stylize.factory import build_stylizer

    monkeypatch.setenv("VIDSTYLE_HOME", str(tmp_path))
    make_model(tmp_path / "models" / "duo.safetensors", num_styles=2, name="duo")
    single = make_model(tmp_path / "solo.safetensors", seed=4, name="solo")
    m = replace(ModelConfig(), style="duo:s0", backend="torch")
    cpu = torch.device("cpu")
    bank = build_style_bank(m, ["duo:s0", str(single), "duo:s1"], cpu, 1)
    assert bank.passes == 2  # duo's two styles share one pass
    calls = []
    for route in bank.routes:
        original = route.stylizer.__call__
        route.stylizer = _counting(original, calls)
    x = torch.rand(2, 3, 16, 24)
    out = bank(x)
    assert len(out) == 3 and len(calls) == 2 and max(calls) == 4  # 2 frames x 2 styles batched
    for k, spec in ((0, "duo:s0"), (2, "duo:s1")):
        ref = build_stylizer(replace(m, style=spec), cpu, 1)(x)
        torch.testing.assert_close(out[k], ref, atol=2e-3, rtol=1e-3)
    assert not torch.allclose(out[0], out[2], atol=1e-2)


def _counting(fn, calls):
    def wrapped(batch, **kw):
        calls.append(batch.shape[0])
        return fn(batch, **kw)

    return wrapped


def test_a_face_printed_on_a_shirt_does_not_split_its_wearer():
    tracker = PersonTracker(smoothing=0.0)
    prob = blob_prob(80, 60, [(10, 0, 50, 80)])
    head = FakeTrack(0, np.array([20, 2, 40, 20], np.float32))
    print_on_shirt = FakeTrack(1, np.array([16, 36, 44, 70], np.float32))  # larger than the face
    people = tracker.update(prob, [head, print_on_shirt], None, None, (80, 60))
    assert people.ids == [1] and tracker.id_history == [1]
    side_by_side = PersonTracker(smoothing=0.0)
    two = side_by_side.update(
        blob_prob(80, 120, [(0, 0, 50, 80), (60, 0, 110, 80)]),
        [head, FakeTrack(2, np.array([75, 2, 95, 20], np.float32))],
        None,
        None,
        (80, 120),
    )
    assert two.ids == [1, 2]


@pytest.mark.parametrize("long_side", [0, 256, 300, 1000])
@pytest.mark.parametrize(
    "h,w", [(1080, 1920), (1920, 1080), (720, 1280), (480, 640), (97, 1281), (1, 4000), (257, 256)]
)
def test_segmenter_input_size_is_the_shared_long_side_rule(h, w, long_side):
    """The segmenter scales by geometry.fit_long_side now; the sizes are the ones its own copy gave."""
    from vidstyle.people.segmenter import SelfieSegmenter

    segmenter = SelfieSegmenter.__new__(SelfieSegmenter)  # no MediaPipe graph: sizes only
    segmenter.long_side = long_side
    if long_side <= 0 or max(h, w) <= long_side:  # the segmenter's former arithmetic, kept as the reference
        before = (h, w)
    else:
        s = long_side / max(h, w)
        before = (max(1, round(h * s)), max(1, round(w * s)))
    assert segmenter.input_size(h, w) == before
    assert max(before) <= max(h, w) and (long_side <= 0 or max(before) <= max(long_side, 1))
