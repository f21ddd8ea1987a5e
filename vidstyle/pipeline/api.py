"""Python API: ``Pipeline(cfg).run(input, output)`` and the one-call ``stylize_file``.

The CLI is a thin layer over this module.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..config import PipelineConfig, load_config
from ..configtools import override
from ..errors import Interrupted, OutputError, VidstyleError
from ..io.sink import check_output, default_output, open_sink
from ..io.source import input_kind, open_source
from ..log import log, redact
from ..models.catalog import StyleEntry, parse_style_mix, resolve_style
from ..models.store import load_model
from ..stylize.base import Stylizer
from ..stylize.torch_backend import TorchStylizer, resolve_device, resolve_precision
from .runner import RunResult, Runner
from .stages import EncodeStage, PostprocessStage, PreprocessStage, StylizeStage


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

    @property
    def fps(self) -> float:
        return self.frames_out / self.wall_s if self.wall_s > 0 else 0.0


def style_weights(entry: StyleEntry, mix: str) -> list[float]:
    """Per-style weights for ``entry``'s model: one-hot on its style, or the parsed ``mix``."""
    n = len(entry.meta.styles)
    if mix:
        return parse_style_mix(mix, entry.meta)
    return [1.0 if i == entry.style_index else 0.0 for i in range(n)]


def build_stylizer(cfg: PipelineConfig) -> Stylizer:
    """The configured style model on the configured device/precision."""
    m = cfg.model
    entry = resolve_style(m.style)
    weights = style_weights(entry, m.style_mix)
    device = resolve_device(m.device)
    if device.type == "cpu" and m.threads:
        torch.set_num_threads(m.threads)
    precision = resolve_precision(m.precision, device)
    channels_last = m.channels_last == "on" or (m.channels_last == "auto" and device.type == "cuda")
    net, meta = load_model(entry.model_path)
    if meta.placeholder:
        log.warning(f"style {entry.name!r} is a placeholder model, not a trained style")
    return TorchStylizer(net, meta, device, precision, channels_last, weights)


@contextlib.contextmanager
def _signals_stop(runner: Runner):
    """SIGINT/SIGTERM: first one drains and stops, a second one aborts at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, _frame):
        if runner.stop_event.is_set():
            runner.abort()
        else:
            log.warning(f"{signal.Signals(signum).name}: stopping, finishing the output file…")
        runner.request_stop(signum)

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


class _Progress:
    def __init__(self, mode: str, total: int, desc: str):
        from tqdm import tqdm

        enabled = mode == "on" or (mode == "auto" and sys.stderr.isatty())
        self.bar = tqdm(total=total or None, unit="frame", desc=desc, disable=not enabled,
                        dynamic_ncols=True, leave=False, file=sys.stderr)
        self.n = 0

    def tick(self, result: RunResult) -> None:
        if result.frames_out > self.n:
            self.bar.update(result.frames_out - self.n)
            self.n = result.frames_out

    def close(self) -> None:
        self.bar.close()


class Pipeline:
    """Stylize files with one config; the model is loaded once and reused across runs."""

    def __init__(self, cfg: PipelineConfig | None = None, **overrides: object):
        cfg = cfg or load_config(search_cwd=False)
        for key, value in overrides.items():
            cfg = override(cfg, key.replace("__", "."), value)
        self.cfg = cfg
        self._stylizer: Stylizer | None = None

    @property
    def stylizer(self) -> Stylizer:
        if self._stylizer is None:
            self._stylizer = build_stylizer(self.cfg)
        return self._stylizer

    def stages(self, sink) -> list:
        cfg = self.cfg
        stylizer = self.stylizer
        return [PreprocessStage(stylizer.device, cfg.model.max_side),
                StylizeStage(stylizer, cfg.model.batch),
                PostprocessStage(),
                EncodeStage(sink)]

    def run(self, input: str | Path, output: str | Path | None = None) -> RunReport:
        """Stylize ``input`` (video file, image, image directory or glob) into ``output``."""
        cfg = self.cfg
        spec = str(input)
        kind = input_kind(spec)
        entry = resolve_style(cfg.model.style)      # unknown style fails before any decoding
        out = Path(output) if output is not None else default_output(spec, entry.name, kind)
        check_output(out, [Path(spec)] if Path(spec).is_file() else [])
        source = open_source(spec, cfg.input.image_fps, cfg.input.decode_threads)
        try:
            return self._run(source, out, single_image=kind == "images" and Path(spec).is_file())
        finally:
            source.close()

    def _run(self, source, out: Path, single_image: bool) -> RunReport:
        cfg = self.cfg
        info = source.info
        stylizer = self.stylizer
        sink = open_sink(out, info, cfg.encode, single_image)
        audio = getattr(sink, "audio", None)
        log.info(f"{redact(str(info.path or ''))}: {info.width}x{info.height}, "
                 f"{_rate_text(info.rate)}, {info.frames or '?'} frames"
                 + (f", audio {audio.describe()}" if audio is not None and audio.active else "")
                 + f" -> {out} [{stylizer.name}]")
        runner = Runner(source, self.stages(sink), cfg.run.queue_size)
        progress = _Progress(cfg.run.progress, info.frames, out.name)
        try:
            with _signals_stop(runner):
                result = runner.run(on_tick=progress.tick)
        except BaseException:
            runner.abort()
            sink.abort()
            raise
        finally:
            progress.close()
        return self._finish(result, sink, source, out, stylizer)

    def _finish(self, result: RunResult, sink, source, out: Path, stylizer: Stylizer) -> RunReport:
        report = RunReport(None, result.frames_in, result.frames_out, result.wall_s,
                           stats=[s.to_dict(result.wall_s) for s in result.stats],
                           stylizer=stylizer.name)
        if result.error is not None:
            err = result.error
            if isinstance(err, OutputError) or result.frames_out == 0:
                sink.abort()
            else:
                kept = sink.close(complete=False)
                if kept is not None:
                    log.warning(f"partial output ({result.frames_out} frames) kept at {kept}")
            if isinstance(err, VidstyleError):
                raise err
            raise VidstyleError(f"{result.error_stage} stage failed: {type(err).__name__}: {err}") from err
        if result.stopped_by is not None:
            kept = sink.close(complete=False)
            name = signal.Signals(result.stopped_by).name
            where = f"partial output ({result.frames_out} frames) kept at {kept}" if kept \
                else "no frames were written"
            raise Interrupted(f"interrupted by {name}: {where}", result.stopped_by)
        report.output = sink.close(complete=True)
        if source.truncated:
            msg = f"input ended early ({source.truncated}); output has the {result.frames_out} frames that decoded"
            log.warning(msg)
            report.warnings.append(msg)
        pts_fixed = getattr(sink, "pts_fixed", 0)
        if pts_fixed:
            msg = f"{pts_fixed} frame(s) had missing or non-increasing timestamps and were re-timed"
            log.warning(msg)
            report.warnings.append(msg)
        return report


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
