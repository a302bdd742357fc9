"""Request-log assertions, as in Gremlin (Heorhiadi et al., ICDCS 2016): read what the
callers' sidecars logged for each call to a service and check the policy was obeyed.

Each record is an Envoy access-log entry of a client sidecar: its response flags (``UO``
overflow, ``URX`` retry limit, ``UT`` timeout, ``DI``/``FI`` faults), its duration and the
number of attempts the router made (``x-envoy-attempt-count``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from chaoskit.assertions import JudgementSink, RateMetric
from chaoskit.assertions.checks import exact


@dataclass
class RequestLog:
    service: str
    records: list[dict[str, Any]]
    window: str = ""
    sink: JudgementSink | None = None

    def __len__(self) -> int:
        return len(self.records)

    def _flags(self, record: dict[str, Any]) -> list[str]:
        return str(record.get("response_flags", "-")).split(",")

    def flags(self) -> dict[str, int]:
        return dict(Counter(f for r in self.records for f in self._flags(r)))

    def share(self, *, flag: str | None = None, status: int | None = None) -> RateMetric:
        """The share of calls with a response ``flag`` (e.g. ``UO``) or ``status``."""
        hits = [
            r
            for r in self.records
            if (flag is None or flag in self._flags(r))
            and (status is None or r.get("response_code") == status)
        ]
        what = f"flag {flag}" if flag else f"status {status}"
        return RateMetric(
            len(hits),
            len(self.records),
            f"calls to {self.service} with {what}",
            self.window,
            self.sink,
        )

    def _check(
        self, subject: str, observed: float | None, relation: str, threshold: float, reason: str
    ) -> None:
        exact(
            f"{subject} {self.service}",
            observed,
            relation,
            threshold,
            len(self.records),
            window=self.window,
            sink=self.sink,
            reason=reason if self.records else f"no call to {self.service} was logged",
        )

    def _tries(self, record: dict[str, Any]) -> int:
        return int(record.get("attempts", 1) or 1)

    def assert_retries_bounded(self, attempts: int) -> int:
        """No call made more than ``1 + attempts`` tries (the retry policy's bound)."""
        most = max((self._tries(r) for r in self.records), default=0)
        reason = f"retries.attempts={attempts} allows {attempts + 1}"
        self._check("most tries by one call to", most, "≤", attempts + 1, reason)
        return most

    def assert_retried(self) -> int:
        """Some call was retried: the retry policy is in force."""
        retried = sum(1 for r in self.records if self._tries(r) > 1)
        self._check("retried calls to", retried, "≥", 1, "a retry policy in force retries some")
        return retried

    def assert_per_try_timeout(self, per_try_s: float, slack_s: float = 0.5) -> float:
        """Every call ended within its tries × perTryTimeout (plus backoff slack)."""
        worst, over, example = 0.0, 0, ""
        for record in self.records:
            tries = self._tries(record)
            took = float(record.get("duration_ms", 0)) / 1000
            worst = max(worst, took)
            if took > tries * per_try_s + slack_s:
                over += 1
                example = example or (
                    f"one took {took:.2f}s over {tries} tries; perTryTimeout {per_try_s:g}s "
                    f"allows {tries * per_try_s + slack_s:.2f}s"
                )
        reason = example or f"each within its tries × {per_try_s:g}s + {slack_s:g}s"
        self._check("calls over tries × perTryTimeout to", over, "≤", 0, reason)
        return worst

    def assert_host_errors_at_most(self, hosts: Collection[str], errors: int) -> int:
        """Each of ``hosts`` answered at most ``errors`` 5xx to the callers: an outlier
        detector that ejects after N consecutive 5xx lets about N through per host, plus the
        calls already in flight when it trips (Envoy counts them as they complete,
        ``DetectorHostMonitorImpl::putHttpResponseCode``)."""
        counts = Counter(
            str(r.get("upstream_host"))
            for r in self.records
            if int(r.get("response_code") or 0) >= 500 and r.get("upstream_host") in hosts
        )
        most = max((counts[h] for h in hosts), default=0)
        subject = f"most 5xx from one ejected host of {self.service}"
        if not hosts:  # nothing to count is inconclusive, never a pass
            exact(
                subject,
                None,
                "≤",
                errors,
                0,
                window=self.window,
                sink=self.sink,
                reason="no host was ejected to count its errors",
            )
        self._check("most 5xx from one ejected host of", most, "≤", errors, "")
        return most

    def assert_breaker_tripped(self) -> int:
        """The circuit breaker shed some calls (Envoy flag ``UO``)."""
        shed = sum(1 for r in self.records if "UO" in self._flags(r))
        self._check("calls shed by the circuit breaker (UO) to", shed, "≥", 1, "")
        return shed
