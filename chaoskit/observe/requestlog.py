"""Request-log assertions, as in Gremlin (Heorhiadi et al., ICDCS 2016): read what the
callers' sidecars logged for each call to a service and check the policy was obeyed.

Each record is an Envoy access-log entry of a client sidecar: its response flags (``UO``
overflow, ``URX`` retry limit, ``UT`` timeout, ``DI``/``FI`` faults), its duration and the
number of attempts the router made (``x-envoy-attempt-count``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from chaoskit.assertions import JudgementSink, RateMetric


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

    def _require(self) -> None:
        if not self.records:
            raise AssertionError(f"no call to {self.service} was logged in {self.window}")

    def assert_retries_bounded(self, attempts: int) -> int:
        """No call made more than ``1 + attempts`` tries (the retry policy's bound)."""
        self._require()
        most = max(int(r.get("attempts", 1) or 1) for r in self.records)
        if most > attempts + 1:
            raise AssertionError(
                f"a call to {self.service} made {most} tries; retries.attempts={attempts} "
                f"allows {attempts + 1}"
            )
        return most

    def assert_retried(self) -> int:
        """Some call was retried: the retry policy is in force."""
        self._require()
        retried = sum(1 for r in self.records if int(r.get("attempts", 1) or 1) > 1)
        if not retried:
            raise AssertionError(f"no call to {self.service} was retried in {self.window}")
        return retried

    def assert_per_try_timeout(self, per_try_s: float, slack_s: float = 0.5) -> float:
        """Every call ended within its tries × perTryTimeout (plus backoff slack)."""
        self._require()
        worst = 0.0
        for record in self.records:
            tries = int(record.get("attempts", 1) or 1)
            seconds = float(record.get("duration_ms", 0)) / 1000
            over = seconds - (tries * per_try_s + slack_s)
            worst = max(worst, seconds)
            if over > 0:
                raise AssertionError(
                    f"a call to {self.service} took {seconds:.2f}s over {tries} tries; "
                    f"perTryTimeout {per_try_s:g}s allows {tries * per_try_s + slack_s:.2f}s"
                )
        return worst

    def assert_breaker_tripped(self) -> int:
        """The circuit breaker shed some calls (Envoy flag ``UO``)."""
        self._require()
        shed = sum(1 for r in self.records if "UO" in self._flags(r))
        if not shed:
            raise AssertionError(
                f"the circuit breaker for {self.service} never tripped (no UO among "
                f"{len(self.records)} calls)"
            )
        return shed
