"""An alpha channel is reported as dropped only when it holds a transparent pixel (issue 35):
FFmpeg decodes every GIF with an alpha channel, transparent or not."""

from __future__ import annotations

import av
import numpy as np
from conftest import moving_frames
from PIL import Image

from vidstyle.cli import main

FAST = ["--no-progress", "--preset", "ultrafast", "--faces", "off"]
NOTE = "alpha channel: it is dropped"


def stylize(capsys, src, out, model) -> str:
    code = main(["stylize", str(src), "-o", str(out), "--style", str(model), *FAST])
    err = capsys.readouterr().err
    assert code == 0, err
    return err


def gif(path, transparent: bool):
    pictures = []
    for rgb in moving_frames(4, 48, 64):
        alpha = np.full((48, 64, 1), 255, np.uint8)
        if transparent:
            alpha[:10] = 0
        pictures.append(Image.fromarray(np.dstack([rgb, alpha]), "RGBA"))
    pictures[0].save(path, save_all=True, append_images=pictures[1:], duration=100, loop=0, disposal=2)
    return path


def test_an_opaque_gif_is_not_told_its_alpha_was_dropped(tmp_path, tiny_model, capsys):
    assert NOTE not in stylize(capsys, gif(tmp_path / "a.gif", False), tmp_path / "o.gif", tiny_model)


def test_a_gif_with_transparent_pixels_is(tmp_path, tiny_model, capsys):
    assert NOTE in stylize(capsys, gif(tmp_path / "a.gif", True), tmp_path / "o.gif", tiny_model)


def rgba_mov(path, alphas: list[int]):
    with av.open(str(path), "w") as out:
        s = out.add_stream("png", rate=25)
        s.width, s.height, s.pix_fmt = 64, 48, "rgba"
        for i, (rgb, a) in enumerate(zip(moving_frames(len(alphas), 48, 64), alphas)):
            vf = av.VideoFrame.from_ndarray(
                np.dstack([rgb, np.full((48, 64, 1), a, np.uint8)]), format="rgba"
            )
            vf.pts = i
            out.mux(s.encode(vf))
        out.mux(s.encode(None))
    return path


def test_an_opaque_alpha_video_is_quiet_and_later_transparency_is_told_once(tmp_path, tiny_model, capsys):
    assert NOTE not in stylize(
        capsys, rgba_mov(tmp_path / "a.mov", [255] * 4), tmp_path / "o.mp4", tiny_model
    )
    err = stylize(capsys, rgba_mov(tmp_path / "b.mov", [255, 255, 100, 100]), tmp_path / "p.mp4", tiny_model)
    assert err.count(NOTE) == 1, err
