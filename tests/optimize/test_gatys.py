"""optimize.gatys: the pyramid, the memory check, and the style loss falling on an image."""

from __future__ import annotations

import pytest
import torch
from conftest import SHARED, needs_shared
from optimize_helpers import FAST_LAYERS, batch, gatys_for, gram_distance, opt_cfg

from vidstyle.config import OptimizeConfig
from vidstyle.errors import VidstyleError


# ------------------------------------------------------------------------------ pure parts
def test_pyramid_halves_down_to_the_coarse_side():
    from vidstyle.optimize.gatys import pyramid

    assert pyramid((300, 400), 512) == [(300, 400)]
    assert pyramid((900, 1600), 512) == [(225, 400), (450, 800), (900, 1600)]
    assert pyramid((900, 1600), 0) == [(900, 1600)]


def test_memory_check_is_one_clear_line(monkeypatch):
    from vidstyle.optimize import gatys

    monkeypatch.setattr(gatys, "available_memory", lambda device=None: 64 << 20)
    with pytest.raises(
        VidstyleError, match=r"optimizing 4000x3000 needs about .* GiB, 64 MiB of RAM is free: lower --size"
    ):
        gatys.check_memory(3000, 4000, OptimizeConfig(), torch.device("cpu"))
    gatys.check_memory(30, 40, OptimizeConfig(), torch.device("cpu"))  # small is fine


# ------------------------------------------------------------------------------ images
@needs_shared
@pytest.mark.slow
def test_image_style_loss_falls_and_grams_approach_the_painting(real_vgg, painting):
    from vidstyle.geometry import fit_long_side
    from vidstyle.io.source import load_image
    from vidstyle.optimize.gatys import resize

    cfg = opt_cfg(size=40, init="content", **FAST_LAYERS)
    g = gatys_for(cfg, real_vgg, painting)
    photo = batch(load_image(SHARED / "faces" / "photos" / "obama_small.jpg"))
    content = resize(photo, fit_long_side(*photo.shape[-2:], 40))
    styles = []
    result = g.solve(content, content, 25, on_iter=lambda i, t: styles.append(t["style"]))
    assert styles[-1] < styles[0] / 5  # a large factor in 25 iterations
    target = g.grams(tuple(content.shape[-2:]))
    before, after = gram_distance(real_vgg, content, target), gram_distance(real_vgg, result.image, target)
    assert after < 0.3 * before
