"""A CDP sampling profile's self time per function, with the heat kernel's WebAssembly
functions named: V8 shows them as ``wasm-function[N]``, N their index in the module's function
index space (imports first), which heat.wasm's export section maps to the exported names."""

from __future__ import annotations

import collections
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HEAT_WASM = ROOT / "heatwidget" / "static" / "heat.wasm"
KERNEL = ROOT / "js" / "kernel"


def _uleb(b: bytes, i: int) -> tuple[int, int]:
    """The unsigned LEB128 number at ``b[i]`` and the offset after it."""
    v = shift = 0
    while True:
        x = b[i]
        i += 1
        v |= (x & 0x7F) << shift
        if x < 0x80:
            return v, i
        shift += 7


def _name(b: bytes, i: int) -> tuple[str, int]:
    n, i = _uleb(b, i)
    return b[i : i + n].decode(), i + n


def _skip_import_desc(b: bytes, i: int, kind: int) -> int:
    if kind == 0:  # function: type index
        return _uleb(b, i)[1]
    if kind == 1:  # table: reftype, limits
        i += 1
    elif kind == 3:  # global: valtype, mutability
        return i + 2
    flags, i = _uleb(b, i)  # memory (kind 2) or the table's limits
    i = _uleb(b, i)[1]
    return _uleb(b, i)[1] if flags & 1 else i


class WasmNames:
    """Function index → name for one module: exports, then the "name" section if present."""

    def __init__(self, wasm: bytes) -> None:
        if wasm[:4] != b"\0asm":
            raise ValueError(f"wasm: not a WebAssembly module (starts {wasm[:4]!r}); pass a .wasm")
        self.names: dict[int, str] = {}
        self.imported = 0
        i = 8
        while i < len(wasm):
            sid = wasm[i]
            size, i = _uleb(wasm, i + 1)
            end = i + size
            if sid == 2:
                count, j = _uleb(wasm, i)
                for _ in range(count):
                    mod, j = _name(wasm, j)
                    field, j = _name(wasm, j)
                    kind = wasm[j]
                    if kind == 0:
                        self.names[self.imported] = f"{mod}.{field}"
                        self.imported += 1
                    j = _skip_import_desc(wasm, j + 1, kind)
            elif sid == 7:
                count, j = _uleb(wasm, i)
                for _ in range(count):
                    field, j = _name(wasm, j)
                    kind = wasm[j]
                    idx, j = _uleb(wasm, j + 1)
                    if kind == 0:
                        self.names[idx] = field
            elif sid == 0:
                self._custom(wasm, i, end)
            i = end

    def _custom(self, b: bytes, i: int, end: int) -> None:
        section, i = _name(b, i)
        if section != "name":
            return
        while i < end:
            sub = b[i]
            size, i = _uleb(b, i + 1)
            if sub == 1:  # function names; an export's name is kept
                count, j = _uleb(b, i)
                for _ in range(count):
                    idx, j = _uleb(b, j)
                    nm, j = _name(b, j)
                    self.names.setdefault(idx, nm)
            i += size

    @classmethod
    def of_file(cls, path: Path = HEAT_WASM) -> WasmNames:
        return cls(path.read_bytes())

    @classmethod
    def with_internal_names(cls, path: Path = HEAT_WASM) -> WasmNames:
        """The exports of ``path``, and the names of its internal functions too (splat,
        flag_sort, cell_add, ...) from the same sources compiled without ``-s`` (ziglang),
        which keeps the "name" section and the same function indexes; the exports alone if
        that build fails or its exports sit at other indexes (then the sources changed)."""
        shipped = cls.of_file(path)
        flags = json.loads((KERNEL / "build-flags.json").read_text())
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "heat-names.wasm"
            cmd = [sys.executable, "-m", "ziglang", "cc", flags["zig_target"]]
            cmd += [f for f in flags["flags"] if f != "-s"]
            cmd += ["-o", str(out), *map(str, sorted(KERNEL.glob("*.c")))]
            try:
                res = subprocess.run(cmd, capture_output=True, timeout=300, check=False)
            except (OSError, subprocess.TimeoutExpired):
                return shipped
            if res.returncode != 0 or not out.is_file():
                return shipped
            named = cls.of_file(out)
        if any(named.names.get(i) != n for i, n in shipped.names.items()):
            return shipped
        return named

    def label(self, function_name: str) -> str:
        """``wasm-function[N]`` → the function's name (others unchanged)."""
        if function_name.startswith("wasm-function[") and function_name.endswith("]"):
            idx = int(function_name[len("wasm-function[") : -1])
            return self.names.get(idx, function_name)
        return function_name


def top_self_time(
    profile: dict[str, Any], names: WasmNames, top: int = 20
) -> list[tuple[str, float]]:
    """The ``top`` functions by self time (ms) of a CDP ``Profiler.stop`` profile."""
    by_id = {nd["id"]: nd for nd in profile["nodes"]}
    self_ms: collections.defaultdict[str, float] = collections.defaultdict(float)
    for sample, dt_us in zip(profile["samples"], profile["timeDeltas"], strict=True):
        cf = by_id[sample]["callFrame"]
        fn = names.label(cf["functionName"] or "(anonymous)")
        where = cf["url"].rsplit("/", 1)[-1][:40]
        key = f"{fn} {where}:{cf['lineNumber']}" if where else fn
        self_ms[key] += dt_us / 1000
    return sorted(self_ms.items(), key=lambda kv: -kv[1])[:top]
