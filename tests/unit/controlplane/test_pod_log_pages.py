"""``pods/log`` of a sidecar reads every page of its access log, not the oldest one only, and
leaves out what ``sinceTime``/``sinceSeconds`` exclude (at the sidecar, before formatting)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from chaoskit.controlplane.api_workloads import all_records, log_since
from chaoskit.controlplane.store import BadRequest
from chaoskit.mesh.accesslog import AccessLog, AccessRecord


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


def test_since_time_and_since_seconds_are_read_as_the_kubelet_reads_them() -> None:
    now = 1_800_000_000.0
    assert log_since({}, now) is None
    assert log_since({"sinceSeconds": "30"}, now) == now - 30
    assert log_since({"sinceTime": "2027-01-15T08:00:05Z"}, now) == 1_800_000_005.0
    assert log_since({"sinceTime": "2027-01-15T08:00:05.5+00:00"}, now) == 1_800_000_005.5


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"sinceSeconds": "1", "sinceTime": "2027-01-15T08:00:05Z"}, "at most one of"),
        ({"sinceSeconds": "0"}, "must be greater than 0"),
        ({"sinceSeconds": "ten"}, "sinceSeconds must be an integer, got 'ten'"),
        ({"sinceTime": "yesterday"}, "sinceTime must be an RFC 3339 time"),
    ],
)
def test_bad_since_options_are_refused_with_the_api_servers_reason(
    query: dict[str, str], message: str
) -> None:
    with pytest.raises(BadRequest, match=re.escape(message)):
        log_since(query, 0.0)


def _record(seq: int, start_ts: float) -> AccessRecord:
    record = AccessRecord(
        *("", start_ts, "inbound", "GET", "/", "HTTP/1.1", 200, "-", "via_upstream"),
        *(0, 0, 1, "1", "-", "-", "-", "-", "-", "-", "-", 1, "-"),
    )
    record.seq = seq
    return record


def test_the_sidecar_leaves_out_records_started_before_start_ts() -> None:
    log = AccessLog()
    for seq, start in enumerate([10.0, 11.0, 12.5, 12.0, 13.0], start=1):
        log.write(_record(seq, start))
    assert [r["start_ts"] for r in log.since(0, from_ts=12.0)] == [12.5, 12.0, 13.0]
    assert [r["start_ts"] for r in log.since(3, from_ts=12.0)] == [12.0, 13.0]
    assert [r["start_ts"] for r in log.since(0, limit=2, from_ts=11.0)] == [11.0, 12.5]
    assert len(log.since(0)) == 5
