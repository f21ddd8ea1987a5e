"""Our model file format: one ``.safetensors`` file whose header carries JSON metadata.

The safetensors header's ``__metadata__`` holds a single key, ``"vidstyle"``, whose value is a JSON
object (see :class:`ModelMeta`). Reading the metadata parses only the header (a few KB), so the
catalog can list hundreds of models without loading weights. Nothing here unpickles anything.
"""

from __future__ import annotations

import json
import os
import re
import struct
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from ..errors import ModelError
from ..weights import TORCH_SUFFIXES, torch_saved
from .arch import ArchConfig
from .families import DEFAULT_FAMILY, NetworkFamily, family

FORMAT = "vidstyle-model"
FORMAT_VERSION = 1
_HEADER_LIMIT = 64 * 1024 * 1024  # a header larger than this is not a model of ours


@dataclass
class ModelMeta:
    """What a model file says about itself.

    ``family``: the network family (:mod:`.families`) whose ``arch_config`` this is; files
    written before families existed have none and hold a ``transformer_net``.
    ``styles``: one entry per style the network holds (a CIN row for ``transformer_net``), each
    ``{"name": str, "style_image": str}``.
    ``input_range``: 255.0 when the network takes and returns RGB in 0..255, 1.0 for 0..1.
    """

    name: str
    arch: str = "full"  # the family's preset name, or "custom"
    arch_config: dict = field(default_factory=lambda: ArchConfig().to_dict())
    family: str = DEFAULT_FAMILY
    styles: list[dict] = field(default_factory=list)
    input_range: float = 255.0
    layout: str = "rgb"
    description: str = ""
    placeholder: bool = False
    recipe: dict = field(default_factory=dict)  # how it was trained (or imported from where)
    licence: str = ""
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    @property
    def style_names(self) -> list[str]:
        return [s["name"] for s in self.styles]

    def network_family(self) -> NetworkFamily:
        """The family this file's network belongs to (ModelError when this vidstyle lacks it)."""
        return family(self.family)

    def arch_obj(self) -> ArchConfig:
        """The :class:`ArchConfig` of a ``transformer_net`` file (TypeError for other families)."""
        return ArchConfig(**self.arch_config)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str, where: str) -> ModelMeta:
        try:
            data = json.loads(text)
            if data.get("format") != FORMAT:
                raise ModelError(f"{where}: not a vidstyle model (format={data.get('format')!r})")
            if int(data.get("format_version", 0)) > FORMAT_VERSION:
                raise ModelError(
                    f"{where}: model format v{data['format_version']} is newer than "
                    f"this vidstyle understands (v{FORMAT_VERSION}); upgrade vidstyle"
                )
            known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
            meta = cls(**known)
        except ModelError:
            raise
        except (ValueError, TypeError) as exc:
            raise ModelError(f"{where}: malformed model metadata ({exc})") from None
        try:
            fam = meta.network_family()
        except ModelError as exc:
            raise ModelError(f"{where}: {exc}") from None
        try:
            styles = fam.num_styles(meta.arch_config)
        except (ValueError, TypeError) as exc:
            raise ModelError(f"{where}: malformed model metadata ({exc})") from None
        if len(meta.styles) != styles:
            raise ModelError(
                f"{where}: metadata lists {len(meta.styles)} styles but the network has {styles}"
            )
        return meta


def read_header(path: str | os.PathLike) -> dict:
    """Parse the safetensors JSON header of ``path`` without reading the tensors."""
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            saved = torch_saved(fh.read(32))
            if saved or path.suffix.lower() in TORCH_SUFFIXES:
                raise ModelError(_import_first(path, saved))
            fh.seek(0)
            raw_len = fh.read(8)
            if len(raw_len) < 8:
                raise ModelError(f"{path}: not a safetensors file (too short)")
            (n,) = struct.unpack("<Q", raw_len)
            size = path.stat().st_size
            if n > min(_HEADER_LIMIT, size - 8):
                raise ModelError(f"{path}: corrupt safetensors header (length {n} > file size)")
            header = json.loads(fh.read(n))
    except OSError as exc:
        raise ModelError(f"{path}: cannot read model file ({exc.strerror})") from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ModelError(f"{path}: corrupt safetensors header") from None
    if not isinstance(header, dict):
        raise ModelError(f"{path}: corrupt safetensors header")
    return header


def _import_first(path: Path, saved: bool) -> str:
    """What to do with a PyTorch checkpoint given where a model of ours belongs."""
    name = path.stem if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", path.stem) else "NAME"
    kind = "a PyTorch checkpoint" if saved else f"a {path.suffix} file"
    return (
        f"{path} is {kind}, not a vidstyle model: convert it once with "
        f"`vidstyle models import {path} --name {name}`, then use --style {name}"
    )


def read_meta(path: str | os.PathLike) -> ModelMeta:
    """The :class:`ModelMeta` stored in ``path`` (header only)."""
    header = read_header(path)
    text = (header.get("__metadata__") or {}).get("vidstyle")
    if text is None:
        raise ModelError(
            f"{path}: safetensors file without vidstyle metadata "
            f"(import foreign weights with `vidstyle models import`)"
        )
    return ModelMeta.from_json(text, str(path))


def save_model(
    net: nn.Module, meta: ModelMeta, path: str | os.PathLike, dtype: torch.dtype = torch.float16
) -> Path:
    """Write ``net``'s weights as ``dtype`` plus ``meta`` to ``path`` atomically; ``meta.family``
    names ``net``'s family, which sets ``meta.arch_config`` from the network."""
    path = Path(path)
    fam = meta.network_family()
    meta.arch_config = fam.arch_of(net)
    styles = fam.num_styles(meta.arch_config)
    if len(meta.styles) != styles:
        raise ValueError(f"meta lists {len(meta.styles)} styles, network has {styles}")
    tensors = {k: v.detach().to("cpu", dtype).contiguous() for k, v in net.state_dict().items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    save_file(tensors, str(tmp), metadata={"vidstyle": meta.to_json()})
    os.replace(tmp, path)
    return path


def load_model(path: str | os.PathLike) -> tuple[nn.Module, ModelMeta]:
    """Load a model file into a float32 network of its family on the CPU, in eval mode."""
    meta = read_meta(path)
    net = meta.network_family().build(meta.arch_config)
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelError(f"{path}: corrupt model file ({exc})") from None
    try:
        net.load_state_dict({k: v.float() for k, v in state.items()}, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise ModelError(f"{path}: weights do not match the {meta.arch} architecture ({first})") from None
    return net.eval(), meta
