"""Typed config objects from YAML: validation with messages that name the key, and overrides.

A config is a tree of dataclasses. Each field may carry ``metadata`` with ``help`` (one line, used
in ``vidstyle config show`` and pipeline.yaml), ``choices`` (allowed values), ``min``/``max``
(inclusive bounds), ``pattern`` (a regex a string must match) or ``length`` (of a list).
Supported field types: ``int``, ``float``, ``bool``, ``str``, ``X | None``,
``list[str|int|float]``, ``dict[str, str]`` and nested dataclasses.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import types
import typing
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import yaml

from .errors import ConfigError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")

# YAML 1.1 reads 1e5 (no dot) as a string, yet that is how loss weights and the like are written.
_EXP_FLOAT = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+$")


class _Loader(yaml.SafeLoader):
    """Safe YAML with 1e5-style numbers read as floats."""


_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _EXP_FLOAT, list("-+0123456789."))


def yaml_load(text: str) -> Any:
    return yaml.load(text, Loader=_Loader)  # safe: _Loader is a SafeLoader subclass


def knob(default: Any, help: str, **checks: Any) -> Any:
    """A dataclass field with a help line and validation ``checks`` (choices/min/max/pattern)."""
    if isinstance(default, (list, dict)):
        value = default
        return dataclasses.field(
            default_factory=lambda: type(value)(value), metadata={"help": help, **checks}
        )
    return dataclasses.field(default=default, metadata={"help": help, **checks})


def section(cls: type, help: str) -> Any:
    """A nested dataclass field."""
    return dataclasses.field(default_factory=cls, metadata={"help": help})


def _type_name(tp: Any) -> str:
    return {int: "an integer", float: "a number", bool: "true or false", str: "a string"}.get(
        tp, getattr(tp, "__name__", str(tp))
    )


def _convert(value: Any, tp: Any, key: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        return _convert(value, args[0], key)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a mapping of settings, got {value!r}")
        return from_dict(tp, value, prefix=f"{key}.")
    if origin is list:
        (item_tp,) = typing.get_args(tp)
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            value = (
                [v.strip() for v in str(value).split(",") if v.strip()] if isinstance(value, str) else [value]
            )
            if item_tp in (int, float):  # "1,10,20" from a flag: numbers, not strings
                value = [yaml_load(v) if isinstance(v, str) else v for v in value]
        if not isinstance(value, list):
            raise ConfigError(f"{key}: expected a list, got {value!r}")
        return [_convert(v, item_tp, f"{key}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a mapping, got {value!r}")
        return {str(k): str(v) for k, v in value.items()}
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{key}: expected true or false, got {value!r}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"{key}: expected an integer, got {value!r}")
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise ConfigError(f"{key}: expected a number, got {value!r}")
    if tp is str:
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
        raise ConfigError(f"{key}: expected a string, got {value!r}")
    raise TypeError(f"unsupported config type {tp!r} at {key}")


def _check(value: Any, meta: typing.Mapping, key: str) -> None:
    if value is None:
        return
    if "length" in meta and len(value) != meta["length"]:
        raise ConfigError(f"{key}: expected {meta['length']} values, got {len(value)}")
    values = value if isinstance(value, list) else [value]
    for v in values:
        choices = meta.get("choices")
        if choices is not None and v not in choices:
            allowed = ", ".join(str(c) for c in choices)
            raise ConfigError(f"{key}: {v!r} is not one of: {allowed}")
        if "min" in meta and v < meta["min"]:
            raise ConfigError(f"{key}: {v!r} is below the minimum {meta['min']}")
        if "max" in meta and v > meta["max"]:
            raise ConfigError(f"{key}: {v!r} is above the maximum {meta['max']}")
        pattern = meta.get("pattern")
        if pattern is not None and not re.fullmatch(pattern, str(v)):
            raise ConfigError(f"{key}: {v!r} is not valid ({meta.get('pattern_help', pattern)})")


def _unknown(key: str, name: str, known: list[str]) -> ConfigError:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean '{key}{close[0]}'?)" if close else f" (known: {', '.join(known)})"
    return ConfigError(f"unknown config key '{key}{name}'{hint}")


def from_dict(cls: type[T], data: dict | None, prefix: str = "") -> T:
    """Build and validate a ``cls`` instance from a plain mapping; missing keys keep defaults."""
    data = data or {}
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for name in data:
        if name not in fields:
            raise _unknown(prefix, str(name), list(fields))
    kwargs = {}
    for name, value in data.items():
        key = f"{prefix}{name}"
        converted = _convert(value, hints[name], key)
        _check(converted, fields[name].metadata, key)
        kwargs[name] = converted
    return cls(**kwargs)


def to_dict(obj: Any) -> dict:
    return dataclasses.asdict(obj)


def override(obj: T, key: str, raw: Any) -> T:
    """Return a copy of ``obj`` with dotted ``key`` set to ``raw`` (a YAML scalar string or value)."""
    if isinstance(raw, str):
        try:
            value = yaml_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            value = raw
        hints = _leaf_hint(type(obj), key)
        if hints in (str, str | None) and value is not None and not isinstance(value, str):
            value = raw  # keep "1e3" or "yes" literal for string fields
    else:
        value = raw
    data = to_dict(obj)
    node = data
    parts = key.split(".")
    cls: Any = type(obj)
    for i, part in enumerate(parts):
        names = [f.name for f in dataclasses.fields(cls)]
        if part not in names:
            raise _unknown(".".join(parts[:i]) + ("." if i else ""), part, names)
        if i == len(parts) - 1:
            node[part] = value
        else:
            node = node[part]
            cls = typing.get_type_hints(cls)[part]
            if not dataclasses.is_dataclass(cls):
                raise ConfigError(f"config key '{'.'.join(parts[: i + 1])}' has no sub-keys")
    return from_dict(type(obj), data)


def _leaf_hint(cls: Any, key: str) -> Any:
    for part in key.split("."):
        if not dataclasses.is_dataclass(cls):
            return None
        cls = typing.get_type_hints(cls).get(part)
    return cls


def load_yaml(cls: type[T], path: str | Path) -> T:
    """Read ``path`` into ``cls``; errors name the file and the key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    try:
        data = yaml_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{path}:{where}: {problem}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level")
    try:
        return from_dict(cls, data)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def dump_yaml(obj: Any, header: str = "") -> str:
    """YAML for ``obj`` with each key's help line as a comment above it."""
    lines = [f"# {h}" if h else "#" for h in header.splitlines()] if header else []

    def emit(node: Any, indent: int) -> None:
        pad = "  " * indent
        for f in dataclasses.fields(node):
            value = getattr(node, f.name)
            help_line = f.metadata.get("help", "")
            extra = []
            if "choices" in f.metadata:
                extra.append("one of: " + ", ".join(str(c) for c in f.metadata["choices"]))
            if dataclasses.is_dataclass(value):
                if indent == 0 and lines:
                    lines.append("")
                lines.append(f"{pad}# {help_line}" if help_line else f"{pad}#")
                lines.append(f"{pad}{f.name}:")
                emit(value, indent + 1)
                continue
            comment = "; ".join([help_line] + extra) if help_line else "; ".join(extra)
            if comment:
                lines.append(f"{pad}# {comment}")
            rendered = yaml.safe_dump(
                {f.name: value}, default_flow_style=True, width=1000, sort_keys=False
            ).strip()
            if rendered.startswith("{") and rendered.endswith("}"):
                rendered = rendered[1:-1]
            lines.append(f"{pad}{rendered}")

    emit(obj, 0)
    return "\n".join(lines) + "\n"
