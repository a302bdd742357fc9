"""A small HTTP/1.1 server and client on asyncio and llhttp, for the sidecar's hot path.

Own code instead of aiohttp here because the sidecar must control connections exactly
(Envoy's connection pool and circuit breakers decide when a connection opens, is reused or
closed) and must stay cheap per request.
"""

from __future__ import annotations
