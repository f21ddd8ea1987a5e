"""Publish a generated clip to an RTSP server for the stream tests (run as a subprocess).

    python rtsp_publish.py URL SECONDS [--static] [--fps N]

--static sends the same picture every frame (so the stylized result is known exactly).
"""

from __future__ import annotations

import sys
import time
from fractions import Fraction

import av
import numpy as np

sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
from conftest import moving_frames  # noqa: E402
from vidstyle.io.synth import textured  # noqa: E402

STATIC = textured(96, 128, seed=3)   # what --static sends (the tests know it)


def main() -> None:
    url, seconds = sys.argv[1], float(sys.argv[2])
    static = "--static" in sys.argv
    fps = int(sys.argv[sys.argv.index("--fps") + 1]) if "--fps" in sys.argv else 25
    n = int(seconds * fps)
    frames = moving_frames(min(n, 200), 96, 128, seed=3)
    out = av.open(url, "w", format="rtsp", options={"rtsp_transport": "udp"}, timeout=(5, 5))
    s = out.add_stream("libx264", rate=fps)
    s.width, s.height, s.pix_fmt = 128, 96, "yuv420p"
    s.options = {"preset": "ultrafast", "tune": "zerolatency", "g": str(fps), "bf": "0", "crf": "12"}
    t0 = time.monotonic()
    for i in range(n):
        if i == fps // 2:
            print("publishing", flush=True)   # the server has the stream now
        rgb = STATIC if static else frames[i % len(frames)]
        vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        vf.pts, vf.time_base = i, Fraction(1, fps)
        out.mux(s.encode(vf))
        time.sleep(max(0.0, t0 + (i + 1) / fps - time.monotonic()))
    out.close()


if __name__ == "__main__":
    main()
