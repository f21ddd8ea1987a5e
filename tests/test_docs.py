"""The README and docs/ hold together: the README stays short and names every command, and every
relative link or image in them points at a file that exists (and at a heading that exists, for
``page.md#anchor``). Plain text checks: no subprocess, no network.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from vidstyle.cli import COMMANDS

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
PAGES = [README, *sorted((REPO / "docs").glob("*.md"))]

README_MAX_LINES = 250

FENCED = re.compile(r"^```.*?^```", re.M | re.S)
INLINE_CODE = re.compile(r"`[^`\n]*`")
# [text](target) and ![alt](target); the target ends at whitespace or ')', an optional "title" after
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)


def prose(text: str) -> str:
    """``text`` without fenced code blocks and inline code spans (links there are examples)."""
    return INLINE_CODE.sub("", FENCED.sub("", text))


def links(text: str) -> list[str]:
    """Relative link and image targets of a Markdown text (``http:``, ``mailto:`` and such left out)."""
    targets = LINK.findall(prose(text))
    return [t for t in targets if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", t)]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link in a heading: its text
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every anchor the headings of a Markdown text give, with GitHub's -1, -2 for repeats."""
    seen: dict[str, int] = {}
    out = set()
    for heading in HEADING.findall(FENCED.sub("", text)):
        base = slug(heading)
        count = seen.get(base, 0)
        out.add(base if count == 0 else f"{base}-{count}")
        seen[base] = count + 1
    return out


def test_slug_and_links_follow_github():
    assert slug("8. Optimization mode (Gatys; Ruder et al. 2016) — reference defaults") == (
        "8-optimization-mode-gatys-ruder-et-al-2016--reference-defaults"
    )
    assert slug("Quality mode: any painting, no training (`vidstyle optimize`)") == (
        "quality-mode-any-painting-no-training-vidstyle-optimize"
    )
    assert anchors("# A\n## A\n```\n# not a heading\n```\n") == {"a", "a-1"}
    text = "[x](a.md#b) ![i](img/p.jpg) [w](https://e.org) `[c](code.md)`\n```\n[d](block.md)\n```\n"
    assert links(text) == ["a.md#b", "img/p.jpg"]


def test_readme_is_short():
    lines = README.read_text(encoding="utf-8").count("\n")
    assert lines <= README_MAX_LINES, (
        f"README.md has {lines} lines, over {README_MAX_LINES}: move detail to docs/"
    )


def test_readme_names_the_two_setup_commands():
    text = README.read_text(encoding="utf-8")
    assert "make demo" in text and "make test" in text


@pytest.mark.parametrize("command", COMMANDS)
def test_readme_mentions_every_command(command):
    assert re.search(rf"\bvidstyle {command}\b", README.read_text(encoding="utf-8")), (
        f"README.md does not mention `vidstyle {command}`"
    )


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_resolves(page):
    broken = []
    for target in links(page.read_text(encoding="utf-8")):
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            broken.append(f"{target}: no {dest.relative_to(REPO) if dest.is_relative_to(REPO) else dest}")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest.read_text(encoding="utf-8")):
            broken.append(f"{target}: no heading #{anchor} in {dest.relative_to(REPO)}")
    assert not broken, f"{page.relative_to(REPO)}: broken links:\n  " + "\n  ".join(broken)


def test_docs_pages_are_all_linked_from_the_map():
    index = (REPO / "docs" / "index.md").read_text(encoding="utf-8")
    linked = {Path(t.partition("#")[0]).name for t in links(index)}
    unlinked = [p.name for p in PAGES[1:] if p.name != "index.md" and p.name not in linked]
    assert not unlinked, f"docs/index.md does not link {unlinked}"
