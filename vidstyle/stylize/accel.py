"""Speed-ups for the torch backend: ``torch.compile`` with a fallback, and CUDA-graph replay.

Both specialise the network to an input shape, so both go through a :class:`ShapeGate`: a
shape gets the fast path from its ``after``-th call on, and at most ``limit`` shapes do. Frames of
a video all share one shape and qualify at once; the odd sizes that only pass now and then (face
crops restyled at their own size, a last short batch) run eagerly instead of triggering a compile
or a capture each.

``--compile`` uses ``model.compile_mode`` (``max-autotune-no-cudagraphs`` by default: Inductor's
autotuned kernels, with CUDA graphs left to ``--cuda-graphs``, which captures our own static-buffer
graphs and so composes with a compiled network). Where compiling is impossible (no C++ compiler
for the CPU, no Triton for CUDA) or fails at the first call, the network runs eagerly with one
warning.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import torch

from ..log import log

# Inductor's own CUDA graphs cannot be captured again inside ours: the mode without them instead
WITHOUT_CUDAGRAPHS = {"reduce-overhead": "default", "max-autotune": "max-autotune-no-cudagraphs"}

# a network's forward: (input, style or None) -> output
Net = Callable[[torch.Tensor, torch.Tensor | None], torch.Tensor]


class ShapeGate:
    """Admits an input key (shape, dtype, layout) to a fast path on its ``after``-th call; at most
    ``limit`` keys are ever admitted. Thread-safe."""

    def __init__(self, after: int = 2, limit: int = 4):
        self.after = after
        self.limit = limit
        self.admitted: set[Hashable] = set()
        self._seen: dict[Hashable, int] = {}
        self._lock = threading.Lock()

    def admit(self, key: Hashable) -> bool:
        with self._lock:
            if key in self.admitted:
                return True
            if len(self.admitted) >= self.limit:
                return False
            self._seen[key] = self._seen.get(key, 0) + 1
            if self._seen[key] >= self.after:
                self.admitted.add(key)
                del self._seen[key]
                return True
            return False


def input_key(x: torch.Tensor) -> tuple:
    return tuple(x.shape), x.dtype, x.stride(), x.device


def compile_problem(device: torch.device) -> str | None:
    """Why ``torch.compile`` cannot work on ``device`` here; None when it can."""
    if not hasattr(torch, "compile"):
        return f"torch {torch.__version__} has no torch.compile"
    if device.type == "cuda":
        try:
            from torch.utils._triton import has_triton
        except ImportError:
            return "this torch build cannot tell whether Triton works"
        return None if has_triton() else "Triton is not installed (it compiles the CUDA kernels)"
    if not any(shutil.which(c) for c in ("g++", "c++", "clang++")):
        return "no C++ compiler (g++) on the PATH for Inductor's CPU kernels"
    return None


def _first_line(exc: BaseException) -> str:
    text = next((ln.strip() for ln in str(exc).splitlines() if ln.strip()), "")
    return f"{type(exc).__name__}: {text}"[:200]


class CompiledNet:
    """``torch.compile(net)`` for admitted shapes, the eager ``net`` otherwise and after a failure."""

    def __init__(self, net: Net, mode: str, gate: ShapeGate):
        self.eager = net
        self.mode = mode
        self.gate = gate
        self.compiled = torch.compile(net, mode=mode, dynamic=False)
        self.failed: str | None = None

    def __call__(self, x: torch.Tensor, style_w: torch.Tensor | None) -> torch.Tensor:
        if self.failed is None and self.gate.admit(input_key(x)):
            try:
                return self.compiled(x, style_w)
            except torch.OutOfMemoryError:
                raise  # the stylize stage halves the batch and retries
            except Exception as exc:  # noqa: BLE001 - compile errors surface at the first call of a shape
                self.failed = _first_line(exc)
                log.warning(f"torch.compile failed ({self.failed}); running the network uncompiled")
        return self.eager(x, style_w)


@dataclass
class _Graph:
    graph: torch.cuda.CUDAGraph
    static_in: torch.Tensor
    static_w: torch.Tensor | None
    static_out: torch.Tensor


class GraphedNet:
    """Replays ``net`` as one CUDA graph per admitted input shape.

    Each graph owns static input, style and output buffers (one graph per input key and style
    shape): a call copies its input in
    (one kernel, on the caller's stream), replays, and returns a copy of the output (the next
    replay overwrites the buffer). Calls are serialised by a lock; an event orders a caller on
    another stream after the previous replay's copy-out. A capture that runs out of memory drops
    the graphs and leaves that shape eager.
    """

    def __init__(self, net: Net, gate: ShapeGate, warmup: int = 2):
        self.net = net
        self.gate = gate
        self.warmup = warmup
        self.graphs: dict[Hashable, _Graph] = {}
        self.refused: set[Hashable] = set()
        self._lock = threading.Lock()
        self._done: torch.cuda.Event | None = None

    def __call__(self, x: torch.Tensor, style_w: torch.Tensor | None) -> torch.Tensor:
        key = (input_key(x), None if style_w is None else tuple(style_w.shape))
        if key in self.refused or not x.is_cuda or not self.gate.admit(key):
            return self.net(x, style_w)
        with self._lock:
            stream = torch.cuda.current_stream(x.device)
            if self._done is not None:
                stream.wait_event(self._done)
            g = self.graphs.get(key)
            if g is None:
                g = self._capture(key, x, style_w)
                if g is None:
                    return self.net(x, style_w)
            g.static_in.copy_(x)
            if g.static_w is not None and style_w is not None:
                g.static_w.copy_(style_w)
            g.graph.replay()
            out = g.static_out.clone()
            self._done = torch.cuda.Event()
            self._done.record(stream)
            return out

    def _capture(self, key: Hashable, x: torch.Tensor, style_w: torch.Tensor | None) -> _Graph | None:
        static_in, static_w = x.clone(), None if style_w is None else style_w.clone()
        try:
            side = torch.cuda.Stream(x.device)
            side.wait_stream(torch.cuda.current_stream(x.device))
            with torch.cuda.stream(side):  # warm-up off the capture: cuDNN picks its kernels here
                for _ in range(self.warmup):
                    self.net(static_in, static_w)
            torch.cuda.current_stream(x.device).wait_stream(side)
            graph = torch.cuda.CUDAGraph()
            # thread_local: the pipeline's other threads keep using the GPU during the capture
            with torch.cuda.graph(graph, capture_error_mode="thread_local"):
                static_out = self.net(static_in, static_w)
        except torch.OutOfMemoryError:
            self.graphs.clear()
            self.refused.add(key)
            torch.cuda.empty_cache()
            log.warning(
                f"not enough GPU memory to capture a CUDA graph for {tuple(x.shape)}; "
                "running that shape without one"
            )
            return None
        self.graphs[key] = _Graph(graph, static_in, static_w, static_out)
        log.info(f"captured a CUDA graph for input {tuple(x.shape)} ({len(self.graphs)} held)")
        return self.graphs[key]


def accelerate(
    net: Net, device: torch.device, compile: bool, mode: str, cuda_graphs: bool
) -> tuple[Net, str]:
    """``net`` wrapped as asked, and a name suffix saying what was applied ('' when nothing).

    Each wrapper has its own gate: a shape that the graphs pass by on its first call must not be
    counted twice and compiled at once.
    """
    suffix = ""
    if cuda_graphs and device.type != "cuda":
        log.warning("CUDA graphs need a CUDA device; running without them")
        cuda_graphs = False
    if compile:
        problem = compile_problem(device)
        if problem:
            log.warning(f"cannot torch.compile here ({problem}); running the network uncompiled")
        else:
            if cuda_graphs and mode in WITHOUT_CUDAGRAPHS:
                mode = WITHOUT_CUDAGRAPHS[mode]
            net = CompiledNet(net, mode, ShapeGate())
            suffix += f"-compiled[{mode}]"
    if cuda_graphs:
        net = GraphedNet(net, ShapeGate())
        suffix += "-cudagraphs"
    return net, suffix
