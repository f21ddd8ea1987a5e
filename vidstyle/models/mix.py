"""Style mixes as the CLI writes them: ``'a=0.7,b=0.3'`` over a model's style names.

A mix is a flag value (``--style-mix``, ``model.style_mix``): what is wrong with it is a
:class:`~vidstyle.errors.ConfigError` (exit code 2).
"""

from __future__ import annotations

from ..errors import ConfigError


def mix_names(text: str) -> list[str]:
    """The style names of a ``'a=0.7,b=0.3'`` mix, in order."""
    return [p.partition("=")[0].strip() for p in text.split(",") if p.strip()]


def parse_style_mix(text: str, names: list[str], model: str) -> list[float]:
    """``'a=0.7,b=0.3'`` -> weights over a model's style ``names`` (normalised to sum 1)."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not all("=" in p for p in parts):
        raise ConfigError(f"style mix {text!r}: expected NAME=WEIGHT items")
    unknown = [n for n in mix_names(text) if n not in names]
    if unknown:
        listed = ", ".join(repr(n) for n in unknown)
        verb = "is not a style" if len(unknown) == 1 else "are not styles"
        raise ConfigError(f"style mix: {listed} {verb} of model {model!r} (it has: {', '.join(names)})")
    weights = [0.0] * len(names)
    for part in parts:
        name, _, value = part.partition("=")
        try:
            w = float(value)
        except ValueError:
            raise ConfigError(f"style mix: weight {value!r} of {name.strip()!r} is not a number") from None
        if w < 0:
            raise ConfigError(f"style mix: weight of {name.strip()!r} is negative")
        weights[names.index(name.strip())] = w
    total = sum(weights)
    if total <= 0:
        raise ConfigError(f"style mix {text!r}: weights sum to zero")
    return [w / total for w in weights]
