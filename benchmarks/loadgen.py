"""An open-loop HTTP load generator on asyncio: constant arrival rate, keep-alive pool.

Latency is measured from each request's *intended* send time, so a stalled server shows
up as latency instead of silently lowering the rate (coordinated-omission correction).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from chaoskit.mesh.http.client import HttpConnection, UpstreamError
from chaoskit.mesh.http.message import Headers, Request


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    lag: list[float] = field(default_factory=list)  # actual - intended send time
    elapsed_s: float = 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def open_loop(
    address: tuple[str, int],
    *,
    rate: float,
    duration_s: float,
    path: str = "/",
    host: str = "bench.local",
    max_connections: int = 64,
) -> LoadResult:
    result = LoadResult()
    idle: list[HttpConnection] = []
    open_count = 0
    slots = asyncio.Semaphore(max_connections)
    loop = asyncio.get_running_loop()
    clock = time.perf_counter  # uvloop's loop.time() has millisecond resolution
    start = clock() + 0.05
    total = int(rate * duration_s)

    async def one(intended: float) -> None:
        nonlocal open_count
        async with slots:
            result.lag.append(clock() - intended)
            conn = None
            while idle:
                candidate = idle.pop()
                if candidate.is_reusable:
                    conn = candidate
                    break
            try:
                if conn is None:
                    conn = await HttpConnection.open(address, connect_timeout_s=5)
                    open_count += 1
                response = await conn.send(Request("GET", path, Headers([("host", host)])))
            except UpstreamError:
                result.errors += 1
                return
            result.latencies.append(clock() - intended)
            result.statuses[response.status] = result.statuses.get(response.status, 0) + 1
            if conn.is_reusable:
                idle.append(conn)

    tasks = []
    for i in range(total):
        intended = start + i / rate
        delay = intended - clock()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(loop.create_task(one(intended)))
    began = time.monotonic()
    await asyncio.gather(*tasks)
    result.elapsed_s = time.monotonic() - began + duration_s
    for conn in idle:
        conn.close()
    return result


async def closed_loop(
    address: tuple[str, int],
    *,
    connections: int,
    duration_s: float,
    path: str = "/",
    host: str = "bench.local",
) -> LoadResult:
    """``connections`` keep-alive connections, each sending its next request as soon as the
    last one answered, for ``duration_s`` (as wrk does): the highest rate the target serves
    at that concurrency, with each request's latency from when it was sent."""
    result = LoadResult()
    clock = time.perf_counter
    began = clock()
    deadline = began + duration_s

    async def connection() -> None:
        conn: HttpConnection | None = None
        while clock() < deadline:
            try:
                if conn is None or not conn.is_reusable:
                    if conn is not None:
                        conn.close()
                    conn = await HttpConnection.open(address, connect_timeout_s=5)
                sent = clock()
                response = await conn.send(Request("GET", path, Headers([("host", host)])))
            except UpstreamError:
                result.errors += 1
                conn = None
                continue
            result.latencies.append(clock() - sent)
            result.statuses[response.status] = result.statuses.get(response.status, 0) + 1
        if conn is not None:
            conn.close()

    await asyncio.gather(*(connection() for _ in range(connections)))
    result.elapsed_s = clock() - began
    return result
