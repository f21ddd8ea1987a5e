"""``--style-mix wave=0.7,nosuch=0.3`` names the unknown style, not the known one, lists the
styles of the model that holds the others, and is a bad flag value: exit 2 (issue 35, item 7)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_model, run_cli
from PIL import Image

from vidstyle.errors import ConfigError
from vidstyle.models.catalog import resolve_style_mix
from vidstyle.models.mix import parse_style_mix

PAINTINGS = "starry_night, the_scream, wave, composition_vii, udnie, the_shipwreck_of_the_minotaur"


def test_every_unknown_style_is_named_at_once():
    names = ["a", "b", "c"]
    with pytest.raises(ConfigError, match=r"'x', 'y' are not styles of model 'm' \(it has: a, b, c\)"):
        parse_style_mix("a=1,x=1,y=2", names, "m")
    with pytest.raises(ConfigError, match=r"expected NAME=WEIGHT"):
        parse_style_mix("x", names, "m")  # the form first, then the names


def test_a_mix_no_model_holds_goes_to_the_model_that_holds_most_of_it(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("VIDSTYLE_HOME", str(home))
    make_model(home / "models" / "trio.safetensors", name="trio", num_styles=3)
    make_model(home / "models" / "mine.safetensors", name="mine")
    entry = resolve_style_mix("mine", "s1=0.5,nosuch=0.5")
    assert entry.meta.name == "trio"
    with pytest.raises(ConfigError, match=r"'nosuch' is not a style of model 'trio' \(it has: s0, s1, s2\)"):
        entry.style("s1=0.5,nosuch=0.5")
    assert resolve_style_mix("mine", "nosuch=1").meta.name == "mine"  # nothing held: --style's own


@pytest.mark.slow
def test_stylize_with_an_unknown_style_in_the_mix_exits_2_naming_it(tmp_path):
    photo = tmp_path / "photo.png"
    Image.fromarray(np.full((32, 40, 3), 90, np.uint8)).save(photo)
    out = tmp_path / "out.png"
    proc = run_cli(
        "stylize", str(photo), "-o", str(out), "--style-mix", "wave=0.7,nosuch=0.3", "--faces", "off"
    )
    assert proc.returncode == 2, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("vidstyle: error:")]
    unknown = "style mix: 'nosuch' is not a style of model 'paintings-small'"
    assert errors == [f"vidstyle: error: {unknown} (it has: {PAINTINGS})"]
    assert "Traceback" not in proc.stderr and not out.exists()
