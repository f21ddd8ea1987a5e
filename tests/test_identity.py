"""The face descriptor network, alignment and MTCNN wrapper (real weights from ../shared)."""

from __future__ import annotations

import itertools
import os
import re
from pathlib import Path

import numpy as np
import pytest
import torch

REPO = Path(__file__).resolve().parents[1]


def _shared() -> Path | None:
    root = Path(os.environ.get("VIDSTYLE_SHARED", REPO.parent / "shared"))
    return root / "data" if (root / "data").is_dir() else None


SHARED = _shared()
needs_faces = pytest.mark.skipif(
    SHARED is None or not (SHARED / "faces" / "recognition_net").is_dir(),
    reason="face photos and recognition weights are in ../shared/data/faces (set VIDSTYLE_SHARED)",
)


def test_network_shapes_and_keys():
    from vidstyle.faces.identity import FaceRecognitionNet

    net = FaceRecognitionNet().eval()
    keys = set(net.state_dict())
    assert {"fc", "conv32_down.sw", "blocks.conv256_down_out.conv2.conv.weight"} <= keys
    with torch.no_grad():
        assert net(torch.rand(2, 3, 150, 150) * 255).shape == (2, 128)


def test_missing_weights_are_a_model_error(tmp_path):
    from vidstyle.errors import ModelError
    from vidstyle.faces.identity import load_identity_net

    with pytest.raises(ModelError, match="not found"):
        load_identity_net(tmp_path)
    torch.save({"fc": torch.zeros(3)}, tmp_path / "x.pth")
    with pytest.raises(ModelError, match="not the face descriptor"):
        load_identity_net(tmp_path / "x.pth")


@pytest.fixture(scope="module")
def embeddings():
    from PIL import Image

    from vidstyle.faces.align import face_chips
    from vidstyle.faces.detector import MTCNNDetector
    from vidstyle.faces.identity import load_identity_net

    det = MTCNNDetector()
    net = load_identity_net(SHARED / "faces" / "recognition_net")
    out = []  # (person, embedding)
    for path in sorted((SHARED / "faces" / "photos").iterdir()):
        rgb = np.array(Image.open(path).convert("RGB"))
        faces = det.detect([rgb])[0]
        people = (
            ["obama", "biden"] if path.stem == "two_people" else [re.match(r"[a-z]+", path.stem).group()]
        )  # alex-lacamoire -> alex
        assert len(faces) >= len(people), path.name
        largest = np.argsort(-(faces.boxes[:, 2] - faces.boxes[:, 0]))[: len(people)]
        order = largest[np.argsort(faces.boxes[largest, 0])]  # the people, left to right
        x = torch.from_numpy(rgb).permute(2, 0, 1)[None].float()
        with torch.no_grad():
            emb = net(face_chips(x, torch.zeros(len(order), dtype=torch.long), faces.landmarks[order]))
        out += list(zip(people, emb))
    return out


@needs_faces
def test_same_person_closer_than_different_people(embeddings):
    same, diff = [], []
    for (p1, e1), (p2, e2) in itertools.combinations(embeddings, 2):
        (same if p1 == p2 else diff).append(float((e1 - e2).norm()))
    assert len({p for p, _ in embeddings}) == 5 and len(embeddings) == 14
    # measured: same 0.34 mean / 0.55 max, different 0.86 mean / 0.74 min
    assert max(same) < min(diff)
    assert np.mean(same) < 0.45 and np.mean(diff) > 0.75
    assert max(same) < 0.6 < min(diff)


@needs_faces
def test_mtcnn_batches_equal_sizes():
    from PIL import Image

    from vidstyle.faces.detector import Faces, MTCNNDetector

    rgb = np.array(Image.open(SHARED / "faces" / "photos" / "obama_small.jpg").convert("RGB"))
    det = MTCNNDetector()
    blank = np.zeros_like(rgb)
    single = det.detect([rgb])
    batched = det.detect([rgb, blank, rgb])
    assert len(batched) == 3 and len(batched[1]) == 0 and len(batched[0]) == 1
    assert np.allclose(batched[0].boxes, single[0].boxes, atol=1.0)
    mixed = det.detect([rgb, rgb[:100, :150]])
    assert len(mixed) == 2
    lm = batched[0].landmarks[0]
    assert lm[0, 0] < lm[1, 0] and lm[3, 0] < lm[4, 0]  # left eye / mouth left first
    assert lm[2, 1] > lm[0, 1] and lm[3, 1] > lm[2, 1]  # nose below eyes, mouth below nose
    again = Faces.from_json(batched[0].to_json())
    assert np.allclose(again.landmarks, batched[0].landmarks, atol=0.01)
    assert len(Faces.from_json(Faces.empty().to_json())) == 0
