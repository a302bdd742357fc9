"""The access log's file: the same JSON lines as the standard encoder, written in batches."""

from __future__ import annotations

import asyncio
import datetime
import io
import json
from dataclasses import replace

import pytest

from chaoskit.mesh.accesslog import AccessLog, AccessRecord, as_dict, encode_line, iso_time

RECORD = AccessRecord(
    start_time="2026-12-03T15:20:18.123Z",
    start_ts=1_796_310_018.1234567,
    direction="outbound",
    method="GET",
    path="/reviews/0",
    protocol="HTTP/1.1",
    response_code=200,
    response_flags="-",
    response_code_details="via_upstream",
    bytes_received=0,
    bytes_sent=379,
    duration_ms=3,
    upstream_service_time="2",
    x_forwarded_for="-",
    user_agent="python-requests/2.32.3",
    request_id="3f1c2d1e-1b2a-4c3d-9e8f-0a1b2c3d4e5f",
    authority="reviews:9080",
    upstream_host="127.21.0.5:9080",
    upstream_cluster="outbound|9080||reviews.bookinfo.svc.cluster.local",
    route_name="default",
    attempts=1,
    downstream_remote_address="127.21.0.2",
    seq=7,
)


def standard(record: AccessRecord) -> str:
    return json.dumps(as_dict(record), separators=(",", ":")) + "\n"


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"path": '/a"b\\c\n\t\x00\x7f'},  # quotes, backslashes, control characters
        {"user_agent": "Mozilla/5.0 (é ü 漢字 \U0001f600)"},  # non-ASCII, astral plane
        {
            "response_code": 0,
            "bytes_sent": 0,
            "response_code_details": "downstream_remote_disconnect",
        },
        {"start_ts": 1e-7, "duration_ms": 123456, "attempts": 3, "seq": 10**12},
    ],
)
def test_a_line_is_what_the_standard_encoder_writes(change: dict[str, object]) -> None:
    record = replace(RECORD, **change)  # type: ignore[arg-type]
    assert encode_line(record) == standard(record)
    assert json.loads(encode_line(record)) == as_dict(record)


def test_the_line_covers_every_field_of_the_record() -> None:
    # A field added to AccessRecord must be added to encode_line too.
    assert list(json.loads(encode_line(RECORD))) == list(as_dict(RECORD))


@pytest.mark.parametrize(
    "ts",
    [0.0, 1_796_310_018.0, 1_796_310_018.9994, 1_796_310_018.9995, 1_796_310_018.9999999,
     1_796_310_019.5, 951_782_400.5, 1_796_399_999.999],
)  # fmt: skip
def test_iso_time_matches_strftime_across_second_boundaries(ts: float) -> None:
    moment = datetime.datetime.fromtimestamp(ts, datetime.UTC)
    expected = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    iso_time(ts - 1.0)  # another second in the cache first
    assert iso_time(ts) == expected
    assert iso_time(ts) == expected  # and from the cache


def test_without_an_event_loop_a_record_is_written_at_once() -> None:
    stream = io.StringIO()
    log = AccessLog(stream)
    log.write(replace(RECORD))
    assert stream.getvalue() == standard(replace(RECORD, seq=1))


def test_records_reach_the_file_in_one_batch_within_the_flush_delay() -> None:
    stream = io.StringIO()

    async def run() -> tuple[str, str, list[int]]:
        log = AccessLog(stream, flush_delay_s=0.01)
        for _ in range(3):
            log.write(replace(RECORD))
        before = stream.getvalue()
        seqs = [r["seq"] for r in log.since(0)]  # the admin ring has them at once
        await asyncio.sleep(0.05)
        return before, stream.getvalue(), seqs

    before, after, seqs = asyncio.run(run())
    assert before == ""
    assert seqs == [1, 2, 3]
    assert after == "".join(standard(replace(RECORD, seq=n)) for n in (1, 2, 3))


def test_flush_writes_what_is_pending_and_cancels_the_timer() -> None:
    stream = io.StringIO()

    async def run() -> tuple[str, str]:
        log = AccessLog(stream, flush_delay_s=10.0)
        log.write(replace(RECORD))
        log.flush()  # what the pod does when it stops
        flushed = stream.getvalue()
        log.write(replace(RECORD))
        return flushed, stream.getvalue()

    flushed, later = asyncio.run(run())
    assert flushed == standard(replace(RECORD, seq=1))
    assert later == flushed  # the second record waits for its own timer


def test_a_start_time_floor_leaves_out_only_earlier_requests_page_by_page() -> None:
    """What a window's reader gets with ``from_ts``: every record whose request started at
    or after it, in order, however the pages fall (records are appended as requests end,
    so start times are not in sequence order)."""
    log = AccessLog()
    starts = [5.0, 1.0, 7.0, 3.0, 7.0, 2.0, 9.0, 4.0, 6.0, 8.0]
    for ts in starts:
        log.write(replace(RECORD, start_ts=ts))
    for floor in (0.0, 3.0, 7.0, 9.5):
        expected = [r for r in log.since(0) if r["start_ts"] >= floor]
        got: list[dict[str, object]] = []
        last = 0
        while batch := log.since(last, limit=2, from_ts=floor):
            got += batch
            last = int(batch[-1]["seq"])
        assert got == expected, floor
