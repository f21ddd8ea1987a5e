"""Report files a command writes beside its console output (JSON, CSV, plots): checked before the
work starts, written with a one-line ``OutputError`` instead of a traceback."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import OutputError


def check_report_files(paths: Iterable[str | None], inputs: Iterable[str] = ()) -> None:
    """Each given path: its directory exists and is writable, and it is none of ``inputs``."""
    from ..io.sink import check_output  # PyAV: not on the path of --help

    sources = [Path(i) for i in inputs]
    for path in paths:
        if path:
            check_output(Path(path), sources)


def check_plot_file(path: str | None) -> None:
    """A plot's extension names a format matplotlib writes (none: PNG)."""
    if not path:
        return
    from matplotlib.backend_bases import FigureCanvasBase

    kinds = FigureCanvasBase.get_supported_filetypes()
    suffix = Path(path).suffix.lower()
    if suffix and suffix[1:] not in kinds:
        raise OutputError(f"unsupported plot extension {suffix!r} (use one of: {', '.join(sorted(kinds))})")


@contextmanager
def writing(path: str | Path) -> Iterator[Path]:
    """Run the block that writes ``path``; an OSError in it becomes ``writing PATH failed: why``."""
    target = Path(path)
    try:
        yield target
    except OSError as exc:
        raise OutputError(f"writing {target} failed: {exc.strerror or exc}") from None
