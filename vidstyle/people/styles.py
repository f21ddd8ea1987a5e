"""Which look each region gets: the background, people in general, and people by id.

A *source* is a style spec (a style name, ``model:style`` or a model path), ``original`` (the
input pixels) or ``blur`` (the input blurred). Person ids count from 1 in order of first
appearance; :data:`~vidstyle.people.instances.ANONYMOUS` stands for people no face track reaches.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ConfigError
from .instances import ANONYMOUS

ORIGINAL, BLUR = "original", "blur"
PLAIN = (ORIGINAL, BLUR)


def parse_style_list(text: str) -> tuple[str, ...]:
    """'wave,the_scream' -> ('wave', 'the_scream'); empty entries are an error."""
    if not text.strip():
        return ()
    items = tuple(s.strip() for s in text.split(","))
    if any(not s for s in items):
        raise ConfigError(f"people.person_styles: empty entry in {text!r} (expected STYLE,STYLE,...)")
    return items


def parse_style_map(text: str) -> dict[int, str]:
    """'1=wave,2=the_scream' -> {1: 'wave', 2: 'the_scream'}."""
    out: dict[int, str] = {}
    for part in (p.strip() for p in text.split(",") if p.strip()):
        key, sep, value = part.partition("=")
        if not sep or not key.strip().isdigit() or int(key) < 1 or not value.strip():
            raise ConfigError(
                f"people.style_map: expected ID=STYLE with ids from 1 (e.g. 1=wave,2=the_scream), "
                f"got {part!r}"
            )
        out[int(key)] = value.strip()
    return out


@dataclass(frozen=True)
class PeoplePlan:
    """The resolved controls. ``main`` is ``model.style``: the default for every region."""

    main: str
    background: str = ""
    people: str = ""
    person_styles: tuple[str, ...] = ()
    style_map: dict[int, str] = field(default_factory=dict)

    @classmethod
    def from_config(cls, main: str, people) -> PeoplePlan:
        """From a :class:`~vidstyle.config.PeopleConfig`."""
        return cls(
            main,
            people.background,
            people.style,
            parse_style_list(people.person_styles),
            parse_style_map(people.style_map),
        )

    def background_source(self) -> str:
        return self.background or self.main

    def person_source(self, pid: int) -> str:
        """Source of person ``pid``: the style map, else the cycling list, else ``people``, else main."""
        if pid in self.style_map:
            return self.style_map[pid]
        if self.person_styles and pid != ANONYMOUS:
            return self.person_styles[(pid - 1) % len(self.person_styles)]
        if self.people:
            return self.people
        if self.person_styles:
            return self.person_styles[0]
        return self.main

    def styles(self) -> list[str]:
        """Distinct style specs any region can use, the background's first: one stylized image
        each per frame (``original`` and ``blur`` need no stylizer)."""
        wanted = [
            self.background_source(),
            self.people or (self.person_styles[0] if self.person_styles else self.main),
        ]
        wanted += list(self.person_styles) + list(self.style_map.values())
        out: list[str] = []
        for spec in wanted:
            if spec not in PLAIN and spec not in out:
                out.append(spec)
        return out
