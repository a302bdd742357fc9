"""A window of load (baseline, during fault, recovery) and the metrics read from it."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from chaoskit.assertions import JudgementSink, LatencyMetric, RateMetric
from chaoskit.errors import ConfigError
from chaoskit.load import LoadProfile, RequestRecord
from chaoskit.observe.ejections import EjectionTimeline
from chaoskit.stats import quantile

MAX_SERIES_POINTS = 300
# Per-name charts draw at most this many names (4 colours x 2 line styles), the rest merged.
MAX_SERIES_NAMES = 8
OTHER_NAMES = "(other names)"


@dataclass
class Window:
    """The requests of one load run, with ways to judge them.

    ``success_rate()``: replies below 500 (Bookinfo answers 200 with an error text when a
    dependency fails; ``share(text=...)`` counts those). ``latency(q)``: from each request's
    intended send time, so requests still in flight when the load stopped count too.
    """

    label: str
    records: list[RequestRecord]
    profile: LoadProfile
    start: float
    end: float
    markers: dict[str, int] = field(default_factory=dict)  # text -> bit in record.markers
    flags: dict[str, str] = field(default_factory=dict)  # request id -> gateway response flags
    sink: JudgementSink | None = None
    ejections: EjectionTimeline | None = None
    # What the config in force predicts for the share of pages with a text (None: no
    # prediction); set by the load driver, shown with a check that does not pass.
    expect_text: Callable[[str], Any] | None = None

    # --- counts ------------------------------------------------------------------------

    @property
    def n(self) -> int:
        return len(self.records)

    def __len__(self) -> int:
        return len(self.records)

    @property
    def ok(self) -> int:
        return sum(1 for r in self.records if r.ok)

    @property
    def throughput(self) -> float:
        """Answered requests per second over the whole window, start-up and drain included."""
        span = max(self.end - self.start, 1e-9)
        return sum(1 for r in self.records if r.status) / span

    def pacing(self) -> dict[str, float | None]:
        """The rate achieved over the load's schedule (``duration``), apart from start-up
        (window start to the first request) and drain (schedule end to window end): the
        whole-window throughput counts those as idle time, so a run that kept its offered
        rate reads lower than it was."""
        if not self.records:
            return {"scheduled_s": None, "achieved_rps": None, "startup_s": None, "drain_s": None}
        scheduled = max(self.profile.duration_s, 1e-9)
        first = min(r.intended for r in self.records)
        answered = sum(1 for r in self.records if r.status and r.intended < first + scheduled)
        return {
            "scheduled_s": scheduled,
            "achieved_rps": answered / scheduled,
            "startup_s": max(0.0, min(r.sent for r in self.records) - self.start),
            "drain_s": max(0.0, self.end - (first + scheduled)),
        }

    def _rate(self, hits: int, subject: str, trials: int | None = None) -> RateMetric:
        return RateMetric(
            hits, self.n if trials is None else trials, subject, self.label, self.sink
        )

    def success_rate(self) -> RateMetric:
        return self._rate(self.ok, "success rate")

    def error_rate(self) -> RateMetric:
        return self._rate(self.n - self.ok, "error rate")

    def share(
        self,
        *,
        text: str | None = None,
        version: str | None = None,
        status: int | None = None,
        flag: str | None = None,
        where: Callable[[RequestRecord], bool] | None = None,
        subject: str | None = None,
    ) -> RateMetric:
        """The share of requests with a body ``text``, a reviews ``version``, a ``status``,
        an Envoy response ``flag`` at the gateway, or any predicate ``where``.

        A ``text`` share is of the pages that answered (status below 500): a failed or
        unsent request has no page to show the text, and counting it would let "at most 1%
        of pages say ratings are unavailable" pass on a window of fast 5xx. A window with no
        answered page is therefore inconclusive, never a pass."""
        tests: list[Callable[[RequestRecord], bool]] = []
        names: list[str] = []
        if text is not None:
            if text not in self.markers:
                raise ConfigError(
                    f"the load did not look for {text!r}; pass look_for=[{text!r}] to load.run()"
                )
            bit = self.markers[text]
            tests.append(lambda r: r.ok and r.has_marker(bit))
            names.append(f"answered pages with {text!r}")
        if version is not None:
            tests.append(lambda r: r.version == version)
            names.append(f"version {version}")
        if status is not None:
            tests.append(lambda r: r.status == status)
            names.append(f"status {status}")
        if flag is not None:
            if not self.flags:
                # Flags come from the entry sidecar's access log (the gateway's, or the
                # in-mesh client's); without them every share would be a vacuous 0 %.
                raise ConfigError(
                    f"window {self.label!r} has no response flags: its entry sidecar logged "
                    "none of its requests; judge the callers' sidecar log instead: "
                    f"load.calls_to(window, service).share(flag={flag!r})"
                )
            tests.append(lambda r: flag in self.flags.get(r.request_id, "-").split(","))
            names.append(f"response flag {flag}")
        if where is not None:
            tests.append(where)
            names.append(getattr(where, "__name__", "matching"))
        if not tests:
            raise ConfigError("share() needs text=, version=, status=, flag= or where=")
        hits = sum(1 for r in self.records if all(t(r) for t in tests))
        trials = self.ok if text is not None else self.n
        metric = self._rate(hits, subject or "share of " + " and ".join(names), trials)
        if text is not None and len(tests) == 1 and self.expect_text is not None:
            # The share the routing in force predicts, e.g. a ratings fault reaches only
            # the pages of the reviews versions that call ratings.
            metric = replace(metric, expected=self.expect_text(text))
        return metric

    def sticky_share(self, key: Callable[[RequestRecord], object] | None = None) -> RateMetric:
        """The share of requests served by the pod that served most of their key's requests
        (by default: their virtual user), for consistent-hash stickiness."""
        group = key or (lambda r: r.user)
        by_key: dict[object, Counter[str | None]] = {}
        for record in self.records:
            if record.ok:
                by_key.setdefault(group(record), Counter())[record.pod] += 1
        hits = sum(c.most_common(1)[0][1] for c in by_key.values())
        total = sum(sum(c.values()) for c in by_key.values())
        return RateMetric(hits, total, "requests on their key's usual pod", self.label, self.sink)

    def latency(self, q: float = 0.99) -> LatencyMetric:
        values = [r.latency_s for r in self.records]
        return LatencyMetric(values, q, self.label, self.sink)

    def percentile(self, q: float) -> float:
        values = sorted(r.latency_s for r in self.records)
        return quantile(values, q) if values else math.nan

    def only(
        self,
        where: Callable[[RequestRecord], bool] | None = None,
        label: str | None = None,
        *,
        name: str | None = None,
        user_class: str | None = None,
    ) -> Window:
        """The same window restricted to some requests: those ``where`` keeps (e.g. one
        logged-in user), a user class's requests of one Locust ``name``, or those one of
        several ``user_class``es sent."""
        if where is None and name is None and user_class is None:
            raise ConfigError(
                "window.only() needs where= (a predicate), name= (a request name) or "
                "user_class= (a Locust user class)"
            )
        if name is not None and name not in self.names():
            known = ", ".join(repr(n) for n in self.names()) or "none (not a user-class load)"
            raise ConfigError(
                f"window {self.label!r} has no request named {name!r}; its names: {known}"
            )
        if user_class is not None and user_class not in self.user_classes():
            known = ", ".join(repr(n) for n in self.user_classes()) or "none"
            raise ConfigError(
                f"window {self.label!r} has no request from user class {user_class!r}; "
                f"its user classes: {known}"
            )
        kept = [
            r
            for r in self.records
            if (where is None or where(r))
            and (name is None or r.name == name)
            and (user_class is None or r.user_class == user_class)
        ]
        tags = [t for t in (user_class, name) if t is not None]
        default = f"{self.label} [{' '.join(tags)}]" if tags else self.label
        return replace(self, records=kept, label=label or default)

    def names(self) -> list[str]:
        """The Locust request names in this window, in order of first use."""
        return list(dict.fromkeys(r.name for r in self.records if r.name))

    def user_classes(self) -> list[str]:
        """The Locust user classes that sent this window's requests, in order of first use."""
        return list(dict.fromkeys(r.user_class for r in self.records if r.user_class))

    def by_name(self) -> dict[str, Window]:
        """One window per Locust request name (a user class's load), as Locust's own
        statistics table groups them: ``window.by_name()["checkout"].success_rate()``."""
        return {name: self.only(name=name) for name in self.names()}

    def while_ejected(self) -> Window:
        """The requests sent while the watched service had a host ejected (from the
        ejection timeline; ``load.run(watch_ejections=...)``): e.g. the error rate while
        outlier detection protects the callers. No ejection leaves it empty: inconclusive."""
        if self.ejections is None:
            raise ConfigError(
                f"window {self.label!r} watched no ejections; pass watch_ejections=SERVICE "
                "(and seen_from=SELECTOR) to load.run()"
            )
        periods = [
            (e.start, math.inf if e.end is None else e.end) for e in self.ejections.ejections
        ]
        return self.only(
            lambda r: any(start <= r.intended < end for start, end in periods),
            f"{self.label} (while ejected)",
        )

    def for_user(self, login: str | None) -> Window:
        return self.only(lambda r: r.login == login, f"{self.label} ({login or 'anonymous'})")

    # --- counts for the report -----------------------------------------------------------

    def statuses(self) -> dict[str, int]:
        return {str(k): v for k, v in sorted(Counter(r.status for r in self.records).items())}

    def versions(self) -> dict[str, int]:
        counts = Counter(r.version or "none" for r in self.records if r.status == 200)
        return dict(sorted(counts.items()))

    def response_flags(self) -> dict[str, int]:
        counts: Counter[str] = Counter()
        for record in self.records:
            for one in self.flags.get(record.request_id, "-").split(","):
                counts[one] += 1
        return dict(sorted(counts.items()))

    def summary(self) -> dict[str, Any]:
        values = sorted(r.latency_s for r in self.records)
        latency = {
            f"p{int(q * 100)}": (quantile(values, q) if values else None) for q in (0.5, 0.9, 0.99)
        }
        latency["max"] = values[-1] if values else None
        late = sum(1 for r in self.records if r.late_s > self.profile.late_threshold_s)
        return {
            "n": self.n,
            "ok": self.ok,
            "success_rate": self.ok / self.n if self.n else None,
            "throughput_rps": self.throughput,
            **self.pacing(),
            "latency_s": latency,
            "late": late,
            "statuses": self.statuses(),
            "flags": self.response_flags() if self.flags else {},
            "versions": self.versions(),
            **({"by_name": self._by_name_table()} if self.names() else {}),
            **({"by_class": self._by_class_table()} if len(self.user_classes()) > 1 else {}),
        }

    def _by_class_table(self) -> dict[str, dict[str, int]]:
        """Requests and failures per user class, when several shared the window."""
        counts: dict[str, dict[str, int]] = {}
        for record in self.records:
            row = counts.setdefault(record.user_class or "", {"n": 0, "failures": 0})
            row["n"] += 1
            row["failures"] += not record.ok
        return counts

    def _by_name_table(self) -> list[dict[str, Any]]:
        """Locust's statistics table per request name, with chaoskit's intervals left to the
        checks: method, name, requests, failures, median, p90, p99, max, bytes."""
        rows = []
        for name, part in self.by_name().items():
            values = sorted(r.latency_s for r in part.records)
            rows.append(
                {
                    "name": name,
                    "method": part.records[0].method if part.records else "",
                    "n": part.n,
                    "failures": part.n - part.ok,
                    "p50": quantile(values, 0.5) if values else None,
                    "p90": quantile(values, 0.9) if values else None,
                    "p99": quantile(values, 0.99) if values else None,
                    "max": values[-1] if values else None,
                    "bytes_avg": sum(r.bytes for r in part.records) / part.n if part.n else None,
                }
            )
        return rows

    def series(self, max_points: int = MAX_SERIES_POINTS) -> list[dict[str, Any]]:
        """Per-second points (wider buckets for long windows) of count, errors, p50, p99."""
        return self._series(self.records, max_points)

    def series_by_name(
        self, max_names: int = MAX_SERIES_NAMES, max_points: int = MAX_SERIES_POINTS // 3
    ) -> dict[str, list[dict[str, Any]]]:
        """The same points per Locust request name, for the report's per-name charts: the
        ``max_names`` busiest names, the rest together as ``(other names)``."""
        counts = Counter(r.name for r in self.records if r.name)
        if not counts:
            return {}
        kept = [name for name, _ in counts.most_common(max_names)]
        groups: dict[str, list[RequestRecord]] = {name: [] for name in kept}
        for record in self.records:
            if record.name:  # unnamed: dropped before it was sent (max_in_flight)
                key = record.name if record.name in groups else OTHER_NAMES
                groups.setdefault(key, []).append(record)
        return {name: self._series(group, max_points) for name, group in groups.items()}

    def _series(self, records: list[RequestRecord], max_points: int) -> list[dict[str, Any]]:
        if not records:
            return []
        span = max(self.end - self.start, 1.0)
        step = max(1.0, math.ceil(span / max_points))
        buckets: dict[int, list[RequestRecord]] = {}
        for record in records:
            buckets.setdefault(int((record.intended - self.start) // step), []).append(record)
        points = []
        for index in sorted(buckets):
            group = buckets[index]
            values = sorted(r.latency_s for r in group)
            points.append(
                {
                    "t": self.start + index * step,
                    "n": len(group),
                    "errors": sum(1 for r in group if not r.ok),
                    "p50": quantile(values, 0.5),
                    "p99": quantile(values, 0.99),
                }
            )
        return points

    def to_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "start": self.start,
            "end": self.end,
            "load": self.profile.describe(),
            "summary": self.summary(),
            "series": self.series(),
            **({"series_by_name": self.series_by_name()} if self.names() else {}),
        }

    def __repr__(self) -> str:
        return f"<Window {self.label!r} n={self.n} ok={self.ok}>"
