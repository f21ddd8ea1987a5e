"""The batch driver: plan every file, hand chunks to Ray actors, track progress, stitch, report.

The driver never decodes or stylizes: workers (``ChunkWorker`` actors, one per reserved CPU
share or GPU, each with the model loaded) decode their own ranges and write segment files; the
driver joins them. A worker that dies (its process, or its whole node) is replaced by a new
actor wherever the cluster has room, and its chunk goes back to the front of the queue for the
next live worker, up to ``batch.retries`` times; a chunk that fails for good fails its file only.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..config import PipelineConfig, config_yaml, load_config
from ..configtools import override
from ..errors import Interrupted, OutputError, VidstyleError
from ..io.sink import CONTAINERS, check_output
from ..log import log, progress_enabled
from ..optional import require
from ..sysinfo import cpu_count
from .plan import Chunk, FileScan, InputFile, collect_inputs, file_chunks, scan
from .state import WORK_DIR, FileState, fingerprint
from .stitch import stitch
from .worker import KILL_ONCE_ENV, ChunkJob, ChunkResult, ChunkWorker

WAIT_NOTICE_S = 120  # chunks waiting this long for a worker to start: say why


@dataclass
class FileReport:
    """One input's outcome. ``seconds``: wall time from its first chunk's start on a worker to
    its finished output (worker start-up excluded)."""

    input: str
    output: str | None
    status: str  # done | skipped | failed
    frames: int = 0
    seconds: float = 0.0
    worker_seconds: float = 0.0  # summed over its chunks
    chunks: int = 0
    chunks_resumed: int = 0  # finished by an earlier run
    retries: int = 0
    error: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict:
        return {**asdict(self), "fps": round(self.fps, 3)}


@dataclass
class BatchReport:
    files: list[FileReport]
    seconds: float
    workers: int
    ray: str

    @property
    def frames(self) -> int:
        return sum(f.frames for f in self.files if f.status == "done")

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    @property
    def failed(self) -> list[FileReport]:
        return [f for f in self.files if f.status == "failed"]

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def to_dict(self) -> dict:
        return {
            "files": [f.to_dict() for f in self.files],
            "frames": self.frames,
            "seconds": round(self.seconds, 3),
            "fps": round(self.fps, 3),
            "workers": self.workers,
            "ray": self.ray,
            "failed": len(self.failed),
        }


def batch(
    inputs: list[str | Path] | str | Path,
    out_dir: str | Path,
    *,
    config: str | Path | PipelineConfig | None = None,
    json_path: str | Path | None = None,
    **overrides: object,
) -> BatchReport:
    """Stylize many files (and long ones in parallel chunks) on Ray into ``out_dir``.

    ``overrides`` use ``section__key=value``, e.g. ``model__style="wave"``,
    ``batch__chunk_seconds=30``, ``batch__ray="auto"``.
    """
    cfg = config if isinstance(config, PipelineConfig) else load_config(config, search_cwd=False)
    for key, value in overrides.items():
        cfg = override(cfg, key.replace("__", "."), value)
    specs = [str(inputs)] if isinstance(inputs, (str, Path)) else [str(i) for i in inputs]
    return run_batch(specs, Path(out_dir), cfg, Path(json_path) if json_path else None)


@dataclass
class _File:
    """Driver-side bookkeeping of one input."""

    item: InputFile
    state: FileState
    report: FileReport
    scan: FileScan | None = None
    chunks: list[Chunk] = field(default_factory=list)
    fp: str = ""
    pending: int = 0
    started: float = 0.0  # time.time() its first chunk began on a worker
    written: int | None = None  # frames the worker wrote, for a file that is one chunk
    attempts: dict[int, int] = field(default_factory=dict)  # chunk index -> tries this run

    @property
    def scanned(self) -> FileScan:
        """The scan of a file that was planned (every one but those that failed at planning)."""
        if self.scan is None:
            raise RuntimeError(f"{self.item.source} was not scanned")
        return self.scan


def run_batch(
    specs: list[str], out_dir: Path, cfg: PipelineConfig, json_path: Path | None = None
) -> BatchReport:
    t0 = time.perf_counter()
    _check_out_dir(out_dir)
    found, bad = collect_inputs(specs)
    reports = [FileReport(spec, None, "failed", error=why) for spec, why in bad]
    for spec, why in bad:
        log.error(f"{spec}: {why}")
    files = [_plan(item, out_dir, cfg) for item in found]
    reports += [f.report for f in files]
    by_key = {job.key: (f, job) for f in files for job in _jobs(f)}
    workers = 0
    if by_key:
        with _Ray(cfg) as session:
            workers = _Scheduler(session.ray, cfg, by_key, local=session.owned and not cfg.batch.ray).run()
    for f in files:  # files whose chunks were all done by an earlier run
        if f.report.status == "pending" and f.pending == 0:
            _finish(f, cfg)
    report = BatchReport(reports, time.perf_counter() - t0, workers, cfg.batch.ray or "local")
    if json_path is not None:
        json_path.write_text(json.dumps(report.to_dict(), indent=1))
    return report


def _check_out_dir(out_dir: Path) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the output folder {out_dir}: {exc.strerror or exc}") from None
    if not os.access(out_dir, os.W_OK | os.X_OK):
        raise OutputError(f"output folder is not writable: {out_dir}")


def _plan(item: InputFile, out_dir: Path, cfg: PipelineConfig) -> _File:
    """Scan and chunk one input; mark it skipped (finished before) or failed (unreadable)."""
    state = FileState(out_dir, item.relative)
    f = _File(item, state, FileReport(str(item.source), str(state.output), "pending"))
    try:
        if state.output.suffix.lower() not in CONTAINERS:
            raise OutputError(
                f"cannot write a {state.output.suffix} output (batch keeps the input's "
                f"extension; supported: {', '.join(sorted(CONTAINERS))})"
            )
        state.output.parent.mkdir(parents=True, exist_ok=True)
        check_output(state.output, [item.source])
        f.scan = scan(item.source)
        f.chunks = file_chunks(f.scan, cfg)
        f.fp = fingerprint(item.source, cfg, f.chunks)
    except (VidstyleError, OSError) as exc:
        _fail(f, str(exc) if isinstance(exc, VidstyleError) else f"{item.source}: {exc}")
        return f
    f.report.chunks = len(f.chunks)
    if state.finished(f.fp):
        f.report.status = "skipped"
        f.report.frames = f.scan.frames
        log.info(f"{item.relative}: already done, skipped")
        return f
    state.prepare(f.fp)
    return f


def _jobs(f: _File) -> list[ChunkJob]:
    if f.report.status != "pending":
        return []
    whole = len(f.chunks) == 1
    kill = os.environ.get(KILL_ONCE_ENV, "")
    jobs = []
    for chunk in f.chunks:
        target = f.state.whole_path() if whole else f.state.chunk_path(chunk.index)
        if target.is_file():
            f.report.chunks_resumed += 1
            continue
        jobs.append(
            ChunkJob(
                f"{f.item.relative}#{chunk.index}",
                f.item.source,
                target,
                chunk,
                whole,
                f.item.relative.suffix,
                f.state.attempts_file(chunk.index),
                kill_once=kill == str(chunk.index),
            )
        )
    f.pending = len(jobs)
    return jobs


def _fail(f: _File, why: str) -> None:
    f.report.status, f.report.error = "failed", why
    log.error(why)


def _finish(f: _File, cfg: PipelineConfig) -> None:
    """All chunks are there: join them (or move the one whole file) into the output."""
    state = f.state
    try:
        if len(f.chunks) == 1:
            os.replace(state.whole_path(), state.output)
            frames = f.written if f.written is not None else f.scanned.frames
        else:
            segments = [state.chunk_path(c.index) for c in f.chunks]
            frames = stitch(
                segments,
                [c.start_pts for c in f.chunks],
                f.item.source,
                state.output,
                cfg.encode,
                f.scanned.time_base,
                f.scanned.rate,
            )
    except (VidstyleError, OSError) as exc:
        _fail(f, f"{f.item.source}: {exc}")
        return
    r = f.report
    r.status, r.frames = "done", frames
    r.seconds = time.time() - f.started if f.started else 0.0
    attempts = [f.attempts.get(c.index, 0) for c in f.chunks]  # 0: finished by an earlier run
    state.complete(f.fp, {"frames": frames, "chunks": len(f.chunks), "attempts": attempts})
    resumed = f", {r.chunks_resumed} resumed" if r.chunks_resumed else ""
    retried = f", {r.retries} retried" if r.retries else ""
    log.info(
        f"{f.item.relative}: {frames} frames, {r.chunks} chunk{'s' * (r.chunks != 1)}{resumed}"
        f"{retried}, {r.seconds:.1f} s ({r.fps:.1f} fps) -> {state.output}"
    )


class _Ray:
    """Joins the configured cluster or starts a local instance; shuts down only what it started."""

    def __init__(self, cfg: PipelineConfig):
        self.address = cfg.batch.ray
        self.owned = False

    def __enter__(self):
        ray = require("ray", "`vidstyle batch` needs Ray: pip install 'vidstyle[batch]' (or 'ray>=2.60')")
        self.ray = ray
        if not ray.is_initialized():
            quiet_token_notice()
            kwargs = dict(include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
            try:
                if self.address:
                    ray.init(address=self.address, **kwargs)
                else:
                    ray.init(num_cpus=cpu_count(), **kwargs)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise VidstyleError(
                    f"cannot connect to Ray at {self.address or 'a local instance'}: {first}"
                ) from None
            self.owned = True
        self._old_term = signal.getsignal(signal.SIGTERM)
        if _main_thread():
            signal.signal(signal.SIGTERM, _raise_interrupt)
        return self

    def __exit__(self, *exc) -> None:
        if _main_thread():
            signal.signal(signal.SIGTERM, self._old_term)
        if self.owned:
            self.ray.shutdown()


TOKEN_NOTICE = "Token authentication is enabled for this Ray cluster"
_TOKEN_LOGGER = "ray._private.authentication.authentication_token_setup"


class _DropTokenNotice(logging.Filter):
    """Drops the one record of Ray's that starts with ``TOKEN_NOTICE``: ``ray.init`` logs it at
    WARNING each time it turns on token authentication, Ray's default, which is not a problem
    of the batch (every other message of that logger, and of Ray, still comes through)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(TOKEN_NOTICE)


def quiet_token_notice() -> None:
    """Install the filter on the logger Ray logs the notice with (once per process)."""
    logger = logging.getLogger(_TOKEN_LOGGER)
    if not any(isinstance(f, _DropTokenNotice) for f in logger.filters):
        logger.addFilter(_DropTokenNotice())


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _raise_interrupt(signum, _frame):
    raise KeyboardInterrupt


class _Progress:
    """Latest frames written per chunk (a retried chunk restarts its count): a Ray actor that
    workers report to, so the driver's bar moves within chunks, not only between them."""

    def __init__(self):
        self.frames: dict[str, int] = {}

    def report(self, key: str, frames: int) -> None:
        self.frames[key] = frames

    def total(self) -> int:
        return sum(self.frames.values())


class _Scheduler:
    """Keeps every worker busy with the next chunk (file by file, so outputs finish early)."""

    def __init__(
        self, ray, cfg: PipelineConfig, by_key: dict[str, tuple[_File, ChunkJob]], local: bool = False
    ):
        """``local``: Ray runs on this machine only, so a worker that does not fit never will."""
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        self.ray, self.cfg = ray, cfg
        jobs = [job for _, job in by_key.values()]
        self.queue = deque(jobs)
        self.by_key = {key: f for key, (f, _) in by_key.items()}
        files = list({id(f): f for f in self.by_key.values()}.values())
        b = cfg.batch
        gpus = ray.cluster_resources().get("GPU", 0)
        self.gpus_per_task = b.gpus_per_task if b.gpus_per_task >= 0 else (1.0 if gpus else 0.0)
        self.cpus_per_task = b.cpus_per_task
        fit = self._fit(ray.cluster_resources(), gpus)
        if fit == 0 and local:
            raise VidstyleError(
                f"a worker needs {self.cpus_per_task:g} CPUs and {self.gpus_per_task:g} GPUs, "
                f"this machine's Ray has {ray.cluster_resources().get('CPU', 0):g} and {gpus:g}"
            )
        self.workers = max(1, min(b.workers or fit, len(jobs)))
        cfg_worker = (
            cfg if self.gpus_per_task or cfg.model.device != "auto" else override(cfg, "model.device", "cpu")
        )
        self.actor_class = ray.remote(ChunkWorker).options(
            num_cpus=self.cpus_per_task,
            num_gpus=self.gpus_per_task,
            max_restarts=0,  # the driver replaces dead workers and requeues their chunks
            max_task_retries=0,
        )
        self.worker_cfg = config_yaml(cfg_worker)
        self.progress_name = f"vidstyle-batch-progress-{os.getpid()}-{time.monotonic_ns()}"
        here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=True)
        self.progress = (
            ray.remote(_Progress)
            .options(num_cpus=0, name=self.progress_name, scheduling_strategy=here)  # lives as long as we do
            .remote()
        )
        self.frames_seen = 0
        total = sum(f.scanned.frames for f in files if f.report.status == "pending")
        done_before = total - sum(job.chunk.frames for job in jobs)
        self.bar = _Bar(cfg.run.progress, total, done_before)
        self.starting: dict = {}  # ready() ref -> worker loading its model
        self.idle: list = []
        self.running: dict = {}  # run() ref -> (worker, job)
        self.tries: dict[str, int] = {}  # chunk key -> times handed to a worker
        self.start_failures = 0
        self.waiting_since: float | None = None
        self.told_waiting = False

    def _fit(self, resources: dict, gpus: float) -> int:
        if self.gpus_per_task > 0:
            return int(gpus // self.gpus_per_task)
        cpus = resources.get("CPU", 1)
        return int(cpus // self.cpus_per_task) if self.cpus_per_task > 0 else 1

    def _new_worker(self):
        return self.actor_class.remote(self.worker_cfg, self.cpus_per_task, self.progress_name)

    def _start_worker(self) -> None:
        """A new worker, given chunks once its model is loaded (``ready``): a replacement for a
        lost node may wait for room in the cluster, and no chunk waits with it."""
        actor = self._new_worker()
        self.starting[actor.ready.remote()] = actor

    def run(self) -> int:
        ray = self.ray
        for _ in range(self.workers):
            self._start_worker()
        try:
            while self.queue or self.running:
                self._assign()
                refs = [*self.running, *self.starting]
                ready, _ = ray.wait(refs, num_returns=1, timeout=0.5) if refs else ([], [])
                for ref in ready:
                    if ref in self.starting:
                        self._ready(ref)
                    else:
                        self._collect(ref)
                self._note_waiting()
                self.bar.show(self._frames())
        except KeyboardInterrupt:
            raise Interrupted(
                f"interrupted: finished chunks are kept in {WORK_DIR}/ under the output "
                f"folder; run the same command again to resume",
                signal.SIGINT,
            ) from None
        finally:
            self.bar.close()
            for actor in [*self.idle, *self.starting.values(), *(a for a, _ in self.running.values())]:
                ray.kill(actor)
            ray.kill(self.progress)
        return self.workers

    def _assign(self) -> None:
        """Idle workers take the next chunks; chunks of files that failed are dropped."""
        self.queue = deque(job for job in self.queue if self.by_key[job.key].report.status == "pending")
        while self.idle and self.queue:
            job = self.queue.popleft()
            self.tries[job.key] = self.tries.get(job.key, 0) + 1
            actor = self.idle.pop()
            self.running[actor.run.remote(job)] = (actor, job)

    def _ready(self, ref) -> None:
        """A worker finished loading, or cannot load (a user error: the batch stops with it),
        or died doing so (its node was lost: another one is started)."""
        actor = self.starting.pop(ref)
        try:
            self.ray.get(ref)
        except self.ray.exceptions.RayActorError as exc:
            self.ray.kill(actor)
            self.start_failures += 1
            if self.start_failures > self.workers * (self.cfg.batch.retries + 1):
                first = next((ln for ln in str(exc).splitlines() if ln.strip()), type(exc).__name__)
                raise VidstyleError(f"batch workers keep dying as they start: {first.strip()}") from None
            self._start_worker()
            return
        except self.ray.exceptions.RayError as exc:
            self.ray.kill(actor)
            cause = getattr(exc, "cause", None) or exc
            if isinstance(cause, VidstyleError):
                raise cause from None
            first = next((ln for ln in str(cause).splitlines() if ln.strip()), "")
            raise VidstyleError(
                f"a batch worker cannot start: {type(cause).__name__}: {first.strip()}"
            ) from None
        self.idle.append(actor)

    def _collect(self, ref) -> None:
        """Record a finished chunk; a chunk whose worker died goes back to the front of the queue
        (for any live worker) until it has had ``batch.retries`` retries."""
        actor, job = self.running.pop(ref)
        f = self.by_key[job.key]
        tries, retries = self.tries[job.key], self.cfg.batch.retries
        try:
            result: ChunkResult = self.ray.get(ref)
        except self.ray.exceptions.RayActorError:  # the worker's process or its node died
            self.ray.kill(actor)  # one only unreachable must not go on writing
            if tries <= retries and f.report.status == "pending":
                log.warning(
                    f"{f.item.relative}: chunk {job.chunk.index}: its worker was lost (process or "
                    f"node died); running it again (retry {tries} of {retries})"
                )
                self.queue.appendleft(job)
            elif f.report.status == "pending":
                f.report.retries += tries - 1
                _fail(
                    f,
                    f"{f.item.source}: chunk {job.chunk.index}: the worker died {tries} time(s) "
                    f"(retries: {retries})",
                )
            if self.queue:
                self._start_worker()
            return
        except self.ray.exceptions.RayError as exc:
            self.idle.append(actor)
            _fail(f, _cause(exc, f, job))
            return
        self.idle.append(actor)
        f.attempts[job.chunk.index] = tries
        f.started = min(f.started or result.started, result.started)
        f.report.retries += tries - 1
        f.report.worker_seconds += result.seconds
        f.written = result.frames
        f.report.warnings += result.warnings
        f.pending -= 1
        if f.pending == 0 and f.report.status == "pending":
            _finish(f, self.cfg)

    def _frames(self) -> int:
        """Frames written this run, as the workers last reported (the last count if unreachable)."""
        try:
            self.frames_seen = self.ray.get(self.progress.total.remote(), timeout=10)
        except self.ray.exceptions.RayError:
            pass
        return self.frames_seen

    def _note_waiting(self) -> None:
        """Say so once when chunks wait for a worker the cluster has no room for (a lost node)."""
        if not (self.queue and self.starting and not self.idle and not self.running):
            self.waiting_since = None
        elif self.waiting_since is None:
            self.waiting_since = time.monotonic()
        elif time.monotonic() - self.waiting_since > WAIT_NOTICE_S and not self.told_waiting:
            self.told_waiting = True
            log.warning(
                f"waiting for the Ray cluster to have room for a worker ({self.cpus_per_task:g} "
                f"CPUs, {self.gpus_per_task:g} GPUs); {len(self.queue)} chunks to go"
            )


def _cause(exc: BaseException, f: _File, job: ChunkJob) -> str:
    """One line for a chunk's failure: the worker's own message for user errors."""
    cause = getattr(exc, "cause", None) or exc
    if isinstance(cause, VidstyleError):
        text = str(cause)
        return text if str(f.item.source) in text else f"{f.item.source}: {text}"
    first = next((ln for ln in str(cause).splitlines() if ln.strip()), type(cause).__name__)
    where = f"chunk {job.chunk.index}" if len(f.chunks) > 1 else "stylizing"
    return f"{f.item.source}: {where} failed: {type(cause).__name__}: {first.strip()}"


class _Bar:
    """frames done / total, fps and ETA over all files (tqdm on a terminal, else nothing)."""

    def __init__(self, mode: str, total: int, done_before: int):
        from tqdm import tqdm

        self.base, self.total = done_before, total
        self.bar = tqdm(
            total=total,
            initial=done_before,
            unit="frame",
            desc="batch",
            disable=not progress_enabled(mode),
            dynamic_ncols=True,
            file=sys.stderr,
            smoothing=0.1,
        )

    def show(self, frames_this_run: int) -> None:
        n = min(self.base + frames_this_run, self.total)
        if n > self.bar.n:
            self.bar.update(n - self.bar.n)

    def close(self) -> None:
        self.bar.close()
