"""Files in, files out: timing, geometry, audio and pixels survive `vidstyle stylize`."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest
import torch
from conftest import decode_rgb, make_model, moving_frames, probe, psnr

from vidstyle import stylize_file
from vidstyle.io.synth import tone, write_clip
from vidstyle.models.store import load_model
from vidstyle.stylize.torch_backend import TorchStylizer

FAST = {"encode__preset": "ultrafast", "run__progress": "off"}


@pytest.mark.parametrize(
    "rate,ext",
    [
        (Fraction(24), ".mp4"),
        (Fraction(25), ".mkv"),
        (Fraction(30000, 1001), ".mp4"),
        (Fraction(30000, 1001), ".mkv"),
    ],
)
def test_constant_rates_are_exact(tmp_path, tiny_model, rate, ext):
    src = write_clip(tmp_path / f"in{ext}", moving_frames(30), rate)
    out = tmp_path / f"out{ext}"
    report = stylize_file(src, out, model__style=str(tiny_model), **FAST)
    a, b = probe(src), probe(out)
    assert report.output == out and report.frames_out == 30
    assert b["frames"] == a["frames"] == 30
    assert b["rate"] == a["rate"] == rate  # 30000/1001 stays 30000/1001, not 29.97 or 30
    assert abs(b["duration"] - a["duration"]) <= 1 / rate + 1e-6
    times_in = [p * a["time_base"] for p in a["pts"]]
    times_out = [p * b["time_base"] for p in b["pts"]]
    assert times_out == times_in


def test_variable_frame_rate_keeps_every_timestamp(tmp_path, tiny_model):
    gaps = [40, 40, 80, 20, 40, 120, 40, 33, 47, 40] * 2  # ms between frames
    pts = np.concatenate([[0], np.cumsum(gaps)]).tolist()
    src = write_clip(tmp_path / "vfr.mkv", moving_frames(len(pts)), 25, pts=pts, time_base=Fraction(1, 1000))
    out = tmp_path / "vfr_out.mkv"
    stylize_file(src, out, model__style=str(tiny_model), **FAST)
    assert probe(out)["pts"] == probe(src)["pts"] == pts


def test_odd_size_and_audio(tmp_path, tiny_model):
    """638x358 stays 638x358 (pad to /4 for the network, crop back); audio copied, same length."""
    frames = [np.ascontiguousarray(f) for f in moving_frames(20, 358, 638)]
    src = write_clip(tmp_path / "odd.mp4", frames, 25, audio=tone(0.8))
    out = tmp_path / "odd_out.mp4"
    stylize_file(src, out, model__style=str(tiny_model), **FAST)
    a, b = probe(src), probe(out)
    assert (b["width"], b["height"]) == (638, 358)
    assert b["audio"][0][0] == "aac"
    assert b["audio"][0][1] == pytest.approx(a["audio"][0][1], abs=0.03)


def test_odd_dimensions_keep_exact_size(tmp_path, tiny_model):
    frames = moving_frames(6, 37, 53)
    src = tmp_path / "tiny"
    src.mkdir()
    from PIL import Image

    for i, f in enumerate(frames):
        Image.fromarray(f).save(src / f"{i:03d}.png")
    out = tmp_path / "odd.mkv"
    stylize_file(src, out, model__style=str(tiny_model), **FAST)
    info = probe(out)
    assert (info["width"], info["height"], info["frames"]) == (53, 37, 6)


def test_audio_transcoded_when_container_cannot_hold_it(tmp_path, tiny_model):
    """PCM audio in MKV -> WebM output: VP9 video, Opus audio of the same length."""
    src = write_clip(tmp_path / "pcm.mkv", moving_frames(25), 25, audio=tone(1.0), audio_codec="pcm_s16le")
    out = tmp_path / "out.webm"
    stylize_file(src, out, model__style=str(tiny_model), **FAST)
    with av.open(str(out)) as c:
        assert c.streams.video[0].codec_context.name == "vp9"
        assert c.streams.audio[0].codec_context.name == "opus"
    assert probe(out)["frames"] == 25


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_rotation_metadata_is_applied(tmp_path, tiny_model, rotation):
    """A rotated stream comes out upright, with the displayed size, and no rotation flag."""
    frames = moving_frames(5, 48, 80)
    src = write_clip(tmp_path / "rot.mp4", frames, 25, rotation=rotation, crf=0, pix_fmt="yuv444p")
    out = tmp_path / "rot_out.mp4"
    report = stylize_file(src, out, model__style=str(tiny_model), **FAST)
    assert report.frames_out == 5
    h, w = (80, 48) if rotation in (90, 270) else (48, 80)
    info = probe(out)
    assert (info["width"], info["height"]) == (w, h)
    with av.open(str(out)) as c:
        assert next(c.decode(video=0)).rotation == 0
    # the decoder applied the rotation counter-clockwise, as the display matrix says
    from vidstyle.io.source import VideoFileSource

    src_frames = list(VideoFileSource(src))
    expected = np.rot90(frames[0], rotation // 90)
    assert psnr(src_frames[0].rgb, expected) > 40
    assert psnr(src_frames[0].rgb, np.rot90(expected, 2)) < 25  # the other way round is far off


def test_output_pixels_are_the_model_applied_to_decoded_frames(tmp_path, tiny_model):
    src = write_clip(tmp_path / "px.mp4", moving_frames(8), 25)
    out = tmp_path / "px_out.mkv"
    stylize_file(
        src,
        out,
        model__style=str(tiny_model),
        encode__crf=0,
        encode__pix_fmt="yuv444p",
        temporal__mode="off",
        **FAST,
    )
    net, meta = load_model(tiny_model)
    stylizer = TorchStylizer(net, meta, torch.device("cpu"))
    decoded_in, decoded_out = decode_rgb(src), decode_rgb(out)
    assert len(decoded_out) == 8
    other_net, other_meta = load_model(make_model(tmp_path / "other.safetensors", seed=7))
    other = TorchStylizer(other_net, other_meta, torch.device("cpu"))
    for rgb_in, rgb_out in zip(decoded_in, decoded_out):
        x = torch.from_numpy(rgb_in).permute(2, 0, 1)[None].float() / 255
        expected = (stylizer(x)[0].permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)
        wrong = (other(x)[0].permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)
        assert psnr(rgb_out, expected) > 40
        assert psnr(rgb_out, wrong) < 30  # the check can fail: another model is far off


def test_image_dir_gives_image_outputs(tmp_path, tiny_model):
    from PIL import Image

    src = tmp_path / "frames"
    src.mkdir()
    names = ["a_1.png", "a_2.png", "a_10.png"]
    for name, f in zip(names, moving_frames(3, 40, 60)):
        Image.fromarray(f).save(src / name)
    (src / "notes.txt").write_text("not an image")
    out = tmp_path / "styled"
    report = stylize_file(src, out, model__style=str(tiny_model), **FAST)
    assert report.frames_out == 3
    assert sorted(p.name for p in out.iterdir()) == sorted(names)
    assert np.asarray(Image.open(out / "a_10.png")).shape == (40, 60, 3)


def test_single_image_and_exif_rotation(tmp_path, tiny_model):
    from PIL import Image

    img = Image.fromarray(moving_frames(1, 30, 50)[0])
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 CW to display
    img.save(tmp_path / "photo.jpg", exif=exif)
    out = tmp_path / "photo_styled.png"
    stylize_file(tmp_path / "photo.jpg", out, model__style=str(tiny_model), **FAST)
    assert np.asarray(Image.open(out)).shape == (50, 30, 3)  # upright: portrait


def test_image_glob_to_video(tmp_path, tiny_model):
    from PIL import Image

    for i, f in enumerate(moving_frames(10, 40, 60)):
        Image.fromarray(f).save(tmp_path / f"f{i:02d}.jpg")
    out = tmp_path / "seq.mp4"
    stylize_file(
        str(tmp_path / "f*.jpg"), out, model__style=str(tiny_model), input__image_fps="30000/1001", **FAST
    )
    info = probe(out)
    assert info["frames"] == 10 and info["rate"] == Fraction(30000, 1001)


def test_batching_does_not_change_output(tmp_path, tiny_model):
    src = write_clip(tmp_path / "b.mp4", moving_frames(7), 25)
    outs = []
    for batch in (1, 3):
        out = tmp_path / f"b{batch}.mkv"
        stylize_file(
            src,
            out,
            model__style=str(tiny_model),
            model__batch=batch,
            encode__crf=0,
            encode__pix_fmt="yuv444p",
            temporal__mode="off",
            **FAST,
        )
        outs.append(decode_rgb(out))
    assert len(outs[0]) == len(outs[1]) == 7
    for a, b in zip(*outs):
        assert psnr(a, b) > 45


def test_max_side_scales_back_to_source_size(tmp_path, tiny_model):
    src = write_clip(tmp_path / "big.mp4", moving_frames(4, 120, 200), 25)
    out = tmp_path / "big_out.mp4"
    stylize_file(src, out, model__style=str(tiny_model), model__max_side=64, **FAST)
    info = probe(out)
    assert (info["width"], info["height"], info["frames"]) == (200, 120, 4)
