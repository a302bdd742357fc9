"""The throughput reference: Bookinfo's call graph with no mesh logic at all.

Seven processes in the built-in mesh's topology (a gateway, productpage, details, three
reviews versions, ratings), each the same HTTP layer and event loop as a pod, but every hop
only forwards or answers a fixed body: no routing, no stats, no access log, no outlier
accounting and no app logic. productpage calls details, then one of the reviews versions in
turn; reviews v2 and v3 call ratings. The gateway's answer is as long as a real page.

What the built-in mesh serves next to this one, in the same run, is the part of the
closed-loop rate that the mesh's own work costs; what this one serves is the most any mesh
with this many processes and hops can serve on this machine through this HTTP layer.

``python -m benchmarks.skeleton ROLE PORT [ARG...]`` runs one process (``start_skeleton``
starts all of them).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import uvloop

from chaoskit.mesh.http.client import HttpConnection
from chaoskit.mesh.http.message import Headers, Request, Response
from chaoskit.mesh.http.server import ConnectionInfo, start_server

_JSON = Headers([("content-type", "application/json")])
# Bodies of the real services' size (details, reviews with and without ratings, ratings).
_DETAILS = (
    b'{"id": 0, "author": "William Shakespeare", "year": 1595, "type": "paperback", '
    + (b'"pages": 200, "publisher": "PublisherA", "language": "English", "ISBN-10": ' * 2)
    + b'"1234567890"}'
)
_RATINGS = b'{"id": 0, "ratings": {"Reviewer1": 5, "Reviewer2": 4}}'
_REVIEWS = (
    b'{"id": "0", "podname": "reviews", "clustername": "null", "reviews": ['
    + (
        b'{"reviewer": "Reviewer1", "text": "An extremely entertaining play by Shakespeare. '
        b'The slapstick humour is refreshing!", "rating": {"stars": 5, "color": "black"}}, ' * 2
    )
    + b"{}]}"
)


class _Pool:
    """Idle keep-alive connections per upstream port, as a pod's sidecar keeps them."""

    def __init__(self) -> None:
        self._idle: dict[int, list[HttpConnection]] = {}

    async def get(self, port: int, path: str) -> Response:
        idle = self._idle.setdefault(port, [])
        conn = idle.pop() if idle else None
        if conn is None or not conn.is_reusable:
            conn = await HttpConnection.open(("127.0.0.1", port), connect_timeout_s=5)
        response = await conn.send(Request("GET", path, Headers([("host", "skeleton")])))
        if conn.is_reusable:
            idle.append(conn)
        return response


async def _serve(role: str, port: int, args: list[str]) -> None:
    pool = _Pool()
    upstreams = [int(a) for a in args[1:]] if role == "page" else [int(a) for a in args]
    turn = 0

    async def handler(request: Request, _info: ConnectionInfo) -> Response:
        nonlocal turn
        if role == "forward":
            return await pool.get(upstreams[0], request.target)
        if role == "page":
            details, reviews = upstreams[0], upstreams[1:]
            await pool.get(details, "/details/0")
            turn = (turn + 1) % len(reviews)
            await pool.get(reviews[turn], "/reviews/0")
            return Response(200, Headers([("content-type", "text/html")]), b"x" * int(args[0]))
        if role == "reviews" and upstreams:
            await pool.get(upstreams[0], "/ratings/0")
        body = {"details": _DETAILS, "ratings": _RATINGS}.get(role, _REVIEWS)
        return Response(200, _JSON.copy(), body)

    server = await start_server(handler, "127.0.0.1", port)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


@contextmanager
def start_skeleton(page_bytes: int, free_port: object) -> Iterator[tuple[list[int], int]]:
    """Start the seven processes; yield their pids and the gateway's port."""
    assert callable(free_port)
    ports = {name: free_port() for name in ("gw", "pp", "det", "r1", "r2", "r3", "rat")}
    plan = [
        ("leaf", "rat", ["ratings"]),
        ("leaf", "det", ["details"]),
        ("leaf", "r1", ["reviews"]),
        ("reviews", "r2", [str(ports["rat"])]),
        ("reviews", "r3", [str(ports["rat"])]),
        (
            "page",
            "pp",
            [str(page_bytes), str(ports["det"])] + [str(ports[r]) for r in ("r1", "r2", "r3")],
        ),
        ("forward", "gw", [str(ports["pp"])]),
    ]
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for role, name, args in plan:
            if role == "leaf":
                role, args = args[0], []
            process = subprocess.Popen(
                [sys.executable, "-m", "benchmarks.skeleton", role, str(ports[name]), *args],
                stdout=subprocess.PIPE,
            )
            processes.append(process)
            assert process.stdout is not None
            process.stdout.readline()
        yield [p.pid for p in processes], ports["gw"]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)
            if process.stdout is not None:
                process.stdout.close()


if __name__ == "__main__":
    uvloop.run(_serve(sys.argv[1], int(sys.argv[2]), sys.argv[3:]))
