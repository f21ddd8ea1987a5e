"""``vidstyle train``: train a style network (one or several styles) on a folder of photos."""

from __future__ import annotations

import argparse
import os

from ..models.arch import ARCH_PRESETS

EPILOG = """examples:
  vidstyle train --style starry_night.jpg --content photos/ -o starry.safetensors \\
      --vgg-weights vgg16_features_relu4_3.pth   # omit to download torchvision's weights
  vidstyle train --config vidstyle/models/bundled/recipes/starry_night.yaml -o starry_night.safetensors
  vidstyle train --resume starry.run/checkpoints/last.safetensors -o starry.safetensors --steps 8000
  vidstyle train --extend paintings-small --style my_painting.jpg --content photos/ \\
      -o mine.safetensors   # one more style in the same network; the others stay bit-identical
  vidstyle train --dump-config > recipe.yaml      # every knob with its default"""

# flag dest -> config key; path flags are made absolute against the current directory
_PATH_KEYS = {
    "styles": "paths.styles",
    "content": "paths.content",
    "vgg_weights": "paths.vgg_weights",
    "identity_weights": "paths.identity_weights",
    "run_dir": "paths.run_dir",
    "cache_dir": "paths.cache_dir",
    "data_root": "paths.root",
}
_NAME_OR_PATH_KEYS = {"extend": "paths.extend", "init": "paths.init"}  # a catalog name stays as it is
_VALUE_KEYS = {
    "arch": "model.arch",
    "steps": "optim.steps",
    "batch": "optim.batch",
    "lr": "optim.lr",
    "image_size": "data.image_size",
    "face_mode": "loss.face_mode",
    "device": "run.device",
    "seed": "run.seed",
    "name": "model.name",
}


def _absolute(path: str) -> str:
    """``path`` with ``~`` expanded, made absolute (recipes record where the data was)."""
    return os.path.abspath(os.path.expanduser(path))


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train a style model on content photos",
        description="Train a feed-forward style network (several --style images "
        "give one multi-style network). Every knob lives in a YAML "
        "recipe (--config); flags override it.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--style",
        dest="styles",
        action="append",
        metavar="IMG",
        help="style image (repeat for a multi-style model)",
    )
    p.add_argument(
        "--content",
        action="append",
        metavar="DIR",
        help="content image directory, searched recursively (repeatable)",
    )
    p.add_argument("-o", "--output", metavar="MODEL", help="model file to write (.safetensors)")
    p.add_argument("--config", metavar="FILE", help="training recipe (YAML)")
    p.add_argument("--arch", choices=tuple(ARCH_PRESETS), help="network size")
    p.add_argument(
        "--vgg-weights",
        metavar="PATH",
        help="VGG16 weights file (default: torchvision's ImageNet weights, downloaded once)",
    )
    p.add_argument(
        "--identity-weights", metavar="PATH", help="face descriptor network weights (file or directory)"
    )
    p.add_argument("--steps", metavar="N", help="optimizer steps")
    p.add_argument("--batch", metavar="N", help="images per step")
    p.add_argument("--lr", metavar="LR", help="learning rate")
    p.add_argument("--image-size", metavar="PX", help="training crop size (multiple of 4)")
    p.add_argument("--face-mode", metavar="MODE", help="off | weighted | identity | both")
    p.add_argument("--device", metavar="auto|cpu|cuda[:N]")
    p.add_argument("--seed", metavar="N")
    p.add_argument("--name", metavar="NAME", help="model name (default: output file stem)")
    p.add_argument("--data-root", metavar="DIR", help="base for the recipe's relative paths")
    p.add_argument("--run-dir", metavar="DIR", help="checkpoints, samples, loss curve")
    p.add_argument("--cache-dir", metavar="DIR", help="face detection cache")
    p.add_argument("--resume", metavar="CKPT", help="continue from a training checkpoint")
    p.add_argument(
        "--extend",
        metavar="MODEL",
        help="add the --style images to this multi-style model (file or catalog name); "
        "its styles stay exactly as they are, only the new styles train",
    )
    p.add_argument(
        "--init",
        metavar="MODEL",
        help="start from this trained model's weights (file or catalog name) and train "
        "all of them; its styles' norm rows are kept by name",
    )
    p.add_argument(
        "--set",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        dest="set_items",
        help="override any recipe key, e.g. --set loss.style=5e9 (repeatable)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--dump-config", action="store_true", help="print the effective recipe as YAML and exit")
    p.set_defaults(func=run)


def effective_config(args: argparse.Namespace):
    """Recipe (or the checkpoint's when resuming without --config) <- --set <- flags."""
    from ..configtools import from_dict
    from ..train.checkpoint import read_checkpoint_info
    from ..train.config import TrainConfig, apply_overrides, load_train_config
    from .common import parse_set_items

    overrides: dict[str, object] = {**parse_set_items(args.set_items)}
    for dest, key in _VALUE_KEYS.items():
        if getattr(args, dest, None) is not None:
            overrides[key] = getattr(args, dest)
    for dest, key in _PATH_KEYS.items():
        value = getattr(args, dest, None)
        if value is not None:
            overrides[key] = [_absolute(v) for v in value] if isinstance(value, list) else _absolute(value)
    for dest, key in _NAME_OR_PATH_KEYS.items():
        value = getattr(args, dest, None)
        if value is not None:
            overrides[key] = os.path.abspath(os.path.expanduser(value)) if os.path.exists(value) else value
    if args.resume and not args.config:
        return apply_overrides(from_dict(TrainConfig, read_checkpoint_info(args.resume)["config"]), overrides)
    return load_train_config(args.config, overrides)


def run(args: argparse.Namespace) -> int:
    from ..errors import ConfigError
    from ..train.config import dump

    cfg = effective_config(args)
    if args.dump_config:
        print(dump(cfg), end="")
        return 0
    if not args.output:
        raise ConfigError("no output model given (-o MODEL.safetensors)")
    from ..train.trainer import Trainer

    trainer = Trainer(cfg, args.output, resume=args.resume, progress=False if args.no_progress else None)
    trainer.run()
    return 0
