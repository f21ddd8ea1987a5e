"""eval.faces: face recall and landmark error on hand-made cases."""

from __future__ import annotations

import numpy as np
import pytest

from vidstyle.eval.faces import evaluate_faces


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
