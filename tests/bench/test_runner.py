"""bench.runner: resolution lists."""

from __future__ import annotations

import pytest

from vidstyle.bench.runner import parse_resolutions
from vidstyle.errors import ConfigError


@pytest.mark.parametrize(
    "text,message",
    [
        ("720", "unknown resolution '720'"),
        ("360p,8k", "unknown resolution '8k'"),
        ("4x4", "out of range"),
        ("", "no resolutions given"),
    ],
)
def test_bad_resolution_strings(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_resolutions(text)


def test_known_resolutions():
    assert parse_resolutions("360p, 1080p,4K") == [
        ("360p", (360, 640)),
        ("1080p", (1080, 1920)),
        ("4k", (2160, 3840)),
    ]
