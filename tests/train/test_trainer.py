"""train.trainer: the training loop on tiny generated images with random-initialised loss networks."""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pytest
import torch
from PIL import Image
from train_helpers import SIZE, make_cfg

from vidstyle.errors import ConfigError, InputError
from vidstyle.faces.detector import Faces


class CentreFace:
    """A fake detector: one face in the middle of every image."""

    calls = 0

    def detect(self, images):
        out = []
        for im in images:
            CentreFace.calls += 1
            h, w = im.shape[:2]
            cx, cy, s = w / 2, h / 2, min(h, w) / 3
            lm = np.array(
                [
                    [cx - s / 3, cy - s / 4],
                    [cx + s / 3, cy - s / 4],
                    [cx, cy],
                    [cx - s / 4, cy + s / 3],
                    [cx + s / 4, cy + s / 3],
                ],
                np.float32,
            )
            out.append(
                Faces(
                    np.array([[cx - s / 2, cy - s / 2, cx + s / 2, cy + s / 2]], np.float32),
                    lm[None],
                    np.ones(1, np.float32),
                )
            )
        return out


@pytest.fixture(scope="module")
def vgg():
    from vidstyle.perceptual.vgg import VGGFeatures

    torch.manual_seed(0)
    net = VGGFeatures()
    with torch.no_grad():  # random conv stacks shrink activations layer by layer; keep them alive
        for m in net.features:
            if isinstance(m, torch.nn.Conv2d):
                m.weight.mul_(2.0)
    return net


@pytest.fixture(scope="module")
def idnet():
    from vidstyle.faces.identity import FaceRecognitionNet

    torch.manual_seed(1)
    net = FaceRecognitionNet()
    with torch.no_grad():
        net.fc.normal_(0, 0.2)
    return net.eval().requires_grad_(False)


def make_trainer(cfg, tmp_path, vgg, idnet, **kw):
    from vidstyle.train.trainer import Trainer

    return Trainer(
        cfg,
        tmp_path / "model.safetensors",
        vgg=vgg,
        identity_net=idnet,
        detector_factory=CentreFace,
        progress=False,
        **kw,
    )


def tensors(batch) -> dict[str, torch.Tensor]:
    """Every tensor of a TrainBatch by a dotted name (``faces.mask``, ``pairs.grid``, ...)."""
    out = {"content": batch.content, "style": batch.style}
    for part in ("faces", "pairs"):
        value = getattr(batch, part)
        if value is not None:
            out.update({f"{part}.{f.name}": getattr(value, f.name) for f in dataclasses.fields(value)})
    return out


def test_batches_are_pure_functions_of_the_step(data, tmp_path, vgg, idnet):
    t = make_trainer(make_cfg(data, tmp_path), tmp_path, vgg, idnet)
    t.setup()
    a, b = t.batches[3], t.batches[3]
    assert a.faces is not None and a.pairs is not None and a.skipped == ()
    got, want = tensors(a), tensors(b)
    assert len(got) == 9
    for k in got:
        assert torch.equal(got[k], want[k]), k
    assert a.content.shape == (2, 3, SIZE, SIZE)
    assert a.faces.mask.sum() > 0 and a.faces.usable.any()
    assert not torch.equal(t.batches[4].content, a.content)


def test_loader_processes_give_the_same_batches(data, tmp_path, vgg, idnet):
    t = make_trainer(make_cfg(data, tmp_path, **{"data.workers": 2, "optim.steps": 3}), tmp_path, vgg, idnet)
    t.setup()
    t.step = 1
    got = list(t._loader())
    assert len(got) == 2
    for step, batch in zip((1, 2), got):
        want = tensors(t.batches[step])
        for k, v in tensors(batch).items():
            assert torch.equal(v, want[k]), k


def test_each_loss_term_descends_along_its_gradient(data, tmp_path, vgg, idnet):
    t = make_trainer(make_cfg(data, tmp_path), tmp_path, vgg, idnet)
    t.setup()
    batch = t.batches[0].to(t.device)
    terms = t.compute_losses(batch)
    assert set(terms) == {"content", "style", "tv", "face", "identity", "temporal"}
    params = [p for p in t.net.parameters()]
    start = {k: p.detach().clone() for k, p in t.net.named_parameters()}
    for name in terms:
        with torch.no_grad():
            for k, p in t.net.named_parameters():
                p.copy_(start[k])
        value = t.compute_losses(batch)[name]
        v0 = float(value.detach())
        grads = torch.autograd.grad(value, params, allow_unused=True)
        norm2 = sum(float((g**2).sum()) for g in grads if g is not None)
        assert norm2 > 0, f"{name} has no gradient"
        lr = 1e-3 * v0 / norm2  # a short step: a predicted decrease of 0.1 %
        with torch.no_grad():
            for p, g in zip(params, grads):
                if g is not None:
                    p.sub_(lr * g)
        after = t.compute_losses(batch)[name]
        after = float(after.detach())
        assert after < v0, f"{name}: {v0} -> {after}"


def test_training_steps_lower_the_total(data, tmp_path, vgg, idnet):
    cfg = make_cfg(data, tmp_path, **{"optim.lr": 1e-2})
    t = make_trainer(cfg, tmp_path, vgg, idnet)
    t.setup()
    batch = t.batches[0]
    totals = [t.train_step(batch)["total"] for _ in range(8)]
    assert totals[-1] < totals[0]


def test_resume_gives_the_identical_next_step(data, tmp_path, vgg, idnet):
    cfg = make_cfg(data, tmp_path, styles=("swirl", "stripes"))
    t = make_trainer(cfg, tmp_path, vgg, idnet)
    t.setup()
    for s in range(2):
        t.train_step(t.batches[s])
    ckpt = t.save_checkpoint(tmp_path / "ckpt.safetensors")
    expected = t.train_step(t.batches[2])
    expected_params = {k: v.clone() for k, v in t.net.state_dict().items()}

    r = make_trainer(cfg, tmp_path, vgg, idnet, resume=ckpt)
    r.setup()
    assert r.step == 2
    got = r.train_step(r.batches[r.step])
    assert got == expected
    for k, v in r.net.state_dict().items():
        assert torch.equal(v, expected_params[k]), k


def test_run_resumed_from_a_checkpoint_ends_bit_identical(data, tmp_path, vgg, idnet):
    """An interrupted run resumed with --resume ends with the weights, Adam state and loss history
    of the run that was never interrupted (the warm-up and cosine schedule included)."""
    sets = {
        "optim.steps": 4,
        "optim.schedule": "cosine",
        "optim.warmup": 2,
        "optim.grad_clip": 0.5,
        "run.checkpoint_every": 2,
        "loss.style_scale": [1.0, 2.0],
    }
    cfg = make_cfg(data, tmp_path / "a", styles=("swirl", "stripes"), **sets)
    whole = make_trainer(cfg, tmp_path / "a", vgg, idnet)
    whole.run()
    ckpt = tmp_path / "a" / "run" / "checkpoints" / "step-0000002.safetensors"
    cfg_b = make_cfg(data, tmp_path / "b", styles=("swirl", "stripes"), **sets)
    resumed = make_trainer(cfg_b, tmp_path / "b", vgg, idnet, resume=ckpt)
    resumed.run()
    assert resumed.step == whole.step == 4
    for k, v in whole.net.state_dict().items():
        assert torch.equal(v, resumed.net.state_dict()[k]), k
    a, b = whole.optimizer.state_dict()["state"], resumed.optimizer.state_dict()["state"]
    assert all(torch.equal(a[i]["exp_avg_sq"], b[i]["exp_avg_sq"]) for i in a)

    def losses(history: list[dict]) -> list[dict]:  # the records without the speed
        return [{k: v for k, v in r.items() if k != "it_s"} for r in history]

    assert losses(resumed.history) == losses(whole.history)


def test_run_writes_model_samples_and_checkpoints(data, tmp_path, vgg, idnet):
    from vidstyle.models.store import load_model

    cfg = make_cfg(
        data,
        tmp_path,
        styles=("swirl", "stripes"),
        **{"run.checkpoint_every": 2, "run.sample_every": 2, "optim.steps": 3},
    )
    t = make_trainer(cfg, tmp_path, vgg, idnet)
    out = t.run()
    net, meta = load_model(out)
    assert [s["name"] for s in meta.styles] == ["swirl", "stripes"]
    assert meta.styles[0]["style_image"] == "swirl.jpg"
    assert net.num_styles == 2 and meta.arch == "small"
    assert meta.recipe["steps"] == 3 and meta.recipe["config"]["optim"]["batch"] == 2
    assert set(meta.recipe["final_losses"]) >= {"total", "style", "temporal", "identity"}
    assert meta.recipe["it_per_s"] > 0 and meta.recipe["machine"]["device"]
    run = tmp_path / "run"
    assert (run / "samples" / "step-0000002.png").is_file()
    assert (run / "samples" / "step-0000003.png").is_file()
    assert (run / "loss_curve.png").is_file() and (run / "model_card.md").is_file()
    assert (run / "checkpoints" / "step-0000002.safetensors").is_file()
    grid = Image.open(run / "samples" / "step-0000003.png")
    assert grid.size == (3 * SIZE + 2 * 4, 2 * SIZE + 4)  # content | swirl | stripes
    # faces were detected once and cached: a second setup detects nothing new
    calls = CentreFace.calls
    t2 = make_trainer(cfg, tmp_path, vgg, idnet)
    t2.setup()
    assert CentreFace.calls == calls


def test_bad_inputs_give_clear_errors(data, tmp_path, vgg, idnet):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no images here")
    with pytest.raises(InputError, match="no images"):
        make_trainer(
            make_cfg(data, tmp_path, **{"paths.content": [str(empty)]}), tmp_path, vgg, idnet
        ).setup()
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "a.jpg").write_bytes(b"not a jpeg")
    (bad / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(InputError, match="none of the 2 content images can be read"):
        make_trainer(make_cfg(data, tmp_path, **{"paths.content": [str(bad)]}), tmp_path, vgg, idnet).setup()
    with pytest.raises(InputError, match="content directory not found"):
        make_trainer(
            make_cfg(data, tmp_path, **{"paths.content": [str(tmp_path / "nope")]}), tmp_path, vgg, idnet
        ).setup()
    with pytest.raises(InputError, match="style image not found"):
        make_trainer(make_cfg(data, tmp_path, styles=("missing",)), tmp_path, vgg, idnet).setup()
    (tmp_path / "broken.jpg").write_bytes(b"GIF89a broken")
    cfg = make_cfg(data, tmp_path, **{"paths.styles": [str(tmp_path / "broken.jpg")]})
    with pytest.raises(InputError, match="style image cannot be read"):
        make_trainer(cfg, tmp_path, vgg, idnet).setup()
    with pytest.raises(ConfigError, match="multiple of 4"):
        make_cfg(data, tmp_path, **{"data.image_size": 34})
    with pytest.raises(ConfigError, match="style_scale: 2 factors for 1 styles"):
        make_cfg(data, tmp_path, **{"loss.style_scale": [1.0, 2.0]})
    with pytest.raises(ConfigError, match="identity"):
        make_trainer(make_cfg(data, tmp_path), tmp_path, vgg, None).setup()


def test_undecodable_content_is_skipped_and_counted(data, tmp_path, vgg, idnet, caplog):
    import shutil

    mixed = tmp_path / "mixed"
    shutil.copytree(data / "content", mixed)
    raw = (mixed / "c5.jpg").read_bytes()
    (mixed / "c9.jpg").write_bytes(raw[:200])  # valid header, truncated data
    cfg = make_cfg(
        data, tmp_path, **{"paths.content": [str(mixed)], "loss.face_mode": "off", "optim.steps": 6}
    )
    t = make_trainer(cfg, tmp_path, vgg, idnet)
    logging.getLogger("vidstyle").propagate = True
    try:
        with caplog.at_level(logging.WARNING, logger="vidstyle"):
            t.run()
    finally:
        logging.getLogger("vidstyle").propagate = False
    assert any("c9.jpg" in s for s in t.skipped)
    assert "1 content image(s) could not be read" in caplog.text


def test_extend_trains_only_the_new_style_and_keeps_the_others_bit_identical(data, tmp_path, vgg, idnet):
    """--extend: a third style joins a two-style model; the old rows and convolutions do not move,
    so the old styles' outputs are exactly the base model's."""
    from vidstyle.models.store import load_model

    base_cfg = make_cfg(data, tmp_path / "a", styles=("swirl", "stripes"))
    base = make_trainer(base_cfg, tmp_path / "a", vgg, idnet).run()
    (data / "dots.jpg").write_bytes((data / "swirl.jpg").read_bytes())  # a new name, a painting
    cfg = make_cfg(
        data,
        tmp_path / "b",
        styles=("dots",),
        **{"paths.extend": str(base), "optim.lr": 5e-2, "optim.steps": 3},
    )
    out = make_trainer(cfg, tmp_path / "b", vgg, idnet).run()
    old, old_meta = load_model(base)
    new, meta = load_model(out)
    assert meta.style_names == ["swirl", "stripes", "dots"] and new.num_styles == 3
    assert meta.recipe["extends"]["model"] == old_meta.name
    assert meta.recipe["extends"]["styles"] == ["swirl", "stripes"]
    x = torch.rand(1, 3, SIZE, SIZE) * 255
    with torch.no_grad():
        for i in range(2):
            w2, w3 = torch.eye(2)[i], torch.eye(3)[i]
            assert torch.equal(old(x, w2), new(x, w3))
        moved = new(x, torch.eye(3)[2])
        start = new(x, torch.tensor([0.5, 0.5, 0.0]))  # where the new row started: the mean
    assert (moved - start).abs().max() > 1e-3
    convs_old = {
        k: v
        for k, v in old.state_dict().items()
        if not k.endswith(("norm.weight", "norm.bias")) and v.shape == new.state_dict()[k].shape
    }
    assert convs_old and all(torch.equal(v, new.state_dict()[k]) for k, v in convs_old.items())


def test_extend_refuses_a_style_the_base_already_holds(data, tmp_path, vgg, idnet):
    base = make_trainer(make_cfg(data, tmp_path / "a"), tmp_path / "a", vgg, idnet).run()
    cfg = make_cfg(data, tmp_path / "b", **{"paths.extend": str(base)})
    with pytest.raises(InputError, match="already holds style"):
        make_trainer(cfg, tmp_path / "b", vgg, idnet).setup()


def test_init_starts_from_a_model_matches_rows_by_name_and_trains_everything(data, tmp_path, vgg, idnet):
    """--init: the base model's weights start the run, its rows follow the style names (order may
    change), a style it lacks starts from the mean row, and every weight trains."""
    from vidstyle.models.store import load_model
    from vidstyle.train.extend import net_for_styles

    base = make_trainer(
        make_cfg(data, tmp_path / "a", styles=("swirl", "stripes")), tmp_path / "a", vgg, idnet
    ).run()
    (data / "dots.jpg").write_bytes((data / "stripes.jpg").read_bytes())
    old, old_meta = load_model(base)
    start, _ = net_for_styles(base, ["stripes", "dots", "swirl"])
    x = torch.rand(1, 3, SIZE, SIZE) * 255
    with torch.no_grad():
        assert torch.equal(start(x, torch.eye(3)[0]), old(x, torch.eye(2)[1]))  # stripes
        assert torch.equal(start(x, torch.eye(3)[2]), old(x, torch.eye(2)[0]))  # swirl
        assert torch.allclose(start(x, torch.eye(3)[1]), old(x, torch.tensor([0.5, 0.5])), atol=1e-4)
    cfg = make_cfg(
        data,
        tmp_path / "b",
        styles=("stripes", "dots", "swirl"),
        **{"paths.init": str(base), "optim.lr": 5e-2, "optim.steps": 2},
    )
    out = make_trainer(cfg, tmp_path / "b", vgg, idnet).run()
    new, meta = load_model(out)
    assert meta.style_names == ["stripes", "dots", "swirl"] and meta.arch == old_meta.arch
    assert meta.recipe["init"]["model"] == old_meta.name and "extends" not in meta.recipe
    from vidstyle.train.card import model_card

    assert f"started from the weights of `{old_meta.name}` (swirl, stripes; 4 steps)" in model_card(meta)
    moved = [k for k, v in new.state_dict().items() if not torch.equal(v, start.state_dict()[k])]
    assert any("norm" not in k for k in moved), "the convolutions should train too"
    bad = make_cfg(data, tmp_path / "c", **{"paths.init": str(tmp_path / "nope")})
    with pytest.raises(InputError, match="cannot start from .*nope"):
        make_trainer(bad, tmp_path / "c", vgg, idnet).setup()


def test_style_weights_set_how_often_each_style_is_picked(data, tmp_path, vgg, idnet):
    cfg = make_cfg(
        data, tmp_path, styles=("swirl", "stripes"), **{"data.style_weights": [1, 9], "optim.batch": 4}
    )
    t = make_trainer(cfg, tmp_path, vgg, idnet)
    t.setup()
    picks = torch.cat([t.batches[s].style for s in range(60)])
    assert 0.8 < float((picks == 1).float().mean()) < 0.97  # 0.9 expected
    step_cfg = make_cfg(
        data,
        tmp_path,
        styles=("swirl", "stripes"),
        **{"data.style_weights": [1, 1], "data.style_pick": "step", "optim.batch": 4},
    )
    t = make_trainer(step_cfg, tmp_path, vgg, idnet)
    t.setup()
    assert all(len(set(t.batches[s].style.tolist())) == 1 for s in range(10))
    with pytest.raises(ConfigError, match="data.style_weights: 1 factors for 2 styles"):
        make_cfg(data, tmp_path, styles=("swirl", "stripes"), **{"data.style_weights": [1]})
    with pytest.raises(ConfigError, match="exclude each other"):
        make_cfg(data, tmp_path, **{"paths.init": "a", "paths.extend": "b"})
