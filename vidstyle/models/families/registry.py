"""The network family protocol and the registry that maps a model file's ``family`` to it.

A family is everything vidstyle needs to know about one kind of style network: how to build it
from the ``arch_config`` a model file stores, its named presets, its style input, how a style is
chosen, and what one call costs in memory. Export, the backends, the memory plan and the catalog
ask the family of a file (``family(meta.family)``) instead of knowing the network.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from torch import nn

from ...errors import ModelError


class StyleList(Protocol):
    """What a family reads of a model file to choose a style (``ModelMeta`` is one)."""

    name: str

    @property
    def style_names(self) -> list[str]: ...


DEFAULT_FAMILY = "transformer_net"  # what a model file without a ``family`` field holds
HALF_PRECISIONS = ("fp16", "bf16")  # activations of two bytes


class NetworkFamily(Protocol):
    """One kind of style network (see ``docs/architecture.md``, "Adding a network family").

    ``arch`` is always the JSON-able ``arch_config`` dict of a model file. A built network's
    ``forward(x, style)`` takes ``x`` N x 3 x H x W RGB in the model's ``input_range`` (H, W
    multiples of ``size_multiple``, each >= 8) and ``style`` as :meth:`choose_style` gives it (a
    tensor, or None for the default), and returns the same shape and range.
    """

    name: str  # the ``family`` value of its model files
    presets: Mapping[str, dict]  # preset name -> arch config (one style)
    size_multiple: int  # H and W the network takes are multiples of this

    def num_styles(self, arch: dict) -> int:
        """Styles a network of ``arch`` holds; ValueError/TypeError when ``arch`` is malformed."""
        ...

    def build(self, arch: dict) -> nn.Module:
        """A freshly initialised network of ``arch`` (float32, CPU)."""
        ...

    def arch_of(self, net: nn.Module) -> dict:
        """The arch config ``net`` was built from (TypeError for a network of another family)."""
        ...

    def preset_name(self, arch: dict) -> str:
        """The preset with ``arch``'s shape (styles aside), or "custom"."""
        ...

    def style_input(self, arch: dict) -> tuple[int, ...] | None:
        """Shape of the exported graph's style input (``contract.STYLE_INPUT``), None for none."""
        ...

    def choose_style(self, meta: StyleList, index: int, mix: str = "") -> list[float] | None:
        """The style selection that runs style ``index`` of ``meta``'s model, or the ``'a=0.7,b=0.3'``
        ``mix`` of its styles; None when the network takes no style input. ModelError for a bad mix."""
        ...

    def activation_bytes_per_px(self, arch: dict, precision: str) -> float:
        """Peak activation bytes of one forward pass per stylized pixel in ``precision``
        ("fp32" | "fp16" | "bf16" | "int8"): what the memory plan budgets per frame in flight."""
        ...

    def int8_refusal(self, arch: dict) -> str | None:
        """Why ``--precision auto`` should not try int8 for ``arch`` (None: worth a try)."""
        ...


_FAMILIES: dict[str, NetworkFamily] = {}


def register(fam: NetworkFamily) -> NetworkFamily:
    """Make ``fam`` known by its name; ValueError when another family has that name."""
    if _FAMILIES.get(fam.name, fam) is not fam:
        raise ValueError(f"a network family named {fam.name!r} is already registered")
    _FAMILIES[fam.name] = fam
    return fam


def unregister(name: str) -> None:
    """Forget the family ``name`` (tests and plugins that register their own)."""
    _FAMILIES.pop(name, None)


def family_names() -> list[str]:
    return sorted(_FAMILIES)


def family(name: str) -> NetworkFamily:
    """The family registered as ``name``; a one-line ModelError naming the known ones otherwise."""
    try:
        return _FAMILIES[name]
    except (KeyError, TypeError):
        raise ModelError(
            f"unknown network family {name!r} (known: {', '.join(family_names())}); "
            "a newer vidstyle may know it"
        ) from None
