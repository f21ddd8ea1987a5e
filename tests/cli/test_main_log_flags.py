"""-q and -v on either side of the subcommand, as git and ffmpeg users type them (issue 35)."""

from __future__ import annotations

import logging

import pytest
from conftest import moving_frames

from vidstyle.cli import main
from vidstyle.io.synth import write_clip
from vidstyle.log import log

QUIET, NORMAL, DEBUG = logging.WARNING, logging.INFO, logging.DEBUG


@pytest.mark.parametrize(
    "argv,level",
    [
        (["config", "show"], NORMAL),
        (["-q", "config", "show"], QUIET),
        (["config", "show", "-q"], QUIET),
        (["config", "show", "--quiet"], QUIET),
        (["-v", "config", "show"], DEBUG),
        (["config", "show", "-vv"], DEBUG),
        (["config", "show", "--verbose"], DEBUG),
        (["-v", "config", "show", "-q"], QUIET),  # -q wins wherever it stands
        (["eval", "-q", "faces", "{tmp}/a.mp4", "{tmp}/b.mp4"], QUIET),  # kept past a nested command
        (["eval", "faces", "{tmp}/a.mp4", "{tmp}/b.mp4", "-v"], DEBUG),
    ],
)
def test_log_flags_on_both_sides_of_the_subcommand(tmp_path, capsys, argv, level):
    main([a.format(tmp=tmp_path) for a in argv])  # eval fails (no such files) after logging is set
    assert log.level == level
    assert "unrecognized arguments" not in capsys.readouterr().err


def test_quiet_after_the_subcommand_silences_a_run(tmp_path, tiny_model, capsys):
    clip = write_clip(tmp_path / "in.mp4", moving_frames(3, 48, 64), 25)
    argv = ["stylize", str(clip), "-o", str(tmp_path / "o.mp4"), "--style", str(tiny_model), "--no-progress"]
    assert main([*argv, "-y", "-q"]) == 0
    err = capsys.readouterr().err
    assert "wrote" not in err and "->" not in err, err
    assert main([*argv, "-y"]) == 0
    assert "wrote" in capsys.readouterr().err


def test_help_of_a_subcommand_lists_the_log_flags(capsys):
    with pytest.raises(SystemExit):
        main(["stylize", "--help"])
    out = capsys.readouterr().out
    assert "-q, --quiet" in out and "-v, --verbose" in out
