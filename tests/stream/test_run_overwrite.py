"""`vidstyle stream -o FILE`: the "overwriting" warning waits until the file output opens, so an
error that stops the run first comes alone (issue 35); -n still refuses at once."""

from __future__ import annotations

from conftest import moving_frames

from vidstyle.cli import main
from vidstyle.io.synth import write_clip


def test_no_overwriting_warning_before_a_source_that_does_not_open(tmp_path, tiny_model, capsys):
    out = tmp_path / "rec.mp4"
    out.write_bytes(b"precious")
    code = main(["stream", str(tmp_path / "missing.mp4"), "-o", str(out), "--style", str(tiny_model)])
    err = capsys.readouterr().err
    assert code == 1 and "input not found" in err, err
    assert "warning: overwriting" not in err and out.read_bytes() == b"precious"


def test_the_warning_comes_when_the_recording_opens_and_n_refuses_at_once(tmp_path, tiny_model, capsys):
    src = write_clip(tmp_path / "in.mp4", moving_frames(3, 48, 64), 25)
    out = tmp_path / "rec.mp4"
    out.write_bytes(b"precious")
    argv = ["stream", str(src), "-o", str(out), "--style", str(tiny_model), "--faces", "off"]
    assert main([*argv, "-n"]) == 1
    err = capsys.readouterr().err
    assert "exists (not overwritten: -n" in err and "warning: overwriting" not in err
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert err.count(f"warning: overwriting {out}") == 1, err
    assert out.stat().st_size > 100
