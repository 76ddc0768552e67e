"""bench/wasm_profile.py: heat.wasm's function indexes named from its export section, and a
CDP profile's self time summed per (named) function."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import pytest
import wasmtime

BENCH = Path(__file__).resolve().parent.parent / "bench"


@pytest.fixture(scope="module")
def wp() -> Any:
    sys.path.insert(0, str(BENCH))
    try:
        return importlib.import_module("wasm_profile")
    finally:
        sys.path.remove(str(BENCH))


def test_names_match_wasmtime_exports(wp: Any) -> None:
    """Every exported function of heat.wasm is named, with the name wasmtime gives it."""
    names = wp.WasmNames.of_file()
    module = wasmtime.Module.from_file(wasmtime.Engine(), str(wp.HEAT_WASM))
    exported = {e.name for e in module.exports if isinstance(e.type, wasmtime.FuncType)}
    assert exported == set(names.names.values()) - {
        n for i, n in names.names.items() if i < names.imported
    }
    assert "hw_density" in exported
    idx = next(i for i, n in names.names.items() if n == "hw_density")
    assert names.label(f"wasm-function[{idx}]") == "hw_density"
    assert names.label("wasm-function[999999]") == "wasm-function[999999]"
    assert names.label("putImageData") == "putImageData"


def test_not_a_module(wp: Any) -> None:
    with pytest.raises(ValueError, match="not a WebAssembly module"):
        wp.WasmNames(b"MZ\x90\x00not wasm")


def test_top_self_time(wp: Any) -> None:
    names = wp.WasmNames.of_file()
    idx = next(i for i, n in names.names.items() if n == "hw_colorize")

    def node(i: int, fn: str, url: str = "") -> dict[str, Any]:
        return {"id": i, "callFrame": {"functionName": fn, "url": url, "lineNumber": 3}}

    profile = {
        "nodes": [node(1, "(program)"), node(2, f"wasm-function[{idx}]", "wasm://x/0002a0fe")],
        "samples": [1, 2, 2, 1, 2],
        "timeDeltas": [1000, 2000, 3000, 500, 1500],
    }
    top = wp.top_self_time(profile, names, top=5)
    assert top == [("hw_colorize 0002a0fe:3", 6.5), ("(program)", 1.5)]


def test_internal_names_from_an_unstripped_build(wp: Any) -> None:
    """The unstripped build of js/kernel names internal functions at the shipped indexes."""
    pytest.importorskip("ziglang")
    shipped = wp.WasmNames.of_file()
    named = wp.WasmNames.with_internal_names()
    for i, n in shipped.names.items():
        assert named.names[i] == n
    assert {"splat", "flag_sort", "cell_add"} <= set(named.names.values())
