"""Style mixes as the CLI writes them: ``'a=0.7,b=0.3'`` over a model's style names."""

from __future__ import annotations

from ..errors import ModelError


def mix_names(text: str) -> list[str]:
    """The style names of a ``'a=0.7,b=0.3'`` mix, in order."""
    return [p.partition("=")[0].strip() for p in text.split(",") if p.strip()]


def parse_style_mix(text: str, names: list[str], model: str) -> list[float]:
    """``'a=0.7,b=0.3'`` -> weights over a model's style ``names`` (normalised to sum 1)."""
    weights = [0.0] * len(names)
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        if not sep:
            raise ModelError(f"style mix {text!r}: expected NAME=WEIGHT items")
        if name.strip() not in names:
            raise ModelError(
                f"style mix: {name.strip()!r} is not a style of model {model!r} (it has: {', '.join(names)})"
            )
        try:
            w = float(value)
        except ValueError:
            raise ModelError(f"style mix: weight {value!r} of {name.strip()!r} is not a number") from None
        if w < 0:
            raise ModelError(f"style mix: weight of {name.strip()!r} is negative")
        weights[names.index(name.strip())] = w
    total = sum(weights)
    if total <= 0:
        raise ModelError(f"style mix {text!r}: weights sum to zero")
    return [w / total for w in weights]
