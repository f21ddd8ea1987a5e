"""Differentiable face chips: 5-point similarity alignment to a dlib-like 150 x 150 template.

The template holds where the MTCNN points (eye centres, nose tip, mouth corners) sit in dlib's
mean face shape (unit square over the inner face), padded by ``padding`` on every side, as dlib's
``get_face_chip_details(shape, 150, 0.25)`` does. Chips are cut with ``affine_grid`` +
``grid_sample`` so gradients flow back into the image (the landmarks are constants).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

# MTCNN point order in image coordinates, in dlib's unit mean-shape frame: left eye, right eye,
# nose tip, mouth left, mouth right (eye = mean of its six 68-point landmarks).
_MEAN_SHAPE_5 = np.array(
    [
        [0.225492, 0.215990],
        [0.754761, 0.215990],
        [0.490127, 0.515625],
        [0.254149, 0.780233],
        [0.726104, 0.780233],
    ],
    np.float64,
)

CHIP_SIZE = 150
CHIP_PADDING = 0.25


def template(size: int = CHIP_SIZE, padding: float = CHIP_PADDING) -> np.ndarray:
    """The 5 target points (pixel-centre coordinates) of a ``size`` x ``size`` chip."""
    return (_MEAN_SHAPE_5 + padding) / (1 + 2 * padding) * size


def similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity (rotation, uniform scale, translation) ``src -> dst`` as 2x3.

    Solves dst ≈ [[a, -b], [b, a]] @ src + t for (a, b, tx, ty) in the least-squares sense.
    """
    src = np.asarray(src, np.float64).reshape(-1, 2)
    dst = np.asarray(dst, np.float64).reshape(-1, 2)
    n = len(src)
    A = np.zeros((2 * n, 4))
    A[0::2] = np.stack([src[:, 0], -src[:, 1], np.ones(n), np.zeros(n)], 1)
    A[1::2] = np.stack([src[:, 1], src[:, 0], np.zeros(n), np.ones(n)], 1)
    (a, b, tx, ty), *_ = np.linalg.lstsq(A, dst.reshape(-1), rcond=None)
    return np.array([[a, -b, tx], [b, a, ty]])


def _pixel_to_norm(size_hw: tuple[int, int]) -> np.ndarray:
    """3x3: pixel-centre coords -> grid_sample's [-1, 1] coords (align_corners=False)."""
    h, w = size_hw
    return np.array([[2.0 / w, 0, 1.0 / w - 1], [0, 2.0 / h, 1.0 / h - 1], [0, 0, 1]])


def chip_thetas(
    landmarks: np.ndarray, image_hw: tuple[int, int], size: int = CHIP_SIZE, padding: float = CHIP_PADDING
) -> np.ndarray:
    """(F, 5, 2) landmarks in an image of ``image_hw`` -> (F, 2, 3) ``affine_grid`` thetas."""
    dst = template(size, padding)
    out_to_norm = _pixel_to_norm((size, size))
    norm_to_out = np.linalg.inv(out_to_norm)
    in_to_norm = _pixel_to_norm(image_hw)
    thetas = []
    for pts in np.asarray(landmarks, np.float64).reshape(-1, 5, 2):
        chip_from_img = np.vstack([similarity(pts, dst), [0, 0, 1]])
        theta = in_to_norm @ np.linalg.inv(chip_from_img) @ norm_to_out
        thetas.append(theta[:2])
    return np.asarray(thetas, np.float32).reshape(-1, 2, 3)


def face_chips(
    images: torch.Tensor,
    image_index: torch.Tensor,
    landmarks: np.ndarray,
    size: int = CHIP_SIZE,
    padding: float = CHIP_PADDING,
) -> torch.Tensor:
    """Aligned chips (F x C x size x size) of faces ``landmarks`` (F, 5, 2) found in
    ``images[image_index[f]]``. Differentiable w.r.t. ``images``."""
    if len(landmarks) == 0:
        return images.new_zeros((0, images.shape[1], size, size))
    theta = torch.as_tensor(
        chip_thetas(landmarks, (images.shape[-2], images.shape[-1]), size, padding),
        device=images.device,
        dtype=images.dtype,
    )
    src = images[image_index.to(images.device)]
    grid = F.affine_grid(theta, [len(theta), images.shape[1], size, size], align_corners=False)
    return F.grid_sample(src, grid, mode="bilinear", padding_mode="border", align_corners=False)
