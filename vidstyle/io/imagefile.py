"""Opening an image file with Pillow: its size read from the header and checked before a pixel
is decoded, so a file that claims a huge size (a damaged one, or a decompression bomb) is one
line of ours, not Pillow's ``DecompressionBombError`` traceback or its raw warning.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

from PIL import Image

from ..errors import InputError

# The most pixels an image input may claim: Pillow's own default ceiling (2 x its
# MAX_IMAGE_PIXELS, about 13377 x 13377). One such frame is 0.5 GB as RGB; below it the run's
# memory plan decides what fits.
MAX_PIXELS = 178_956_970


def pixel_limit() -> int:
    """The limit in force: ours, or Pillow's ceiling when a program has set it lower."""
    pillow = Image.MAX_IMAGE_PIXELS
    return MAX_PIXELS if pillow is None else min(MAX_PIXELS, 2 * pillow)


def open_image(path: str | Path) -> Image.Image:
    """Pillow's image of ``path`` with only its header read (pixels decode on first use); use it
    as a context manager. :class:`InputError` when the header claims more than
    :func:`pixel_limit` pixels. Pillow's own decompression-bomb warning is not printed: this check
    says the same in one line. Other Pillow errors (not an image, damaged) pass through."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            im = Image.open(path)
        except Image.DecompressionBombError as exc:  # over Pillow's ceiling: only the count is told
            claimed = re.search(r"\((\d+) pixels\)", str(exc))
            raise InputError(too_big(path, int(claimed.group(1)) if claimed else None)) from None
    width, height = im.size
    if width * height > pixel_limit():
        im.close()
        raise InputError(too_big(path, width * height, f"{width}x{height}, "))
    return im


def too_big(path: str | Path, pixels: int | None, size: str = "") -> str:
    """The one-line refusal of an image that claims ``pixels`` (None: more than the limit)."""
    limit = f"{pixel_limit() / 1e6:.0f}-megapixel limit for an image"
    claim = f"{size}{pixels / 1e6:,.0f} megapixels, over the {limit}" if pixels else f"more than the {limit}"
    why = "a damaged file or a decompression bomb; scale a real one down first"
    return f"{path}: the image claims {claim} ({why})"
