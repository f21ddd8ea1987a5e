"""people.instances: splitting the person mask into people (pure math)."""

from __future__ import annotations

import numpy as np
import pytest

from vidstyle.people.instances import (
    ANONYMOUS,
    attach_leftovers,
    face_seed_regions,
    grow_labels,
    majority_label,
    soft_masks,
)


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
