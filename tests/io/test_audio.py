"""io.audio: copied when the container takes the codec, transcoded when it cannot, or dropped."""

from __future__ import annotations

import av
import pytest

from vidstyle.errors import OutputError
from vidstyle.io.audio import AudioPassthrough


def streams_of(path):
    """(codec, seconds of decoded audio) of each audio stream."""
    with av.open(str(path)) as c:
        names = [s.codec_context.name for s in c.streams.audio]
    out = []
    for k, name in enumerate(names):
        with av.open(str(path)) as c:
            samples = sum(f.samples for f in c.decode(audio=k))
            out.append((name, samples / c.streams.audio[k].codec_context.sample_rate))
    return out


def carry(src, out, mode):
    container = av.open(str(out), "w")
    audio = AudioPassthrough(src, container, mode)
    audio.finish(None)
    audio.close()
    container.close()
    return audio


def test_aac_is_copied_into_mkv(basic_clip, tmp_path):
    audio = carry(basic_clip, tmp_path / "a.mkv", "auto")
    assert audio.copied == ["aac"] and audio.transcoded == []
    ((codec, seconds),) = streams_of(tmp_path / "a.mkv")
    assert codec == "aac" and seconds == pytest.approx(2.0, abs=0.1)


def test_aac_is_transcoded_to_opus_for_webm(basic_clip, tmp_path):
    audio = carry(basic_clip, tmp_path / "a.webm", "auto")
    assert audio.transcoded == ["aac->libopus"]
    assert [c for c, _ in streams_of(tmp_path / "a.webm")] == ["opus"]


def test_copy_that_cannot_be_done_is_a_clear_error(basic_clip, tmp_path):
    container = av.open(str(tmp_path / "a.webm"), "w")
    try:
        with pytest.raises(OutputError, match="cannot copy aac audio into a webm file"):
            AudioPassthrough(basic_clip, container, "copy")
    finally:
        container.close()


def test_none_carries_nothing(basic_clip, tmp_path):
    audio = carry(basic_clip, tmp_path / "a.mkv", "none")
    assert audio.copied == [] and audio.transcoded == []
