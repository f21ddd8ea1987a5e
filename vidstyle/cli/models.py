"""``vidstyle models list|info|import``: the style catalog."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="list, inspect and import style models")
    msub = p.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    ls = msub.add_parser("list", help="bundled and user styles")
    ls.add_argument("--json", action="store_true", help="machine-readable list")
    ls.set_defaults(func=run_list)
    info = msub.add_parser("info", help="metadata of one style or model file")
    info.add_argument("style", metavar="NAME|PATH")
    info.set_defaults(func=run_info)
    imp = msub.add_parser("import", help="convert a pytorch/examples .pth checkpoint to our format")
    imp.add_argument("checkpoint", metavar="PTH")
    imp.add_argument("--name", required=True, help="style name (letters, digits, _ and -)")
    imp.add_argument("--style-image", default="", help="name of the painting it was trained on")
    imp.add_argument("--licence", default="", help="licence of the weights")
    imp.add_argument(
        "-o", "--output", metavar="FILE", help="where to write (default: the user model directory)"
    )
    imp.set_defaults(func=run_import)


def run_list(args: argparse.Namespace) -> int:
    from ..models.catalog import list_styles, user_dir
    from .report import table

    entries = list_styles()
    if args.json:
        print(json.dumps([e.to_json() for e in entries], indent=2))
        return 0
    rows = [
        [
            ("* " if e.default else "  ") + e.name,
            e.meta.name,
            e.meta.arch,
            e.style_name,
            e.meta.styles[e.style_index].get("style_image", ""),
            f"{e.model_path.stat().st_size / 1e6:.1f} MB",
            e.source + (" (placeholder)" if e.meta.placeholder else ""),
        ]
        for e in entries
    ]
    print(table(rows, ["  name", "model", "arch", "style", "style image", "size", "source"]))
    print(f"\n* = default. User models: {user_dir()}")
    if any(len(e.meta.styles) > 1 for e in entries):
        print(
            "Styles of a multi-style model: --style MODEL:STYLE, or the bare STYLE when no model of its "
            "own has that name; blend them with --style-mix a=0.7,b=0.3"
        )
    return 0


def run_info(args: argparse.Namespace) -> int:
    from ..models.catalog import resolve_style

    entry = resolve_style(args.style)
    data = entry.to_json()
    data["meta"] = json.loads(entry.meta.to_json())
    print(json.dumps(data, indent=2))
    return 0


def run_import(args: argparse.Namespace) -> int:
    from ..errors import ConfigError
    from ..log import log
    from ..models.catalog import user_dir
    from ..models.importers import import_checkpoint
    from ..models.store import save_model
    from .files import writing

    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", args.name):
        raise ConfigError(f"bad style name {args.name!r}: use letters, digits, _ and -")
    net, meta = import_checkpoint(Path(args.checkpoint), args.name, args.style_image, args.licence)
    out = Path(args.output) if args.output else user_dir() / f"{args.name}.safetensors"
    import torch

    with writing(out):
        save_model(net, meta, out, dtype=torch.float32)  # keep foreign weights bit-exact
    log.info(f"imported {args.checkpoint} as style {args.name!r}: {out}")
    return 0
