"""js/src/abi.ts and heatwidget/host/abi.py are generated from js/kernel/heat.h and committed:
``node js/build.mjs --check-abi`` fails when either has drifted from the header."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from heatwidget.host import abi, kernel

ROOT = Path(__file__).resolve().parent.parent
NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed")
# What --check-abi reads and compares, relative to the repository root.
FILES = [
    "js/build.mjs",
    "js/package.json",
    "js/kernel/build-flags.json",
    "js/kernel/heat.h",
    "js/src/abi.ts",
    "heatwidget/host/abi.py",
]


def check_abi(root: Path) -> subprocess.CompletedProcess[str]:
    assert NODE is not None
    return subprocess.run(
        [NODE, str(root / "js" / "build.mjs"), "--check-abi"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=root,
    )


def copy_tree(tmp_path: Path) -> Path:
    for name in FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tmp_path / name)
    return tmp_path


@needs_node
def test_committed_abi_matches_heat_h() -> None:
    res = check_abi(ROOT)
    assert res.returncode == 0, res.stderr


@needs_node
@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("#define HW_ABI_VERSION ", "#define HW_ABI_VERSION 9"),  # 4u -> 94u
        ("HW_SCALE_LOG 2u", "HW_SCALE_LOG 7u"),
    ],
)
def test_check_fails_when_heat_h_changes(tmp_path: Path, old: str, new: str) -> None:
    root = copy_tree(tmp_path)
    assert check_abi(root).returncode == 0  # the copy alone passes
    header = root / "js" / "kernel" / "heat.h"
    text = header.read_text(encoding="utf-8")
    assert old in text
    header.write_text(text.replace(old, new), encoding="utf-8")
    res = check_abi(root)
    assert res.returncode != 0
    assert "differ from js/kernel/heat.h" in res.stderr


@needs_node
def test_check_fails_when_a_generated_file_is_edited(tmp_path: Path) -> None:
    root = copy_tree(tmp_path)
    py = root / "heatwidget" / "host" / "abi.py"
    py.write_text(py.read_text(encoding="utf-8").replace("HW_HAS_TIME = 2", "HW_HAS_TIME = 4"))
    res = check_abi(root)
    assert res.returncode != 0
    assert "abi.py" in res.stderr


def test_python_host_uses_the_generated_constants() -> None:
    header = (ROOT / "js" / "kernel" / "heat.h").read_text(encoding="utf-8")
    defines = dict(re.findall(r"^#define\s+(HW_\w+)\s+(\d+)u?\b", header, flags=re.MULTILINE))
    assert defines
    for name, value in defines.items():
        assert getattr(abi, name) == int(value), name
        if hasattr(kernel, name):
            assert getattr(kernel, name) is getattr(abi, name), name
