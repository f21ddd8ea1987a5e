"""The frozen networks the loss looks through: VGG16 features and, for the identity term, the face
descriptor network."""

from __future__ import annotations

import torch

from ..errors import ConfigError
from .config import TrainConfig


def loss_networks(
    cfg: TrainConfig,
    device: torch.device,
    vgg: torch.nn.Module | None = None,
    identity_net: torch.nn.Module | None = None,
) -> tuple[torch.nn.Module, torch.nn.Module | None]:
    """(VGG, descriptor network or None) on ``device``, in eval mode, without gradients. Given ones
    are used as they are; else VGG comes from ``paths.vgg_weights`` (or torchvision's weights) and
    the descriptor network from ``paths.identity_weights``, loaded only when the identity loss is
    on; ConfigError when it is on and no weights are given."""
    if vgg is None:
        from ..perceptual.vgg import load_vgg

        vgg = load_vgg(cfg.resolve(cfg.paths.vgg_weights) if cfg.paths.vgg_weights else None)
    vgg = vgg.to(device).eval().requires_grad_(False)
    if not cfg.uses_identity:
        return vgg, None
    if identity_net is None and cfg.paths.identity_weights:
        from ..faces.identity import load_identity_net

        identity_net = load_identity_net(cfg.resolve(cfg.paths.identity_weights))
    if identity_net is None:
        raise ConfigError(
            "loss.face_mode uses the identity loss but no identity network "
            "weights are given (--identity-weights PATH, or set loss.identity=0)"
        )
    return vgg, identity_net.to(device).eval().requires_grad_(False)
