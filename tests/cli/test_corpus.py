"""Every corpus entry: the exact outcome (exit code, message, output present and playable or absent)."""

from __future__ import annotations

import re

import pytest
from conftest import probe
from corpus import CASES, Case

from vidstyle.cli import main


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_corpus_entry(case: Case, tmp_path, tiny_model, capsys):
    d = tmp_path
    inp = case.build(d)
    before = inp.read_bytes() if inp.is_file() else None
    args = [a.replace("{dir}", str(d)) for a in case.args]
    if case.command == "import":
        argv = ["models", "import", str(inp), "--name", case.name, "-o", str(d / "out.safetensors")]
    else:
        argv = ["stylize", str(inp), "--no-progress", "--preset", "ultrafast", "--faces", "off"]
        argv += ["-o", str(d / case.output)] if case.output else []
        argv += args if "--style" in args else ["--style", str(tiny_model), *args]
    code = main(argv)
    err = capsys.readouterr().err
    assert code == case.code, err
    assert "Traceback" not in err
    if case.pattern:
        assert re.search(case.pattern, err), err
    errors = [ln for ln in err.splitlines() if "error:" in ln]
    assert len(errors) == (1 if case.code else 0), err
    leftovers = [p.name for p in d.iterdir() if ".part" in p.name]
    assert leftovers == [], leftovers  # no temp file left either way
    out = d / case.output if case.output else None
    if case.code:
        assert out is None or not out.exists() or out == inp, "a failed run left an output"
        assert before is None or inp.read_bytes() == before, "a failed run changed its input"
        assert not (d / "PWNED").exists()
        return
    if out is None or out.suffix in (".png", ".jpg"):
        if case.size:
            from PIL import Image

            assert Image.open(out).size == case.size
        return
    info = probe(out)  # decodes: the output is playable
    if case.frames is not None:
        assert info["frames"] == case.frames
    if case.frames_between is not None:
        assert case.frames_between[0] < info["frames"] < case.frames_between[1]
    if case.size is not None:
        assert (info["width"], info["height"]) == case.size
    if case.audio_streams is not None:
        assert len(info["audio"]) == case.audio_streams
    assert all(b > a for a, b in zip(info["pts"], info["pts"][1:]))


def test_corpus_is_big_enough():
    assert len(CASES) >= 25
