"""The HTML document around a report: head, policy, styles, scripts, landmarks.

Everything is inline, so the page works from disk with no network. The Content-Security-
Policy forbids every fetch (``default-src 'none'``) and allows only the two scripts the
page ships, by their SHA-256, so markup that slipped into the results could not run even
if escaping failed somewhere.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from importlib import resources
from typing import Any

from chaoskit.report.markup import checked_script, esc, script_json

CHART_LIBRARY = "chart.umd.min.js"  # Chart.js 4.6.1, MIT; see docs/decisions.md


@cache
def asset(name: str) -> str:
    return resources.files("chaoskit.report").joinpath("assets", name).read_text(encoding="utf-8")


@cache
def _scripts() -> tuple[str, ...]:
    library = asset(CHART_LIBRARY)
    # The map file is not shipped; drop the comment that points at it.
    library = "\n".join(
        line for line in library.splitlines() if not line.startswith("//# sourceMappingURL=")
    )
    return (
        checked_script(library, CHART_LIBRARY),
        checked_script(asset("report.js"), "report.js"),
    )


def _hash(code: str) -> str:
    digest = hashlib.sha256(code.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def policy() -> str:
    hashes = " ".join(_hash(code) for code in _scripts())
    return (
        f"default-src 'none'; script-src {hashes}; style-src 'unsafe-inline'; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )


def document(
    *, title: str, subtitle: str, nav: str, main: str, charts: dict[str, dict[str, Any]]
) -> str:
    """A whole page. ``nav`` and ``main`` are HTML already; ``title``/``subtitle`` are text."""
    scripts = "".join(f"<script>{code}</script>" for code in _scripts())
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(policy())}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="color-scheme" content="light dark">'
        f"<title>{esc(title)}</title><style>{asset('report.css')}</style></head>"
        f'<body data-charts-total="{len(charts)}" data-charts-drawn="0">'
        '<a class="skip" href="#main">Skip to the results</a>'
        f'<header class="page"><h1>{esc(title)}</h1><p class="muted">{esc(subtitle)}</p></header>'
        f'<nav aria-label="Contents">{nav}</nav>'
        f'<main id="main" tabindex="-1">{main}'
        "<noscript><p>The charts need JavaScript; the data tables hold the same numbers.</p>"
        "</noscript></main>"
        '<footer class="muted"><p>Charts drawn with Chart.js 4.6.1 (MIT license), '
        "embedded in this file; the page loads nothing from the network.</p></footer>"
        f'<script type="application/json" id="chart-data">{script_json(charts)}</script>'
        f"{scripts}</body></html>\n"
    )
