"""The push channel between control plane and pods: newline-delimited JSON over TCP.

Like Envoy's ADS it is state-of-the-world: each ``snapshot`` message carries the proxy's
whole configuration with a version, and the pod answers ``ack`` (or ``nack`` with the
error) for that version. ``settings`` changes the app's run-time settings; ``shutdown``
asks the pod to exit. A closed channel is a transient drop: the pod reconnects (see
reconnect.py); it learns that the mesh is gone from ``shutdown`` or its parent's death.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

MAX_MESSAGE = 64 * 1024 * 1024


async def read_message(reader: asyncio.StreamReader) -> dict[str, Any] | None:
    """The next message, or None when the peer closed the channel."""
    try:
        line = await reader.readline()
    except (ConnectionError, asyncio.IncompleteReadError, ValueError):
        return None
    if not line:
        return None
    message = json.loads(line)
    if not isinstance(message, dict):
        raise ValueError("xds message is not an object")
    return message


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


async def send_message(writer: asyncio.StreamWriter, message: dict[str, Any]) -> None:
    writer.write(encode(message))
    await writer.drain()
