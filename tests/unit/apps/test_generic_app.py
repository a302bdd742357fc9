"""The generic app a twin runs (echo.py with behaviour.py and calls.py): quantile latency,
error shares per code, and calls to other services through the pod's outbound client."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from chaoskit.mesh.apps.base import AppContext, AppSettingsError
from chaoskit.mesh.apps.behaviour import Behaviour, parse_latency
from chaoskit.mesh.apps.echo import EchoApp
from chaoskit.mesh.apps.httpbin import HttpbinApp
from chaoskit.mesh.http.client import ConnectFailure
from chaoskit.mesh.http.message import Headers, Request, Response

DRAWS = 20_000
LATENCY = {"distribution": "quantiles", "p50": "4ms", "p90": "9ms", "p99": "30ms"}


def _share_at_most(draws: list[float], seconds: float) -> float:
    return sum(1 for d in draws if d <= seconds + 1e-12) / len(draws)


def test_quantile_latency_draws_hit_the_given_quantiles() -> None:
    """20k seeded draws: the share at or below each given value is its quantile. Margins
    of 0.02 are over five standard errors of an empirical share at n=20k (sd ≤ 0.0036)."""
    latency = parse_latency(LATENCY)
    rng = random.Random(7)
    draws = [latency.draw(rng) for _ in range(DRAWS)]
    assert _share_at_most(draws, 0.004) == pytest.approx(0.50, abs=0.02)
    assert _share_at_most(draws, 0.009) == pytest.approx(0.90, abs=0.02)
    # Between p90 and p99 the inverse CDF is a straight line: 20 ms sits 11/21 of the way.
    assert _share_at_most(draws, 0.020) == pytest.approx(0.90 + 0.09 * 11 / 21, abs=0.01)
    # Nothing is drawn above the highest quantile given, and nothing below 0.
    assert max(draws) <= 0.030 + 1e-12
    assert min(draws) >= 0.0


def test_quantile_latency_is_linear_between_the_points() -> None:
    """The inverse CDF itself: from (0, 0 s), through the points, flat after the last."""
    latency = parse_latency(LATENCY)
    assert latency.at_quantile(0.25) == pytest.approx(0.002)
    assert latency.at_quantile(0.5) == pytest.approx(0.004)
    assert latency.at_quantile(0.7) == pytest.approx(0.0065)
    assert latency.at_quantile(0.945) == pytest.approx(0.009 + 0.021 * 0.5)
    assert latency.at_quantile(0.9999) == pytest.approx(0.030)


def test_error_codes_are_drawn_in_their_shares() -> None:
    """errorCodes: one draw per request; 20k seeded draws land within 0.015 of each share
    (over six standard errors)."""
    behaviour = Behaviour.parse({"errorCodes": {"503": 0.1, "500": 0.05}})
    rng = random.Random(11)
    drawn = [behaviour.draw_error(rng) for _ in range(DRAWS)]
    assert drawn.count(503) / DRAWS == pytest.approx(0.10, abs=0.015)
    assert drawn.count(500) / DRAWS == pytest.approx(0.05, abs=0.015)
    assert set(drawn) == {None, 503, 500}


def test_error_rate_and_status_draw_as_before() -> None:
    """errorRate/errorStatus is the one-code case, with the same draws as before errorCodes
    existed: one ``random() < rate`` per request."""
    behaviour = Behaviour.parse({"errorRate": 0.3, "errorStatus": 500})
    ours, reference = random.Random(3), random.Random(3)
    for _ in range(200):
        expected = 500 if reference.random() < 0.3 else None
        assert behaviour.draw_error(ours) == expected
    # No error configured: no draw at all, so the latency draws of a seeded run stay put.
    rng = random.Random(3)
    assert Behaviour.parse({}).draw_error(rng) is None
    assert rng.random() == random.Random(3).random()


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        (
            {"latency": {"distribution": "quantiles", "p50": "10ms", "p90": "5ms"}},
            "latency.p90: '5ms' is below latency.p50 '10ms'",
        ),
        ({"latency": {"distribution": "quantiles", "p85": "5ms"}}, "p85 is not a quantile key"),
        ({"latency": {"distribution": "quantiles"}}, "needs at least one of p50"),
        ({"latency": {"distribution": "quantiles", "p50": "4"}}, "latency.p50"),
        ({"errorCodes": {"503": 0.7, "500": 0.4}}, "add up to 1.1"),
        ({"errorCodes": {"503": 1.5}}, "errorCodes.503: expected a share from 0 to 1"),
        ({"errorCodes": {"200": 0.1}}, "'200' is not an error status"),
        (
            {"errorCodes": {"503": 0.1}, "errorRate": 0.1},
            "errorCodes is set together with errorRate;",
        ),
        ({"calls": [{"host": "Pay_ments", "port": 80}]}, "calls[0].host"),
        ({"calls": [{"host": "payments", "port": "80"}]}, "calls[0].port"),
        ({"calls": [{"host": "payments", "port": 80, "timeout": "1"}]}, "calls[0].timeout"),
        ({"calls": [{"host": "a", "port": 80}, {"host": "b", "port": 80, "url": "/"}]}, "calls[1]"),
        ({"calls": [{"host": "a", "port": 80, "path": "x"}]}, "calls[0].path"),
        ({"calls": {"host": "a"}}, "calls: expected a list"),
        ({"callMode": "fanout"}, "callMode: expected parallel or sequence"),
    ],
)
def test_bad_settings_name_the_field(settings: dict[str, Any], says: str) -> None:
    app = EchoApp(_context(_never))
    app.configure({"latency": "1ms"})
    with pytest.raises(AppSettingsError) as raised:
        app.configure(settings)
    assert says in str(raised.value)
    assert app.settings() == {"latency": "1ms"}  # the running settings stay


def test_httpbin_makes_no_calls() -> None:
    """httpbin is built on the generic app but is Istio's sample: calls are not its setting."""
    with pytest.raises(AppSettingsError, match="unknown setting"):
        HttpbinApp(_context(_never)).configure({"calls": [{"host": "a", "port": 80}]})


# --- calls ----------------------------------------------------------------------------------

Handler = Callable[[Request], Awaitable[Response]]


class Callees:
    """An outbound client standing in for the sidecar: host → handler, recording calls and
    how many were in flight at once."""

    def __init__(self, handlers: dict[str, Handler]) -> None:
        self.handlers = handlers
        self.seen: list[Request] = []
        self.in_flight = 0
        self.most_in_flight = 0

    async def __call__(self, request: Request, port: int) -> Response:
        host = request.authority.rsplit(":", 1)[0]
        self.seen.append(request)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0)  # let the other calls start, as a real client would
            return await self.handlers[host](request)
        finally:
            self.in_flight -= 1


async def _never(_request: Request) -> Response:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


def _answer(status: int) -> Handler:
    async def handler(_request: Request) -> Response:
        await asyncio.sleep(0)
        return Response(status)

    return handler


async def _refused(_request: Request) -> Response:
    raise ConnectFailure("connection refused")


def _context(outbound: Callable[[Request, int], Awaitable[Response]]) -> AppContext:
    return AppContext("frontend-0", "shop", "127.0.0.1", {"app": "frontend"}, {}, outbound)


def _serve(app: EchoApp, headers: list[tuple[str, str]] | None = None) -> tuple[int, Any]:
    request = Request("GET", "/", Headers([("host", "frontend"), *(headers or [])]))
    response = asyncio.run(app.handle(request))
    return response.status, json.loads(response.body)


def _app(callees: Callees, settings: dict[str, Any]) -> EchoApp:
    app = EchoApp(_context(callees))
    app.configure(settings)
    return app


CALLS = [{"host": "cart", "port": 8080, "path": "/items"}, {"host": "catalog", "port": 8080}]


@pytest.mark.parametrize(("mode", "at_once"), [("parallel", 2), ("sequence", 1)])
def test_calls_run_in_parallel_or_in_sequence(mode: str, at_once: int) -> None:
    callees = Callees({"cart": _answer(200), "catalog": _answer(200)})
    status, body = _serve(_app(callees, {"calls": CALLS, "callMode": mode}))
    assert status == 200
    assert [r.authority for r in callees.seen] == ["cart:8080", "catalog:8080"]
    assert [r.target for r in callees.seen] == ["/items", "/"]
    assert callees.most_in_flight == at_once
    assert [c["status"] for c in body["calls"]] == [200, 200]


def test_calls_forward_the_trace_headers_istio_asks_for_and_nothing_else() -> None:
    callees = Callees({"cart": _answer(200), "catalog": _answer(200)})
    incoming = [
        ("x-request-id", "rid-1"),
        ("x-b3-traceid", "80f198ee56343ba864fe8b2a57d3eff7"),
        ("x-b3-spanid", "e457b5a2e4d86bd1"),
        ("x-b3-sampled", "1"),
        ("traceparent", "00-80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-01"),
        ("cookie", "session=secret"),
    ]
    _serve(_app(callees, {"calls": CALLS}), incoming)
    for request in callees.seen:
        names = {name for name, _ in request.headers}
        assert names == {"host", "x-request-id", "x-b3-traceid", "x-b3-spanid", "x-b3-sampled",
                         "traceparent"}  # fmt: skip
        assert request.headers.get("x-request-id") == "rid-1"


def test_a_failing_callee_makes_the_caller_answer_502_naming_the_call() -> None:
    callees = Callees({"cart": _answer(503), "catalog": _answer(200)})
    status, body = _serve(_app(callees, {"calls": CALLS}))
    assert status == 502
    assert body["error"] == "call to http://cart:8080/items failed: answered 503"
    assert [c["status"] for c in body["calls"]] == [503, 200]  # parallel: both ran


def test_a_callee_with_no_answer_is_a_502() -> None:
    callees = Callees({"cart": _refused, "catalog": _answer(200)})
    status, body = _serve(_app(callees, {"calls": CALLS}))
    assert status == 502
    assert "no answer: connection refused" in body["error"]


def test_a_call_past_its_timeout_is_a_504_and_sequence_stops_there() -> None:
    callees = Callees({"cart": _never, "catalog": _answer(200)})
    calls = [{**CALLS[0], "timeout": "20ms"}, CALLS[1]]
    status, body = _serve(_app(callees, {"calls": calls, "callMode": "sequence"}))
    assert status == 504
    assert body["error"] == "call to http://cart:8080/items failed: timed out after 0.02s"
    assert [r.authority for r in callees.seen] == ["cart:8080"]  # catalog never called


def test_an_error_drawn_by_the_caller_comes_before_its_calls() -> None:
    callees = Callees({"cart": _answer(200), "catalog": _answer(200)})
    status, _ = _serve(_app(callees, {"calls": CALLS, "errorCodes": {"500": 1.0}}))
    assert status == 500
    assert callees.seen == []
