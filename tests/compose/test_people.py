"""compose.people: region compositing keeps plain regions exact."""

from __future__ import annotations

import numpy as np
import torch

from vidstyle.compose.people import PeopleComposer, composite, restore_plain
from vidstyle.people.styles import PeoplePlan
from vidstyle.people.tracker import PersonMasks


def test_composite_and_restore_keep_plain_regions_exact():
    h, w = 8, 10
    original = torch.rand(1, 3, h, w)
    styled = torch.rand(1, 3, h, w)
    labels = np.zeros((h, w), np.uint16)
    labels[:, 5:] = 1
    people = PersonMasks([1], (labels == 1).astype(np.float32)[None], labels)
    composer = PeopleComposer(PeoplePlan("s", background="original"), ["s"], 0.02)
    out, images, weights = composer.compose([styled], original, people)
    torch.testing.assert_close(out[..., :5], original[..., :5])
    torch.testing.assert_close(out[..., 5:], styled[..., 5:])
    later = torch.rand(1, 3, h, w)  # e.g. after the temporal blend
    back = restore_plain(later, images, weights)
    torch.testing.assert_close(back[..., :5], original[..., :5])
    torch.testing.assert_close(back[..., 5:], later[..., 5:])
    torch.testing.assert_close(composite({"x": styled}, {"x": torch.ones(1, 1, h, w)}), styled)
