"""people.styles: style plans, lists and maps."""

from __future__ import annotations

import pytest

from vidstyle.errors import ConfigError
from vidstyle.people.instances import (
    ANONYMOUS,
)
from vidstyle.people.styles import PeoplePlan, parse_style_list, parse_style_map


def test_style_plan_resolution():
    plan = PeoplePlan("main", background="original", person_styles=("a", "b"), style_map={3: "c"})
    assert [plan.person_source(i) for i in (1, 2, 3, 4)] == ["a", "b", "c", "b"]
    assert plan.background_source() == "original"
    assert plan.styles() == ["a", "b", "c"]  # no pass for original, none for main
    assert plan.person_source(ANONYMOUS) == "a"
    simple = PeoplePlan("main", people="wave")
    assert simple.styles() == ["main", "wave"] and simple.person_source(5) == "wave"
    assert PeoplePlan("main", background="blur").styles() == ["main"]


def test_style_lists_and_maps_parse_or_name_the_key():
    assert parse_style_list("wave, the_scream") == ("wave", "the_scream")
    assert parse_style_map("1=wave,2=x:y") == {1: "wave", 2: "x:y"}
    for bad in ("wave", "0=wave", "a=wave", "1="):
        with pytest.raises(ConfigError, match="people.style_map"):
            parse_style_map(bad)
    with pytest.raises(ConfigError, match="people.person_styles"):
        parse_style_list("wave,,x")
