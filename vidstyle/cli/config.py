"""``vidstyle config show``: the effective configuration as YAML."""

from __future__ import annotations

import argparse

from .common import add_pipeline_args, config_from_args


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("config", help="show the effective pipeline configuration")
    csub = p.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    show = csub.add_parser("show", help="print the effective config (file + flags) as YAML")
    add_pipeline_args(show, encode=True, run=True)
    show.set_defaults(func=run_show)


def run_show(args: argparse.Namespace) -> int:
    from ..config import config_yaml

    print(config_yaml(config_from_args(args)), end="")
    return 0
