"""optimize.run: Ruder on videos, hybrid init, colours, resume, multipass, the public hooks.

Quality tests use the real VGG16 from ../shared (skipped without it) at tiny sizes with the
cheaper early layers; mechanics tests use a random-initialised VGG."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from conftest import SHARED, decode_rgb, moving_frames, needs_shared, probe
from optimize_helpers import FAST_LAYERS, batch, clip, opt_cfg

from vidstyle.errors import VidstyleError


def test_preserve_color_end_to_end_keeps_content_chroma_in_yuv(random_vgg, painting, tmp_path):
    import cv2
    from PIL import Image

    from vidstyle.optimize.run import OptimizePipeline

    photo = moving_frames(1, 40, 48)[0]
    Image.fromarray(photo).save(tmp_path / "photo.png")
    outs = {}
    for keep in (False, True):
        cfg = opt_cfg(
            size=48, init="noise", iters=15, style_image=str(painting), preserve_color=keep, **FAST_LAYERS
        )
        out = tmp_path / f"out_{keep}.png"
        OptimizePipeline(cfg, vgg=random_vgg).run(tmp_path / "photo.png", out)
        outs[keep] = np.asarray(Image.open(out).convert("RGB"))
    yuv = lambda rgb: cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV).astype(np.float64)  # noqa: E731
    # where the restyled luma is near black or white, clamping to 0..255 must bend the chroma
    luma = yuv(outs[True])[..., 0]
    inside = (luma > 24) & (luma < 231)
    assert inside.mean() > 0.5
    chroma_err = {k: np.abs(yuv(v)[..., 1:] - yuv(photo)[..., 1:])[inside].mean() for k, v in outs.items()}
    assert chroma_err[True] < 1.5  # rounding only
    assert chroma_err[False] > 4 * chroma_err[True]  # plain transfer changes the colours
    assert np.abs(yuv(outs[True])[..., 0] - yuv(photo)[..., 0]).mean() > 3  # luma is restyled


@needs_shared
@pytest.mark.slow
def test_style_net_init_needs_fewer_iterations_than_content_init(real_vgg, painting):
    from vidstyle.geometry import fit_long_side
    from vidstyle.io.source import load_image
    from vidstyle.optimize.gatys import resize
    from vidstyle.optimize.run import OptimizePipeline

    cfg = opt_cfg(size=48, style_image=str(painting), init="style-net:starry_night", **FAST_LAYERS)
    job = OptimizePipeline(cfg, vgg=real_vgg)
    g = job.gatys()
    photo = batch(load_image(SHARED / "faces" / "photos" / "obama_small.jpg"))
    content = resize(photo, fit_long_side(*photo.shape[-2:], 48))
    net_init, _ = job._fills()
    runs = {}
    for name, init, iters in (("content", content, 30), ("style-net", net_init(content, 0), 15)):
        styles = []
        g.solve(content, init, iters, on_iter=lambda i, t, styles=styles: styles.append(t["style"]))
        runs[name] = styles
    target = runs["content"][-1]  # where content init is after 30 iterations
    reached = next((i for i, s in enumerate(runs["style-net"], 1) if s <= target), None)
    assert reached is not None and reached <= 10  # the hybrid gets there in a third of the time


@needs_shared
@pytest.mark.slow
def test_ruder_gives_much_lower_warping_error_than_per_frame(real_vgg, painting, tmp_path):
    from vidstyle.eval.flicker import warping_errors
    from vidstyle.optimize.run import OptimizePipeline

    video = clip(tmp_path / "pan.mp4", 4, audio=False)
    base = dict(size=64, iters=30, iters_first=60, style_image=str(painting), **FAST_LAYERS)
    outputs, style = {}, {}
    for name, extra in (("independent", dict(sequence="independent", iters=60)), ("ruder", {})):
        job = OptimizePipeline(opt_cfg(**{**base, **extra}), vgg=real_vgg)
        losses, solve = [], job.gatys().solve

        def recording(*a, solve=solve, losses=losses, **k):
            r = solve(*a, **k)
            losses.append(r.terms["style"])
            return r

        job.gatys().solve = recording
        job.run(video, tmp_path / f"{name}.mp4")
        outputs[name] = decode_rgb(tmp_path / f"{name}.mp4")
        style[name] = float(np.mean(losses))
    e_independent, e_ruder = warping_errors(decode_rgb(video), [outputs["independent"], outputs["ruder"]])
    assert e_ruder.e_warp < 0.5 * e_independent.e_warp
    assert style["ruder"] < 2.0 * style["independent"]


@pytest.mark.slow
def test_video_keeps_timing_and_audio_like_stylize(random_vgg, painting, tiny_model, tmp_path):
    from vidstyle.optimize.run import OptimizePipeline
    from vidstyle.pipeline.api import Pipeline

    video = clip(tmp_path / "ntsc.mp4", 5)
    cfg = opt_cfg(size=32, iters=2, style_image=str(painting), **FAST_LAYERS)
    report = OptimizePipeline(cfg, vgg=random_vgg).run(video, tmp_path / "opt.mp4")
    Pipeline(
        model__style=str(tiny_model), model__device="cpu", model__backend="torch", run__progress="off"
    ).run(video, tmp_path / "fast.mp4")
    got, want = probe(tmp_path / "opt.mp4"), probe(tmp_path / "fast.mp4")
    assert got == want and got["rate"] == Fraction(30000, 1001) and got["audio"]
    assert (got["width"], got["height"]) == (64, 48)  # scaled back to the source size
    assert report.frames_out == 5
    assert not (tmp_path / "opt.mp4.optimize").exists()  # work folder removed when done


def test_stopped_video_job_resumes_from_the_last_finished_frame(random_vgg, painting, tmp_path):
    from vidstyle.optimize.gatys import Gatys
    from vidstyle.optimize.run import OptimizePipeline

    video = clip(tmp_path / "pan.mp4", 4, audio=False)
    cfg = opt_cfg(size=32, iters=2, style_image=str(painting), **FAST_LAYERS)
    out = tmp_path / "out.mp4"
    calls = []
    real_solve = Gatys.solve

    def failing(self, *a, **k):
        if len(calls) == 2:
            raise VidstyleError("simulated crash on frame 2")
        calls.append(1)
        return real_solve(self, *a, **k)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Gatys, "solve", failing)
        with pytest.raises(VidstyleError, match="simulated crash"):
            OptimizePipeline(cfg, vgg=random_vgg).run(video, out)
    work = tmp_path / "out.mp4.optimize"
    assert sorted(p.name for p in (work / "pass1").glob("*.png")) == ["000000.png", "000001.png"]
    assert not out.exists()
    counted = []

    def counting(self, *a, **k):
        counted.append(1)
        return real_solve(self, *a, **k)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Gatys, "solve", counting)
        report = OptimizePipeline(cfg, vgg=random_vgg).run(video, out)
    assert len(counted) == 2 and report.summary["resumed_frames"] == 2
    assert report.frames_out == 4 and probe(out)["frames"] == 4 and not work.exists()


def test_multipass_runs_passes_in_both_directions(random_vgg, painting, tmp_path):
    from vidstyle.optimize.run import OptimizePipeline

    video = clip(tmp_path / "pan.mp4", 3, audio=False)
    cfg = opt_cfg(
        size=0,
        init="content",
        passes=3,
        pass_iters=2,
        pass_temporal_from=2,
        style_image=str(painting),
        **FAST_LAYERS,
    )  # native size: no resize copies
    seen = []
    job = OptimizePipeline(cfg, vgg=random_vgg)
    orig = job.gatys().solve

    def solve(content, init, iters, temporal=None, temporal_weight=0.0, faces=None, on_iter=None):
        seen.append((iters, len(temporal or []), temporal_weight))
        return orig(content, init, iters, temporal, temporal_weight, faces, on_iter)

    job.gatys().solve = solve
    report = job.run(video, tmp_path / "out.mp4")
    assert report.frames_out == 3 and probe(tmp_path / "out.mp4")["frames"] == 3
    assert len(seen) == 9 and all(it == 2 for it, _, _ in seen)
    assert [w > 0 for _, _, w in seen] == [False] * 3 + [True] * 6  # temporal from pass 2
    assert [n for _, n, _ in seen] == [0, 1, 1, 0, 1, 1, 0, 1, 1]  # first frame of each direction alone


def test_optimize_pipeline_brings_its_own_stages_and_job_through_the_public_hooks(
    random_vgg, painting, tmp_path
):
    from PIL import Image

    from vidstyle.optimize.run import OptimizePipeline

    Image.fromarray(moving_frames(1, 24, 32)[0]).save(tmp_path / "photo.png")
    job = OptimizePipeline(
        opt_cfg(size=32, iters=2, style_image=str(painting), **FAST_LAYERS), vgg=random_vgg
    )
    assert job.stage_names() == ["preprocess", "optimize", "postprocess", "encode"]
    with pytest.raises(RuntimeError, match="built by OptimizePipeline.run"):
        _ = job.job  # no run in progress
    report = job.run(tmp_path / "photo.png", tmp_path / "out.png")
    assert report.frames_out == 1 and report.stylizer.startswith(f"optimize {painting.name} (")
    assert [s["stage"] for s in report.stats] == ["decode", "preprocess", "optimize", "postprocess", "encode"]
    assert job._job is None and job._stylizer is None  # the job is gone; no feed-forward model was loaded
