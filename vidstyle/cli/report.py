"""Plain-text tables for the terminal."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def table(rows: Sequence[Sequence[object]], header: Sequence[str]) -> str:
    """Left-aligned columns as wide as their longest cell, under a header and a rule of dashes."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*header), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*(str(c) for c in r)) for r in rows]
    return "\n".join(lines)


def print_stats(stats: list[dict], wall_s: float, file=sys.stderr) -> None:
    """Per-stage throughput: items, busy seconds, fps if alone, share of wall time."""
    rows = []
    for s in stats:
        fps = "-" if s["fps"] is None else f"{s['fps']:.1f}"
        share = "-" if s["busy_share"] is None else f"{100 * s['busy_share']:.0f}%"
        rows.append([s["stage"], s.get("workers", 1), s["items"], f"{s['busy_s']:.2f}", fps, share])
    print(table(rows, ["stage", "workers", "frames", "busy s", "fps alone", "busy"]), file=file)
    slowest = max((s for s in stats if s["busy_s"] > 0), key=lambda s: s["busy_share"], default=None)
    if slowest is not None:
        print(f"wall {wall_s:.2f} s; bottleneck: {slowest['stage']}", file=file)
