"""Where a cut-off Matroska/WebM or fragmented MP4 file stops being whole.

A file written as clusters (Matroska) or fragments (MP4 ``moof`` + ``mdat``) and cut off by a
hard kill or power loss plays up to its last complete cluster or fragment; a half-written one
after it gives packets that do not decode. ``cut_point`` finds where the last complete one
ends when something after it is half-written, by walking the container's top-level elements
(nothing is decoded), so the tail can be cut off before the file is kept.
"""

from __future__ import annotations

import mmap
from pathlib import Path

EBML_HEADER, SEGMENT, CLUSTER = 0x1A45DFA3, 0x18538067, 0x1F43B675


def cut_point(path: Path) -> int | None:
    """Bytes of ``path`` up to the end of its last complete cluster (Matroska/WebM) or fragment
    (fragmented MP4/MOV) when a half-written element follows; None when nothing is cut off,
    none is complete, or the file is neither."""
    with open(path, "rb") as f:
        if not f.seek(0, 2):
            return None
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:  # read where walked
            if data[:4] == EBML_HEADER.to_bytes(4, "big"):
                return _matroska_end(data)
            if data[4:8] == b"ftyp":
                return _fragments_end(data)
    return None


Bytes = bytes | mmap.mmap


def _vint(data: Bytes, pos: int, keep_marker: bool) -> tuple[int, int, bool]:
    """An EBML variable-length integer at ``pos``: (value, bytes, all value bits set)."""
    first = data[pos]
    length = 9 - first.bit_length()  # a leading 1 after length - 1 zero bits
    if length > 8 or pos + length > len(data):
        raise ValueError("not an EBML number")
    value = first if keep_marker else first & (0xFF >> length)
    for byte in data[pos + 1 : pos + length]:
        value = (value << 8) | byte
    unknown = not keep_marker and value == (1 << (7 * length)) - 1
    return value, length, unknown


def _element(data: Bytes, pos: int) -> tuple[int, int, int | None]:
    """(id, where its body starts, body size or None when unknown) of the element at ``pos``."""
    ident, n_id, _ = _vint(data, pos, keep_marker=True)
    size, n_size, unknown = _vint(data, pos + n_id, keep_marker=False)
    return ident, pos + n_id + n_size, None if unknown else size


def _matroska_end(data: Bytes) -> int | None:
    end = None
    try:
        ident, body, size = _element(data, 0)
        if ident != EBML_HEADER or size is None:
            return None
        ident, pos, _ = _element(data, body + size)  # the segment: its size is not final yet
        if ident != SEGMENT:
            return None
        while pos < len(data):
            ident, body, size = _element(data, pos)
            if size is None or body + size > len(data):
                return end  # cut off here
            pos = body + size
            if ident == CLUSTER:
                end = pos
        return None  # whole
    except (ValueError, IndexError):
        return end


def _fragments_end(data: Bytes) -> int | None:
    """End of the last complete box after a ``moof`` (its ``mdat``), None without one."""
    pos, end, seen_moof = 0, None, False
    while pos + 8 <= len(data):
        size, kind = int.from_bytes(data[pos : pos + 4], "big"), data[pos + 4 : pos + 8]
        header = 8
        if size == 1 and pos + 16 <= len(data):
            size, header = int.from_bytes(data[pos + 8 : pos + 16], "big"), 16
        if size < header or pos + size > len(data):
            return end  # a cut-off box (or size 0: to the end of the file, never written here)
        pos += size
        seen_moof = seen_moof or kind == b"moof"
        if seen_moof and kind != b"moof":
            end = pos
    return end if pos < len(data) else None
