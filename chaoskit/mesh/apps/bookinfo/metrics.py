"""productpage's /metrics: the ``request_result`` counter (productpage.py, prometheus_client).

One count per backend call outcome, labelled by destination app and response code (500 when
there was no response); the reviews call counts once however many tries it took.
"""

from __future__ import annotations

from collections import Counter


class ResultCounter:
    def __init__(self) -> None:
        self._counts: Counter[tuple[str, int]] = Counter()

    def add(self, destination_app: str, response_code: int) -> None:
        self._counts[(destination_app, response_code)] += 1

    def get(self, destination_app: str, response_code: int) -> int:
        return self._counts[(destination_app, response_code)]

    def exposition(self) -> str:
        """Prometheus text format, as prometheus_client names a counter (``_total``)."""
        lines = [
            "# HELP request_result_total Results of requests",
            "# TYPE request_result_total counter",
        ]
        for (app, code), count in sorted(self._counts.items()):
            labels = f'destination_app="{app}",response_code="{code}"'
            lines.append(f"request_result_total{{{labels}}} {float(count)}")
        return "\n".join(lines) + "\n"
