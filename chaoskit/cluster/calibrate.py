"""Calibrate the twin's generic apps from Istio's standard metrics in Prometheus.

Istio's sidecars export ``istio_requests_total`` (a counter with ``response_code``,
``source_workload``, ``destination_workload``, their ``*_namespace`` and ``reporter``) and
``istio_request_duration_milliseconds`` (a histogram with the same labels) (istio.io,
"Istio Standard Metrics"). From them, per workload the snapshot copies:

- ``latency``: quantiles p50, p90, p99 of ``histogram_quantile`` over the destination
  sidecar's histogram (``reporter="destination"``: what the server side measured);
- ``errorCodes``: each 4xx/5xx code's share of the requests the workload answered;
- ``calls``: every workload it called on at least half of its requests, by the Service that
  selects the called workload (host and first port).

Approximations, said in the twin's README too:

- Metrics are rates over a window (``--prometheus-window``, default 1h) ending now.
- A workload's measured latency includes the time it waited for its callees. The twin's
  echo adds its own latency to its calls' (in parallel: the slowest one), so each quantile
  is reduced by the slowest callee's same quantile, never below a tenth of the measured
  value. Quantiles do not subtract exactly; this keeps the caller's end-to-end quantiles
  near the measured ones instead of counting the callees twice.
- The order of calls is not in the metrics: calls are made in parallel (``callMode``).
- Response code 0 (the client went away before an answer, Envoy's ``-`` code) is left out.
- Every series is the destination sidecar's, so a workload without a sidecar is neither
  calibrated nor seen as a callee.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from chaoskit.cluster.prometheus import Prometheus, PrometheusError, Sample, finite

__all__ = ["Calibration", "QUANTILES", "calibrate"]

JsonObject = dict[str, Any]
WorkloadKey = tuple[str, str]  # (namespace, name)
QUANTILES = (("p50", 0.5), ("p90", 0.9), ("p99", 0.99))
MIN_CALL_SHARE = 0.5  # an edge taken on fewer requests than this is not a call per request
SELF_LATENCY_FLOOR = 0.1  # of the measured quantile, after taking the callees' off
BY_DESTINATION = "destination_workload_namespace, destination_workload"
EDGE_LABELS = (
    "source_workload_namespace, source_workload, destination_workload_namespace, "
    "destination_workload, destination_service_namespace, destination_service_name"
)


@dataclass
class Calibration:
    """Settings per workload, and what was calibrated from which query."""

    window: str
    settings: dict[WorkloadKey, JsonObject] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)  # "latency of N workloads: query"
    notes: list[str] = field(default_factory=list)  # edges left out, quantiles not usable


def latency_query(quantile: float, window: str) -> str:
    return (
        f"histogram_quantile({quantile}, sum by ({BY_DESTINATION}, le) "
        f'(rate(istio_request_duration_milliseconds_bucket{{reporter="destination"}}[{window}])))'
    )


def codes_query(window: str) -> str:
    return (
        f"sum by ({BY_DESTINATION}, response_code) "
        f'(rate(istio_requests_total{{reporter="destination"}}[{window}]))'
    )


def edges_query(window: str) -> str:
    return (
        f'sum by ({EDGE_LABELS}) (rate(istio_requests_total{{reporter="destination"}}[{window}]))'
    )


def _destination(sample: Sample) -> WorkloadKey:
    m = sample.metric
    return m.get("destination_workload_namespace", ""), m.get("destination_workload", "")


def calibrate(
    prometheus: Prometheus,
    services: list[JsonObject],
    workloads: list[JsonObject],
    window: str,
) -> Calibration:
    """Query Prometheus and build each echo workload's ``latency``, ``errorCodes`` and
    ``calls``. Raises :class:`PrometheusError` when Prometheus does not answer usefully."""
    known = {(w["metadata"]["namespace"], w["metadata"]["name"]): w for w in workloads}
    result = Calibration(window)

    codes = prometheus.query(codes_query(window))
    if not codes:
        raise_no_metrics(prometheus, window)
    served: dict[WorkloadKey, float] = defaultdict(float)
    by_code: dict[WorkloadKey, dict[str, float]] = defaultdict(dict)
    for sample in codes:
        key = _destination(sample)
        if key not in known or not finite(sample.value):
            continue
        served[key] += sample.value
        code = sample.metric.get("response_code", "")
        by_code[key][code] = by_code[key].get(code, 0.0) + sample.value
    if not served:
        result.notes.append(
            "Prometheus has Istio request metrics, but none for a workload read here "
            "(destination_workload and its namespace name none of them)"
        )

    measured: dict[WorkloadKey, dict[str, float]] = defaultdict(dict)
    for name, quantile in QUANTILES:
        query = latency_query(quantile, window)
        for sample in prometheus.query(query):
            key = _destination(sample)
            if key not in known:
                continue
            if finite(sample.value):
                measured[key][name] = sample.value
            else:
                result.notes.append(
                    f"{key[0]}/{key[1]}: {name} is {sample.value} (no samples, or above the "
                    "top bucket); left at the default"
                )
    calls = _calls(prometheus.query(edges_query(window)), known, served, services, result)

    for key in known:
        settings: JsonObject = {}
        errors = _error_codes(by_code.get(key, {}), served.get(key, 0.0))
        if errors:
            settings["errorCodes"] = errors
        latency = _self_latency(measured.get(key, {}), calls.get(key, []), measured)
        if latency:
            settings["latency"] = {"distribution": "quantiles", **latency}
        if calls.get(key):
            settings["calls"] = [{"host": host, "port": port} for host, port, _ in calls[key]]
            settings["callMode"] = "parallel"
        if settings:
            result.settings[key] = settings
    count = {
        k: sum(1 for s in result.settings.values() if k in s)
        for k in ("latency", "errorCodes", "calls")
    }
    result.sources = [
        f"latency of {count['latency']} workload(s): "
        + "; ".join(latency_query(q, window) for _, q in QUANTILES),
        f"errorCodes of {count['errorCodes']} workload(s): {codes_query(window)}",
        f"calls of {count['calls']} workload(s): {edges_query(window)}",
    ]
    return result


def raise_no_metrics(prometheus: Prometheus, window: str) -> None:
    raise PrometheusError(
        f"Prometheus at {prometheus.url} has no istio_requests_total reported by a "
        f"destination sidecar in the last {window}: is it scraping Istio's sidecars, and did "
        "the workloads get traffic in that window? (try a longer --prometheus-window)"
    )


def _error_codes(codes: dict[str, float], total: float) -> dict[str, float]:
    if total <= 0:
        return {}
    shares = {}
    for code, rate in sorted(codes.items()):
        if code.isdigit() and int(code) >= 400:
            share = round(rate / total, 4)
            if share > 0:
                shares[code] = share
    return shares


Call = tuple[str, int, WorkloadKey]  # host, port, the called workload


def _calls(
    edges: list[Sample],
    known: dict[WorkloadKey, JsonObject],
    served: dict[WorkloadKey, float],
    services: list[JsonObject],
    result: Calibration,
) -> dict[WorkloadKey, list[Call]]:
    found: dict[WorkloadKey, list[Call]] = defaultdict(list)
    for sample in sorted(edges, key=lambda s: sorted(s.metric.items())):
        m = sample.metric
        source = (m.get("source_workload_namespace", ""), m.get("source_workload", ""))
        target = _destination(sample)
        if source not in known or target not in known or not finite(sample.value):
            continue  # from outside the mesh, the ingress gateway, or a workload not read
        where = f"{source[0]}/{source[1]} -> {target[0]}/{target[1]}"
        if not served.get(source):
            result.notes.append(
                f"{where}: the caller answered no requests in the window (a client or a job), "
                "so its calls are not made per request; left out"
            )
            continue
        share = sample.value / served[source]
        if share < MIN_CALL_SHARE:
            result.notes.append(
                f"{where}: called on {share:.0%} of its requests, under "
                f"{MIN_CALL_SHARE:.0%}; not a call per request, left out"
            )
            continue
        service = _service_for(m, known[target], services)
        if service is None:
            result.notes.append(f"{where}: no Service read selects the callee; left out")
            continue
        meta = service["metadata"]
        host = f"{meta['name']}.{meta['namespace']}.svc.cluster.local"
        port = int(service["spec"]["ports"][0]["port"])
        if any(h == host for h, _, _ in found[source]):
            continue
        if share > 1.5:
            result.notes.append(f"{where}: about {share:.1f} calls per request; the twin makes one")
        found[source].append((host, port, target))
    return found


def _service_for(
    metric: dict[str, str], workload: JsonObject, services: list[JsonObject]
) -> JsonObject | None:
    """The Service Istio named (``destination_service_*``), else the first that selects
    the workload's pods."""
    named = (metric.get("destination_service_namespace"), metric.get("destination_service_name"))
    for service in services:
        if (service["metadata"]["namespace"], service["metadata"]["name"]) == named:
            return service
    namespace = workload["metadata"]["namespace"]
    labels = (workload.get("spec", {}).get("template", {}).get("metadata", {})).get("labels") or {}
    for service in sorted(services, key=lambda s: str(s["metadata"]["name"])):
        selector = service.get("spec", {}).get("selector") or {}
        if service["metadata"]["namespace"] == namespace and selector.items() <= labels.items():
            return service
    return None


def _self_latency(
    own: dict[str, float], calls: list[Call], measured: dict[WorkloadKey, dict[str, float]]
) -> dict[str, str]:
    latency: dict[str, str] = {}
    floor_so_far = 0.0
    for name, _ in QUANTILES:
        if name not in own:
            continue
        callees = [measured.get(target, {}).get(name, 0.0) for _, _, target in calls]
        value = max(own[name] - max(callees, default=0.0), own[name] * SELF_LATENCY_FLOOR)
        value = max(value, floor_so_far)  # quantiles never decrease
        floor_so_far = value
        latency[name] = milliseconds(value)
    return latency


def milliseconds(value: float) -> str:
    """A duration the mesh spec reads: at most three decimals of a millisecond."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return f"{text or '0'}ms"
