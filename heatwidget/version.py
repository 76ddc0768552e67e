"""The package's version: installed metadata, or js/package.json in a source tree."""

from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path

__all__ = ["__version__"]


def _version() -> str:
    try:
        return metadata.version("heatwidget")
    except metadata.PackageNotFoundError:
        # A source tree on sys.path without an install: js/package.json is the one source.
        package_json = Path(__file__).resolve().parent.parent / "js" / "package.json"
        try:
            return str(json.loads(package_json.read_text(encoding="utf-8"))["version"])
        except (OSError, ValueError, KeyError):
            return "0+unknown"


__version__ = _version()
