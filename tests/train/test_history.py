"""Loss records: window means, the progress-bar text, the final losses of a model file."""

from __future__ import annotations

import pytest

from vidstyle.train.history import final_losses, postfix, record


def test_record_averages_each_term_over_its_window():
    window = [{"total": 3.0, "style": 1.0}, {"total": 5.0, "style": 2.0, "identity": 4.0}]
    rec = record(window, seconds=0.5, step=12)
    assert rec == {"step": 12, "it_s": 4.0, "identity": 4.0, "style": 1.5, "total": 4.0}
    assert list(rec)[2:] == ["identity", "style", "total"]  # the terms sorted by name
    assert record([{"total": 1.0}], seconds=0.0, step=1)["it_s"] > 1e8  # no division by zero


def test_postfix_lists_the_terms_in_display_order():
    rec = {"step": 3, "it_s": 2.0, "tv": 0.5, "total": 1234567.0, "content": 0.125}
    assert postfix(rec) == "total=1.23e+06 content=0.125 tv=0.5"


def test_final_losses_average_the_last_records():
    hist = [{"step": s, "it_s": 1.0, "total": float(s), "tv": 1.0} for s in range(1, 8)]
    assert final_losses(hist) == pytest.approx({"total": 5.0, "tv": 1.0})  # steps 3..7
    assert final_losses(hist, last=2) == pytest.approx({"total": 6.5, "tv": 1.0})
    assert final_losses([]) == {}
