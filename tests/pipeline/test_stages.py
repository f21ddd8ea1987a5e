"""pipeline.stages: the declared stage list, and the stages one by one on hand-made Items: what
each reads, what it writes, what it releases."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import torch
from conftest import moving_frames

from vidstyle.config import FlowConfig, TemporalConfig
from vidstyle.errors import VidstyleError
from vidstyle.io.frame import Frame
from vidstyle.pipeline.item import FaceDebug, Item
from vidstyle.pipeline.stages import (
    STAGES,
    EncodeStage,
    FlowStage,
    PostprocessStage,
    PreprocessStage,
    StylizeStage,
)


def test_the_declared_list_has_every_stage_once_in_running_order():
    assert [s.name for s in STAGES] == [
        "flow",
        "faces",
        "people",
        "preprocess",
        "stylize",
        "compose",
        "postprocess",
        "encode",
    ]


def item(index: int, rgb: np.ndarray) -> Item:
    return Item(Frame(index, rgb, index, Fraction(1, 25)))


def test_flow_stage_pairs_each_frame_with_the_previous_one():
    stage = FlowStage(FlowConfig(long_side=64), TemporalConfig())
    frames = moving_frames(3, 48, 64)
    items = [item(i, f) for i, f in enumerate(frames)]
    for it in items:
        stage.prepare(it)  # in order, as the runner does
    assert items[0].flow_from is None and items[1].flow_from == 0 and items[2].flow_from == 1
    stage.process(items)
    assert items[0].flow_bw is None and items[0].consistency is None  # a first frame
    for it in items[1:]:
        assert it.flow_pair is None  # consumed
        assert it.flow_bw.shape == (1, 2, 48, 64) and it.consistency.shape == (1, 1, 48, 64)
        assert 0.0 <= float(it.consistency.min()) and float(it.consistency.max()) <= 1.0
        # the content pans right 2 px a frame: pixel x of frame t was at x + 2 in frame t-1
        centre = it.flow_bw[0, 0, 12:36, 16:48]
        assert abs(float(centre.median()) - 2.0) < 0.5


def test_flow_stage_has_no_pair_across_a_size_change():
    stage = FlowStage(FlowConfig(long_side=0), TemporalConfig())
    a, b = item(0, np.zeros((32, 32, 3), np.uint8)), item(1, np.zeros((24, 32, 3), np.uint8))
    stage.prepare(a)
    stage.prepare(b)
    stage.process([a, b])
    assert b.flow_bw is None and b.consistency is None


def test_preprocess_uploads_and_fits_the_long_side():
    rgb = np.full((90, 160, 3), 255, np.uint8)
    it = item(0, rgb)
    PreprocessStage(torch.device("cpu"), max_side=80).process([it])
    assert it.image.shape == (3, 45, 80) and it.image.dtype == torch.float32
    assert torch.allclose(it.image, torch.ones_like(it.image))
    full = item(0, rgb)
    PreprocessStage(torch.device("cpu"), max_side=0).process([full])
    assert full.image.shape == (3, 90, 160)


class Recorder:
    """A stylizer that records the batch shapes it sees and returns 1 - x."""

    def __init__(self, oom_above: int = 0):
        self.device, self.name, self.precision = torch.device("cpu"), "rec", "fp32"
        self.activation_bytes_per_px = 256.0
        self.batches: list[tuple[int, ...]] = []
        self.oom_above = oom_above

    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        if self.oom_above and batch.shape[0] > self.oom_above:
            raise torch.OutOfMemoryError("pretend")
        self.batches.append(tuple(batch.shape))
        return 1.0 - batch


def with_image(index: int, h: int, w: int) -> Item:
    it = item(index, np.zeros((h, w, 3), np.uint8))
    it.image = torch.full((3, h, w), 0.25)
    return it


def test_stylize_stage_batches_runs_of_equal_size():
    rec = Recorder()
    items = [with_image(0, 8, 8), with_image(1, 8, 8), with_image(2, 12, 8), with_image(3, 8, 8)]
    StylizeStage(rec, batch_size=4).process(items)
    assert rec.batches == [(2, 3, 8, 8), (1, 3, 12, 8), (1, 3, 8, 8)]
    assert all(torch.allclose(it.stylized, torch.full_like(it.image, 0.75)) for it in items)


def test_stylize_stage_halves_the_batch_on_out_of_memory():
    rec = Recorder(oom_above=2)
    stage = StylizeStage(rec, batch_size=8)
    items = [with_image(i, 8, 8) for i in range(5)]
    stage.process(items)
    assert stage.batch_size == 2 and all(b[0] <= 2 for b in rec.batches)
    assert all(it.stylized is not None for it in items)


def test_stylize_stage_reports_a_frame_that_never_fits():
    class Never(Recorder):
        def __call__(self, batch):
            raise torch.OutOfMemoryError("pretend")

    with pytest.raises(VidstyleError, match="out of GPU memory stylizing one 8x12 frame"):
        StylizeStage(Never(), batch_size=1).process([with_image(0, 12, 8)])


def test_stylize_stage_with_workers_takes_one_frame_per_call():
    assert StylizeStage(Recorder(), batch_size=8, workers=2).batch_size == 1


def test_postprocess_scales_back_and_releases_the_device_tensors():
    it = item(0, np.zeros((90, 160, 3), np.uint8))
    it.stylized = torch.full((3, 45, 80), 0.5)
    it.image = torch.zeros(3, 45, 80)
    it.per_frame = torch.ones(3, 45, 80)
    PostprocessStage().process([it])
    assert it.output.shape == (90, 160, 3) and it.output.dtype == np.uint8
    assert int(it.output[0, 0, 0]) == 128  # 0.5 rounds to 128
    assert it.per_frame_rgb.shape == (90, 160, 3) and int(it.per_frame_rgb.min()) == 255
    assert it.image is None and it.stylized is None and it.per_frame is None


def test_postprocess_tints_the_face_mask_for_debugging():
    it = item(0, np.zeros((16, 16, 3), np.uint8))
    it.stylized = torch.zeros(3, 16, 16)
    mask = torch.zeros(1, 1, 16, 16)
    mask[..., :8, :] = 1.0
    it.face_debug = FaceDebug(mask, [])
    PostprocessStage().process([it])
    assert it.output[:8, :, 1].min() > 50 and it.output[8:].max() == 0  # green only inside
    assert it.face_debug is None


class ListSink:
    def __init__(self):
        self.written: list = []

    def write(self, frame, picture):
        self.written.append((frame.index, picture))


def test_encode_stage_writes_outputs_and_comparison_panels():
    sink, compare = ListSink(), ListSink()
    rgb = np.zeros((4, 4, 3), np.uint8)
    it = item(7, rgb)
    it.output, it.per_frame_rgb = np.ones((4, 4, 3), np.uint8), np.full((4, 4, 3), 2, np.uint8)
    EncodeStage(sink, compare).process([it])
    assert sink.written[0][0] == 7 and int(sink.written[0][1].max()) == 1
    panels = compare.written[0][1]
    assert [int(p.max()) for p in panels] == [0, 2, 1]  # original | per-frame | output
    assert it.frame.rgb is None and it.output is None and it.per_frame_rgb is None


def test_a_field_no_earlier_stage_set_is_named_in_the_error():
    from vidstyle.pipeline.item import MissingField

    with pytest.raises(MissingField, match=r"Item\.stylized is not set"):
        PostprocessStage().process([item(0, np.zeros((8, 8, 3), np.uint8))])


def test_compose_skips_flow_that_points_to_a_dropped_frame():
    """If a frame vanished between the flow stage and compose, its successor's flow points to a
    frame whose output compose never made: that pair must not be blended."""
    from fractions import Fraction

    from vidstyle.config import FacesConfig, TemporalConfig
    from vidstyle.io.frame import Frame
    from vidstyle.pipeline.item import Item
    from vidstyle.pipeline.stages import ComposeStage

    stage = ComposeStage(TemporalConfig(alpha=0.9, scene_cut=0.0), FacesConfig(mode="off"))

    def item(index: int, flow_from: int | None) -> Item:
        it = Item(Frame(index, np.zeros((8, 8, 3), np.uint8), index, Fraction(1, 25)))
        it.stylized = torch.full((3, 8, 8), float(index))
        it.image = it.stylized.clone()
        it.flow_bw, it.consistency = torch.zeros(1, 2, 8, 8), torch.ones(1, 1, 8, 8)
        it.flow_from = flow_from
        return it

    a, b, d = item(0, None), item(1, 0), item(3, 2)  # frame 2 was dropped after the flow stage
    stage.process([a, b, d])
    assert torch.allclose(b.stylized, torch.full((3, 8, 8), 0.9 * 0 + 0.1 * 1))  # blended with frame 0
    assert torch.equal(d.stylized, torch.full((3, 8, 8), 3.0))  # not blended
    assert stage.temporal.summary()["blended"] == 1
