"""Header edits on the request path: set, remove and remove_all keep order and multi-values."""

from __future__ import annotations

from chaoskit.mesh.http.message import Headers


def items(headers: Headers) -> list[tuple[str, str]]:
    return list(headers)


def test_set_replaces_every_value_and_appends_at_the_end() -> None:
    headers = Headers([("a", "1"), ("B", "2"), ("a", "3")])
    headers.set("A", "9")
    assert items(headers) == [("b", "2"), ("a", "9")]
    headers.set("c", "4")  # absent: only appended
    assert items(headers) == [("b", "2"), ("a", "9"), ("c", "4")]


def test_remove_drops_every_value_of_one_name_and_nothing_else() -> None:
    headers = Headers([("a", "1"), ("b", "2"), ("a", "3")])
    headers.remove("A")
    assert items(headers) == [("b", "2")]
    headers.remove("missing")
    assert items(headers) == [("b", "2")]


def test_remove_all_drops_each_listed_name_in_one_pass() -> None:
    headers = Headers([("connection", "x"), ("b", "2"), ("upgrade", "y"), ("connection", "z")])
    headers.remove_all(frozenset({"connection", "upgrade", "te"}))
    assert items(headers) == [("b", "2")]
    headers.remove_all(frozenset({"connection"}))
    assert items(headers) == [("b", "2")]


def test_a_copy_is_not_changed_by_edits_of_the_original() -> None:
    headers = Headers([("a", "1"), ("connection", "close")])
    clone = headers.copy()
    headers.remove_all(frozenset({"connection"}))
    headers.set("a", "2")
    assert items(clone) == [("a", "1"), ("connection", "close")]
