"""``pods/log`` of a sidecar reads every page of its access log, not the oldest one only."""

from __future__ import annotations

import asyncio
from typing import Any

from chaoskit.controlplane.api_workloads import all_records


def test_every_page_is_read_up_to_the_newest_record() -> None:
    log = [{"seq": n, "path": f"/{n}"} for n in range(1, 8)]
    asked: list[int] = []

    async def page(since: int) -> dict[str, Any]:  # the admin endpoint, 3 records a page
        asked.append(since)
        return {"last": 7, "records": [r for r in log if r["seq"] > since][:3]}

    assert asyncio.run(all_records(page)) == log
    assert asked == [0, 3, 6]


def test_an_empty_log_is_one_request() -> None:
    async def page(since: int) -> dict[str, Any]:
        return {"last": 0, "records": []}

    assert asyncio.run(all_records(page)) == []
