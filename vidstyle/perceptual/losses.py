"""Perceptual loss terms as pure functions (no module state), each returning a scalar tensor.

Scalings (the train recipes and the optimize weights assume them):

* content: mean over C x H x W of the squared feature difference (Johnson's 1/(CHW) ||.||^2),
  averaged over the batch; ``weight`` (N x 1 x H x W) restricts/weights it per position.
* Gram: G = F F^T / (C H W); style: per layer the mean over the C x C entries of the squared Gram
  difference (= ||G - G_s||_F^2 / C^2), summed over the layers, averaged over the batch.
* TV: mean squared difference of vertical neighbours + that of horizontal neighbours.
* masked MSE (Ruder's temporal term): (1/D) sum_k c_k (x_k - w_k)^2, D = elements of x.
* identity: squared Euclidean distance of face descriptors, averaged over faces.

All of them compute in float32 whatever the dtype of their inputs (autocast-safe).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def gram(features: torch.Tensor) -> torch.Tensor:
    """N x C x H x W -> N x C x C Gram matrices, normalised by C * H * W (computed in fp32)."""
    n, c, h, w = features.shape
    f = features.float().reshape(n, c, h * w)
    return f @ f.transpose(1, 2) / (c * h * w)


def content_loss(
    feat_out: torch.Tensor, feat_ref: torch.Tensor, weight: torch.Tensor | None = None
) -> torch.Tensor:
    """(1/CHW) sum w_p ||phi(y)_p - phi(y_c)_p||^2, batch mean; ``weight`` is N x 1 x H x W."""
    sq = (feat_out.float() - feat_ref.float()) ** 2
    if weight is None:
        return sq.mean()
    return (sq * weight.to(sq.dtype)).mean()


def style_loss(
    feats: dict[str, torch.Tensor],
    target_grams: dict[str, torch.Tensor],
    sample_weight: torch.Tensor | None = None,
) -> torch.Tensor:
    """Sum over layers of the mean squared Gram difference; ``target_grams[layer]`` is N x C x C
    (one target per sample, e.g. each sample's style) or 1 x C x C. ``sample_weight`` (N) scales
    each sample's term (e.g. a per-style factor); None weighs all samples 1."""
    total = None
    for layer, target in target_grams.items():
        g = gram(feats[layer])
        sq = ((g - target.to(g.dtype).expand_as(g)) ** 2).mean(dim=(1, 2))
        term = sq.mean() if sample_weight is None else (sq * sample_weight.to(sq.dtype)).mean()
        total = term if total is None else total + term
    if total is None:
        raise ValueError("style_loss: target_grams names no layer")
    return total


def tv_loss(y: torch.Tensor) -> torch.Tensor:
    """Mean squared vertical plus mean squared horizontal neighbour difference."""
    y = y.float()
    dv = (y[:, :, 1:, :] - y[:, :, :-1, :]) ** 2
    dh = (y[:, :, :, 1:] - y[:, :, :, :-1]) ** 2
    return dv.mean() + dh.mean()


def masked_mse(x: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """(1/D) sum mask * (x - target)^2 over all D elements of ``x``; ``mask`` broadcasts
    (N x 1 x H x W against N x C x H x W)."""
    d = x.float() - target.float()
    return (mask.float() * d * d).mean()


def identity_loss(emb_out: torch.Tensor, emb_ref: torch.Tensor) -> torch.Tensor:
    """Mean squared descriptor distance over faces (zero when there are none)."""
    if len(emb_out) == 0:
        return emb_out.new_zeros(())
    return ((emb_out.float() - emb_ref.float()) ** 2).sum(1).mean()


def downsample_weight(weight: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """A per-pixel weight map (N x 1 x H x W) brought to the feature map size of ``like``."""
    if weight.shape[-2:] == like.shape[-2:]:
        return weight
    return F.adaptive_avg_pool2d(weight, (like.shape[-2], like.shape[-1]))
