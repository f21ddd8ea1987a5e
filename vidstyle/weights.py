"""Reading a PyTorch weights file a user names, the one place vidstyle calls ``torch.load``.

``torch.load(weights_only=True)`` unpickles tensors and plain containers only, never code; its
own errors are pages of advice (one of them to load with ``weights_only=False``, which would run
whatever the file asks). :func:`load_weights` checks the file's first bytes against what
``torch.save`` writes before torch reads it, and turns every failure into one line of ours.
"""

from __future__ import annotations

import os
import pickle
import re
import warnings
import zipfile
from pathlib import Path

from .errors import ModelError

ZIP_MAGIC = b"PK\x03\x04"  # torch.save's zip archive (PyTorch >= 1.6)
# the number the legacy (pre-zip) torch.save pickles first, as a pickled 10-byte long
LEGACY_MAGIC = (0x1950A86A20F9469CFC6C).to_bytes(10, "little")
TORCH_SUFFIXES = (".pth", ".pt", ".ckpt")  # names torch.save files usually have
REFUSED = "vidstyle loads weights only (weights_only=True) and will not run code from a file"


def torch_saved(head: bytes) -> bool:
    """Whether a file starting with ``head`` (its first 32 bytes or more) is one torch.save
    wrote: a zip archive, or a legacy pickle that starts with torch's magic number."""
    return head.startswith(ZIP_MAGIC) or LEGACY_MAGIC in head[:32]


def load_weights(path: str | os.PathLike) -> object:
    """What ``torch.save`` stored in ``path`` (tensors in dicts/lists), on the CPU.

    Raises a one-line :class:`ModelError` for a file that is not one ``torch.save`` wrote, is
    damaged or truncated, or holds objects other than tensors (which are never built).
    """
    import torch

    path = Path(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(512)
    except OSError as exc:
        raise ModelError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    zipped = head.startswith(ZIP_MAGIC)
    if not torch_saved(head) and head[257:262] != b"ustar":  # (ustar: the oldest, tar format)
        raise ModelError(f"{path} is not a PyTorch weights file ({_unlike_torch(head)})")
    if zipped and not zipfile.is_zipfile(path):  # the archive's end record is missing
        raise ModelError(f"{path} is not a PyTorch weights file (a damaged or truncated zip archive)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's notes on pickle protocols and storage types
        try:
            return torch.load(path, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as exc:
            named = re.search(r"GLOBAL ([\w.]+)", str(exc))
            what = f" ({named.group(1)})" if named else ""
            raise ModelError(f"{path} holds objects other than tensors{what}, refused: {REFUSED}") from None
        except Exception as exc:  # noqa: BLE001 - the zip reader's RuntimeError, EOFError, struct, key errors
            raise ModelError(f"{path} is not a PyTorch weights file ({_damage(zipped, exc)})") from None


def _unlike_torch(head: bytes) -> str:
    """What a file that does not start as torch.save's files do looks like, in words."""
    if not head:
        return "the file is empty"
    if head[:1] == b"\x80" and 2 <= head[1] <= 5:
        return "a Python pickle that torch.save did not write; it is not unpickled"
    if len(head) > 9 and head[8:10] == b'{"':
        return "it looks like a safetensors file"
    if head.startswith(b"PK"):
        return "a zip archive that torch.save did not write"
    if all(32 <= b < 127 or b in b"\t\r\n" for b in head[:64]):
        return "it holds text"
    return "it starts with neither the zip archive nor the pickle that torch.save writes"


def _damage(zipped: bool, exc: Exception) -> str:
    text = str(exc)
    if zipped and "central directory" in text:
        return "a damaged or truncated zip archive"
    if zipped:
        return "a zip archive without the records torch.save writes: damaged, or not a PyTorch file"
    if isinstance(exc, EOFError) or "EOF" in text:
        return "it ends early: truncated"
    return f"damaged or truncated: {type(exc).__name__}"
