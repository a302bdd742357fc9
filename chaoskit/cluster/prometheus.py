"""A minimal client of Prometheus's HTTP API: instant queries (``GET /api/v1/query``).

Response shapes as Prometheus documents them (prometheus.io/docs/prometheus/latest/querying/api,
"Format overview" and "Instant vectors"; the same text is ``docs/querying/api.md`` in the
prometheus/prometheus repository): an envelope ``{"status": "success" | "error", "data": ...,
"errorType": ..., "error": ...}``; an instant query's ``data`` is ``{"resultType": "vector",
"result": [{"metric": {labels}, "value": [unix_time, "sample as a string"]}]}``. Errors that
reach the API answer 400 (bad parameters), 422 (cannot execute) or 503 (timed out or aborted)
with the envelope; anything before the API (a proxy, a wrong URL) may answer anything else.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import requests

from chaoskit.errors import BackendError

__all__ = ["Prometheus", "PrometheusError", "Sample", "check_window"]

# Prometheus's duration syntax (``[0-9]+[smhdwy]``, or several units in order such as 1h30m).
_WINDOW = re.compile(r"^(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?$")


class PrometheusError(BackendError):
    """Prometheus did not answer a query usefully (unreachable, an error, not its API)."""


@dataclass(frozen=True, slots=True)
class Sample:
    """One element of an instant vector: the series' labels and its value."""

    metric: dict[str, str]
    value: float


def check_window(window: str) -> str:
    """A range-vector window in Prometheus's duration syntax (``1h``, ``30m``, ``1h30m``)."""
    if not window or not _WINDOW.match(window):
        raise PrometheusError(
            f"--prometheus-window {window!r} is not a Prometheus duration; write e.g. 1h, 30m "
            "or 1h30m (units y, w, d, h, m, s, ms, largest first)"
        )
    return window


class Prometheus:
    def __init__(self, url: str, *, timeout_s: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s
        self.queries: list[str] = []  # every query sent, in order: the README lists them
        self._http = requests.Session()

    def close(self) -> None:
        self._http.close()

    def query(self, promql: str) -> list[Sample]:
        """Evaluate ``promql`` now; its instant vector (an empty one when nothing matched)."""
        self.queries.append(promql)
        endpoint = f"{self.url}/api/v1/query"
        try:
            response = self._http.get(endpoint, params={"query": promql}, timeout=self.timeout_s)
        except requests.RequestException as exc:
            raise PrometheusError(
                f"Prometheus at {self.url} did not answer ({type(exc).__name__}: {exc}); "
                "check the URL (e.g. http://prometheus.istio-system:9090, or a "
                "`kubectl port-forward` to it)"
            ) from None
        body = _json(response)
        if body is None:
            raise PrometheusError(
                f"{endpoint} answered HTTP {response.status_code} "
                f"({response.headers.get('Content-Type', 'no content type')}), not Prometheus's "
                "JSON API; check that the URL is Prometheus's own (no /graph, no UI proxy path)"
            )
        if body.get("status") != "success" or response.status_code >= 400:
            raise PrometheusError(
                f"Prometheus at {self.url} answered HTTP {response.status_code}, "
                f"{body.get('errorType') or 'error'}: {body.get('error') or 'no message'} "
                f"(query: {promql})"
            )
        data = body.get("data") or {}
        if data.get("resultType") != "vector":
            raise PrometheusError(
                f"Prometheus at {self.url} answered a {data.get('resultType')!r} to an instant "
                f"query, not a vector (query: {promql})"
            )
        return [_sample(item, promql) for item in data.get("result") or []]


def _json(response: requests.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) and "status" in body else None


def _sample(item: Any, promql: str) -> Sample:
    try:
        metric = {str(k): str(v) for k, v in (item.get("metric") or {}).items()}
        # Sample values are strings so that NaN and ±Inf survive JSON; float() reads them.
        value = float(item["value"][1])
    except (AttributeError, KeyError, IndexError, TypeError, ValueError):
        raise PrometheusError(
            f"a vector element is not {{metric, value: [time, string]}}: {item!r} (query: {promql})"
        ) from None
    return Sample(metric, value)


def finite(value: float) -> bool:
    """histogram_quantile answers NaN without samples and +Inf above the top bucket."""
    return not (math.isnan(value) or math.isinf(value))
