"""The README's before/after grid of the bundled styles.

    python benchmarks/style_grid.py [--shared ../shared/data] [-o vidstyle/models/bundled/grid.jpg]

Rows: Grace Hopper's portrait (public domain, from matplotlib's sample data) and a frame of
05_default_juggle.mp4 (Apache-2.0, facebookresearch/sam2) when ../shared is present. Columns: the
original, then each bundled style (full and small networks), with face preservation on as in the
pipeline. Every tile is the centre 4:3 crop of its row's image, so the rows line up.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np


def centre_crop(rgb: np.ndarray, aspect: float) -> np.ndarray:
    """The largest centred crop of an (H, W, 3) image with width / height = aspect."""
    h, w = rgb.shape[:2]
    if w / h > aspect:
        cw = round(h * aspect)
        return rgb[:, (w - cw) // 2 : (w - cw) // 2 + cw]
    ch = round(w / aspect)
    return rgb[(h - ch) // 2 : (h - ch) // 2 + ch]


def _label(entry) -> str:
    """Tile caption: the style, and the model when it holds several (``wave (paintings-small)``)."""
    if len(entry.meta.styles) == 1:
        return entry.name
    return f"{entry.style_name} ({entry.meta.name})"


def main() -> int:
    import cv2
    from PIL import Image, ImageDraw

    from vidstyle import Pipeline
    from vidstyle.config import load_config
    from vidstyle.io.source import open_source
    from vidstyle.io.synth import demo_photo
    from vidstyle.models.catalog import list_styles

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("-o", "--output", type=Path, default=Path("vidstyle/models/bundled/grid.jpg"))
    ap.add_argument("--height", type=int, default=240, help="tile height in pixels (tiles are 4:3)")
    args = ap.parse_args()

    rows = [demo_photo()[40:460]]
    juggle = args.shared / "video" / "dev" / "05_default_juggle.mp4"
    if juggle.is_file():
        src = open_source(str(juggle))
        rows.append(next(f.rgb for f in src if f.index == 60))
        src.close()
    styles = sorted(
        (e for e in list_styles() if e.source == "bundled"),
        key=lambda e: (
            len(e.meta.styles) > 1,
            e.meta.name.removesuffix("-small"),
            e.meta.arch != "full",
            e.style_index,
        ),
    )
    columns = [("original", None)] + [(_label(e), e) for e in styles]
    tiles = []
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        for r, rgb in enumerate(rows):
            h = args.height // 4 * 4
            w = round(h * 4 / 3) // 4 * 4
            small = cv2.resize(centre_crop(rgb, w / h), (w, h), interpolation=cv2.INTER_AREA)
            Image.fromarray(small).save(Path(tmp) / f"row{r}.png")
            line = []
            for name, entry in columns:
                if entry is None:
                    out = small
                else:
                    pipe = Pipeline(
                        load_config(
                            search_cwd=False, overrides={"model.style": entry.name, "run.progress": "off"}
                        )
                    )
                    dst = Path(tmp) / f"{r}-{name}.png"
                    pipe.run(Path(tmp) / f"row{r}.png", dst)
                    out = np.asarray(Image.open(dst).convert("RGB"))
                img = Image.fromarray(out)
                ImageDraw.Draw(img).text(
                    (6, 4), name, fill=(255, 255, 255), stroke_width=2, stroke_fill=(0, 0, 0)
                )
                line.append(np.asarray(img))
            tiles.append(np.hstack(line))
    grid = np.vstack(tiles)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(grid).save(args.output, quality=88)
    print(args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
