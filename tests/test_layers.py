"""Layers point down only: every import inside ``vidstyle`` goes to a lower layer (or stays in
its own package), never up. The table is the one in docs/architecture.md ("Layers"); packages that
do not exist yet have their place already, so they land in the right layer when they appear.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "vidstyle"

LAYERS: dict[str, int] = {
    # 0 foundation: errors, logging, machine facts, the typed config, the local HTTP server
    "version": 0,
    "geometry": 0,
    "optional": 0,
    "errors": 0,
    "log": 0,
    "sysinfo": 0,
    "configtools": 0,
    "config": 0,
    "httpd": 0,
    "weights": 0,  # torch.load of a user-given weights file, one line per failure
    # 1 pure libraries: never import the pipeline
    "io": 1,
    "flow": 1,
    "faces": 1,
    "models": 1,
    "perceptual": 1,
    "people": 1,
    # 2 the network and the per-frame composition math
    "stylize": 2,
    "export": 2,
    "compose": 2,
    # 3 the pipeline: Item, Stage protocol, stages, runner, Python API
    "pipeline": 3,
    # 4 applications on top of the pipeline or the libraries
    "stream": 4,
    "batch": 4,
    "optimize": 4,
    "train": 4,
    "bench": 4,
    "eval": 4,
    "deploy": 4,  # export_model: an export checked through the stylize backends
    # 5 the command line
    "cli": 5,
    # the package facade (vidstyle/__init__.py re-exports the public API, __main__ runs the CLI)
    "__init__": 6,
    "__main__": 6,
}
# Imports between packages of the same layer are allowed only along these edges (acyclic).
SAME_LAYER = {
    ("config", "configtools"),
    ("configtools", "errors"),
    ("config", "errors"),
    ("optional", "errors"),
    ("httpd", "errors"),
    ("httpd", "log"),
    ("weights", "errors"),
    ("stylize", "export"),  # the backends load engines and cache exports
    ("people", "flow"),
}  # person masks are carried along the flow (flow.ops.warp)


def package_of(module: str) -> str:
    """``vidstyle.flow.ops`` -> ``flow``; ``vidstyle`` -> ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imports_of(source: str, module: str, is_package: bool) -> list[tuple[str, list[str], int]]:
    """(absolute target module, imported names, line) of every import in ``source``, at any depth."""
    base = module.split(".") if is_package else module.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                target = ".".join(base[: len(base) - node.level + 1] + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [a.name for a in node.names]
            if node.level and not node.module:  # `from .. import x`: x may be a module
                found += [(f"{target}.{n}", [], node.lineno) for n in names]
                continue
            found.append((target, names, node.lineno))
        elif isinstance(node, ast.Import):
            found += [(a.name, [], node.lineno) for a in node.names]
    return [f for f in found if f[0] == "vidstyle" or f[0].startswith("vidstyle.")]


def violations(source: str, module: str, is_package: bool = False) -> list[str]:
    """Every import of ``module`` that points up, sideways off the allowed edges, or at a
    private name of another package."""
    src = package_of(module)
    bad = []
    for target, names, line in imports_of(source, module, is_package):
        dst = package_of(target)
        if dst == src or src in ("__init__", "__main__") and dst != "__init__":
            continue
        if dst not in LAYERS:
            bad.append(f"{module}:{line} imports {target}: package {dst!r} has no layer in the table")
            continue
        if src not in LAYERS:
            bad.append(f"{module}:{line}: package {src!r} has no layer in the table")
            continue
        if LAYERS[dst] > LAYERS[src] or (LAYERS[dst] == LAYERS[src] and (src, dst) not in SAME_LAYER):
            bad.append(f"{module}:{line} imports {target} (layer {LAYERS[dst]}) from layer {LAYERS[src]}")
        private = [n for n in names if n.startswith("_") and not n.startswith("__")]
        if private:
            bad.append(f"{module}:{line} imports private {', '.join(private)} of {target}")
    return bad


def all_modules():
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT.parent).with_suffix("")
        parts = list(rel.parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        yield ".".join(parts), path, is_package


def test_every_import_points_down():
    bad = []
    for module, path, is_package in all_modules():
        bad += violations(path.read_text(), module, is_package)
    assert bad == [], "\n".join(bad)


def test_every_package_has_a_layer():
    packages = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    packages |= {p.stem for p in ROOT.glob("*.py")}
    assert packages - set(LAYERS) == set()


@pytest.mark.parametrize(
    "module,source,is_package",
    [
        (
            "vidstyle.flow.estimators",
            "from ..pipeline.stage import BaseStage\n",
            False,
        ),  # library -> pipeline
        ("vidstyle.io.sink", "def f():\n    from ..stream import outputs\n", False),  # function-local, up
        ("vidstyle.compose", "from ..faces import stage\nfrom ..pipeline import item\n", True),
        ("vidstyle.stream.source", "from ..io.source import _to_rgb\n", False),  # private helper
        ("vidstyle.faces.tracker", "import vidstyle.flow.ops\n", False),  # same layer, no edge
        ("vidstyle.models.store", "from vidstyle.newthing import x\n", False),  # not in the table
    ],
)
def test_the_check_catches_what_it_should(module, source, is_package):
    assert violations(source, module, is_package)


def test_the_check_accepts_downward_imports():
    assert (
        violations(
            "from ..flow.ops import warp\nfrom ...config import FlowConfig\n", "vidstyle.pipeline.stages.flow"
        )
        == []
    )
    assert violations("from ..people import masks\n", "vidstyle.pipeline.item") == []  # future package


def test_the_public_api_is_declared_and_resolves():
    import vidstyle

    assert {"Pipeline", "stylize_file", "load_config", "PipelineConfig", "RunReport"} <= set(vidstyle.__all__)
    assert all(getattr(vidstyle, name) is not None for name in vidstyle.__all__)
    assert (ROOT / "py.typed").is_file()


@pytest.mark.slow
def test_importing_the_package_and_the_cli_does_not_load_torch():
    import subprocess
    import sys

    code = "import sys, vidstyle, vidstyle.cli; vidstyle.cli.build_parser(); print('torch' in sys.modules)"
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT.parent
    )
    assert proc.stdout.strip() == "False", proc.stderr
