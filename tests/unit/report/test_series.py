"""Series merging: at most 300 points per chart, summary-preserving merges."""

from __future__ import annotations

import pytest

from chaoskit.report.series import MAX_POINTS, Point, downsample, merge, window_points


def points(count: int, start: float = 0.0) -> list[Point]:
    return [
        Point(start + i, 10, int(i % 3 == 0), 0.01 * (1 + i % 5), 0.05 + i / 1e4, 1.0)
        for i in range(count)
    ]


def test_short_series_are_untouched() -> None:
    windows = [points(100), points(100, 200)]
    assert downsample(windows) == windows


@pytest.mark.parametrize("sizes", [[301], [10_000], [1, 5000, 1], [2999, 3001, 7]])
def test_long_series_fit_in_the_limit_with_window_breaks(sizes: list[int]) -> None:
    windows = [points(n, 10_000.0 * i) for i, n in enumerate(sizes)]
    out = downsample(windows)
    assert len(out) == len(windows)
    assert sum(len(w) for w in out) + len(windows) - 1 <= MAX_POINTS
    for before, after in zip(windows, out, strict=True):
        assert sum(p.n for p in after) == sum(p.n for p in before)
        assert sum(p.errors for p in after) == sum(p.errors for p in before)
        assert max(p.p99 or 0 for p in after) == max(p.p99 or 0 for p in before)
        assert after[0].t >= before[0].t
        assert after[-1].t <= before[-1].t


def test_merge_rules() -> None:
    a = Point(1.0, 10, 1, 0.010, 0.05, 1.0)
    b = Point(2.0, 30, 3, 0.020, 0.09, 1.0)
    m = merge([a, b])
    assert (m.t, m.n, m.errors, m.span) == (1.5, 40, 4, 2.0)
    assert m.p50 == pytest.approx((0.010 * 10 + 0.020 * 30) / 40)
    assert m.p99 == 0.09
    assert m.throughput == 20.0
    assert m.success_rate == pytest.approx(36 / 40)


def test_window_points_infer_the_step() -> None:
    window = {
        "start": 0.0,
        "end": 10.0,
        "series": [{"t": t, "n": 4, "errors": 0, "p50": None, "p99": 0.1} for t in (4.0, 2.0, 6.0)],
    }
    got = window_points(window)
    assert [p.t for p in got] == [2.0, 4.0, 6.0]
    assert {p.span for p in got} == {2.0}
    assert got[0].throughput == 2.0
    assert Point(0, 0, 0, None, None, 1).success_rate is None
