"""Envoy's HTTP fault filter (``envoy.filters.http.fault``): delay, then abort.

One implementation for both places an Istio sidecar runs it: on the outbound route of a
VirtualService ``fault`` (Istio puts the config on the route, ``typed_per_filter_config``),
and on the inbound listener where an EnvoyFilter inserted one before the router. As in
Envoy's ``fault_filter.cc`` the delay is decided and served first, then the abort is drawn
on its own; an abort is a local reply (flag ``FI``), so the request never reaches the
router and is never retried.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable

from chaoskit.mesh import local_reply
from chaoskit.mesh.config import MILLION, FaultSpec
from chaoskit.mesh.http.message import Response
from chaoskit.mesh.stats import StatsStore


def drawn(rng: random.Random, per_million: int) -> bool:
    """A fractional percentage (per million, Envoy's finest denominator) comes up."""
    return per_million >= MILLION or (per_million > 0 and rng.randrange(MILLION) < per_million)


async def inject(
    fault: FaultSpec,
    *,
    stats: StatsStore,
    stat_prefix: str,
    draw: Callable[[int], bool],
    sleep: Callable[[float], Awaitable[None]],
    flags: set[str],
) -> tuple[Response, str] | None:
    """Serve ``fault``'s delay if drawn; return the abort reply and its details if drawn.

    ``stat_prefix`` is the connection manager's (``http.<prefix>.fault.*``, Envoy's names).
    """
    prefix = f"http.{stat_prefix}.fault."
    if fault.delay_s and draw(fault.delay_per_million):
        flags.add("DI")
        stats.inc(prefix + "delays_injected")
        stats.add_gauge(prefix + "active_faults", 1)
        try:
            await sleep(fault.delay_s)
        finally:
            stats.add_gauge(prefix + "active_faults", -1)
    if fault.abort_status is not None and draw(fault.abort_per_million):
        stats.inc(prefix + "aborts_injected")
        reply = local_reply.fault_abort(fault.abort_status)
        flags.add(reply.flag)
        return reply.response(), reply.details
    return None
