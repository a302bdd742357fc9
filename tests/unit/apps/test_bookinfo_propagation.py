"""Header propagation: what productpage and reviews copy onto their upstream calls."""

from __future__ import annotations

from chaoskit.mesh.apps.bookinfo.b3 import reinjected_b3
from chaoskit.mesh.http.message import Headers
from tests.unit.apps.bookinfo_world import World, get

COPIED_BY_PRODUCTPAGE = {
    "x-request-id": "7d1a-req",
    "x-ot-span-context": "ot",
    "x-datadog-trace-id": "11",
    "x-datadog-parent-id": "12",
    "x-datadog-sampling-priority": "1",
    "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    "tracestate": "vendor=1",
    "x-cloud-trace-context": "105445aa7843bc8bf206b12000100000/1;o=1",
    "grpc-trace-bin": "AAA",
    "sw8": "1-abc",
    "user-agent": "Mozilla/5.0",
    "authorization": "Bearer t",
    "jwt": "j",
}
TRACE_ID = "463ac35c9f6413ad"
SPAN_ID = "a2fb4a1d1a96d312"


def test_productpage_copies_its_list_to_details_and_reviews() -> None:
    """productpage.py getForwardHeaders incoming_headers (istio-semantics §5.1)."""
    world = World()
    world.page(cookie="theme=dark", headers={**COPIED_BY_PRODUCTPAGE, "x-custom": "no"})
    for service in ("details", "reviews"):
        sent = world.called(service)[0].headers
        for name, value in COPIED_BY_PRODUCTPAGE.items():
            assert sent.get(name) == value, (service, name)
        assert sent.get("cookie") == "theme=dark"
        assert sent.get("x-custom") is None


def test_productpage_re_injects_b3_rather_than_copying_it() -> None:
    """productpage.py: B3MultiFormat extract + inject (OpenTelemetry): trace id padded to
    128 bits, same span id, sampled kept; parent span id and flags are not forwarded."""
    world = World()
    world.page(
        headers={
            "x-b3-traceid": TRACE_ID,
            "x-b3-spanid": SPAN_ID,
            "x-b3-parentspanid": "0020000000000001",
            "x-b3-sampled": "1",
            "x-b3-flags": "1",
        }
    )
    sent = world.called("reviews")[0].headers
    assert sent.get("x-b3-traceid") == "0000000000000000" + TRACE_ID
    assert sent.get("x-b3-spanid") == SPAN_ID
    assert sent.get("x-b3-sampled") == "1"
    assert sent.get("x-b3-parentspanid") is None
    assert sent.get("x-b3-flags") is None


def test_b3_extraction_rules() -> None:
    """opentelemetry-propagator-b3 B3MultiFormat: the single b3 header wins and becomes
    multi-headers; flags=1 means sampled; invalid ids give no B3 headers at all."""
    single = reinjected_b3(Headers([("b3", f"{TRACE_ID}-{SPAN_ID}-0-0020000000000001")]))
    assert dict(single) == {
        "x-b3-traceid": "0000000000000000" + TRACE_ID,
        "x-b3-spanid": SPAN_ID,
        "x-b3-sampled": "0",
    }
    deferred = reinjected_b3(Headers([("b3", f"{TRACE_ID}-{SPAN_ID}")]))
    assert dict(deferred)["x-b3-sampled"] == "1"
    debug = Headers([("x-b3-traceid", TRACE_ID), ("x-b3-spanid", SPAN_ID), ("x-b3-flags", "1")])
    assert dict(reinjected_b3(debug))["x-b3-sampled"] == "1"
    unsampled = Headers([("x-b3-traceid", TRACE_ID), ("x-b3-spanid", SPAN_ID)])
    assert dict(reinjected_b3(unsampled))["x-b3-sampled"] == "0"
    assert reinjected_b3(Headers([("x-b3-traceid", "xyz"), ("x-b3-spanid", SPAN_ID)])) == []
    assert reinjected_b3(Headers([("b3", "1")])) == []  # sampling state only
    assert reinjected_b3(Headers()) == []


def test_reviews_copies_its_list_to_ratings_b3_included() -> None:
    """LibertyRestEndpoint.java headers_to_propagate: verbatim, end-user and all x-b3-*."""
    world = World()
    world.page(
        cookie="a=b",
        headers={
            **COPIED_BY_PRODUCTPAGE,
            "x-b3-traceid": TRACE_ID,
            "x-b3-spanid": SPAN_ID,
            "x-b3-sampled": "1",
        },
    )
    from_productpage = world.called("reviews")[0].headers
    to_ratings = world.called("ratings")[0].headers
    names = [*COPIED_BY_PRODUCTPAGE, "cookie", "x-b3-traceid", "x-b3-spanid", "x-b3-sampled"]
    for name in names:
        assert to_ratings.get(name) == from_productpage.get(name), name
    assert to_ratings.get("accept") == "application/json"  # request(APPLICATION_JSON)


def test_reviews_passes_parent_span_and_flags_it_receives() -> None:
    """LibertyRestEndpoint.java lists x-b3-parentspanid and x-b3-flags (productpage does not)."""
    world = World()
    incoming = {
        "x-b3-parentspanid": "0020000000000001",
        "x-b3-flags": "1",
        "end-user": "jason",
        "x-custom": "dropped",
    }
    assert get(world.reviews, "/reviews/0", headers=incoming).status == 200
    sent = world.called("ratings")[0].headers
    assert sent.get("x-b3-parentspanid") == "0020000000000001"
    assert sent.get("x-b3-flags") == "1"
    assert sent.get("end-user") == "jason"
    assert sent.get("x-custom") is None


def test_productpage_sends_python_requests_defaults_when_the_client_did_not() -> None:
    """productpage uses python-requests 2.32.3 (requirements.txt): its own User-Agent unless
    the incoming one is forwarded."""
    world = World()
    world.page()
    assert world.called("details")[0].headers.get("user-agent") == "python-requests/2.32.3"
    world.page(headers={"user-agent": "curl/8.5.0"})
    assert world.called("details")[1].headers.get("user-agent") == "curl/8.5.0"
