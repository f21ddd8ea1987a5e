"""Loss terms as pure functions (no module state), each returning a scalar tensor.

Scalings (the recipe weights assume them):

* content: mean over C x H x W of the squared feature difference (Johnson's 1/(CHW) ||.||^2),
  averaged over the batch; ``weight`` (N x 1 x H x W) restricts/weights it per position.
* Gram: G = F F^T / (C H W); style: per layer the mean over the C x C entries of the squared Gram
  difference (= ||G - G_s||_F^2 / C^2), summed over the layers, averaged over the batch.
* TV: mean squared difference of vertical neighbours + that of horizontal neighbours (0..255).
* temporal (ReCoNet, output level): sum over channels c of mean over pixels of
  M * ((O_t - W(O_t-1))_c - (I_t - W(I_t-1))_Y)^2, images scaled to 0..1, averaged over the batch.
* identity: squared Euclidean distance of face descriptors, averaged over faces.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

LUMA = (0.299, 0.587, 0.114)


def gram(features: torch.Tensor) -> torch.Tensor:
    """N x C x H x W -> N x C x C Gram matrices, normalised by C * H * W (computed in fp32)."""
    n, c, h, w = features.shape
    f = features.float().reshape(n, c, h * w)
    return f @ f.transpose(1, 2) / (c * h * w)


def content_loss(feat_out: torch.Tensor, feat_ref: torch.Tensor,
                 weight: torch.Tensor | None = None) -> torch.Tensor:
    """(1/CHW) sum w_p ||phi(y)_p - phi(y_c)_p||^2, batch mean; ``weight`` is N x 1 x H x W."""
    sq = (feat_out.float() - feat_ref.float()) ** 2
    if weight is None:
        return sq.mean()
    return (sq * weight.to(sq.dtype)).mean()


def style_loss(feats: dict[str, torch.Tensor], target_grams: dict[str, torch.Tensor],
               sample_weight: torch.Tensor | None = None) -> torch.Tensor:
    """Sum over layers of the mean squared Gram difference; ``target_grams[layer]`` is N x C x C
    (one target per sample, e.g. each sample's style) or 1 x C x C. ``sample_weight`` (N) scales
    each sample's term (e.g. a per-style factor); None weighs all samples 1."""
    total = None
    for layer, target in target_grams.items():
        g = gram(feats[layer])
        sq = ((g - target.to(g.dtype).expand_as(g)) ** 2).mean(dim=(1, 2))
        term = sq.mean() if sample_weight is None else (sq * sample_weight.to(sq.dtype)).mean()
        total = term if total is None else total + term
    return total


def tv_loss(y: torch.Tensor) -> torch.Tensor:
    """Mean squared vertical plus mean squared horizontal neighbour difference."""
    y = y.float()
    dv = (y[:, :, 1:, :] - y[:, :, :-1, :]) ** 2
    dh = (y[:, :, :, 1:] - y[:, :, :, :-1]) ** 2
    return dv.mean() + dh.mean()


def luminance(x: torch.Tensor) -> torch.Tensor:
    """N x 3 x H x W RGB -> N x 1 x H x W luma (BT.601 weights)."""
    w = torch.tensor(LUMA, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    return (x * w).sum(1, keepdim=True)


def warp(x: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """Backward warp: out(p) = x(grid(p)), ``grid`` N x H x W x 2 in grid_sample's [-1, 1].
    Always float32: bf16 grid coordinates would be off by up to a pixel."""
    return F.grid_sample(x.float(), grid.float(), mode="bilinear", padding_mode="border",
                         align_corners=False)


def temporal_loss(out_t: torch.Tensor, out_prev_warped: torch.Tensor, in_t: torch.Tensor,
                  in_prev_warped: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """ReCoNet output-level loss; images in 0..255 (scaled to 0..1 inside), ``mask`` N x 1 x H x W
    is 1 where the warp is valid."""
    d_out = (out_t.float() - out_prev_warped.float()) / 255.0
    d_in = luminance((in_t.float() - in_prev_warped.float()) / 255.0)
    return (mask.float() * (d_out - d_in) ** 2).mean(dim=(0, 2, 3)).sum()


def identity_loss(emb_out: torch.Tensor, emb_ref: torch.Tensor) -> torch.Tensor:
    """Mean squared descriptor distance over faces (zero when there are none)."""
    if len(emb_out) == 0:
        return emb_out.new_zeros(())
    return ((emb_out.float() - emb_ref.float()) ** 2).sum(1).mean()


def downsample_weight(weight: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """A per-pixel weight map (N x 1 x H x W) brought to the feature map size of ``like``."""
    if weight.shape[-2:] == like.shape[-2:]:
        return weight
    return F.adaptive_avg_pool2d(weight, like.shape[-2:])
