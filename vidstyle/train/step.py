"""One optimisation step: the weighted loss terms of a batch, then one Adam update.

Terms (weights from ``loss``; the formulas are in :mod:`vidstyle.perceptual.losses` and
:mod:`vidstyle.train.losses`): ``content`` and ``style`` on VGG features, ``tv``; ``face`` (the
content loss again inside the face boxes) and ``identity`` (face descriptors) when the batch has
faces and the mode asks for them; ``temporal`` on the batch's frame pairs when its weight is > 0.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..errors import VidstyleError
from ..faces.align import face_chips
from ..models.transformer_net import TransformerNet
from ..perceptual import losses as P
from . import losses as L
from .batch import TrainBatch
from .config import LossConfig
from .precision import Precision


@dataclass(frozen=True)
class Objective:
    """What the loss of a step reads besides the network and the batch; fixed for a run.

    ``target_grams``: {layer: K x C x C}, row k the Gram matrix of style k; ``style_scale``: K
    per-style factors on the style weight (None: all 1); ``style_offset``: the norm row of style 0
    (an extended model's own rows come first); ``weighted_faces``: the face-weighted content term
    is on; ``idnet``: the face descriptor network, None without the identity term.
    """

    loss: LossConfig
    vgg: torch.nn.Module
    idnet: torch.nn.Module | None
    target_grams: dict[str, torch.Tensor]
    style_scale: torch.Tensor | None
    weighted_faces: bool
    style_offset: int
    precision: Precision

    @property
    def feature_layers(self) -> list[str]:
        """VGG layers the output is run through (style layers and the content layer)."""
        return sorted(set(self.loss.style_layers) | {self.loss.content_layer})

    def terms(self, net: TransformerNet, batch: TrainBatch) -> dict[str, torch.Tensor]:
        """The weighted loss terms (scalar tensors with gradients) of ``batch``, already on the
        device, through ``net``."""
        loss, autocast = self.loss, self.precision.autocast
        x, style = batch.content, batch.style
        n = x.shape[0]
        w = F.one_hot(style + self.style_offset, net.num_styles).float()
        pairs = batch.pairs if loss.temporal > 0 else None
        if loss.temporal > 0 and pairs is None:
            raise ValueError("the temporal loss is on but the batch has no frame pairs")
        inp = torch.cat([x, pairs.next]) if pairs is not None else x
        with autocast():
            y_all = net(inp, torch.cat([w, w]) if pairs is not None else w)
            y = y_all[:n]
            fy = self.vgg(y, self.feature_layers)
            with torch.no_grad():
                fc = self.vgg(x, [loss.content_layer])
        cl = loss.content_layer
        scale = self.style_scale.to(x.device)[style] if self.style_scale is not None else None
        terms = {
            "content": loss.content * P.content_loss(fy[cl], fc[cl]),
            "style": loss.style
            * P.style_loss(fy, {k: g[style] for k, g in self.target_grams.items()}, scale),
            "tv": loss.tv * P.tv_loss(y),
        }
        faces = batch.faces
        if self.weighted_faces and faces is not None:
            m = P.downsample_weight(faces.mask, fy[cl])
            terms["face"] = loss.face * P.content_loss(fy[cl], fc[cl], m)
        if self.idnet is not None and faces is not None and bool(faces.usable.any()):
            idx, slot = torch.nonzero(faces.usable, as_tuple=True)
            marks = faces.landmarks[idx, slot].cpu().numpy()
            chips_y = face_chips(y.float(), idx, marks)  # float32 sampling grids
            with torch.no_grad():
                chips_x = face_chips(x.float(), idx, marks)
            with autocast():
                emb_y = self.idnet(chips_y)
                with torch.no_grad():
                    emb_x = self.idnet(chips_x)
            terms["identity"] = loss.identity * P.identity_loss(emb_y, emb_x)
        if pairs is not None:
            terms["temporal"] = loss.temporal * L.temporal_loss(
                y_all[n:], L.warp(y, pairs.grid), pairs.next_clean, L.warp(x, pairs.grid), pairs.mask
            )
        return terms


def total_loss(terms: dict[str, torch.Tensor], step: int) -> torch.Tensor:
    """The sum of ``terms`` (in their order); VidstyleError naming each term when it is not finite."""
    total = functools.reduce(operator.add, terms.values())
    if not torch.isfinite(total):
        raise VidstyleError(
            f"loss became {float(total)} at step {step} "
            f"({', '.join(f'{k}={float(v):.3g}' for k, v in terms.items())}); "
            "lower optim.lr or the loss weights"
        )
    return total


def update(
    total: torch.Tensor,
    net: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler | None,
    grad_clip: float,
) -> None:
    """Backpropagate ``total`` and take one optimizer step: gradients loss-scaled when ``scaler``
    is given (fp16), their norm clipped to ``grad_clip`` when it is > 0."""
    optimizer.zero_grad(set_to_none=True)
    if scaler is not None:
        scaler.scale(total).backward()
        scaler.unscale_(optimizer)
    else:
        total.backward()
    if grad_clip:
        torch.nn.utils.clip_grad_norm_(net.parameters(), grad_clip)
    if scaler is not None:
        scaler.step(optimizer)
        scaler.update()
    else:
        optimizer.step()
