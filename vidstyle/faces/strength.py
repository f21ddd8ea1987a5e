"""How much style a face can keep, from its size against the network's stroke size.

A feed-forward stylizer paints strokes of a fixed size in *its output's* pixels, whatever the
size of the things it paints over: a 300 px face keeps its eyes under a stroke that erases a
20 px face's. So the style kept inside a face follows the face's height at the stylization
resolution (after ``model.max_side``), measured in strokes:

    n = h_face_px / stroke_px
    strength(h) = s_max * clip((n - n0) / (n1 - n0), 0, 1)

Faces up to ``n0`` strokes high keep no style (the original face), faces from ``n1`` strokes
keep ``s_max``, linearly in between. ``stroke_px`` defaults to 4: TransformerNet paints on the
grid of its two stride-2 convolutions, 4 x 4 output px per cell. ``n0`` = 3 and ``n1`` = 10 (12 and
40 px at that stroke) come from measuring starry_night on faces 12..128 px high (docs/faces.md):
at strength 0.35, faces of 16-20 px lost detection or kept NME > 0.05; faces of 40 px and more
kept NME <= 0.03.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

STROKE_PX = 4.0


def size_strength(
    face_px: npt.ArrayLike, s_max: float, stroke_px: float = STROKE_PX, n0: float = 3.0, n1: float = 10.0
) -> float | np.ndarray:
    """Strength for faces ``face_px`` high (px at stylization resolution; scalar or array)."""
    n = np.asarray(face_px, np.float64) / stroke_px
    ramp = np.clip((n - n0) / max(n1 - n0, 1e-6), 0.0, 1.0)
    out = s_max * ramp
    return float(out) if np.ndim(out) == 0 else out
