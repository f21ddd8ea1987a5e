"""The learning-rate schedule (warm-up, cosine) as a pure function of the step."""

from __future__ import annotations

import pytest

from vidstyle.train.config import OptimConfig
from vidstyle.train.schedule import lr_at


def test_constant_schedule_keeps_the_rate():
    o = OptimConfig(steps=10, lr=2e-3)
    assert [lr_at(s, o) for s in (0, 5, 9, 10, 50)] == [2e-3] * 5


def test_warmup_ramps_linearly_then_holds():
    o = OptimConfig(steps=10, lr=1e-3, warmup=4)
    assert [lr_at(s, o) for s in range(6)] == pytest.approx([2.5e-4, 5e-4, 7.5e-4, 1e-3, 1e-3, 1e-3])


def test_cosine_falls_from_the_rate_to_zero_and_stays_there():
    o = OptimConfig(steps=8, lr=1e-3, schedule="cosine")
    assert lr_at(0, o) == 1e-3
    assert lr_at(4, o) == pytest.approx(5e-4)
    assert lr_at(2, o) == pytest.approx(1e-3 * 0.5 * (1 + 2**-0.5))
    assert lr_at(8, o) == pytest.approx(0.0, abs=1e-18) and lr_at(20, o) == lr_at(8, o)
    rates = [lr_at(s, o) for s in range(9)]
    assert rates == sorted(rates, reverse=True)


def test_warmup_and_cosine_multiply():
    o = OptimConfig(steps=10, lr=1e-3, schedule="cosine", warmup=5)
    cosine = OptimConfig(steps=10, lr=1e-3, schedule="cosine")
    assert lr_at(1, o) == pytest.approx(lr_at(1, cosine) * 2 / 5)
    assert lr_at(5, o) == lr_at(5, cosine)
