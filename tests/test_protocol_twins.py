"""The message protocol is spelled once per side (js/src/protocol.ts, heatwidget/views/
protocol.py): this test fails when the two name different messages."""

from __future__ import annotations

import re
from pathlib import Path

from heatwidget.views import protocol

PROTOCOL_TS = Path(__file__).resolve().parents[1] / "js" / "src" / "protocol.ts"


def _union(source: str, name: str) -> list[str]:
    """The member names of ``export type <name> = A | B | ...;``."""
    match = re.search(rf"export type {name} =([^;]+);", source)
    assert match, f"no union {name} in protocol.ts"
    return [m.strip() for m in match.group(1).split("|") if m.strip()]


def _types_of(source: str, interface: str) -> set[str]:
    """The ``type`` string literals an interface allows (following ``extends``)."""
    match = re.search(
        rf"export interface {interface}(?: extends (\w+))? \{{(.*?)\n\}}", source, re.S
    )
    assert match, f"no interface {interface} in protocol.ts"
    literal = re.search(r"^\s*type: ([^;]+);", match.group(2), re.M)
    if literal is None and match.group(1):
        return _types_of(source, match.group(1))
    assert literal, f"interface {interface} has no type"
    return set(re.findall(r'"([a-z_]+)"', literal.group(1)))


def test_both_sides_name_the_same_messages() -> None:
    source = PROTOCOL_TS.read_text()
    to_view = set().union(*(_types_of(source, i) for i in _union(source, "ToView")))
    to_python = set().union(*(_types_of(source, i) for i in _union(source, "ToPython")))
    assert to_view == set(protocol.TO_VIEWS)
    assert to_python == set(protocol.FROM_VIEWS)
