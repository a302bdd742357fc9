"""The fault filter and router on a fake clock against a scripted upstream cluster.

Numbers come from Envoy's router docs and istio-semantics §1.6, §1.7 and §7.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field

import pytest

from chaoskit.mesh.attempt import AttemptResult, HashContext
from chaoskit.mesh.config import (
    MILLION,
    FaultSpec,
    RetrySpec,
    Route,
    RouteMatch,
    StringMatcher,
    WeightedCluster,
)
from chaoskit.mesh.http.message import Headers, Request, Response
from chaoskit.mesh.local_reply import connect_failure_reasons, reset_before_headers
from chaoskit.mesh.router import RequestInfo, Router
from chaoskit.mesh.stats import ClusterStats, StatsStore

CLUSTER = "outbound|9080||ratings.bookinfo.svc.cluster.local"


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


@dataclass
class FakeCluster:
    """Answers attempts from a script: a status, or a failure ("connect", "timeout", ...)."""

    time: FakeTime
    script: list[int | str]
    store: StatsStore = field(default_factory=StatsStore)
    max_retries: int = 1 << 32
    seen: list[Request] = field(default_factory=list)
    timeouts: list[float | None] = field(default_factory=list)
    host_selection_attempts: list[int] = field(default_factory=list)
    slots_held: list[int] = field(default_factory=list)  # retry slots taken at each attempt
    retries_active: int = 0

    @property
    def stats(self) -> ClusterStats:
        return ClusterStats(self.store, CLUSTER)

    @property
    def uses_hashing(self) -> bool:
        return False

    async def attempt(
        self,
        request: Request,
        *,
        timeout_s: float | None,
        exclude: frozenset[str],
        hash_context: HashContext,
        host_selection_attempts: int,
        route_timeout_s: float | None = None,
    ) -> AttemptResult:
        self.seen.append(Request(request.method, request.target, request.headers.copy()))
        self.host_selection_attempts.append(host_selection_attempts)
        self.slots_held.append(self.retries_active)
        bound, route_bound = timeout_s, False
        if route_timeout_s is not None and (bound is None or route_timeout_s < bound):
            bound, route_bound = route_timeout_s, True
        self.timeouts.append(bound)  # whichever timer would end this attempt first
        step = self.script.pop(0) if self.script else 200
        host = f"10.0.0.{len(self.seen)}:9080"
        if step == "timeout":
            assert bound is not None, "a hanging upstream needs a timeout"
            self.time.now += bound
            return AttemptResult(failure="route_timeout" if route_bound else "timeout", host=host)
        if isinstance(step, str):
            return AttemptResult(failure=step, host=host)  # type: ignore[arg-type]
        return AttemptResult(response=Response(step), host=host, service_time_s=0.002)

    def try_begin_retry(self) -> bool:
        if self.retries_active >= self.max_retries:
            return False
        self.retries_active += 1
        return True

    def end_retry(self) -> None:
        self.retries_active -= 1


def _route(**kw: object) -> Route:
    return Route(
        "r",
        RouteMatch(path=StringMatcher("prefix", "/")),
        clusters=(WeightedCluster(CLUSTER),),
        virtual_service="ratings.bookinfo",
        **kw,  # type: ignore[arg-type]
    )


def _run(
    route: Route, cluster: FakeCluster, seed: int = 1, headers: dict[str, str] | None = None
) -> tuple[Response, RequestInfo]:
    router = Router(
        {CLUSTER: cluster},
        cluster.store,
        random.Random(seed),
        stat_prefix="outbound_0.0.0.0_9080",
        background=lambda task: None,
        clock=cluster.time.clock,
        sleep=cluster.time.sleep,
    )
    info = RequestInfo()
    request = Request(
        "GET", "/ratings/0", Headers([("host", "ratings:9080"), *(headers or {}).items()])
    )
    response = asyncio.run(router.handle(route, request, info, "127.0.0.1"))
    return response, info


RETRY_5XX = RetrySpec(num_retries=3, retry_on=("5xx",))


def test_retries_stop_at_one_plus_attempts_and_flag_urx() -> None:
    cluster = FakeCluster(FakeTime(), [503, 503, 503, 503])
    response, info = _run(_route(retry=RETRY_5XX), cluster)
    assert response.status == 503
    assert len(cluster.seen) == 4
    assert [r.headers.get("x-envoy-attempt-count") for r in cluster.seen] == ["1", "2", "3", "4"]
    assert "URX" in info.flags
    assert cluster.store.get(f"cluster.{CLUSTER}.upstream_rq_retry") == 3
    assert cluster.store.get(f"cluster.{CLUSTER}.upstream_rq_retry_limit_exceeded") == 1


def test_a_retry_that_succeeds_counts_retry_success() -> None:
    cluster = FakeCluster(FakeTime(), [503, 200])
    response, info = _run(_route(retry=RETRY_5XX), cluster)
    assert response.status == 200
    assert "URX" not in info.flags
    assert cluster.store.get(f"cluster.{CLUSTER}.upstream_rq_retry_success") == 1
    assert "x-envoy-upstream-service-time" in response.headers


def test_backoff_is_fully_jittered_exponential_from_25ms() -> None:
    """Envoy: retry N waits uniform in [0, (2^N - 1) x 25 ms), capped at 250 ms."""
    for seed in range(40):
        time = FakeTime()
        _run(
            _route(retry=RetrySpec(num_retries=5, retry_on=("5xx",))),
            FakeCluster(time, [503] * 6),
            seed,
        )
        assert len(time.sleeps) == 5
        for n, waited in enumerate(time.sleeps, start=1):
            assert 0 <= waited < min((2**n - 1) * 0.025, 0.25)


def test_route_timeout_covers_all_attempts_and_is_not_retried() -> None:
    """istio-semantics §7: 3 s route timeout, 1 s per try, hanging upstream → 504 at 3 s."""
    time = FakeTime()
    cluster = FakeCluster(time, ["timeout"] * 5)
    retry = RetrySpec(num_retries=3, retry_on=("5xx",), per_try_timeout_s=1.0)
    response, info = _run(_route(retry=retry, timeout_s=3.0), cluster)
    assert response.status == 504
    assert response.body == b"upstream request timeout"
    assert info.flags == {"UT"}
    assert time.now - 100.0 == pytest.approx(3.0)
    assert len(cluster.seen) == 3  # the third attempt is cut by the route timeout
    assert cluster.timeouts[0] == 1.0
    assert cluster.timeouts[2] is not None
    assert cluster.timeouts[2] < 1.0


def test_per_try_timeout_is_not_retried_by_the_default_policy() -> None:
    """Istio's default retry_on (connect-failure, refused-stream, ...) has no per-try timeout."""
    cluster = FakeCluster(FakeTime(), ["timeout"])
    default = RetrySpec(
        num_retries=2,
        retry_on=(
            "connect-failure",
            "refused-stream",
            "unavailable",
            "cancelled",
            "retriable-status-codes",
        ),
        per_try_timeout_s=0.5,
    )
    response, _ = _run(_route(retry=default), cluster)
    assert response.status == 504
    assert len(cluster.seen) == 1


def test_connect_failures_are_retried_by_the_default_policy() -> None:
    cluster = FakeCluster(FakeTime(), ["connect", "connect", "connect"])
    default = RetrySpec(num_retries=2, retry_on=("connect-failure",))
    response, info = _run(_route(retry=default), cluster)
    assert response.status == 503
    assert info.flags == {"UF", "URX"}
    assert len(cluster.seen) == 3


def test_max_retries_overflow_returns_the_failure_without_retrying() -> None:
    cluster = FakeCluster(FakeTime(), [503, 503], max_retries=0)
    response, _ = _run(_route(retry=RETRY_5XX), cluster)
    assert response.status == 503
    assert len(cluster.seen) == 1
    assert cluster.store.get(f"cluster.{CLUSTER}.upstream_rq_retry_overflow") == 1


def test_overflow_and_no_healthy_upstream_are_never_retried() -> None:
    for failure, status, flag in (("overflow", 503, "UO"), ("no_healthy", 503, "UH")):
        cluster = FakeCluster(FakeTime(), [failure, 200])
        response, info = _run(_route(retry=RETRY_5XX), cluster)
        assert (response.status, flag in info.flags, len(cluster.seen)) == (status, True, 1)


def test_fault_abort_answers_locally_before_the_router() -> None:
    """istio-semantics §1.7: FI, body ``fault filter abort``, upstream never contacted."""
    cluster = FakeCluster(FakeTime(), [])
    fault = FaultSpec(abort_status=500, abort_per_million=MILLION)
    response, info = _run(_route(retry=RETRY_5XX, fault=fault), cluster)
    assert response.status == 500
    assert response.body == b"fault filter abort"
    assert info.flags == {"FI"}
    assert cluster.seen == []


def test_fault_delay_is_not_counted_against_the_route_timeout() -> None:
    """A 7 s delay with a 0.5 s route timeout still reaches the upstream (timer starts after)."""
    time = FakeTime()
    cluster = FakeCluster(time, [200])
    fault = FaultSpec(delay_s=7.0, delay_per_million=MILLION)
    response, info = _run(_route(fault=fault, timeout_s=0.5), cluster)
    assert response.status == 200
    assert info.flags == {"DI"}
    assert time.sleeps == [7.0]


def test_fault_percentages_are_independent_draws() -> None:
    """Delay 50 % and abort 50 %: all four combinations occur over seeded requests."""
    seen = set()
    for seed in range(200):
        cluster = FakeCluster(FakeTime(), [200])
        fault = FaultSpec(
            delay_s=0.1,
            delay_per_million=MILLION // 2,
            abort_status=503,
            abort_per_million=MILLION // 2,
        )
        _, info = _run(_route(fault=fault), cluster, seed)
        seen.add(frozenset(info.flags))
    assert seen == {frozenset(), frozenset({"DI"}), frozenset({"FI"}), frozenset({"DI", "FI"})}


def test_a_missing_cluster_is_503_nc() -> None:
    cluster = FakeCluster(FakeTime(), [])
    route = Route("r", RouteMatch(), clusters=(WeightedCluster("outbound|9080|v9|ratings"),))
    response, info = _run(route, cluster)
    assert response.status == 503
    assert info.flags == {"NC"}


def test_a_retry_holds_its_slot_until_the_next_retry_decision() -> None:
    """retry_state_impl.cc: the slot taken when a retry is scheduled is released only by the
    next shouldRetry (or the request's end), so it covers the retried attempt."""
    cluster = FakeCluster(FakeTime(), [503, 503, 200])
    response, _ = _run(_route(retry=RETRY_5XX), cluster)
    assert response.status == 200
    assert cluster.slots_held == [0, 1, 1]
    assert cluster.retries_active == 0


def test_a_retry_refused_by_the_breaker_is_flagged_uo() -> None:
    """router.cc: RetryStatus::NoOverflow sets the UpstreamOverflow flag (UO)."""
    cluster = FakeCluster(FakeTime(), [503, 503], max_retries=0)
    response, info = _run(_route(retry=RETRY_5XX), cluster)
    assert response.status == 503
    assert info.flags == {"UO"}


def test_retry_success_counts_any_decision_not_to_retry_after_a_retry() -> None:
    """RetryStateImpl::shouldRetry counts upstream_rq_retry_success when a retry was armed
    and the next result is not retriable, a failure included."""
    retry = RetrySpec(
        num_retries=2, retry_on=("retriable-status-codes",), retriable_status_codes=(503,)
    )
    cluster = FakeCluster(FakeTime(), [503, "reset"])
    response, _ = _run(_route(retry=retry), cluster)
    assert response.status == 503
    assert cluster.store.get(f"cluster.{CLUSTER}.upstream_rq_retry_success") == 1


def test_x_envoy_retry_headers_are_honoured_and_not_forwarded() -> None:
    """retry_state_impl.cc: x-envoy-retry-on adds conditions, x-envoy-max-retries replaces
    the count, x-envoy-retriable-status-codes adds codes; all are consumed."""
    default = RetrySpec(num_retries=2, retry_on=("connect-failure",))
    cluster = FakeCluster(FakeTime(), [500, 500, 500, 500, 500])
    headers = {"x-envoy-retry-on": "5xx", "x-envoy-max-retries": "4"}
    response, info = _run(_route(retry=default), cluster, headers=headers)
    assert (response.status, len(cluster.seen), "URX" in info.flags) == (500, 5, True)
    assert all("x-envoy-retry-on" not in r.headers for r in cluster.seen)
    assert all("x-envoy-max-retries" not in r.headers for r in cluster.seen)
    codes = {"x-envoy-retry-on": "retriable-status-codes", "x-envoy-retriable-status-codes": "418"}
    cluster = FakeCluster(FakeTime(), [418, 200])
    response, _ = _run(_route(retry=default), cluster, headers=codes)
    assert (response.status, len(cluster.seen)) == (200, 2)


def test_x_envoy_retry_on_enables_retries_on_a_route_without_a_policy() -> None:
    """attempts: 0 leaves no policy; the header still arms Envoy's default of one retry."""
    cluster = FakeCluster(FakeTime(), [503, 503, 503])
    response, _ = _run(_route(), cluster, headers={"x-envoy-retry-on": "5xx"})
    assert (response.status, len(cluster.seen)) == (503, 2)


def test_local_replies_to_resets_read_as_current_envoys() -> None:
    """router.cc onUpstreamReset (commit 001b1c0c): after a retry the body names the latest
    reset, with the transport failure reason; details use underscores for spaces."""
    cluster = FakeCluster(FakeTime(), ["connect", "connect", "connect"])
    default = RetrySpec(num_retries=2, retry_on=("connect-failure",))
    response, info = _run(_route(retry=default), cluster)
    assert response.body == (
        b"upstream connect error or disconnect/reset before headers. retried and the latest "
        b"reset reason: remote connection failure"
    )
    assert info.details == "upstream_reset_before_response_started{remote_connection_failure}"
    cluster = FakeCluster(FakeTime(), ["reset"])
    response, _ = _run(_route(), cluster)
    assert response.body == (
        b"upstream connect error or disconnect/reset before headers. "
        b"reset reason: connection termination"
    )


def test_a_refused_connect_names_its_transport_failure() -> None:
    reason, transport = connect_failure_reasons("connect to 127.0.0.1:1 failed: Connection refused")
    reply = reset_before_headers("UF", reason, transport, retried=True)
    assert reply.body.endswith(
        "retried and the latest reset reason: remote connection failure, "
        "transport failure reason: delayed connect error: Connection refused"
    )
    assert reply.details == (
        "upstream_reset_before_response_started"
        "{remote_connection_failure|delayed_connect_error:_Connection_refused}"
    )
    assert connect_failure_reasons("connect to 127.0.0.1:1 timed out") == ("connection timeout", "")
