"""What the batch tests share: three clips (long with keyframes every 10 frames, VFR, NTSC rate)
and the processes a local Ray instance leaves behind."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from conftest import moving_frames

from vidstyle.io.synth import tone, write_clip


def _children() -> set[int]:
    me = str(os.getpid())
    kids = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == me and fields[0] != "Z":
            kids.add(int(stat.parent.name))
    return kids


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if text.encode() in cmdline.read_bytes():
                found.append(int(cmdline.parent.name))
        except OSError:
            continue
    return found


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("batch_in")
    gaps = [40, 40, 80, 20, 40, 120, 40, 33, 47, 40] * 2
    vfr_pts = np.concatenate([[0], np.cumsum(gaps)]).tolist()
    (d / "sub").mkdir()
    return {
        "long": write_clip(d / "long.mp4", moving_frames(61), 25, audio=tone(2.5), gop=10),
        "ntsc": write_clip(d / "sub" / "ntsc.mp4", moving_frames(24), Fraction(30000, 1001), audio=tone(0.9)),
        "vfr": write_clip(
            d / "vfr.mkv", moving_frames(len(vfr_pts)), 25, pts=vfr_pts, time_base=Fraction(1, 1000)
        ),
    }
