"""Style catalog: the models bundled in the package plus the user's model directory.

Every model file contributes one entry per style it holds. A single-style model's entry is named
after the model (``starry_night``, ``starry_night-small``); a multi-style model's entries are
``model:style``, and a bare ``style`` also resolves to it when no single-style model has that name.
The user directory wins over the bundled one. ``default`` resolves to the style named in the
bundled ``catalog.json``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelError
from ..weights import TORCH_SUFFIXES
from .mix import mix_names
from .mix import parse_style_mix as parse_style_mix  # its home is .mix; callers of the catalog keep it
from .store import ModelMeta, read_meta

BUNDLED_DIR = Path(__file__).parent / "bundled"
MODEL_SUFFIXES = (".safetensors",)


def user_dir() -> Path:
    """``$VIDSTYLE_HOME/models``, else ``$XDG_DATA_HOME/vidstyle/models`` (~/.local/share)."""
    if os.environ.get("VIDSTYLE_HOME"):
        return Path(os.environ["VIDSTYLE_HOME"]) / "models"
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "vidstyle" / "models"


@dataclass(frozen=True)
class StyleEntry:
    """One selectable style: a row of a model file."""

    name: str  # what --style accepts
    model_path: Path
    style_index: int
    meta: ModelMeta
    source: str  # "bundled" | "user" | "path"
    default: bool = False

    @property
    def style_name(self) -> str:
        return self.meta.styles[self.style_index]["name"]

    def style(self, mix: str = "") -> list[float] | None:
        """The family's style selection for this entry, or for the ``'a=0.7,b=0.3'`` ``mix`` of its
        model's styles (mixing weights for ``transformer_net``; None: the network has no style input)."""
        return self.meta.network_family().choose_style(self.meta, self.style_index, mix)

    def to_json(self) -> dict:
        style = self.meta.styles[self.style_index]
        return {
            "name": self.name,
            "default": self.default,
            "style": style["name"],
            "style_image": style.get("style_image", ""),
            "arch": self.meta.arch,
            "family": self.meta.family,
            "bytes": self.model_path.stat().st_size,
            "model": self.meta.name,
            "num_styles": len(self.meta.styles),
            "source": self.source,
            "placeholder": self.meta.placeholder,
            "path": str(self.model_path),
            "description": self.meta.description,
        }


def default_style_name() -> str:
    try:
        return json.loads((BUNDLED_DIR / "catalog.json").read_text())["default"]
    except (OSError, ValueError, KeyError):
        return ""


def _entries_in(directory: Path, source: str, default_name: str) -> list[StyleEntry]:
    entries: list[StyleEntry] = []
    if not directory.is_dir():
        return entries
    for path in sorted(directory.iterdir()):
        if path.suffix not in MODEL_SUFFIXES or path.name.startswith("."):
            continue
        try:
            meta = read_meta(path)
        except ModelError:
            continue  # a broken file in the user dir must not break listing the others
        single = len(meta.styles) == 1
        for i, style in enumerate(meta.styles):
            name = meta.name if single else f"{meta.name}:{style['name']}"
            entries.append(
                StyleEntry(
                    name, path, i, meta, source, default=(source == "bundled" and name == default_name)
                )
            )
    return entries


def list_styles(extra_dirs: list[Path] | None = None) -> list[StyleEntry]:
    """User entries first (they shadow bundled ones of the same name), then bundled."""
    default_name = default_style_name()
    seen: set[str] = set()
    out: list[StyleEntry] = []
    dirs = [(d, "user") for d in (extra_dirs or [])] + [(user_dir(), "user"), (BUNDLED_DIR, "bundled")]
    for directory, source in dirs:
        for entry in _entries_in(directory, source, default_name):
            if entry.name not in seen:
                seen.add(entry.name)
                out.append(entry)
    return out


def resolve_style(spec: str, extra_dirs: list[Path] | None = None) -> StyleEntry:
    """``spec`` is a catalog name, ``default``, a bare style of a multi-style model, or a path."""
    path = Path(spec).expanduser()
    if path.suffix in MODEL_SUFFIXES + TORCH_SUFFIXES or os.sep in spec or path.is_file():
        if not path.is_file():
            raise ModelError(f"model file not found: {spec}")
        meta = read_meta(path)
        return StyleEntry(meta.name, path, 0, meta, "path")
    entries = list_styles(extra_dirs)
    if spec == "default":
        spec = default_style_name()
        if not spec:
            raise ModelError("no default style is bundled with this installation")
    for entry in entries:
        if entry.name == spec:
            return entry
    for entry in entries:  # bare style name inside a multi-style model
        if entry.style_name == spec and len(entry.meta.styles) > 1:
            return entry
    names = ", ".join(e.name for e in entries) or "none installed"
    raise ModelError(f"unknown style {spec!r} (available: {names})")


def resolve_style_mix(spec: str, mix: str, extra_dirs: list[Path] | None = None) -> StyleEntry:
    """The entry whose model runs ``--style spec --style-mix mix``.

    ``spec``'s own model when it holds every mixed style; otherwise the multi-style model that does
    (one of ``spec``'s family and architecture first), so ``--style-mix wave=0.7,udnie=0.3`` works
    without naming the model. With no such model, the one that holds most of the mixed styles
    (``spec``'s own on a tie), so that ``parse_style_mix`` names the styles it lacks.
    """
    entry = resolve_style(spec, extra_dirs)
    wanted = mix_names(mix)
    if not wanted or all(n in entry.meta.style_names for n in wanted):
        return entry
    candidates = [entry] + [e for e in list_styles(extra_dirs) if len(e.meta.styles) > 1]

    def fit(e: StyleEntry) -> tuple[int, bool, bool]:  # held styles, then own model, then like it
        held = sum(n in e.meta.style_names for n in wanted)
        return held, e is entry, (e.meta.family, e.meta.arch) == (entry.meta.family, entry.meta.arch)

    return max(candidates, key=fit)
