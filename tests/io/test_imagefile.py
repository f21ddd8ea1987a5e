"""An image whose header claims a huge size is one line of ours (issue 35, item 1): never Pillow's
``DecompressionBombError`` traceback or its raw ``DecompressionBombWarning``, for stylize inputs,
``optimize --style-image`` and training content folders alike. The PNGs are made here: a valid
header claiming the size, with a body of a few bytes."""

from __future__ import annotations

import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from conftest import run_cli
from PIL import Image

from vidstyle.errors import InputError
from vidstyle.io.imagefile import MAX_PIXELS, open_image

MODEL = (
    Path(__file__).resolve().parents[2] / "vidstyle" / "models" / "bundled" / "starry_night-small.safetensors"
)
LIBRARY_TEXT = ("Traceback", "DecompressionBomb", "PIL", "warnings.warn")


def png_claiming(path: Path, width: int, height: int) -> Path:
    """A PNG whose IHDR says ``width`` x ``height`` (8-bit RGB) over an IDAT of one short row."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = zlib.compress(b"\0" * 49)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )
    return path


def one_error_line(proc, code: int = 1) -> str:
    """The run's only stderr line, a ``vidstyle: error:`` one, with no library text around it."""
    assert proc.returncode == code, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vidstyle: error: "), proc.stderr
    assert not any(text in proc.stderr for text in LIBRARY_TEXT), proc.stderr
    return lines[0]


def test_a_header_over_the_limit_is_refused_before_decoding(tmp_path, monkeypatch):
    with pytest.raises(InputError, match=r"claims 3,600 megapixels, over the 179-megapixel limit"):
        open_image(png_claiming(tmp_path / "bomb.png", 60000, 60000))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)  # a program turned Pillow's check off: ours stays
    side = int(MAX_PIXELS**0.5) + 1
    with pytest.raises(InputError, match=rf"claims {side}x{side}, 179 megapixels, over the 179-megapixel"):
        open_image(png_claiming(tmp_path / "over.png", side, side))


def test_a_large_header_under_the_limit_opens_without_pillows_warning(tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with open_image(png_claiming(tmp_path / "big.png", 12000, 12000)) as im:
            assert im.size == (12000, 12000)  # the header only: nothing decoded yet
    assert not [w for w in caught if issubclass(w.category, Image.DecompressionBombWarning)]


@pytest.mark.slow
def test_stylize_a_60000_square_png_is_one_line(tmp_path):
    src = png_claiming(tmp_path / "bomb.png", 60000, 60000)
    proc = run_cli("stylize", str(src), "-o", str(tmp_path / "out.png"), "--style", str(MODEL))
    line = one_error_line(proc)
    assert f"{src}: the image claims 3,600 megapixels" in line and "179-megapixel limit" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bomb.png"]


@pytest.mark.slow
def test_stylize_a_12000_square_png_under_a_memory_limit_prints_no_pillow_warning(tmp_path):
    src = png_claiming(tmp_path / "big.png", 12000, 12000)
    args = ["-o", str(tmp_path / "out.png"), "--style", str(MODEL), "--set", "run.memory_limit=3"]
    line = one_error_line(run_cli("stylize", str(src), *args))
    assert str(src) in line  # its body is a few bytes: it cannot be decoded


@pytest.mark.slow
def test_optimize_style_image_and_training_content_over_the_limit(tmp_path):
    photo = tmp_path / "photo.png"
    Image.fromarray(np.full((32, 40, 3), 90, np.uint8)).save(photo)
    bomb = png_claiming(tmp_path / "bomb.png", 60000, 60000)
    out = tmp_path / "out.png"
    line = one_error_line(run_cli("optimize", str(photo), "-o", str(out), "--style-image", str(bomb)))
    assert "style image" in line and "3,600 megapixels" in line
    content = tmp_path / "content"
    content.mkdir()
    bomb.rename(content / "bomb.png")
    model = tmp_path / "m.safetensors"
    proc = run_cli(
        "train", "--style", str(photo), "--content", str(content), "-o", str(model), "--no-progress"
    )
    assert "none of the 1 content images can be read" in one_error_line(proc)
    assert not out.exists() and not model.exists()
