"""A tiny training set (generated textures as content, two 'paintings') and a TrainConfig for it,
shared by the trainer, data and `vidstyle train` tests."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from vidstyle.train.config import TrainConfig, load_train_config

SIZE = 32


def _texture(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    base = rng.uniform(0, 255, (h // 8 + 1, w // 8 + 1, 3)).astype(np.uint8)
    im = Image.fromarray(base).resize((w, h), Image.BICUBIC)
    noise = rng.normal(0, 12, (h, w, 3))
    return np.clip(np.asarray(im) + noise, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("traindata")
    rng = np.random.default_rng(0)
    content = root / "content"
    (content / "sub").mkdir(parents=True)
    for i in range(5):
        Image.fromarray(_texture(rng, 40 + 4 * i, 52)).save(content / ("sub" if i % 2 else "") / f"c{i}.png")
    Image.fromarray(_texture(rng, 48, 48)).save(content / "c5.jpg")
    for name in ("swirl", "stripes"):
        Image.fromarray(_texture(rng, 64, 80)).save(root / f"{name}.jpg")
    return root


def make_cfg(data, tmp_path, styles=("swirl",), **sets) -> TrainConfig:
    overrides = {
        "paths.content": [str(data / "content")],
        "paths.styles": [str(data / f"{s}.jpg") for s in styles],
        "paths.run_dir": str(tmp_path / "run"),
        "paths.cache_dir": str(tmp_path / "cache"),
        "model.arch": "small",
        "data.image_size": SIZE,
        "data.style_size": 48,
        "data.max_faces": 2,
        "loss.face_mode": "both",
        "loss.identity_min_face": 4,
        "optim.batch": 2,
        "optim.steps": 4,
        "optim.lr": 1e-3,
        "run.device": "cpu",
        "run.sample_size": SIZE,
        "run.sample_count": 2,
        "run.log_every": 1,
        "run.checkpoint_every": 0,
        "run.sample_every": 0,
        "run.progress": "off",
        "run.amp": "off",
    }
    overrides.update(sets)
    return load_train_config(None, overrides)
