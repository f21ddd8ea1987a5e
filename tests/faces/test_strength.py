"""faces.strength: how much style a face keeps, by its size in brush strokes."""

from __future__ import annotations

import numpy as np
import pytest

from vidstyle.config import FacesConfig


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
