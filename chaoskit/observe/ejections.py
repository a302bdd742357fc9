"""The outlier-ejection timeline, sampled from client sidecars' ``/clusters``.

Envoy marks an ejected host ``health_flags::/failed_outlier_check`` in ``/clusters``; sampling
it every ``interval`` seconds gives when each host left and came back, seen from one caller
(each Envoy ejects on its own: outlier detection is per client proxy).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chaoskit.assertions import JudgementSink
from chaoskit.assertions.checks import exact
from chaoskit.stats import Unit

EJECTED_FLAG = "failed_outlier_check"


@dataclass
class Ejection:
    observer: str
    cluster: str
    host: str
    start: float
    end: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "observer": self.observer,
            "cluster": self.cluster,
            "host": self.host,
            "start": self.start,
            "end": self.end,
        }


def ejected_hosts(clusters_text: str, cluster_filter: str = "") -> set[tuple[str, str]]:
    """``(cluster, host)`` pairs flagged as outlier-ejected in a ``/clusters`` dump."""
    found = set()
    for line in clusters_text.splitlines():
        parts = line.split("::")
        ejected = len(parts) >= 4 and parts[2] == "health_flags" and EJECTED_FLAG in parts[3]
        if ejected and cluster_filter in parts[0]:
            found.add((parts[0], parts[1]))
    return found


def cluster_hosts(clusters_text: str, cluster_filter: str) -> set[str]:
    """The hosts of the matching clusters. Envoy also writes per-cluster lines
    (``cluster::outlier::...``, ``cluster::default_priority::...``, ``added_via_api``) in the
    same shape; only a host has a ``health_flags`` line (envoy
    source/server/admin/clusters_handler.cc; tests/data/upstream/envoy/clusters.txt)."""
    hosts = set()
    for line in clusters_text.splitlines():
        parts = line.split("::")
        if len(parts) >= 4 and parts[2] == "health_flags" and cluster_filter in parts[0]:
            hosts.add(parts[1])
    return hosts


ENFORCED_TOTAL = "outlier_detection.ejections_enforced_total"


def enforced_totals(stats_text: str) -> dict[str, int]:
    """``cluster -> ejections_enforced_total`` from Envoy's plain-text ``/stats``."""
    totals = {}
    for line in stats_text.splitlines():
        name, _, value = line.partition(": ")
        if name.endswith("." + ENFORCED_TOTAL) and name.startswith("cluster."):
            cluster = name[len("cluster.") : -len(ENFORCED_TOTAL) - 1]
            totals[cluster] = int(value or 0)
    return totals


class EjectionSampler:
    """Samples ``/clusters`` of some observers in a background thread while load runs.

    Under load a host that comes back after baseEjectionTime and still fails is ejected
    again within milliseconds, faster than any sampling sees. So each sample also reads the
    cluster's ``ejections_enforced_total``: a rise while the host stayed ejected means it
    returned and was ejected again in between, and the timeline splits there.
    """

    def __init__(
        self,
        read_clusters: Callable[[str], str],
        observers: list[str],
        cluster_filter: str = "",
        interval_s: float = 0.05,
        read_stats: Callable[[str], str] | None = None,
    ) -> None:
        self.read = read_clusters
        self.read_stats = read_stats
        self._totals: dict[tuple[str, str], int] = {}
        self._last_sample: dict[str, float] = {}
        self.observers = observers
        self.cluster_filter = cluster_filter
        self.interval_s = interval_s
        self.ejections: list[Ejection] = []
        self.hosts: dict[str, set[str]] = {}
        self.samples = 0
        # The timeline's resolution: an event between two rounds is stamped with the
        # later round's start, and each observer is read some time into its round.
        self.longest_gap_s = 0.0
        self.longest_round_s = 0.0
        self._previous_round: float | None = None
        self._open: dict[tuple[str, str, str], Ejection] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ejection-sampler", daemon=True)

    def __enter__(self) -> EjectionSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> list[Ejection]:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        return self.ejections

    @property
    def resolution_s(self) -> float:
        """How far a stamped start or end can be from the true moment: the longest gap
        between two rounds plus the longest round (the default interval before any)."""
        return max(self.longest_gap_s, self.interval_s) + self.longest_round_s

    def sample_once(self) -> None:
        now = time.time()
        if self._previous_round is not None:
            self.longest_gap_s = max(self.longest_gap_s, now - self._previous_round)
        self._previous_round = now
        self._sample_round(now)
        self.longest_round_s = max(self.longest_round_s, time.time() - now)

    def _sample_round(self, now: float) -> None:
        for observer in self.observers:
            try:
                text = self.read(observer)
            except Exception:  # a restarting pod: skip this sample, not the timeline
                continue
            self.hosts.setdefault(observer, set()).update(cluster_hosts(text, self.cluster_filter))
            current = ejected_hosts(text, self.cluster_filter)
            self._split_reejections(observer, current, now)
            for cluster, host in current:
                key = (observer, cluster, host)
                if key not in self._open:
                    ejection = Ejection(observer, cluster, host, now)
                    self._open[key] = ejection
                    self.ejections.append(ejection)
            for key in [k for k in self._open if k[0] == observer and k[1:] not in current]:
                self._open.pop(key).end = now
        self.samples += 1

    def _split_reejections(self, observer: str, current: set[tuple[str, str]], now: float) -> None:
        if self.read_stats is None:
            return
        try:
            totals = enforced_totals(self.read_stats(observer))
        except Exception:
            return
        previous_sample = self._last_sample.get(observer, now)
        self._last_sample[observer] = now
        for cluster, total in totals.items():
            key = (observer, cluster)
            rise = total - self._totals.get(key, total)
            self._totals[key] = total
            still = [
                k for k in self._open if k[0] == observer and k[1] == cluster and k[1:] in current
            ]
            if rise > 0 and len(still) == 1:
                # Returned and ejected again between two samples: split at the midpoint.
                moment = (previous_sample + now) / 2
                old = self._open.pop(still[0])
                old.end = moment
                fresh = Ejection(observer, cluster, old.host, moment)
                self._open[still[0]] = fresh
                self.ejections.append(fresh)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample_once()
            self._stop.wait(self.interval_s)
        self.sample_once()


@dataclass
class EjectionTimeline:
    """What the sampler saw, with the questions experiments ask of it."""

    ejections: list[Ejection]
    hosts: dict[str, set[str]]
    started: float
    window: str = ""
    sink: JudgementSink | None = None
    resolution_s: float = 0.05  # the sampler's: how far a stamped start or end may be off

    def first_ejection_after(self, moment: float) -> float | None:
        starts = [e.start for e in self.ejections if e.start >= moment - 0.2]
        return min(starts) - moment if starts else None

    def max_concurrent(self) -> int:
        """The most hosts one observer had ejected at the same time."""
        events: list[tuple[float, int, str]] = []
        for e in self.ejections:
            events.append((e.start, 1, e.observer))
            events.append((e.end if e.end is not None else float("inf"), -1, e.observer))
        best: dict[str, int] = {}
        current: dict[str, int] = {}
        for _, step, observer in sorted(events, key=lambda x: (x[0], x[1])):
            current[observer] = current.get(observer, 0) + step
            best[observer] = max(best.get(observer, 0), current[observer])
        return max(best.values(), default=0)

    def returned(self) -> list[Ejection]:
        return [e for e in self.ejections if e.end is not None]

    def watched(self) -> int:
        """How many hosts the sampler saw in the observers' ``/clusters``: the checks' n
        (none seen means nothing was watched, so nothing can be judged)."""
        seen = {h for hosts in self.hosts.values() for h in hosts}
        return len(seen | {e.host for e in self.ejections})

    def _check(
        self,
        subject: str,
        observed: float | None,
        relation: str,
        threshold: float,
        unit: Unit,
        reason: str,
        n: int | None = None,
    ) -> None:
        exact(
            subject,
            observed,
            relation,
            threshold,
            self.watched() if n is None else n,
            window=self.window,
            sink=self.sink,
            unit=unit,
            reason=reason,
        )

    def assert_ejected_within(self, moment: float, seconds: float) -> float | None:
        """Some host was ejected within ``seconds`` of ``moment`` (e.g. the window's start)."""
        delay = self.first_ejection_after(moment)
        reason = "no host was ejected" if delay is None else ""
        self._check("time to the first outlier ejection", delay, "≤", seconds, "seconds", reason)
        return delay

    def assert_at_most_ejected(self, count: int) -> None:
        """No observer had more than ``count`` hosts ejected at once (maxEjectionPercent)."""
        reason = f"maxEjectionPercent allows {count}"
        self._check(
            "most hosts ejected at once", self.max_concurrent(), "≤", count, "count", reason
        )

    def assert_at_least_ejected(self, count: int) -> None:
        """Some observer had ``count`` hosts ejected at once: the cap was reached, so a
        limit of ``count`` is what kept any more in."""
        self._check("most hosts ejected at once", self.max_concurrent(), "≥", count, "count", "")

    def assert_returned_after(self, base_ejection_s: float, interval_s: float) -> None:
        """Every ejection that ended lasted at least baseEjectionTime, and at most that
        plus one outlier ``interval``.

        Envoy returns a host on the first interval tick at which it has been out for
        ``baseEjectionTime × times ejected`` (``DetectorImpl::checkHostForUneject``,
        source/common/upstream/outlier_detection_impl.cc in envoyproxy/envoy), so a first
        ejection truly lasts between ``base`` and ``base + interval``. The sampler stamps
        each start and end up to one resolution off (:attr:`EjectionSampler.resolution_s`,
        measured during this window), so an observed length may differ from the true one
        by that much either way: that is the margin on both sides, not a constant.
        """
        lasted = [e.end - e.start for e in self.returned() if e.end is not None]
        base = f"baseEjectionTime {base_ejection_s:g}s, sampled every ≤{self.resolution_s:.2g}s"
        if not lasted:
            self._check(
                "ejected hosts that came back", 0, "≥", 1, "count", "no ejected host came back"
            )
            return
        n = len(lasted)  # the ejections judged
        low = base_ejection_s - self.resolution_s
        high = base_ejection_s + interval_s + self.resolution_s
        self._check("shortest ejection", min(lasted), "≥", low, "seconds", base, n)
        self._check("longest ejection", max(lasted), "≤", high, "seconds", base, n)

    def to_json(self) -> list[dict[str, Any]]:
        return [e.to_json() for e in self.ejections]
