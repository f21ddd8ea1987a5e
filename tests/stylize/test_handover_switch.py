"""Handover: the switch to the next engine happens between calls, from concurrent workers, with
no frame lost or stylized twice; a failure to get the next engine is a warning."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

import torch

from vidstyle.errors import ModelError
from vidstyle.stylize.handover import Handover


class Engine:
    """Marks each frame with its own value and records the frame ids it saw."""

    def __init__(self, name: str, mark: float):
        self.name, self.mark = name, mark
        self.device, self.precision, self.activation_bytes_per_px = torch.device("cpu"), "fp32", 100.0
        self.seen: list[int] = []
        self.lock = threading.Lock()

    def __call__(self, batch: torch.Tensor, style: torch.Tensor | None = None) -> torch.Tensor:
        with self.lock:
            self.seen += [int(v) for v in batch[:, 0, 0, 0]]
        out = batch.clone()
        out[:, 1] = self.mark
        return out


def test_the_switch_is_between_calls_and_loses_no_frame():
    first, second = Engine("torch-cpu-fp32", 0.25), Engine("onnxruntime-cpu", 0.75)
    polls = []

    def ready():
        polls.append(1)
        return second if len(polls) >= 3 else None

    s = Handover(first, ready, "the export", every_s=0.0)
    assert (s.name, s.precision, s.activation_bytes_per_px) == ("torch-cpu-fp32", "fp32", 100.0)
    batches = [torch.full((2, 3, 4, 4), float(i)) for i in range(0, 40, 2)]
    for b in batches:
        b[1] += 1  # frame ids 0..39
    with ThreadPoolExecutor(2) as pool:
        outs = list(pool.map(s, batches))
    ids = [int(v) for o in outs for v in o[:, 0, 0, 0]]
    assert ids == list(range(40))  # every frame once, in its place
    assert sorted(first.seen + second.seen) == list(range(40))
    assert first.seen and second.seen and s.current is second and not s.waiting
    assert all(len(set(o[:, 1].flatten().tolist())) == 1 for o in outs)  # one engine per call
    assert len(polls) == 3  # nothing asked after the switch
    assert s.name == "torch-cpu-fp32"  # what the run's log and plan were made with


def test_one_worker_switches_once_and_for_good():
    first, second = Engine("a", 0.25), Engine("b", 0.75)
    calls = []

    def ready():
        calls.append(1)
        return second if len(calls) == 4 else None

    s = Handover(first, ready, "b", every_s=0.0)
    marks = [float(s(torch.full((1, 3, 4, 4), float(i)))[0, 1, 0, 0]) for i in range(10)]
    assert marks == [0.25] * 3 + [0.75] * 7 and s.switched_after == 3


def test_no_poll_before_its_interval():
    first, second = Engine("a", 0.0), Engine("b", 1.0)
    polls = []

    def ready():
        polls.append(1)
        return second

    s = Handover(first, ready, "b", every_s=3600.0)
    s._next_check = float("inf")
    s(torch.zeros(1, 3, 4, 4))
    assert not polls and s.current is first


def test_a_failing_next_engine_is_a_warning_and_the_first_goes_on(caplog):
    first = Engine("torch-cpu-fp32", 0.25)
    polls = []

    def ready():
        polls.append(1)
        raise ModelError("disk full")

    s = Handover(first, ready, "the ONNX export", every_s=0.0)
    with caplog.at_level(logging.INFO, logger="vidstyle"):
        outs = [s(torch.full((1, 3, 4, 4), float(i))) for i in range(5)]
    assert [int(o[0, 0, 0, 0]) for o in outs] == list(range(5)) and first.seen == list(range(5))
    assert len(polls) == 1 and not s.waiting and s.current is first
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == ["the ONNX export is not available (disk full); going on with torch-cpu-fp32"]


def test_begin_runs_once_after_the_first_frames():
    first, second = Engine("a", 0.25), Engine("b", 0.75)
    events = []

    def ready():
        events.append("poll")
        return second

    def begin():
        events.append(f"begin after {len(first.seen)} frames")

    s = Handover(first, ready, "b", every_s=0.0, begin=begin)
    for i in range(3):
        s(torch.full((2, 3, 4, 4), float(i)))
    assert events == ["begin after 2 frames", "poll"] and s.current is second
    assert len(first.seen) == 2 and len(second.seen) == 4
