"""encode.crf auto: the output follows the source's quality class instead of coming out ~10x
its size; an explicit --crf still wins."""

from __future__ import annotations

import re
from fractions import Fraction

import av
import pytest
from conftest import run_cli

from vidstyle.config import EncodeConfig
from vidstyle.io.encoder import encoder_options
from vidstyle.io.frame import VideoInfo
from vidstyle.io.quality import DEFAULT_CRF, MAX_AUTO_CRF, REFERENCE_BPP, auto_rate, crf_for_bits_per_pixel
from vidstyle.io.synth import demo_photo, pan_zoom, write_clip


def test_crf_rises_6_per_halving_of_bits_per_pixel_below_the_reference():
    assert crf_for_bits_per_pixel(None) == DEFAULT_CRF == 18
    assert crf_for_bits_per_pixel(REFERENCE_BPP * 4) == crf_for_bits_per_pixel(REFERENCE_BPP) == 18
    assert crf_for_bits_per_pixel(REFERENCE_BPP / 2) == 24
    assert crf_for_bits_per_pixel(REFERENCE_BPP / 3) == 28  # 18 + 6 log2(3) = 27.5
    assert crf_for_bits_per_pixel(REFERENCE_BPP / 100) == MAX_AUTO_CRF


def test_a_cap_becomes_vbv_for_x264_and_a_target_for_vp9():
    cfg = EncodeConfig()  # crf auto
    assert encoder_options("libx264", cfg, 27, 200_000) == {
        "crf": "27",
        "preset": "medium",
        "maxrate": "200000",
        "bufsize": "200000",
    }
    assert encoder_options("libx264", cfg) == {"crf": "18", "preset": "medium"}
    vp9 = encoder_options("libvpx-vp9", cfg, 30, 100_000)
    assert vp9["crf"] == "30" and vp9["b"] == "100000"
    assert encoder_options("libx264", EncodeConfig(crf=23), 30, 1000)["crf"] == "23"  # explicit wins


def clip(tmp_path, name: str, crf: int, frames: int = 75):
    images = pan_zoom(demo_photo(), frames, (180, 320), zoom=(1.0, 1.3), pan=(0.06, 0.04))
    return write_clip(tmp_path / name, images, 25, crf=crf)


def info_of(path, kind: str = "video", codec: str = "h264") -> VideoInfo:
    return VideoInfo(320, 180, Fraction(25), Fraction(1, 25), path=path, codec=codec, kind=kind)


def test_high_quality_lossless_and_image_sources_keep_crf_18(tmp_path):
    low = clip(tmp_path, "low.mp4", 36)
    assert auto_rate(info_of(clip(tmp_path, "high.mp4", 4)), "libx264", 2.0) == (18, None)
    assert auto_rate(info_of(low, codec="ffv1"), "libx264", 2.0) == (18, None)
    assert auto_rate(info_of(low, kind="images"), "libx264", 2.0) == (18, None)
    crf, cap = auto_rate(info_of(low), "libx264", 2.0)
    assert crf > 24 and cap is not None
    with av.open(str(low)) as c:
        video_bits = 8 * sum(p.size for p in c.demux(video=0)) / 3.0  # 75 frames at 25 fps
    assert cap == pytest.approx(2 * video_bits, rel=0.05)
    assert auto_rate(info_of(low), "libx264", 0.0) == (crf, None)  # encode.size_cap=0: no cap


def x264_settings(path) -> str:
    """The settings x264 wrote into the stream (its SEI text)."""
    text = path.read_bytes()
    return re.search(rb"x264 - core .*? options: (.*?)\x00", text, re.S).group(1).decode(errors="replace")


@pytest.mark.slow
def test_a_low_bitrate_source_gives_at_most_four_times_its_size_unless_crf_is_given(tmp_path, tiny_model):
    src = clip(tmp_path, "low.mp4", 36, frames=100)
    base = ["stylize", str(src), "--style", str(tiny_model), "--no-progress", "--faces", "off"]
    new = run_cli(*base, "-o", str(tmp_path / "new.mp4"), timeout=300)
    old = run_cli(*base, "-o", str(tmp_path / "old.mp4"), "--crf", "18", timeout=300)
    given = run_cli(*base, "-o", str(tmp_path / "given.mp4"), "--crf", "24", timeout=300)
    for proc in (new, old, given):
        assert proc.returncode == 0, proc.stderr
    source = src.stat().st_size
    sizes = {name: (tmp_path / f"{name}.mp4").stat().st_size / source for name in ("new", "old", "given")}
    print({name: round(ratio, 2) for name, ratio in sizes.items()})
    assert sizes["old"] > 5  # the old default: CRF 18 whatever the source
    assert sizes["new"] <= 4.4  # the cap (encode.size_cap 4), plus the container
    assert re.search(r"encode: crf \d+, at most \d+ kbit/s to follow the source's", new.stderr), new.stderr
    assert "crf=24.0" in x264_settings(tmp_path / "given.mp4")
    assert "vbv_maxrate" not in x264_settings(tmp_path / "given.mp4")
    assert "encode: crf" not in given.stderr and "encode: crf" not in old.stderr
    assert "crf=18.0" in x264_settings(tmp_path / "old.mp4")
