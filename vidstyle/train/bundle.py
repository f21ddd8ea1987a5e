"""Ship a trained model as a bundled style (a maintainer step, run after ``vidstyle train``).

    python -m vidstyle.train.bundle runs/starry_night.safetensors [--default] [--licence TEXT]
                                    [--note FILE]

Copies the model into ``vidstyle/models/bundled/`` as fp16 safetensors with its metadata, writes
the model card beside it (the recipe, steps, losses and speed from the metadata, plus ``--note``),
and with ``--default`` names it in ``catalog.json``. Refuses a file over 8 MB, the size budget
for anything committed.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..log import log, setup_logging
from ..models.catalog import BUNDLED_DIR
from ..models.store import load_model, save_model
from .card import write_model_card

MAX_BYTES = 8 * 1024 * 1024


def bundle(
    model: str | Path, *, default: bool = False, licence: str = "", note: str = "", dest: Path = BUNDLED_DIR
) -> Path:
    """Write ``model`` into ``dest`` (fp16 + card); returns the bundled path."""
    net, meta = load_model(model)
    if licence:
        meta.licence = licence
    out = save_model(net, meta, dest / f"{meta.name}.safetensors")
    size = out.stat().st_size
    if size > MAX_BYTES:
        out.unlink()
        raise SystemExit(f"{meta.name}: {size} bytes is over the 8 MB budget")
    write_model_card(meta, out.with_suffix(".md"), note)
    if default:
        (dest / "catalog.json").write_text(json.dumps({"default": meta.name}, indent=2) + "\n")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("--default", action="store_true", help="make it the default style")
    ap.add_argument("--licence", default="", help="override the licence in the metadata")
    ap.add_argument("--note", help="markdown file appended to the model card")
    args = ap.parse_args()
    setup_logging()
    note = Path(args.note).read_text(encoding="utf-8") if args.note else ""
    out = bundle(args.model, default=args.default, licence=args.licence, note=note)
    log.info(f"bundled {out} ({out.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
