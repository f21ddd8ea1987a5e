"""What a run holds in memory for its frame size, and the plan that keeps it inside a budget.

Peak memory of a run grows with the frame size times the frames in flight: every queue between two
stages holds up to ``run.queue_size`` items (each with its decoded frame, and from preprocess on
its float images), the workers hold their own, and the encoder keeps its look-ahead frames. An
8000 x 8000 clip with the defaults once peaked at 20 GB. The budget is ``run.memory_limit`` GB,
or ``HOST_SHARE`` of the memory free at start, and the plan lowers, in this order, what costs
least: the queue depth (throughput only), the encoder's look-ahead (a little compression), then
the stylization size (the picture is stylized smaller and scaled back). A frame that cannot fit
even then is refused before decoding.

Bytes are estimates from the buffers' shapes, checked against measured peaks
(``benchmarks/memory_big_frames.py``); they aim a little high. The network's activations per
stylized pixel are its family's figure (``NetworkFamily.activation_bytes_per_px``, carried by the
stylizer); this module holds the shares of free memory that both plans budget: the host plan here
and the GPU limit on the stylization size (``scheduling.memory_limited_side``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..errors import InputError
from ..stylize.base import fit_max_side
from ..sysinfo import available_memory

# Shares of the memory free at start that a run plans to fill:
HOST_SHARE = 0.6  # host RAM, without run.memory_limit (the rest: the OS, page cache, other programs)
GPU_SHARE = 0.7  # GPU memory, for the network's activations (the rest: weights, CUDA context, cache)
GB = 1 << 30
# x264's rc-lookahead and B-frames per preset (x264 --fullhelp); other encoders: about 25 frames
X264_LOOKAHEAD = {
    "ultrafast": 0,
    "superfast": 0,
    "veryfast": 10,
    "faster": 20,
    "fast": 30,
    "medium": 40,
    "slow": 50,
    "slower": 60,
    "veryslow": 60,
    "placebo": 60,
}
MIN_LOOKAHEAD = 10


@dataclass
class Shape:
    """Everything the estimate needs about the run."""

    height: int  # source frame (H x W)
    width: int
    stages: list[str]  # stage names in order (each has a queue in front of it)
    parallel: int  # frames the stylize stage works on at once
    activation_bytes_per_px: float  # one stylizer call's activations per stylized pixel
    on_host: bool  # float images live in host memory (CPU run)
    temporal: bool
    encoder_frames: int  # frames the video encoder keeps (look-ahead, B-frames, threads)
    lookahead: int = 0  # of those, the look-ahead the plan may shorten (0: none settable)
    frames: int = 0  # frames of the whole input when known (an image: 1), else 0


@dataclass
class MemoryPlan:
    budget: int  # bytes
    estimate: int  # bytes the plan is expected to need
    queue_size: int
    max_side: int  # 0: stylize at full size
    lookahead: int | None  # x264 rc-lookahead to set, None: the preset's
    lowered: list[str] = field(default_factory=list)  # what was changed, in words


def encoder_frames(codec: str, preset: str, cores: int, lookahead: int | None = None) -> int:
    """Full-size frames a software encoder holds: look-ahead + B-frames + frame threads (x264:
    1.5 per core) + 2."""
    if codec in ("libx264", "libx265"):
        la = X264_LOOKAHEAD.get(preset, 40) if lookahead is None else lookahead
        return la + 3 + (3 * cores + 1) // 2 + 2
    if codec.endswith("_nvenc"):
        return 4
    return 25 + cores


def settable_lookahead(codec: str | None, preset: str, options: dict[str, str]) -> int:
    """x264's look-ahead frames when the plan may lower them (not fixed in ``options``), else 0."""
    if codec != "libx264" or "rc-lookahead" in options:
        return 0
    return X264_LOOKAHEAD.get(preset, 40)


def estimate(shape: Shape, queue_size: int, max_side: int) -> int:
    """Peak bytes of the frames in flight and the stages' working buffers."""
    H, W = shape.height, shape.width
    h, w = fit_max_side(H, W, max_side)
    big, small = H * W, h * w
    rgb = 3 * big  # a decoded or output frame, uint8
    fimg = 12 * small if shape.on_host else 0  # one 3 x h x w float32 image
    act = shape.activation_bytes_per_px * small if shape.on_host else 0  # one call's activations
    held, largest = 0, 0
    for name in shape.stages:  # the queue in front of each stage, plus the items in its hands
        floats = {"stylize": 1, "compose": 2, "postprocess": 2}.get(name, 0)  # image, stylized
        per_item = rgb * (2 if name == "encode" else 1) + floats * fimg  # + the output
        held += (queue_size + (shape.parallel if name == "stylize" else 1)) * per_item
        largest = max(largest, per_item)
    if shape.frames:  # a short input cannot fill the queues
        held = min(held, shape.frames * largest)
    work = (
        shape.parallel * act  # the network's activations
        + (3 * 12 * big if shape.on_host else 0)  # preprocess: the full-size float frame;
        # postprocess: resize to H x W, then uint8
        + (5 * fimg if shape.temporal else 0)  # compose: previous frame, warp, masks
        + rgb
        + 1.5 * big
    )  # decode: RGB conversion of a YUV frame
    encoder = shape.encoder_frames * 1.5 * big * 1.3  # YUV 4:2:0, padded, plus half-size copies
    return int(held + work + encoder)


def plan(
    shape: Shape, queue_size: int, max_side: int, limit_gb: float = 0.0, available: int | None = None
) -> MemoryPlan:
    """The cheapest settings whose estimate fits the budget; InputError when none does."""
    free = available_memory() if available is None else available
    budget = int(limit_gb * GB) if limit_gb > 0 else int(HOST_SHARE * free)
    need = estimate(shape, queue_size, max_side)
    result = MemoryPlan(budget, need, queue_size, max_side, None)
    if need <= budget:
        return result
    for q in range(queue_size - 1, 0, -1):  # 1. fewer frames waiting between stages
        result.queue_size = q
        if estimate(shape, q, max_side) <= budget:
            break
    if estimate(shape, result.queue_size, max_side) == need:  # a short input: the queues never fill
        result.queue_size = queue_size
    if result.queue_size != queue_size:
        result.lowered.append(f"queue size {queue_size} -> {result.queue_size}")
    cut = shape.lookahead - MIN_LOOKAHEAD
    if estimate(shape, result.queue_size, max_side) > budget and cut > 0:  # 2. shorter look-ahead
        shape = replace(shape, encoder_frames=shape.encoder_frames - cut, lookahead=MIN_LOOKAHEAD)
        result.lookahead = MIN_LOOKAHEAD
        result.lowered.append(f"encoder look-ahead -> {MIN_LOOKAHEAD} frames")
    side = max_side or max(shape.height, shape.width)
    while estimate(shape, result.queue_size, side) > budget and side > 64:  # 3. stylize smaller
        side = max(64, int(side * 0.9) // 4 * 4)
    if side != (max_side or max(shape.height, shape.width)):
        result.max_side = side
        result.lowered.append(
            f"stylization long side -> {side} px (scaled back to {shape.width}x{shape.height})"
        )
    result.estimate = estimate(shape, result.queue_size, result.max_side)
    if result.estimate > budget:
        raise InputError(
            f"{shape.width}x{shape.height} frames need about {result.estimate / GB:.1f} GB "
            f"even with the smallest settings, over the {budget / GB:.1f} GB budget "
            f"({'run.memory_limit' if limit_gb > 0 else f'{HOST_SHARE:.0%} of the free memory'})"
        )
    return result
