"""The shape of the C kernel (js/kernel): its rooms call each other in the order kernel.h
states (a DAG), and no room's state is a global another room can write."""

from __future__ import annotations

import re
from pathlib import Path

KERNEL = Path(__file__).resolve().parent.parent / "js" / "kernel"
IDENT = re.compile(r"[A-Za-z_]\w*")


def _code(text: str) -> str:
    """The text without comments, string literals or preprocessor lines."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)
    text = text.replace("\\\n", " ")  # a macro's continued lines are one line
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def _top_level(code: str) -> list[tuple[str, bool]]:
    """File-scope declarations: (the text before its body or `;`, whether a body follows)."""
    out: list[tuple[str, bool]] = []
    depth, start, tail = 0, 0, False
    for i, ch in enumerate(code):
        if ch == "{":
            if depth == 0:
                head = code[start:i].strip()
                out.append((head, True))
                # a struct or an initialiser: what follows its `}` up to `;` is part of it
                tail = _name(head) is None
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                start = i + 1
        elif ch == ";" and depth == 0:
            if not tail:
                out.append((code[start:i].strip(), False))
            start, tail = i + 1, False
    return out


def _name(head: str) -> str | None:
    """The function a declaration head names (`type name(args)`), if it is one."""
    m = re.search(r"([A-Za-z_]\w*)\s*\(", head)
    if not m or "=" in head[: m.start()]:
        return None
    return m.group(1)


def scan(folder: Path) -> tuple[dict[str, set[str]], dict[str, list[str]]]:
    """Per .c file: the non-static functions it defines, and its file-scope variables that are
    not static (shared state any room could write)."""
    functions: dict[str, set[str]] = {}
    variables: dict[str, list[str]] = {}
    for path in sorted(folder.glob("*.c")):
        funcs: set[str] = set()
        shared: list[str] = []
        for head, body in _top_level(_code(path.read_text())):
            words = IDENT.findall(head)
            if not words or words[0] in ("typedef", "extern"):
                continue
            name = _name(head)
            if body and name:
                if words[0] != "static":
                    funcs.add(name)
            elif not body and name is None and words[0] not in ("static", "struct"):
                shared.append(head)
        functions[path.stem] = funcs
        variables[path.stem] = shared
    return functions, variables


def call_graph(folder: Path) -> dict[str, dict[str, set[str]]]:
    """file -> file -> the functions of the second that the first names."""
    functions, _ = scan(folder)
    graph: dict[str, dict[str, set[str]]] = {}
    for path in sorted(folder.glob("*.c")):
        used = set(IDENT.findall(_code(path.read_text())))
        graph[path.stem] = {
            other: used & funcs
            for other, funcs in functions.items()
            if other != path.stem and used & funcs
        }
    return graph


def declared_order() -> list[str]:
    """The rooms in the order kernel.h's comment gives (`memory <- points <- ...`)."""
    m = re.search(r"^\s*\*\s*(\w+(?:\s*<-\s*\w+)+)\s*$", (KERNEL / "kernel.h").read_text(), re.M)
    assert m, "kernel.h states the order of its rooms as `a <- b <- ...`"
    return [name.strip() for name in m.group(1).split("<-")]


def test_every_room_is_in_the_stated_order() -> None:
    order = declared_order()
    assert sorted(order) == sorted(p.stem for p in KERNEL.glob("*.c"))


def test_rooms_call_only_rooms_before_them() -> None:
    rank = {name: i for i, name in enumerate(declared_order())}
    graph = call_graph(KERNEL)
    wrong = {
        (caller, callee): sorted(names)
        for caller, callees in graph.items()
        for callee, names in callees.items()
        if rank[callee] >= rank[caller]
    }
    assert not wrong
    # the scan does see calls: points.c allocates, lifetime.c reaches every room it tears down
    assert "hw_malloc" in graph["points"]["memory"]
    assert {"points", "spatial", "window", "frame"} <= set(graph["lifetime"])


def test_points_call_only_the_allocator() -> None:
    assert set(call_graph(KERNEL)["points"]) == {"memory"}


def test_no_room_shares_a_writable_global() -> None:
    _, variables = scan(KERNEL)
    assert not {room: heads for room, heads in variables.items() if heads}
    header = _code((KERNEL / "kernel.h").read_text())
    assert not re.findall(r"\bextern\b", header)


def test_the_scan_finds_shared_globals(tmp_path: Path) -> None:
    """The checks above can fail: a global and a backward call are seen."""
    (tmp_path / "a.c").write_text(
        "int shared;\ndouble lo = -__builtin_inf(), hi;\nstatic int own;\n"
        "int a_get(void) { return b_get(); }\n"
    )
    (tmp_path / "b.c").write_text("/* a_get() */\nint b_get(void) { return a_get(); }\n")
    _, variables = scan(tmp_path)
    assert variables == {"a": ["int shared", "double lo = -__builtin_inf(), hi"], "b": []}
    assert call_graph(tmp_path) == {"a": {"b": {"b_get"}}, "b": {"a": {"a_get"}}}
