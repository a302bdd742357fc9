"""productpage's landing page (``/`` and ``/index.html``): the service tree as a table, and
links to ``/productpage?u=normal`` and ``?u=test`` (the ``u`` parameter is ignored).

productpage.py renders its service dict with json2html; its root entry really does say
``details`` (a quirk of the sample), so ours does too.
"""

from __future__ import annotations

from html import escape
from typing import Any

from chaoskit.mesh.apps.bookinfo.upstream import Target


def _node(target: Target, endpoint: str, children: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "name": f"http://{target.host}:{target.port}",
        "endpoint": endpoint,
        "children": children,
    }


def service_tree(details: Target, reviews: Target, ratings: Target) -> dict[str, Any]:
    ratings_node = _node(ratings, "ratings", [])
    return _node(
        details,
        "details",
        [_node(details, "details", []), _node(reviews, "reviews", [ratings_node])],
    )


def _table(node: dict[str, Any]) -> str:
    rows = []
    for key, value in node.items():
        if isinstance(value, list):
            cell = "<ul>" + "".join(f"<li>{_table(child)}</li>" for child in value) + "</ul>"
        else:
            cell = escape(str(value))
        rows.append(f"<tr><th>{escape(key)}</th><td>{cell}</td></tr>")
    return '<table class="table table-condensed table-bordered">' + "".join(rows) + "</table>"


def render_landing(tree: dict[str, Any]) -> str:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        "<title>Simple Bookstore App</title>"
        '<link rel="stylesheet" href="static/tailwind/tailwind.css"></head><body><main>'
        "<h3>Bookinfo: productpage calls details and reviews; reviews calls ratings.</h3>"
        f"{_table(tree)}"
        "<p>Open the product page as an ordinary visitor or as a tester:</p>"
        '<ul><li><a href="/productpage?u=normal">Normal user</a></li>'
        '<li><a href="/productpage?u=test">Test user</a></li></ul>'
        "</main></body></html>"
    )
