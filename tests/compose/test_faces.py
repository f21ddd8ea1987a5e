"""compose.faces: the three modes (blend, luma, restyle) and the strength each face gets."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import moving_frames
from face_helpers import one_face

from vidstyle.compose.faces import FacePreserver, luma_face, rgb_to_ycbcr, ycbcr_to_rgb
from vidstyle.config import FacesConfig
from vidstyle.faces.detector import Faces


def test_small_faces_keep_less_style_than_large_ones_in_one_frame():
    """Two faces in one frame: the 16-px one is put back almost as the original, the 120-px one
    keeps 0.35 of the style."""
    cfg = FacesConfig(fade_frames=1)
    stylized, original = torch.zeros(1, 3, 200, 300), torch.ones(1, 3, 200, 300)
    boxes = [[20, 20, 33, 36], [120, 40, 216, 160]]
    marks = [
        [[23, 25], [30, 25], [26, 29], [24, 32], [29, 32]],
        [[145, 80], [190, 80], [168, 105], [150, 130], [185, 130]],
    ]
    det = Faces(np.array(boxes, np.float32), np.array(marks, np.float32), np.array([0.99, 0.99], np.float32))
    out, mask, _ = FacePreserver(cfg).apply(stylized, original, (200, 300), det, None)
    small, large = float(out[0, 0, 28, 26]), float(out[0, 0, 100, 168])
    assert small == pytest.approx(1 - 0.35 / 7, abs=1e-4) and large == pytest.approx(0.65, abs=1e-4)


def test_blend_strength_zero_restores_the_original_inside_the_face():
    cfg = FacesConfig(mode="blend", strength="0", feather=0.2, fade_frames=1)
    stylized, original = torch.zeros(1, 3, 120, 160), torch.ones(1, 3, 120, 160)
    det = one_face([40, 30, 80, 90], [[50, 50], [70, 50], [60, 62], [52, 75], [68, 75]])
    out, mask, tracks = FacePreserver(cfg).apply(stylized, original, (120, 160), det, None)
    assert len(tracks) == 1
    assert torch.equal(out[..., 55:65, 55:65], original[..., 55:65, 55:65])  # face centre
    assert torch.equal(out[..., :10, :], stylized[..., :10, :])  # far away
    assert out[..., 55, 55].tolist() == [[1.0, 1.0, 1.0]]


def test_luma_keeps_original_luminance_detail_and_stylized_colour():
    g = torch.Generator().manual_seed(0)
    original = torch.rand(1, 3, 64, 64, generator=g)
    stylized = torch.zeros(1, 3, 64, 64)
    stylized[:, 0], stylized[:, 1], stylized[:, 2] = 0.8, 0.4, 0.2
    assert torch.allclose(ycbcr_to_rgb(rgb_to_ycbcr(original)), original, atol=2e-3)
    face = luma_face(original, stylized, strength=0.0, sigma=4.0)
    yo, yf = rgb_to_ycbcr(original)[:, 0], rgb_to_ycbcr(face)[:, 0]
    detail_o = yo - yo.mean()
    detail_f = yf - yf.mean()
    corr = (detail_o * detail_f).sum() / (detail_o.norm() * detail_f.norm())
    assert corr > 0.85  # the original's fine structure is there
    ys = rgb_to_ycbcr(stylized)
    assert abs(float(yf.mean() - ys[:, 0].mean())) < 0.08  # the stylized tone
    cf = rgb_to_ycbcr(face)[:, 1:]
    assert torch.allclose(cf.mean((2, 3)), ys[:, 1:].mean((2, 3)), atol=0.05)  # stylized colour


def test_restyle_uses_the_stylizer_on_the_face(tiny_model):
    from vidstyle.models.store import load_model
    from vidstyle.stylize.torch_backend import TorchStylizer

    net, meta = load_model(tiny_model)
    stylizer = TorchStylizer(net, meta, torch.device("cpu"))
    frame = torch.from_numpy(moving_frames(1, 120, 160)[0]).permute(2, 0, 1)[None].float() / 255
    stylized = stylizer(frame)
    det = one_face([40, 30, 80, 90], [[50, 50], [70, 50], [60, 62], [52, 75], [68, 75]])
    restyle = FacePreserver(FacesConfig(mode="restyle", fade_frames=1), stylizer)
    out, _, _ = restyle.apply(stylized, frame, (120, 160), det, None)
    centre = (..., slice(50, 70), slice(50, 70))
    assert not torch.allclose(out[centre], stylized[centre], atol=0.02)  # restyled, not the old one
    assert not torch.allclose(out[centre], frame[centre], atol=0.02)  # and not the photo
    assert torch.equal(out[..., :5, :], stylized[..., :5, :])
