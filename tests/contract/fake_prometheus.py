"""A loopback Prometheus that answers instant queries (``GET /api/v1/query``) over Istio's
standard metrics, for ``chaoskit mesh snapshot --prometheus`` tests.

Response shapes from Prometheus's HTTP API documentation (prometheus.io/docs/prometheus/
latest/querying/api; the same text is ``docs/querying/api.md`` in prometheus/prometheus):
the envelope ``{"status", "data", "errorType", "error"}``, ``data.resultType: "vector"``,
``result[].metric`` (the series' labels) and ``result[].value: [unix time, "value"]`` (the
value a string, ``"NaN"``/``"+Inf"`` included); errors answer 400/422/503 with
``status: "error"``. Labels are Istio's (istio.io, "Istio Standard Metrics").

It evaluates only the two query shapes the snapshot sends, from series it holds:
``histogram_quantile(q, sum by (..., le) (rate(istio_request_duration_milliseconds_bucket
{reporter="destination"}[W])))`` answers the quantile a test gave per destination workload,
and ``sum by (labels) (rate(istio_requests_total{reporter="destination"}[W]))`` sums the
request rates it holds by those labels. Anything else is a 400 ``bad_data``, as Prometheus
answers a query it cannot parse.
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

JsonObject = dict[str, Any]
_QUANTILE = re.compile(
    r"^histogram_quantile\(([0-9.]+), sum by \(([^)]*)\) "
    r'\(rate\(istio_request_duration_milliseconds_bucket\{reporter="destination"\}'
    r"\[(\w+)\]\)\)\)$"
)
_SUM = re.compile(
    r"^sum by \(([^)]*)\) "
    r'\(rate\(istio_requests_total\{reporter="destination"\}\[(\w+)\]\)\)$'
)


def prometheus_value(value: float) -> str:
    """A sample value as Prometheus writes it (Go's strconv, 'f', -1; NaN, +Inf)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


@dataclass
class Requests:
    """A request rate (per second) between two workloads, as Istio labels it."""

    source: tuple[str, str]  # (namespace, workload); ("unknown", "unknown") from outside
    destination: tuple[str, str]
    service: tuple[str, str]  # destination_service_namespace, destination_service_name
    code: str
    rate: float

    def labels(self) -> dict[str, str]:
        return {
            "reporter": "destination",
            "source_workload_namespace": self.source[0],
            "source_workload": self.source[1],
            "destination_workload_namespace": self.destination[0],
            "destination_workload": self.destination[1],
            "destination_service_namespace": self.service[0],
            "destination_service_name": self.service[1],
            "destination_service": f"{self.service[1]}.{self.service[0]}.svc.cluster.local",
            "response_code": self.code,
        }


@dataclass
class FakePrometheus:
    # (namespace, workload) -> {quantile: milliseconds}
    latency: dict[tuple[str, str], dict[float, float]] = field(default_factory=dict)
    requests: list[Requests] = field(default_factory=list)
    # an answer for every query instead: (HTTP status, body bytes, content type)
    broken: tuple[int, bytes, str] | None = None
    queries: list[str] = field(default_factory=list)
    url: str = ""

    def start(self) -> FakePrometheus:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                code, body, kind = owner.answer(self.path)
                self.send_response(code)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def answer(self, raw_path: str) -> tuple[int, bytes, str]:
        url = urlparse(raw_path)
        if url.path != "/api/v1/query":
            return 404, b"404 page not found\n", "text/plain; charset=utf-8"
        query = (parse_qs(url.query).get("query") or [""])[0]
        self.queries.append(query)
        if self.broken is not None:
            return self.broken
        result = self.evaluate(query)
        if result is None:
            return _json(
                400,
                {
                    "status": "error",
                    "errorType": "bad_data",
                    "error": f'invalid parameter "query": the fake cannot parse {query!r}',
                },
            )
        now = round(time.time(), 3)
        vector = [{"metric": m, "value": [now, prometheus_value(v)]} for m, v in result]
        return _json(200, {"status": "success", "data": {"resultType": "vector", "result": vector}})

    def evaluate(self, query: str) -> list[tuple[dict[str, str], float]] | None:
        if match := _QUANTILE.match(query):
            quantile, labels = float(match.group(1)), _labels(match.group(2))
            if labels != [
                "destination_workload_namespace",
                "destination_workload",
                "le",
            ]:
                return None
            return [
                (
                    {"destination_workload_namespace": ns, "destination_workload": name},
                    by_quantile[quantile],
                )
                for (ns, name), by_quantile in sorted(self.latency.items())
                if quantile in by_quantile
            ]
        if match := _SUM.match(query):
            labels = _labels(match.group(1))
            sums: dict[tuple[str, ...], float] = {}
            for series in self.requests:
                every = series.labels()
                key = tuple(every.get(label, "") for label in labels)
                sums[key] = sums.get(key, 0.0) + series.rate
            return [(dict(zip(labels, key, strict=True)), v) for key, v in sorted(sums.items())]
        return None


def _labels(text: str) -> list[str]:
    return [label.strip() for label in text.split(",") if label.strip()]


def _json(status: int, body: JsonObject) -> tuple[int, bytes, str]:
    return status, json.dumps(body).encode(), "application/json"
