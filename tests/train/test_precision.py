"""train.precision: how the run computes."""

from __future__ import annotations

import torch

from vidstyle.train.config import RunSection
from vidstyle.train.precision import precision_for


def test_precision_on_the_cpu():
    cpu = torch.device("cpu")
    off = precision_for(RunSection(amp="off"), cpu)
    assert not off.amp and not off.channels_last and not off.needs_grad_scaler
    on = precision_for(RunSection(amp="on", channels_last="on"), cpu)
    assert on.amp and on.amp_dtype == torch.bfloat16 and on.amp_name == "bfloat16" and on.channels_last
    assert not on.needs_grad_scaler  # bf16 needs no loss scaling
    with on.autocast():
        assert torch.get_autocast_dtype("cpu") == torch.bfloat16 and torch.is_autocast_enabled("cpu")
    with off.autocast():
        assert not torch.is_autocast_enabled("cpu")
