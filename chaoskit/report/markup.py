"""HTML building blocks: every value from a results file goes through :func:`esc`.

Data for the charts travels as JSON inside ``<script type="application/json">``, which the
browser never runs; :func:`script_json` escapes ``<``, ``>`` and ``&`` (so no ``</script>``
or ``<!--`` can end or confuse the element) and U+2028/U+2029, and the page reads it back
with ``JSON.parse(element.textContent)``.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Sequence

_SCRIPT_ESCAPES = {
    ord("<"): "\\u003c",
    ord(">"): "\\u003e",
    ord("&"): "\\u0026",
    0x2028: "\\u2028",
    0x2029: "\\u2029",
}
_UNSAFE_IN_SCRIPT = re.compile(r"</script|<!--|<script", re.IGNORECASE)


def esc(value: object) -> str:
    """``value`` as text safe in element content and in double- or single-quoted attributes."""
    return html.escape(str(value), quote=True)


def script_json(data: object) -> str:
    """``data`` as JSON that can sit inside a ``<script type="application/json">`` element."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.translate(_SCRIPT_ESCAPES)


def checked_script(code: str, name: str) -> str:
    """``code`` unchanged, after making sure nothing in it can close its ``<script>``."""
    if _UNSAFE_IN_SCRIPT.search(code):
        raise ValueError(f"{name} holds '</script', '<script' or '<!--'; it cannot be inlined")
    return code


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    caption: str = "",
    numeric: Sequence[bool] = (),
    row_headers: bool = True,
    css: str = "",
) -> str:
    """A ``<table>``; ``headers`` and ``caption`` are escaped, cells are HTML already.

    The first cell of each row is a row header when ``row_headers`` (screen readers then
    announce it with every cell of the row). ``numeric`` right-aligns columns.
    """
    cls = f' class="{esc(css)}"' if css else ""
    parts = [f'<div class="table-wrap"><table{cls}>']
    if caption:
        parts.append(f"<caption>{esc(caption)}</caption>")
    head = "".join(
        f'<th scope="col"{_num_class(numeric, i)}>{esc(h)}</th>' for i, h in enumerate(headers)
    )
    parts.append(f"<thead><tr>{head}</tr></thead><tbody>")
    for row in rows:
        cells = []
        for i, cell in enumerate(row):
            if i == 0 and row_headers:
                cells.append(f'<th scope="row">{cell}</th>')
            else:
                cells.append(f"<td{_num_class(numeric, i)}>{cell}</td>")
        parts.append(f"<tr>{''.join(cells)}</tr>")
    parts.append("</tbody></table></div>")
    return "".join(parts)


def _num_class(numeric: Sequence[bool], i: int) -> str:
    return ' class="num"' if i < len(numeric) and numeric[i] else ""


def attrs(**values: str | int | None) -> str:
    """`` key="value"`` pairs (escaped), skipping ``None``; ``aria_label`` → ``aria-label``."""
    return "".join(
        f' {key.rstrip("_").replace("_", "-")}="{esc(value)}"'
        for key, value in values.items()
        if value is not None
    )
