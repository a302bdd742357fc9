"""The admin endpoint of a proxy (Envoy's :15000): stats, clusters, config dump, logs.

Paths and text formats follow Envoy's admin interface, so ``chaoskit proxy-config`` and a
user's ``curl`` read it the way they read a real sidecar. ``/chaoskit/*`` paths are
chaoskit's own: the access log by sequence number, the outlier event log and the app's
run-time settings.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from chaoskit.mesh.apps.base import App, AppSettingsError
from chaoskit.mesh.codec import to_jsonable
from chaoskit.mesh.envoy_dump import config_dumps
from chaoskit.mesh.http.message import Headers, Request, Response
from chaoskit.mesh.http.server import ConnectionInfo
from chaoskit.mesh.proxy import Proxy

# Envoy's /stats?type= (Histograms and TextReadouts exist in Envoy; none are kept here).
STAT_TYPES = ("All", "Counters", "Gauges", "Histograms", "TextReadouts")
LOG_LEVELS = ("trace", "debug", "info", "warning", "error", "critical", "off")

BOOTSTRAP_DUMP = "type.googleapis.com/envoy.admin.v3.BootstrapConfigDump"


def _json(payload: Any, status: int = 200) -> Response:
    return Response(
        status, Headers([("content-type", "application/json")]), json.dumps(payload).encode()
    )


class Admin:
    def __init__(
        self,
        proxy: Proxy,
        app: App | None,
        started: float,
        stats_matcher: dict[str, Any] | None = None,
    ) -> None:
        self.proxy = proxy
        self.app = app
        self.started = started
        self.stats_matcher = stats_matcher or {}
        self._routes: dict[tuple[str, str], Callable[[dict[str, str], Request], Response]] = {
            ("GET", "/stats"): self.stats,
            ("GET", "/stats/prometheus"): self.prometheus,
            ("GET", "/clusters"): self.clusters,
            ("GET", "/config_dump"): self.config_dump,
            ("GET", "/ready"): self.ready,
            ("GET", "/server_info"): self.server_info,
            ("POST", "/reset_counters"): self.reset_counters,
            ("GET", "/logging"): self.logging,
            ("POST", "/logging"): self.logging,
            ("GET", "/chaoskit/access_log"): self.access_log,
            ("GET", "/chaoskit/outlier_events"): self.outlier_events,
            ("GET", "/chaoskit/app"): self.get_app,
            ("POST", "/chaoskit/app"): self.set_app,
        }

    async def handle(self, request: Request, info: ConnectionInfo) -> Response:
        handler = self._routes.get((request.method, request.path))
        if handler is None:
            if any(path == request.path for _, path in self._routes):
                return Response.text(405, "method not allowed\n")
            return Response.text(404, f"admin: no such path {request.path}\n")
        return handler(dict(parse_qsl(request.query, keep_blank_values=True)), request)

    # --- Envoy's paths -------------------------------------------------------------------

    def stats(self, query: dict[str, str], request: Request) -> Response:
        kind = query.get("type", "All")
        if kind not in STAT_TYPES:
            return Response.text(400, f"invalid type {kind!r}: one of {', '.join(STAT_TYPES)}\n")
        if query.get("format") == "json":
            stats = self.proxy.stats.items(kind)
            return _json({"stats": [{"name": k, "value": v} for k, v in stats]})
        try:
            return Response.text(200, self.proxy.stats.render(query.get("filter"), kind))
        except ValueError as exc:
            return Response.text(400, f"invalid filter: {exc}\n")

    def prometheus(self, query: dict[str, str], request: Request) -> Response:
        lines = []
        for name, value in self.proxy.stats.items():
            if name.startswith("cluster."):
                cluster, _, stat = name[len("cluster.") :].rpartition(".")
                metric = "envoy_cluster_" + stat.replace(".", "_")
                lines.append(f'{metric}{{cluster_name="{cluster}"}} {value}')
            else:
                lines.append(f"envoy_{name.replace('.', '_').replace('|', '_')} {value}")
        return Response.text(200, "\n".join(lines) + "\n")

    def clusters(self, query: dict[str, str], request: Request) -> Response:
        rows = {name: cluster.host_rows() for name, cluster in sorted(self.proxy.clusters.items())}
        if query.get("format") == "json":
            return _json(
                {
                    "cluster_statuses": [
                        {"name": name, "host_statuses": hosts} for name, hosts in rows.items()
                    ]
                }
            )
        lines: list[str] = []
        for name, hosts in rows.items():
            for host in hosts:
                prefix = f"{name}::{host['address']}::"
                lines += [
                    f"{prefix}cx_active::{host['cx_active']}",
                    f"{prefix}rq_active::{host['rq_active']}",
                    f"{prefix}rq_error::{host['rq_error']}",
                    f"{prefix}rq_success::{host['rq_success']}",
                    f"{prefix}rq_total::{host['rq_total']}",
                    f"{prefix}health_flags::{host['health_flags']}",
                    f"{prefix}weight::1",
                ]
        return Response.text(200, "\n".join(lines) + "\n")

    def config_dump(self, query: dict[str, str], request: Request) -> Response:
        if query.get("mask", "").startswith("bootstrap"):
            return _json(self._bootstrap_dump())
        snapshot = self.proxy.snapshot
        if snapshot is None:
            return _json({})
        # chaoskit's snapshot (what proxy-config reads), plus Envoy's "configs" envelope.
        return _json({**to_jsonable(snapshot), "configs": config_dumps(snapshot)})

    def _bootstrap_dump(self) -> dict[str, Any]:
        """Envoy's ``/config_dump?mask=bootstrap...``: the bootstrap's stats config (the only
        part of the bootstrap chaoskit models). Envoy applies the mask to every config type
        and lists them all; the embedded sidecar answers with the bootstrap alone."""
        stats_config = {"stats_matcher": self.stats_matcher} if self.stats_matcher else {}
        return {
            "configs": [
                {
                    "@type": BOOTSTRAP_DUMP,
                    "bootstrap": {"stats_config": stats_config},
                }
            ]
        }

    def ready(self, query: dict[str, str], request: Request) -> Response:
        if self.proxy.snapshot is None:
            return Response.text(503, "PRE_INITIALIZING\n")
        return Response.text(200, "LIVE\n")

    def server_info(self, query: dict[str, str], request: Request) -> Response:
        snapshot = self.proxy.snapshot
        return _json(
            {
                "version": "chaoskit-embedded-envoy",
                "state": "LIVE" if snapshot is not None else "PRE_INITIALIZING",
                "uptime_current_epoch": f"{int(time.time() - self.started)}s",
                "node": {
                    "id": self.proxy.identity.proxy_id,
                    "config_version": snapshot.version if snapshot else None,
                    "istio_version": snapshot.compat.istio_version if snapshot else None,
                },
            }
        )

    def reset_counters(self, query: dict[str, str], request: Request) -> Response:
        self.proxy.stats.reset_counters()
        return Response.text(200, "OK\n")

    def logging(self, query: dict[str, str], request: Request) -> Response:
        """Envoy's /logging: list loggers; POST ?level=L sets every logger's level."""
        level = query.get("level")
        if request.method == "POST" and level is not None:
            if level not in LOG_LEVELS:
                return Response.text(400, f"unknown level {level!r}; use {', '.join(LOG_LEVELS)}\n")
            self.proxy.log_level = level
        names = ("admin", "connection", "http", "pool", "router", "upstream")
        lines = "".join(f"  {name}: {self.proxy.log_level}\n" for name in names)
        return Response.text(200, "active loggers:\n" + lines)

    # --- chaoskit's paths -------------------------------------------------------------------

    def access_log(self, query: dict[str, str], request: Request) -> Response:
        since = int(query.get("since", "0") or 0)
        # fromTs: only records of requests started since then (a window's reader, pods/log's
        # sinceTime).
        raw_from = query.get("fromTs")
        try:
            from_ts = float(raw_from) if raw_from else None
        except ValueError:
            return _json({"error": f"fromTs must be a number of seconds, got {raw_from!r}"}, 400)
        log = self.proxy.access_log
        return _json({"last": log.last_seq, "records": log.since(since, from_ts=from_ts)})

    def outlier_events(self, query: dict[str, str], request: Request) -> Response:
        events = [
            event for cluster in self.proxy.clusters.values() for event in cluster.outlier_events()
        ]
        events.sort(key=lambda e: e.get("timestamp", 0))
        return _json({"events": events})

    def get_app(self, query: dict[str, str], request: Request) -> Response:
        if self.app is None:
            return _json({"error": "this proxy has no app"}, 404)
        return _json({"settings": self.app.settings()})

    def set_app(self, query: dict[str, str], request: Request) -> Response:
        if self.app is None:
            return _json({"error": "this proxy has no app"}, 404)
        try:
            settings = json.loads(request.body or b"{}")
            if not isinstance(settings, dict):
                raise AppSettingsError("settings must be a JSON object")
            self.app.configure(settings)
        except (ValueError, AppSettingsError) as exc:
            return _json({"error": str(exc)}, 400)
        return _json({"settings": self.app.settings()})
