"""Pipeline's public extension points: the stage names a config gives, run_scope, stylizer_name, load."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from conftest import moving_frames

from vidstyle.errors import VidstyleError
from vidstyle.pipeline.api import Pipeline, PipelineRun
from vidstyle.pipeline.item import Item
from vidstyle.pipeline.stage import BaseStage
from vidstyle.pipeline.stages import STAGES, StageSpec

PLAIN = dict(temporal__mode="off", faces__mode="off")


@pytest.mark.parametrize(
    "settings, compare, names",
    [
        (PLAIN, False, "preprocess stylize postprocess encode"),
        (PLAIN, True, "preprocess stylize compose postprocess encode"),
        (dict(faces__mode="off"), False, "flow preprocess stylize compose postprocess encode"),
        (dict(temporal__mode="off"), False, "faces preprocess stylize compose postprocess encode"),
        ({}, True, "flow faces preprocess stylize compose postprocess encode"),
        (
            dict(PLAIN, people__background="blur"),
            False,
            "faces people preprocess stylize compose postprocess encode",
        ),
    ],
)
def test_stage_names_follow_the_settings(settings, compare, names):
    assert Pipeline(**settings).stage_names(compare) == names.split()


class Counting(BaseStage):
    name = "count"

    def __init__(self, fail_at: int | None = None):
        self.seen: list[int] = []
        self.fail_at = fail_at

    def process(self, items: list[Item]) -> list[Item]:
        for it in items:
            if it.frame.index == self.fail_at:
                raise RuntimeError("counted too far")
            self.seen.append(it.frame.index)
        return items


class Extended(Pipeline):
    """One stage more after stylize, and a record of what run_scope saw."""

    def __init__(self, stage: Counting, **overrides: object):
        super().__init__(**overrides)
        self.stage = stage
        self.scopes: list[tuple[PipelineRun, str]] = []

    def stage_specs(self) -> tuple[StageSpec, ...]:
        at = [s.name for s in STAGES].index("stylize") + 1
        return STAGES[:at] + (StageSpec("count", lambda pipeline, run: self.stage),) + STAGES[at:]

    @contextlib.contextmanager
    def run_scope(self, run: PipelineRun):
        try:
            yield
        except VidstyleError as exc:
            self.scopes.append((run, f"failed: {exc}"))
            raise
        self.scopes.append((run, "written" if run.output.exists() else "missing"))


@pytest.fixture
def clip(tmp_path) -> Path:
    from vidstyle.io.synth import write_clip

    return write_clip(tmp_path / "in.mp4", moving_frames(3, 32, 48), 25)


def settings(tiny_model) -> dict:
    return dict(
        PLAIN, model__style=str(tiny_model), model__device="cpu", model__backend="torch", run__progress="off"
    )


def test_a_subclass_adds_a_stage_with_one_entry(tiny_model, clip, tmp_path):
    stage = Counting()
    pipeline = Extended(stage, **settings(tiny_model))
    assert pipeline.stage_names() == ["preprocess", "stylize", "count", "postprocess", "encode"]
    out = tmp_path / "out.mp4"
    report = pipeline.run(clip, out)
    assert stage.seen == [0, 1, 2] and report.frames_out == 3
    assert [s["stage"] for s in report.stats] == ["decode"] + pipeline.stage_names()
    (run, ending), *_ = pipeline.scopes
    assert ending == "written"  # the scope closes after the sinks did
    assert (run.input, run.output, run.single_image, run.compare) == (str(clip), out, False, None)
    assert (run.info.width, run.info.height) == (48, 32)


def test_run_scope_sees_the_error_of_a_failed_run(tiny_model, clip, tmp_path):
    pipeline = Extended(Counting(fail_at=1), **settings(tiny_model))
    with pytest.raises(VidstyleError, match="count stage failed"):
        pipeline.run(clip, tmp_path / "out.mp4")
    assert [ending for _, ending in pipeline.scopes] == [
        "failed: count stage failed: RuntimeError: counted too far"
    ]


def test_load_returns_the_stylizer_the_runs_use(tiny_model, clip, tmp_path):
    pipeline = Pipeline(**settings(tiny_model))
    stylizer = pipeline.load()
    assert stylizer is pipeline.stylizer is pipeline.load()
    report = pipeline.run(clip, tmp_path / "out.mp4")
    assert report.stylizer == pipeline.stylizer_name() == stylizer.name
