"""train.data: the random draws of a step are pinned."""

from __future__ import annotations

import pytest
from train_helpers import make_cfg


def test_batch_draws_are_pinned(data, tmp_path):
    """The random draws of a step (style, scale, flip, crop, motion, light, noise) keep their
    values and order: the bundled recipes' runs are reproduced by seed and step. Values from the
    trainer before it was split up (torch 2.x CPU generator, Pillow's bilinear resize)."""
    from vidstyle.train.data import StepBatches, list_images

    cfg = make_cfg(data, tmp_path, styles=("swirl", "stripes"))
    batches = StepBatches(list_images([data / "content"]), cfg.data, cfg.motion, 2, 2, 0, temporal=True)
    want = {
        0: ([0, 1], 779854.0, 784600.4375),
        1: ([1, 1], 790613.0, 787442.5),
        2: ([0, 1], 725129.0, 719192.5625),
        3: ([0, 0], 726529.0, 716619.5),
    }
    for step, (styles, content_sum, next_sum) in want.items():
        b = batches[step]
        assert b.style.tolist() == styles, step
        assert float(b.content.sum()) == content_sum, step  # whole 0..255 values: exact
        assert b.pairs is not None and float(b.pairs.next.sum()) == pytest.approx(next_sum, rel=1e-6)
