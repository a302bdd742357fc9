"""The abort guard's arithmetic: the gateway's success rate since the window began."""

from __future__ import annotations

from chaoskit.experiment.abort import MIN_REQUESTS, AbortWatch, gateway_counts


def stats(total: int, errors: int) -> str:
    return (
        f"http.outbound_0.0.0.0_8080.downstream_rq_total: {total}\n"
        f"http.outbound_0.0.0.0_8080.downstream_rq_5xx: {errors}\n"
        f"http.outbound_0.0.0.0_8443.downstream_rq_total: 1\n"
        "http.outbound_0.0.0.0_8080.downstream_rq_time: P0(nan,1) P25(nan,2)\n"
    )


def test_counts_sum_every_listener_and_skip_histograms() -> None:
    assert gateway_counts(stats(100, 7)) == (101, 7)


def watch(readings: list[str], floor: float, tripped: list[str]) -> AbortWatch:
    answers = iter(readings)
    # A long interval: only the final look at stop() polls, so the test is deterministic.
    return AbortWatch(lambda: next(answers), floor, on_trip=tripped.append, interval_s=3600)


def test_it_trips_once_below_the_floor_counting_only_this_window() -> None:
    tripped: list[str] = []
    # 1,000 earlier requests with 900 errors must not count: only the window's 100 do.
    w = watch([stats(1000, 900), stats(1100, 960)], 0.5, tripped).__enter__()
    w.stop()
    assert w.tripped
    assert tripped == ["the gateway's success rate 0.4 fell below the floor 0.5; aborting"]


def test_it_holds_at_or_above_the_floor() -> None:
    tripped: list[str] = []
    w = watch([stats(0, 0), stats(100, 50)], 0.5, tripped).__enter__()
    w.stop()
    assert not w.tripped
    assert tripped == []


def test_too_few_requests_are_no_evidence() -> None:
    tripped: list[str] = []
    w = watch([stats(0, 0), stats(MIN_REQUESTS - 1, MIN_REQUESTS - 1)], 0.9, tripped)
    w.__enter__().stop()
    assert not w.tripped
