"""Durations parse as Go's time.ParseDuration does (istiod unmarshals them with jsonpb)."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from chaoskit.istio.duration import Duration, parse_go_duration_nanos

NS = 10**9


@pytest.mark.parametrize(
    ("text", "nanos"),
    [
        ("5s", 5 * NS),
        ("500ms", NS // 2),
        ("1m", 60 * NS),
        ("1.5s", 3 * NS // 2),
        ("1h30m", 5400 * NS),
        (".5s", NS // 2),
        ("1.s", NS),
        ("0", 0),
        ("-1s", -NS),
        ("+2ms", 2_000_000),
        ("250us", 250_000),
        ("250µs", 250_000),
        ("3ns", 3),
        ("1m30.5s", 90 * NS + NS // 2),
    ],
)
def test_go_duration_syntax(text: str, nanos: int) -> None:
    assert parse_go_duration_nanos(text) == nanos


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("5", "missing unit"),
        ("5sec", "expected a number followed by a unit"),
        ("", "empty"),
        ("s", "expected a number"),
        (".s", "expected a number"),
        ("1.5.5s", "expected a number"),
        ("5 s", "expected a number"),
        ("1d", "expected a number"),
    ],
)
def test_rejects_what_go_rejects(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_go_duration_nanos(text)


def test_non_string_duration_says_what_to_write() -> None:
    with pytest.raises(ValueError, match="must be a string such as '5s'"):
        Duration.parse(5)


units = st.sampled_from([("h", 3600 * NS), ("m", 60 * NS), ("s", NS), ("ms", 10**6), ("us", 10**3)])


@given(st.lists(st.tuples(st.integers(0, 10_000), units), min_size=1, max_size=4))
def test_components_add_up(parts: list[tuple[int, tuple[str, int]]]) -> None:
    text = "".join(f"{n}{unit}" for n, (unit, _) in parts)
    assert parse_go_duration_nanos(text) == sum(n * scale for n, (_, scale) in parts)


def test_duration_keeps_its_text_for_round_trips() -> None:
    d = Duration.parse("1.5s")
    assert (d.text, d.seconds, str(d)) == ("1.5s", 1.5, "1.5s")
