"""Prepare a style's ONNX models in the background, so that a first run starts at once.

On a fresh install neither the ONNX export (~10 s on 2 cores) nor the int8 model (calibration
and its gate, ~90 s) of a style is in the cache. Rather than make the first frames wait,
:func:`start_build` launches ``python -m vidstyle.stylize.prepare`` as a detached process (a
session of its own: it outlives the run, the way ``git gc --auto`` does) while the run goes on in
fp32. The builder exports the fp32 ONNX file at once (the run hands over to it:
:mod:`.handover`); where auto considers int8, it then waits for the run that started it to end
(or to call :func:`wait_for_builds`; after ``PATIENCE_S`` it goes on at nice 19), and quantizes
and gates it (:func:`~vidstyle.stylize.precision.cached_int8`) for the next run. A run never
switches to int8 halfway: a video keeps one look.

Files beside the target ``X.onnx`` (the int8 model; without int8, the fp32 export):
``X.building`` (a lock holding the builder's pid: one build per model at a time),
``X.gate.json`` written last (the int8 model counts as ready when it loads), ``X.build.log``,
``X.go`` (the run says: go on now) and, after a failure, ``X.failed`` (one line; the next run
warns with it and tries again).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import ModelError
from ..log import log
from ..models.catalog import StyleEntry
from .base import Stylizer
from .cache import cached_onnx, onnx_cache_path
from .handover import Handover
from .precision import ready_gate

PREPARE_ENV = "VIDSTYLE_PREPARE"  # "wait": prepare in the foreground before the first frame (as before)
NICE = 19  # the priority of a build that could not wait for its run's end
PATIENCE_S = 600.0  # how long int8 waits for the run that started it to end
POLL_S = 0.5
STARTING_S = 30.0  # a lock without a pid yet is a build being started for this long


@dataclass
class BuildJob:
    """What the builder process needs: our style (and mix), where its int8 model goes, whether to
    quantize at all (else export only), and the calibration and gate sizes of
    :mod:`vidstyle.export.quantize` (as the starting process has them)."""

    style: str
    style_mix: str
    target: str  # the int8 model (or, without int8, the fp32 export): names the build's files
    int8: bool
    cal_frames: int
    cal_size: tuple[int, int]
    gate_frames: int
    gate_size: tuple[int, int]
    parent: int = field(default_factory=os.getpid)  # the run: int8 waits for it to end


_started: list[tuple[subprocess.Popen, Path]] = []  # builders this process launched, their targets


def lock_path(target: Path) -> Path:
    return target.with_suffix(".building")


def failure_path(target: Path) -> Path:
    return target.with_suffix(".failed")


def building(target: Path) -> bool:
    """Whether a builder for ``target`` is running (a lock whose pid is alive, or one just made)."""
    lock = lock_path(target)
    running_builds()  # reaps ours that ended (a zombie's pid is still alive)
    try:
        text = lock.read_text().strip()
        age = time.time() - lock.stat().st_mtime
    except OSError:
        return False
    if not text:
        return age < STARTING_S
    try:
        os.kill(int(text), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def wait_while_building(target: Path, poll_s: float = 0.5) -> None:
    """Before building ``target`` in the foreground: let a background builder of it finish."""
    if building(target):
        build_log = target.with_suffix(".build.log")
        log.info(f"waiting for the background build of {target.name} (log {build_log})")
        while building(target):
            time.sleep(poll_s)


def take_failure(target: Path) -> str | None:
    """The one-line reason an earlier background build failed (the record is removed), or None."""
    marker = failure_path(target)
    try:
        reason = marker.read_text().strip()
        marker.unlink()
    except OSError:
        return None
    return reason or "unknown error"


def start_build(job: BuildJob) -> bool:
    """Launch the builder for ``job`` unless one is running; True when this call launched it.

    OSError when the cache cannot be written (the caller falls back as for any cache failure).
    """
    target = Path(job.target)
    lock = lock_path(target)
    lock.parent.mkdir(parents=True, exist_ok=True)
    if building(target):
        return False
    lock.unlink(missing_ok=True)  # a stale lock: its builder died
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:  # another run got there first
        return False
    try:
        with open(target.with_suffix(".build.log"), "ab") as build_log:
            proc = subprocess.Popen(
                [sys.executable, "-m", __name__, json.dumps(asdict(job))],
                stdin=subprocess.DEVNULL,
                stdout=build_log,
                stderr=build_log,
                start_new_session=True,  # Ctrl-C in the terminal ends the run, not the build
                close_fds=True,
            )
        os.write(fd, str(proc.pid).encode())
    except BaseException:
        lock.unlink(missing_ok=True)
        raise
    finally:
        os.close(fd)
    _started.append((proc, target))
    return True


def running_builds() -> int:
    """How many builders this process launched are still running."""
    return sum(proc.poll() is None for proc, _ in _started)


def wait_for_builds(timeout: float | None = None) -> bool:
    """Let the builders this process launched go on at once (this process is done stylizing) and
    wait for them; True when all have ended within ``timeout``."""
    deadline = None if timeout is None else time.monotonic() + timeout
    for proc, target in _started:
        if proc.poll() is None:
            with contextlib.suppress(OSError):
                go_path(target).touch()
    for proc, target in list(_started):
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            proc.wait(left)
        except subprocess.TimeoutExpired:
            return False
        _started.remove((proc, target))
        go_path(target).unlink(missing_ok=True)
    return True


def cold_start(
    spec: str,
    style_mix: str,
    entry: StyleEntry,
    int8_path: Path | None,
    make_torch: Callable[[], Stylizer] | None,
    make_onnx: Callable[[Path], Stylizer],
) -> Stylizer | None:
    """An fp32 stylizer to start with at once when the models auto runs are not cached yet (their
    background build launched, one log line said so); None when they are ready.

    ``spec``, ``style_mix``: the style as configured (``entry``: what it resolved to);
    ``int8_path``: where auto's int8 model goes (None: auto keeps this network in fp32 here).
    Without an ONNX export, ``make_torch`` (None: ``--backend onnx``, export now) runs until the
    builder's export appears, then ``make_onnx`` (:class:`~.handover.Handover`).
    """
    fp32_path = onnx_cache_path(entry, False)
    int8_ready = int8_path is None or ready_gate(int8_path) is not None
    if fp32_path.is_file() and int8_ready:
        return None
    target = int8_path or fp32_path  # names the lock, log and failure files
    failed = take_failure(target)
    if failed:
        log.warning(f"preparing {entry.name} in the background failed last time ({failed}); trying again")
    if make_torch is None and not fp32_path.is_file():
        wait_while_building(target)  # it may be exporting that very file
        cached_onnx(entry, False)  # asked for ONNX Runtime: export now, before a builder would
        if int8_ready:
            return make_onnx(fp32_path)
    from ..export import quantize

    job = BuildJob(
        spec,
        style_mix,
        str(target),
        int8_path is not None,
        quantize.CAL_FRAMES,
        quantize.CAL_SIZE,
        quantize.GATE_FRAMES,
        quantize.GATE_SIZE,
    )
    if fp32_path.is_file():
        started = start_build(job)  # its int8 part waits for this run's end
        stylizer, engine = make_onnx(fp32_path), "ONNX Runtime"
    else:

        def onnx_when_ready() -> Stylizer | None:
            path = export_ready(entry, target)
            return None if path is None else make_onnx(path)

        assert make_torch is not None  # exported above otherwise
        started = not building(target)  # launched after the first frames: they come first
        stylizer = Handover(make_torch(), onnx_when_ready, "the ONNX export", begin=lambda: start_build(job))
        engine = "torch until its ONNX export, made in the background, is ready; then ONNX Runtime"
    build_log = target.with_suffix(".build.log")
    later = (
        f"; {'preparing' if started else 'still preparing'} its int8 model in the background once this "
        f"run ends, for later runs, used if it passes the quality gate (log {build_log})"
        if job.int8
        else ""
    )
    log.info(f"first use of {entry.name}: stylizing in fp32 right away ({engine}){later}")
    return stylizer


def export_ready(entry: StyleEntry, target: Path) -> Path | None:
    """The fp32 ONNX export of ``entry`` once the builder for ``target`` has written it; None
    while it works on it. ModelError when the builder ended without it (its reason, when known)."""
    path = onnx_cache_path(entry, False)
    if path.is_file():
        return path
    if building(target):
        return None
    try:
        reason = failure_path(target).read_text().strip()  # kept for the next run's warning
    except OSError:
        reason = f"the background build ended without it; see {target.with_suffix('.build.log')}"
    raise ModelError(reason)


def go_path(target: Path) -> Path:
    return target.with_suffix(".go")


def wait_for_the_run(target: Path, parent: int, patience_s: float = PATIENCE_S) -> None:
    """Until the run that started this builder (``parent``) has ended or said go
    (:func:`wait_for_builds`); after ``patience_s`` of a process that keeps running (a server,
    a batch worker), go on at nice 19 instead, taking only CPU time nobody else wants."""
    deadline = time.monotonic() + patience_s
    go = go_path(target)
    while os.getppid() == parent and not go.exists():
        if time.monotonic() > deadline:
            with contextlib.suppress(OSError):
                os.nice(NICE)
            with contextlib.suppress(OSError):  # Linux: the builder's own session's autogroup too
                Path("/proc/self/autogroup").write_text(str(NICE))
            break
        time.sleep(POLL_S)
    go.unlink(missing_ok=True)


def run_job(job: BuildJob) -> None:
    """Export our model to ONNX and, when ``job.int8``, quantize and gate it once the run that
    started us has ended (the builder's work)."""
    import torch

    from ..export import quantize
    from ..models.catalog import resolve_style_mix
    from .onnx_backend import OnnxStylizer
    from .precision import cached_int8

    quantize.CAL_FRAMES, quantize.CAL_SIZE = job.cal_frames, (job.cal_size[0], job.cal_size[1])
    quantize.GATE_FRAMES, quantize.GATE_SIZE = job.gate_frames, (job.gate_size[0], job.gate_size[1])
    entry = resolve_style_mix(job.style, job.style_mix)
    style = entry.style(job.style_mix)
    fp32 = cached_onnx(entry, False)  # now: the run switches to it (seconds)
    if not job.int8:
        return
    wait_for_the_run(Path(job.target), job.parent)  # int8 is for later runs: the run keeps the CPU

    def make(path: Path, threads: int = 1) -> OnnxStylizer:
        return OnnxStylizer(path, torch.device("cpu"), "cpu", style=style, threads=threads)

    cached_int8(fp32, Path(job.target), make, entry.name)


def main(argv: list[str]) -> int:
    """The builder process: ``python -m vidstyle.stylize.prepare JOB_JSON``."""
    from ..errors import VidstyleError
    from ..log import setup_logging

    job = BuildJob(**json.loads(argv[0]))
    target = Path(job.target)
    setup_logging(0)
    try:
        run_job(job)
    except (VidstyleError, OSError) as exc:
        failure_path(target).write_text(f"{exc}\n")
        log.error(str(exc))
        return 1
    except Exception as exc:  # any other failure: recorded for the next run, then raised
        first = (str(exc).strip().splitlines() or [""])[0][:200]
        failure_path(target).write_text(f"{type(exc).__name__}: {first}\n")
        raise
    finally:
        lock_path(target).unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
