"""Paths of the fixture runs and an HTML parser for the report tests."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]
DATA = REPO / "tests" / "data" / "results"
HISTORY = DATA / "history"
OLDER = HISTORY / "20251118T091500Z-1c3d" / "results.json"
LATEST = HISTORY / "20251125T071502Z-4f2a" / "results.json"
HOSTILE = DATA / "hostile.json"


def read(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text inside each <script>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._in_script: dict[str, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._in_script = dict(attrs)
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._in_script is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._in_script is not None:
            self.scripts.append((self._in_script, "".join(self._text)))
            self._in_script = None


def parse(page: str) -> Elements:
    parser = Elements()
    parser.feed(page)
    parser.close()
    return parser


def chart_data(page: str) -> dict[str, Any]:
    """The page's chart specs, read back the way the page script reads them."""
    for attrs, text in parse(page).scripts:
        if attrs.get("id") == "chart-data":
            data: dict[str, Any] = json.loads(text)
            return data
    raise AssertionError("no chart-data block")
