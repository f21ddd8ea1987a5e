"""eval.flicker: the warping error of consistent and shuffled frames."""

from __future__ import annotations

import numpy as np
from conftest import moving_frames

from vidstyle.eval.flicker import warping_errors


def test_warping_error_is_small_for_consistent_and_large_for_shuffled():
    frames = moving_frames(10, 80, 100, seed=5)
    shuffled = [frames[i] for i in np.random.default_rng(1).permutation(10)]
    consistent, mixed = warping_errors(frames, [frames, shuffled])
    assert consistent.e_warp < 2e-3
    assert mixed.e_warp > 20 * consistent.e_warp
