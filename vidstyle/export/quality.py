"""Image similarity for comparing a reduced-precision model with its fp32 original."""

from __future__ import annotations

import cv2
import numpy as np


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Mean structural similarity (Wang et al. 2004) of two images in [0, 1], H x W or H x W x C.

    Gaussian window 11 x 11, sigma 1.5, K1 = 0.01, K2 = 0.03, L = 1; colour channels are scored
    separately and averaged. 1.0 for identical images.
    """
    a, b = a.astype(np.float64), b.astype(np.float64)
    c1, c2 = 0.01**2, 0.03**2

    def blur(x: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(x, (11, 11), 1.5, borderType=cv2.BORDER_REFLECT)

    mu_a, mu_b = blur(a), blur(b)
    var_a, var_b = blur(a * a) - mu_a**2, blur(b * b) - mu_b**2
    cov = blur(a * b) - mu_a * mu_b
    num = (2 * mu_a * mu_b + c1) * (2 * cov + c2)
    den = (mu_a**2 + mu_b**2 + c1) * (var_a + var_b + c2)
    return float(np.mean(num / den))
