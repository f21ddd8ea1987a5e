"""Publish a generated clip to an RTSP server for the stream tests (run as a subprocess).

    python rtsp_publish.py URL SECONDS [--static] [--fps N] [--audio]

--static sends the same picture every frame (so the stylized result is known exactly).
--audio adds a silent AAC track. SIGUSR1 stops the video while the audio goes on (a camera whose
encoder died but whose connection lives). SIGTERM ends the publishing cleanly (TEARDOWN).
"""

from __future__ import annotations

import signal
import sys
import time
from fractions import Fraction

import av
import numpy as np

sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
from conftest import moving_frames

from vidstyle.io.synth import textured

STATIC = textured(96, 128, seed=3)  # what --static sends (the tests know it)


def main() -> None:
    url, seconds = sys.argv[1], float(sys.argv[2])
    static = "--static" in sys.argv
    fps = int(sys.argv[sys.argv.index("--fps") + 1]) if "--fps" in sys.argv else 25
    video_on = [True]
    signal.signal(signal.SIGUSR1, lambda *_: video_on.clear())
    running = [True]
    signal.signal(signal.SIGTERM, lambda *_: running.clear())  # end cleanly: the server frees the path
    n = int(seconds * fps)
    frames = moving_frames(min(n, 200), 96, 128, seed=3)
    # a small interleave delta: audio goes out on time even when no video packet follows it
    out = av.open(
        url,
        "w",
        format="rtsp",
        options={"rtsp_transport": "udp"},
        container_options={"max_interleave_delta": "100000"},
        timeout=(5, 5),
    )
    s = out.add_stream("libx264", rate=fps)
    s.width, s.height, s.pix_fmt = 128, 96, "yuv420p"
    s.options = {"preset": "ultrafast", "tune": "zerolatency", "g": str(fps), "bf": "0", "crf": "12"}
    audio = out.add_stream("aac", rate=8000, layout="mono") if "--audio" in sys.argv else None
    silence, audio_frames = np.zeros((1, 1024), np.float32), 0
    t0 = time.monotonic()
    for i in range(n):  # one video frame time per step; audio keeps up with it
        if not running:
            break
        if i == fps // 2:
            print("publishing", flush=True)  # the server has the stream now
        if video_on:
            rgb = STATIC if static else frames[i % len(frames)]
            vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            vf.pts, vf.time_base = i, Fraction(1, fps)
            out.mux(s.encode(vf))
        while audio is not None and audio_frames * 1024 <= (i + 1) * 8000 / fps:
            af = av.AudioFrame.from_ndarray(silence, format="fltp", layout="mono")
            af.sample_rate, af.pts, af.time_base = 8000, audio_frames * 1024, Fraction(1, 8000)
            out.mux(audio.encode(af))
            audio_frames += 1
        time.sleep(max(0.0, t0 + (i + 1) / fps - time.monotonic()))
    out.close()


if __name__ == "__main__":
    main()
