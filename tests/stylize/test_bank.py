"""stylize.bank: the styles of one conditional-norm model run in one pass."""

from __future__ import annotations

import torch


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
