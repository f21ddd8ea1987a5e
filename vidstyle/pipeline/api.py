"""Python API: ``Pipeline(cfg).run(input, output)`` and the one-call ``stylize_file``.

The CLI is a thin layer over this module. A subclass changes a run through the public hooks of
:class:`Pipeline`: ``stage_specs`` (the stage list), ``run_scope`` (what runs around the stages,
given the run as a :class:`PipelineRun`), ``stylizer_name``, ``memory_plan`` and ``max_side_for``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from ..config import EncodeConfig, PipelineConfig, load_config
from ..configtools import override
from ..errors import ConfigError, Interrupted, OutputError
from ..io.compare import CompareSink
from ..io.frame import VideoInfo
from ..io.sink import CONTAINERS, FrameSink, check_output, check_overwrite, default_output, open_sink
from ..io.source import FrameSource, input_kind, open_source
from ..log import log, progress_enabled, redact
from ..people.segmenter import check_available
from ..people.styles import PeoplePlan
from ..stylize.bank import StyleBank, build_style_bank
from ..stylize.base import Stylizer
from ..stylize.factory import style_label
from ..sysinfo import cpu_count
from .memory import GB, MemoryPlan, Shape, encoder_frames, settable_lookahead
from .memory import plan as plan_memory
from .runner import Runner, RunResult
from .scheduling import frames_in_parallel, load_stylizer, memory_limited_side, stylize_threads
from .stage import Stage
from .stages import STAGES, StageOutputs, StageSpec


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
    summary: dict = field(default_factory=dict)  # per-stage extras (e.g. temporal resets)
    compare: Path | None = None

    @property
    def fps(self) -> float:
        return self.frames_out / self.wall_s if self.wall_s > 0 else 0.0


@dataclass(frozen=True)
class PipelineRun:
    """One call of :meth:`Pipeline.run` as the hooks see it, once its source is open."""

    input: str  # the input as given: file, directory, glob
    output: Path
    info: VideoInfo  # the source's
    single_image: bool  # one image file in, one image file out
    compare: Path | None = None  # the side-by-side video, when asked for


STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


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
        self.bar = tqdm(
            total=total or None,
            unit="frame",
            desc=desc,
            disable=not progress_enabled(mode),
            dynamic_ncols=True,
            leave=False,
            file=sys.stderr,
        )
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

    def __init__(
        self, cfg: PipelineConfig | None = None, *, stylizer: Stylizer | None = None, **overrides: object
    ):
        self.cfg = apply_overrides(cfg or load_config(search_cwd=False), overrides)
        self._stylizer: Stylizer | None = stylizer
        self._bank: StyleBank | None = None

    @property
    def stylizer(self) -> Stylizer:
        """The stylizer, built from ``cfg.model`` on first use."""
        if self._stylizer is None:
            self._stylizer = load_stylizer(self.cfg)
        return self._stylizer

    def load(self) -> Stylizer:
        """Load the model now (so the first frames do not wait for it) and return the stylizer."""
        return self.stylizer

    def stylizer_name(self) -> str:
        """What the log line and :attr:`RunReport.stylizer` call the engine of a run (a hook)."""
        return self.stylizer.name

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
            plan = self.people_plan
            if plan is None:
                raise ValueError("the style bank is for person features (people.enabled), which are off")
            m, device = self.cfg.model, self.stylizer.device
            self._bank = build_style_bank(
                m, plan.styles(), device, stylize_threads(self.cfg, device), self.stylizer
            )
        return self._bank

    def check_people(self) -> None:
        """Person features asked for: MediaPipe and every named style must be there (before decoding)."""
        plan = self.people_plan
        if plan is None:
            return
        check_available()
        for spec in plan.styles():
            style_label(spec)

    def stage_specs(self) -> Sequence[StageSpec]:
        """The stages a run may have, in order (a hook: :data:`~vidstyle.pipeline.stages.STAGES`
        here; a subclass returns its own sequence)."""
        return STAGES

    def stages(
        self, sink: FrameSink, compare: CompareSink | None = None, max_side: int | None = None
    ) -> list[Stage]:
        """decode -> [flow] -> [faces] -> [people] -> preprocess -> stylize -> [compose] -> postprocess
        -> encode, built from :meth:`stage_specs`.

        ``max_side`` overrides ``model.max_side`` (the memory guard lowers it for huge frames).
        """
        comparing, run = compare is not None, StageOutputs(sink, compare, max_side)
        return [spec.build(self, run) for spec in self.stage_specs() if spec.enabled(self, comparing)]

    def stage_names(self, compare: bool = False) -> list[str]:
        """The stages a run of this configuration has, in order."""
        return [spec.name for spec in self.stage_specs() if spec.enabled(self, compare)]

    def memory_plan(self, info: VideoInfo, out: Path, compare: bool = False) -> MemoryPlan:
        """Queue depth, encoder look-ahead and stylization size that keep a run of ``info``'s frames
        into ``out`` inside the memory budget (see :mod:`.memory`); InputError when nothing fits."""
        cfg, stylizer = self.cfg, self.stylizer
        enc = cfg.encode
        codec = (
            (CONTAINERS[out.suffix.lower()][1] if enc.codec == "auto" else enc.codec)
            if out.suffix.lower() in CONTAINERS
            else None
        )
        fixed = enc.options.get("rc-lookahead")
        frames = encoder_frames(codec, enc.preset, cpu_count(), int(fixed) if fixed else None) if codec else 0
        wide = 4 if compare else 1  # the compare video is 3 x wide
        shape = Shape(
            info.height,
            info.width,
            self.stage_names(compare),
            frames_in_parallel(cfg, stylizer.device),
            stylizer.activation_bytes_per_px,
            stylizer.device.type == "cpu",
            cfg.temporal.mode != "off",
            frames * wide,
            settable_lookahead(codec, enc.preset, enc.options) * wide,
            info.frames or 0,
        )
        return plan_memory(shape, cfg.run.queue_size, cfg.model.max_side, cfg.run.memory_limit)

    def encode_config(self, mem: MemoryPlan) -> EncodeConfig:
        """``encode`` with the look-ahead ``mem`` chose."""
        enc = self.cfg.encode
        if mem.lookahead is None:
            return enc
        return dataclasses.replace(enc, options={**enc.options, "rc-lookahead": str(mem.lookahead)})

    def run(
        self,
        input: str | Path,
        output: str | Path | None = None,
        compare: str | Path | None = None,
        on_progress: Callable[[int], None] | None = None,
    ) -> RunReport:
        """Stylize ``input`` (video file, animated GIF/PNG/WebP, image, image directory or glob)
        into ``output``.

        ``compare``: also write a side-by-side video (original | per-frame | stabilised) there.
        ``on_progress``: called with the frames written so far, about 5 times a second.
        """
        cfg = self.cfg
        spec = str(input)
        kind = input_kind(spec)
        label = self.label()  # unknown style fails before any decoding
        self.check_people()
        out = Path(output) if output is not None else default_output(spec, label, kind)
        inputs = [Path(spec)] if Path(spec).is_file() else []
        check_output(out, inputs)
        # -n refuses here, before any work; the "overwriting" warning waits until the run writes
        out_kind = "video" if out.suffix.lower() in CONTAINERS or kind == "video" else "images"
        check_overwrite(out, "yes" if cfg.run.overwrite == "warn" else cfg.run.overwrite, out_kind)
        if compare is not None:
            compare = Path(compare)
            if same_file(compare, out):
                raise ConfigError(
                    f"--compare {compare} and the output {out} are the same file; give the "
                    f"side-by-side video its own name"
                )
            check_output(compare, inputs + [out])
            if compare.suffix.lower() not in CONTAINERS:
                raise OutputError(f"--compare needs a video file name, got {compare.name!r}")
        inp = cfg.input
        made_dir = None if out.exists() else out  # an image folder this run creates
        try:
            with open_source(
                spec, inp.image_fps, inp.decode_threads, inp.video_stream, inp.start, inp.duration
            ) as source:
                run = PipelineRun(spec, out, source.info, kind == "images" and Path(spec).is_file(), compare)
                with self.run_scope(run):
                    return self._run(source, run, on_progress)
        finally:
            if made_dir is not None:
                remove_if_empty(made_dir)

    @contextlib.contextmanager
    def run_scope(self, run: PipelineRun) -> Iterator[None]:
        """What runs around the stages of ``run`` (a hook): entered once the source is open and
        before the memory plan, the sinks and the stages; left after the sinks are closed, by
        the run's exception when it fails (which must propagate). Nothing here."""
        yield

    def _run(
        self, source: FrameSource, run: PipelineRun, on_progress: Callable[[int], None] | None = None
    ) -> RunReport:
        cfg = self.cfg
        info, out, compare_path = source.info, run.output, run.compare
        name = self.stylizer_name()
        # leaving this block by an exception aborts both sinks (no half-written final names)
        with contextlib.ExitStack() as opened:
            mem = self.memory_plan(info, out, compare_path is not None)
            if mem.lowered:
                log.warning(
                    f"{info.width}x{info.height} frames: lowered {', '.join(mem.lowered)} to stay in "
                    f"the memory budget ({mem.estimate / GB:.1f} of {mem.budget / GB:.1f} GB; "
                    f"--set run.memory_limit=GB to choose)"
                )
            encode = self.encode_config(mem)
            if cfg.run.overwrite == "warn":  # every check passed: the run writes from here on
                check_overwrite(out, "warn", "video" if info.kind == "video" else "images")
            main = opened.enter_context(open_sink(out, info, encode, run.single_image))
            compare = (
                opened.enter_context(CompareSink(compare_path, info, encode))
                if compare_path is not None
                else None
            )
            sinks = _Sinks(main, compare)
            audio = getattr(main, "audio", None)
            total, exact = expected_frames(info)
            described = (
                f"{info.width}x{info.height} image"
                if run.single_image
                else f"{info.width}x{info.height}, {_rate_text(info.rate)}, "
                f"{'' if exact else '~'}{total or '?'} frames"
            )
            log.info(
                f"{redact(str(info.path or ''))}: {described}"
                + (f", audio {audio.describe()}" if audio is not None and audio.active else "")
                + f" -> {out} [{name}]"
            )
            stages = self.stages(main, compare, self.max_side_for(info.height, info.width, mem.max_side))
            runner = Runner(source, stages, mem.queue_size)
            progress = _Progress(cfg.run.progress, total, out.name, on_progress)
            try:
                with signals_stop(runner):
                    result = runner.run(on_tick=progress.tick)
            except BaseException:
                runner.abort()
                raise
            finally:
                progress.close()
            report = RunReport(
                None,
                result.frames_in,
                result.frames_out,
                result.wall_s,
                stats=[s.to_dict(result.wall_s) for s in result.stats],
                stylizer=name,
            )
            for stage in stages:
                report.summary.update(stage.summary())
            return self._finish(result, sinks, source, report)

    def max_side_for(self, h: int, w: int, planned: int = 0) -> int:
        """``planned`` (the host memory plan's side) or ``model.max_side``, lowered (with a warning)
        when full-size frames would not fit in the GPU's memory."""
        cfg, stylizer = self.cfg, self.stylizer
        wanted = planned or cfg.model.max_side
        if stylizer.device.type == "cpu":  # the host memory plan counted the activations
            return wanted
        limit = memory_limited_side(stylizer, h, w, frames_in_parallel(cfg, stylizer.device))
        if limit and limit < min(wanted or max(h, w), max(h, w)):
            log.warning(
                f"{w}x{h} frames need more GPU memory than is free: stylizing at a long side of "
                f"{limit} px and scaling back to {w}x{h} (set --max-side to choose, or use fewer "
                f"--batch/workers)"
            )
            return limit
        return wanted

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
            where = (
                f"partial output ({result.frames_out} frames) kept at {kept}"
                if kept
                else "no frames were written"
            )
            raise Interrupted(f"interrupted by {name}: {where}", result.stopped_by)
        written = sinks.close(complete=True)
        report.output = Path(written) if written is not None else None
        report.compare = sinks.compare_path
        if source.truncated:
            msg = (
                f"input ended early ({source.truncated}); "
                f"output has the {result.frames_out} frames that decoded"
            )
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

    def close(self, complete: bool) -> Path | str | None:
        kept = self.main.close(complete=complete)
        if self.compare is not None:
            self.compare_path = self.compare.close(complete=complete)
        return kept

    def abort(self) -> None:
        self.main.abort()
        if self.compare is not None:
            self.compare.abort()


def expected_frames(info: VideoInfo) -> tuple[int, bool]:
    """(frames the run will likely take, whether that is the source's own count): the count the
    container states, else duration x rate (MKV, a --start/--duration cut); 0 when unknown."""
    if info.frames:
        return info.frames, True
    if info.duration and info.rate:
        return max(1, round(info.duration * info.rate)), False
    return 0, False


def same_file(a: Path, b: Path) -> bool:
    """Whether two output names point at one file (the same path, or links to one file)."""
    try:
        if a.exists() and b.exists() and os.path.samefile(a, b):
            return True
    except OSError:
        pass
    return a.resolve() == b.resolve()


def remove_if_empty(folder: Path) -> None:
    """Remove ``folder`` when it is an empty directory (a failed image run made it, wrote nothing)."""
    with contextlib.suppress(OSError):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def _rate_text(rate) -> str:
    if rate is None:
        return "? fps"
    return (
        f"{float(rate):.3f} fps ({rate.numerator}/{rate.denominator})"
        if rate.denominator != 1
        else f"{rate.numerator} fps"
    )


def apply_overrides(cfg: PipelineConfig, overrides: Mapping[str, object]) -> PipelineConfig:
    """``cfg`` with ``section__key=value`` overrides (e.g. ``model__style="wave"``) applied."""
    for key, value in overrides.items():
        cfg = override(cfg, key.replace("__", "."), value)
    return cfg


def stylize_file(
    input: str | Path,
    output: str | Path | None = None,
    *,
    config: str | Path | PipelineConfig | None = None,
    **overrides: object,
) -> RunReport:
    """Stylize one file. ``overrides`` use ``section__key=value``, e.g. ``model__style="wave"``."""
    cfg = config if isinstance(config, PipelineConfig) else load_config(config, search_cwd=False)
    return Pipeline(apply_overrides(cfg, overrides)).run(input, output)
