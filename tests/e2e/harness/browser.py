"""A Chromium page whose every request outside 127.0.0.1 is aborted and recorded."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

from .processes import safe_name

TILE_URL = re.compile(r"/\d+/\d+/\d+(@2x)?\.(png|jpe?g|webp|pbf|mvt)(\?|$)", re.I)


@dataclass
class BlockedRequest:
    url: str
    resource_type: str
    host: str
    is_tile: bool


@dataclass
class Web:
    """A browser page with what the tests check about it."""

    page: Page
    context: BrowserContext
    name: str
    artifacts: Path
    blocked: list[BlockedRequest] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    @property
    def blocked_tiles(self) -> list[BlockedRequest]:
        return [r for r in self.blocked if r.is_tile]

    def blocked_other(self, allowed_hosts: tuple[str, ...] = ()) -> list[BlockedRequest]:
        """Aborted requests that were neither tiles nor to one of `allowed_hosts` (suffixes)."""
        return [
            r
            for r in self.blocked
            if not r.is_tile
            and not any(r.host == h or r.host.endswith("." + h) for h in allowed_hosts)
        ]

    def screenshot(self, label: str) -> Path:
        path = self.artifacts / f"{self.name}-{safe_name(label)}.png"
        self.page.screenshot(path=str(path), full_page=False)
        return path

    def dump(self) -> None:
        info = {
            "blocked": [r.__dict__ for r in self.blocked],
            "console_errors": self.console_errors,
            "page_errors": self.page_errors,
        }
        (self.artifacts / f"{self.name}.json").write_text(json.dumps(info, indent=1))
