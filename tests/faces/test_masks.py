"""faces.masks: the soft face ellipse, at every face size."""

from __future__ import annotations

import numpy as np
import pytest

from vidstyle.faces.masks import ellipse_mask, face_ellipse


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
