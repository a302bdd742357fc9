"""``?watch=true`` on a list: a stream of ``WatchEvent`` lines, as ``kubectl wait`` and
``kubectl rollout status`` read them.

The embedded store keeps no event history, so a watch starts by sending every matching
object as ``ADDED`` (what the API server does for ``sendInitialEvents=true``), then polls
and sends ``MODIFIED``/``ADDED``/``DELETED`` for what changed, until ``timeoutSeconds``
(capped) or the client hangs up. Waiters that check a condition on every event (client-go
``watchtools.UntilWithoutRetry``) see the same sequence of states as on a cluster; only the
latency differs by up to one poll interval.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

from aiohttp import web

from chaoskit.controlplane import tables
from chaoskit.controlplane.store import JsonObject

POLL_S = 0.1
MAX_WATCH_S = 300.0


def wants_watch(request: web.Request) -> bool:
    return request.query.get("watch", "").lower() in ("true", "1")


def _key(obj: JsonObject) -> str:
    meta = obj.get("metadata") or {}
    return f"{meta.get('namespace', '')}/{meta.get('name', '')}"


async def stream(
    request: web.Request, snapshot: Callable[[], list[JsonObject]], plural: str = ""
) -> web.StreamResponse:
    """Send events for the objects ``snapshot`` returns, as they change.

    When the client asks for a ``Table`` (``kubectl get -w`` does), each event's object is
    a one-row Table of ``plural``'s columns, as the API server's watch answers it.
    """
    as_table = bool(plural) and tables.wants_table(request.headers.get("Accept", ""))
    include = request.query.get("includeObject", "")
    try:
        timeout = min(float(request.query.get("timeoutSeconds") or MAX_WATCH_S), MAX_WATCH_S)
    except ValueError:
        timeout = MAX_WATCH_S
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    await response.prepare(request)

    async def send(kind: str, obj: JsonObject) -> None:
        if as_table:
            version = str((obj.get("metadata") or {}).get("resourceVersion") or "")
            obj = tables.table(plural, [obj], version, time.time(), include)
        await response.write(json.dumps({"type": kind, "object": obj}).encode() + b"\n")

    seen: dict[str, tuple[str, JsonObject]] = {}
    deadline = time.monotonic() + timeout
    try:
        while True:
            current = {_key(o): o for o in snapshot()}
            for key, obj in current.items():
                text = json.dumps(obj, sort_keys=True)
                if key not in seen or seen[key][0] != text:
                    await send("ADDED" if key not in seen else "MODIFIED", obj)
                    seen[key] = (text, obj)
            for key in [k for k in seen if k not in current]:
                await send("DELETED", seen.pop(key)[1])
            if time.monotonic() >= deadline:
                break
            await asyncio.sleep(POLL_S)
    except ConnectionResetError:  # the client stopped watching
        return response
    await response.write_eof()
    return response
