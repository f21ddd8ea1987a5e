"""faces.align: the similarity transform and face chips."""

from __future__ import annotations

import math

import numpy as np
import torch


def test_similarity_recovers_transform():
    from vidstyle.faces.align import similarity

    src = np.random.default_rng(0).uniform(0, 100, (5, 2))
    a, b = 1.5 * math.cos(0.3), 1.5 * math.sin(0.3)
    m = np.array([[a, -b, 10.0], [b, a, -4.0]])
    dst = src @ m[:, :2].T + m[:, 2]
    assert np.allclose(similarity(src, dst), m, atol=1e-9)


def test_face_chip_of_template_is_identity_and_differentiable():
    from vidstyle.faces.align import face_chips, template

    img = (torch.rand(1, 3, 150, 150) * 255).requires_grad_(True)
    chip = face_chips(img, torch.zeros(1, dtype=torch.long), template()[None])
    assert torch.allclose(chip, img, atol=0.05)  # 0..255 scale, float32 theta
    chip.sum().backward()
    assert img.grad is not None and img.grad.abs().sum() > 0
    # a face at half scale in a larger image fills the chip after alignment
    big = torch.zeros(1, 3, 300, 300)
    big[..., 100:175, 60:135] = 255.0
    lm = template()[None] / 2 + np.array([60.0, 100.0]) - 0.25
    chip = face_chips(big, torch.zeros(1, dtype=torch.long), lm)
    assert chip[..., 10:140, 10:140].mean() > 250
