"""Python API: ``Pipeline(cfg).run(input, output)`` and the one-call ``stylize_file``.

The CLI is a thin layer over this module.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from ..config import PipelineConfig, load_config
from ..configtools import override
from ..errors import Interrupted, OutputError
from ..compose.people import PeopleRegions
from ..io.compare import CompareSink
from ..io.sink import CONTAINERS, FrameSink, check_output, check_overwrite, default_output, open_sink
from ..io.source import FrameSource, input_kind, open_source
from ..log import log, redact
from ..people.segmenter import check_available
from ..people.styles import PeoplePlan
from ..stylize.base import Stylizer
from ..stylize.bank import StyleBank, build_style_bank
from ..stylize.factory import style_label
from .runner import RunResult, Runner
from .scheduling import (frames_in_parallel, load_stylizer, memory_limited_side, stylize_batch, stylize_threads,
                         stylize_workers)
from .stage import Stage
from .stages import (ComposeStage, EncodeStage, FaceDetectStage, FlowStage, PeopleSegmentStage,
                     PostprocessStage, PreprocessStage, StylizeStage)


@dataclass
class RunReport:
    """What a run produced. ``output`` is None when nothing was written."""

    output: Path | None
    frames_in: int
    frames_out: int
    wall_s: float
    partial: bool = False
    warnings: list[str] = field(default_factory=list)
    stats: list[dict] = field(default_factory=list)
    stylizer: str = ""
    summary: dict = field(default_factory=dict)     # per-stage extras (e.g. temporal resets)
    compare: Path | None = None

    @property
    def fps(self) -> float:
        return self.frames_out / self.wall_s if self.wall_s > 0 else 0.0


STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


@contextlib.contextmanager
def signals_stop(runner: Runner):
    """SIGINT/SIGTERM/SIGHUP: the first one drains and stops, a second one aborts at once.

    SIGHUP (the terminal went away) is treated like SIGTERM: the output is finished, not lost.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, _frame):
        if runner.stop_event.is_set():
            runner.abort()
        else:
            log.warning(f"{signal.Signals(signum).name}: stopping, finishing the output file…")
        runner.request_stop(signum)

    old = {s: signal.signal(s, handler) for s in STOP_SIGNALS}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


class _Progress:
    def __init__(self, mode: str, total: int, desc: str, callback: Callable[[int], None] | None = None):
        enabled = mode == "on" or (mode == "auto" and sys.stderr.isatty())
        self.bar = tqdm(total=total or None, unit="frame", desc=desc, disable=not enabled,
                        dynamic_ncols=True, leave=False, file=sys.stderr)
        self.n = 0
        self.callback = callback

    def tick(self, result: RunResult) -> None:
        if self.callback is not None:
            self.callback(result.frames_out)
        if result.frames_out > self.n:
            self.bar.update(result.frames_out - self.n)
            self.n = result.frames_out

    def close(self) -> None:
        self.bar.close()


class Pipeline:
    """Stylize files with one config; the model is loaded once and reused across runs.

    ``stylizer``: use this one instead of building the configured model (any object with the
    :class:`~vidstyle.stylize.base.Stylizer` protocol). ``overrides`` use ``section__key=value``.
    """

    def __init__(self, cfg: PipelineConfig | None = None, *, stylizer: Stylizer | None = None,
                 **overrides: object):
        cfg = cfg or load_config(search_cwd=False)
        for key, value in overrides.items():
            cfg = override(cfg, key.replace("__", "."), value)
        self.cfg = cfg
        self._stylizer: Stylizer | None = stylizer
        self._bank: StyleBank | None = None

    @property
    def stylizer(self) -> Stylizer:
        """The stylizer, built from ``cfg.model`` on first use."""
        if self._stylizer is None:
            self._stylizer = load_stylizer(self.cfg)
        return self._stylizer

    def label(self) -> str:
        """Short name of the style (checked before any decoding), for default output names."""
        return style_label(self.cfg.model.style)

    @property
    def people_plan(self) -> PeoplePlan | None:
        """The per-region looks, or None when person features are off."""
        if not self.cfg.people.enabled:
            return None
        return PeoplePlan.from_config(self.cfg.model.style, self.cfg.people)

    @property
    def style_bank(self) -> StyleBank:
        """One stylizer pass per model the people plan uses (several styles of one model: one pass)."""
        if self._bank is None:
            m, device = self.cfg.model, self.stylizer.device
            self._bank = build_style_bank(m, self.people_plan.styles(), device,
                                          stylize_threads(self.cfg, device), self.stylizer)
        return self._bank

    def check_people(self) -> None:
        """Person features asked for: MediaPipe and every named style must be there (before decoding)."""
        plan = self.people_plan
        if plan is None:
            return
        check_available()
        for spec in plan.styles():
            style_label(spec)

    def stages(self, sink: FrameSink, compare: CompareSink | None = None,
               max_side: int | None = None) -> list[Stage]:
        """decode -> [flow] -> [faces] -> [people] -> preprocess -> stylize -> [compose] -> postprocess
        -> encode.

        ``max_side`` overrides ``model.max_side`` (the memory guard lowers it for huge frames).
        """
        cfg = self.cfg
        stylizer = self.stylizer
        plan = self.people_plan
        temporal = cfg.temporal.mode != "off"
        faces = cfg.faces.mode != "off"
        stages: list[Stage] = [FlowStage(cfg.flow, cfg.temporal)] if temporal else []
        stages += [FaceDetectStage(cfg.faces, stylizer.device)] if faces or plan is not None else []
        stages += [PeopleSegmentStage(cfg.people)] if plan is not None else []
        stages += [PreprocessStage(stylizer.device, cfg.model.max_side if max_side is None else max_side),
                   StylizeStage(stylizer, stylize_batch(cfg, stylizer.device),
                                stylize_workers(cfg, stylizer.device),
                                bank=self.style_bank if plan is not None else None)]
        if temporal or faces or compare is not None or plan is not None:
            people = PeopleRegions(plan, self.style_bank.specs, cfg.people, cfg.faces) if plan is not None else None
            stages.append(ComposeStage(cfg.temporal, cfg.faces, stylizer,
                                       keep_per_frame=compare is not None, people=people))
        stages += [PostprocessStage(), EncodeStage(sink, compare)]
        return stages

    def run(self, input: str | Path, output: str | Path | None = None,
            compare: str | Path | None = None,
            on_progress: Callable[[int], None] | None = None) -> RunReport:
        """Stylize ``input`` (video file, animated GIF/PNG/WebP, image, image directory or glob) into ``output``.

        ``compare``: also write a side-by-side video (original | per-frame | stabilised) there.
        ``on_progress``: called with the frames written so far, about 5 times a second.
        """
        cfg = self.cfg
        spec = str(input)
        kind = input_kind(spec)
        label = self.label()                      # unknown style fails before any decoding
        self.check_people()
        out = Path(output) if output is not None else default_output(spec, label, kind)
        inputs = [Path(spec)] if Path(spec).is_file() else []
        check_output(out, inputs)
        check_overwrite(out, cfg.run.overwrite, "video" if out.suffix.lower() in CONTAINERS or kind == "video"
                        else "images")
        if compare is not None:
            compare = Path(compare)
            check_output(compare, inputs + [out])
            if compare.suffix.lower() not in CONTAINERS:
                raise OutputError(f"--compare needs a video file name, got {compare.name!r}")
        inp = cfg.input
        with open_source(spec, inp.image_fps, inp.decode_threads, inp.video_stream, inp.start,
                         inp.duration) as source:
            return self._run(source, out, kind == "images" and Path(spec).is_file(), compare, on_progress)

    def _run(self, source: FrameSource, out: Path, single_image: bool,
             compare_path: Path | None, on_progress: Callable[[int], None] | None = None) -> RunReport:
        cfg = self.cfg
        info = source.info
        stylizer = self.stylizer
        # leaving this block by an exception aborts both sinks (no half-written final names)
        with contextlib.ExitStack() as opened:
            main = opened.enter_context(open_sink(out, info, cfg.encode, single_image))
            compare = opened.enter_context(CompareSink(compare_path, info, cfg.encode)) \
                if compare_path is not None else None
            sinks = _Sinks(main, compare)
            audio = getattr(main, "audio", None)
            log.info(f"{redact(str(info.path or ''))}: {info.width}x{info.height}, "
                     f"{_rate_text(info.rate)}, {info.frames or '?'} frames"
                     + (f", audio {audio.describe()}" if audio is not None and audio.active else "")
                     + f" -> {out} [{stylizer.name}]")
            stages = self.stages(main, compare, self.max_side_for(info.height, info.width))
            runner = Runner(source, stages, cfg.run.queue_size)
            progress = _Progress(cfg.run.progress, info.frames, out.name, on_progress)
            try:
                with signals_stop(runner):
                    result = runner.run(on_tick=progress.tick)
            except BaseException:
                runner.abort()
                raise
            finally:
                progress.close()
            report = RunReport(None, result.frames_in, result.frames_out, result.wall_s,
                               stats=[s.to_dict(result.wall_s) for s in result.stats],
                               stylizer=stylizer.name)
            for stage in stages:
                report.summary.update(stage.summary())
            return self._finish(result, sinks, source, report)

    def max_side_for(self, h: int, w: int) -> int:
        """``model.max_side``, lowered (with a warning) when full-size frames would not fit in memory."""
        cfg, stylizer = self.cfg, self.stylizer
        limit = memory_limited_side(stylizer, h, w, frames_in_parallel(cfg, stylizer.device))
        wanted = cfg.model.max_side or max(h, w)
        if limit and limit < min(wanted, max(h, w)):
            log.warning(f"{w}x{h} frames need more memory than is free: stylizing at a long side of "
                        f"{limit} px and scaling back to {w}x{h} (set --max-side to choose, or use fewer "
                        f"--batch/workers)")
            return limit
        return cfg.model.max_side

    def _finish(self, result: RunResult, sinks: _Sinks, source: FrameSource, report: RunReport) -> RunReport:
        if result.error is not None:
            err = result.error
            if isinstance(err, OutputError) or result.frames_out == 0:
                sinks.abort()
            else:
                kept = sinks.close(complete=False)
                if kept is not None:
                    log.warning(f"partial output ({result.frames_out} frames) kept at {kept}")
            result.raise_error()
        if result.stopped_by is not None:
            kept = sinks.close(complete=False)
            name = signal.Signals(result.stopped_by).name
            where = f"partial output ({result.frames_out} frames) kept at {kept}" if kept \
                else "no frames were written"
            raise Interrupted(f"interrupted by {name}: {where}", result.stopped_by)
        report.output = sinks.close(complete=True)
        report.compare = sinks.compare_path
        if source.truncated:
            msg = f"input ended early ({source.truncated}); output has the {result.frames_out} frames that decoded"
            log.warning(msg)
            report.warnings.append(msg)
        damage = source.damage() if hasattr(source, "damage") else ""
        if damage:
            log.warning(damage)
            report.warnings.append(damage)
        pts_fixed = getattr(sinks.main, "pts_fixed", 0)
        if pts_fixed:
            msg = f"{pts_fixed} frame(s) had missing or non-increasing timestamps and were re-timed"
            log.warning(msg)
            report.warnings.append(msg)
        return report


class _Sinks:
    """The main sink and the optional comparison sink, closed and aborted together."""

    def __init__(self, main: FrameSink, compare: CompareSink | None = None):
        self.main = main
        self.compare = compare
        self.compare_path: Path | None = None

    def close(self, complete: bool) -> Path | None:
        kept = self.main.close(complete=complete)
        if self.compare is not None:
            self.compare_path = self.compare.close(complete=complete)
        return kept

    def abort(self) -> None:
        self.main.abort()
        if self.compare is not None:
            self.compare.abort()


def _rate_text(rate) -> str:
    if rate is None:
        return "? fps"
    return f"{float(rate):.3f} fps ({rate.numerator}/{rate.denominator})" if rate.denominator != 1 \
        else f"{rate.numerator} fps"


def stylize_file(input: str | Path, output: str | Path | None = None, *,
                 config: str | Path | PipelineConfig | None = None, **overrides: object) -> RunReport:
    """Stylize one file. ``overrides`` use ``section__key=value``, e.g. ``model__style="wave"``."""
    cfg = config if isinstance(config, PipelineConfig) else load_config(config, search_cwd=False)
    return Pipeline(cfg, **overrides).run(input, output)
