"""TrainBatch: shapes checked where a batch is made; moved to a device whole."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from vidstyle.train.batch import FaceTargets, FramePairs, TrainBatch

N, S, F = 2, 8, 3


def faces(n: int = N, s: int = S) -> FaceTargets:
    return FaceTargets(torch.zeros(n, 1, s, s), torch.zeros(n, F, 5, 2), torch.zeros(n, F, dtype=torch.bool))


def pairs(n: int = N, s: int = S) -> FramePairs:
    return FramePairs(
        torch.rand(n, 3, s, s), torch.rand(n, 3, s, s), torch.zeros(n, s, s, 2), torch.ones(n, 1, s, s)
    )


def batch(**kw) -> TrainBatch:
    args = {"content": torch.rand(N, 3, S, S) * 255, "style": torch.tensor([0, 1]), **kw}
    return TrainBatch(**args)


def test_a_batch_holds_only_the_parts_its_losses_need():
    b = batch()
    assert b.faces is None and b.pairs is None and b.skipped == ()
    full = batch(faces=faces(), pairs=pairs(), skipped=("bad.jpg",))
    assert full.faces is not None and full.pairs is not None and full.skipped == ("bad.jpg",)
    with pytest.raises(dataclasses.FrozenInstanceError):
        full.content = torch.zeros(1)  # type: ignore[misc]  # frozen: the assignment is the test


@pytest.mark.parametrize(
    "kw, field",
    [
        ({"content": torch.rand(N, 4, S, S)}, "content"),
        ({"content": torch.rand(3, S, S)}, "content"),
        ({"style": torch.tensor([0, 1, 1])}, "style"),
        ({"faces": faces(s=S + 4)}, "faces.mask"),
        ({"faces": faces(n=N + 1)}, "faces.mask"),
        ({"pairs": pairs(s=S + 4)}, "pairs.next"),
    ],
)
def test_a_wrong_shape_is_refused_by_name(kw, field):
    with pytest.raises(ValueError, match=rf"TrainBatch\.{field}: shape"):
        batch(**kw)


def test_face_targets_check_their_own_parts():
    with pytest.raises(ValueError, match="faces.landmarks"):
        FaceTargets(torch.zeros(N, 1, S, S), torch.zeros(N, F, 4, 2), torch.zeros(N, F, dtype=torch.bool))
    with pytest.raises(ValueError, match="must be bool"):
        FaceTargets(torch.zeros(N, 1, S, S), torch.zeros(N, F, 5, 2), torch.zeros(N, F))
    bad_grid = FramePairs(
        *(getattr(pairs(), f) for f in ("next", "next_clean")),
        torch.zeros(N, S, S, 3),
        torch.ones(N, 1, S, S),
    )
    with pytest.raises(ValueError, match="pairs.grid"):
        batch(pairs=bad_grid)


def test_to_moves_every_tensor_and_lays_out_the_images():
    b = batch(faces=faces(), pairs=pairs(), skipped=("x.png",))
    moved = b.to(torch.device("cpu"), channels_last=True)
    assert moved.content.is_contiguous(memory_format=torch.channels_last)
    assert moved.pairs is not None and moved.pairs.next.is_contiguous(memory_format=torch.channels_last)
    assert moved.pairs.grid.is_contiguous() and moved.skipped == ("x.png",)
    assert torch.equal(moved.content, b.content) and torch.equal(moved.style, b.style)
    assert moved.faces is not None and torch.equal(moved.faces.usable, faces().usable)
    plain = b.to(torch.device("cpu"))
    assert plain.content is b.content  # nothing to copy


@pytest.mark.skipif(not torch.cuda.is_available(), reason="page-locked memory needs CUDA")
def test_pin_memory_pins_every_tensor():
    pinned = batch(faces=faces(), pairs=pairs()).pin_memory()
    assert pinned.content.is_pinned() and pinned.style.is_pinned()
    assert pinned.faces is not None and pinned.faces.mask.is_pinned()
    assert pinned.pairs is not None and pinned.pairs.grid.is_pinned()
