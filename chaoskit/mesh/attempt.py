"""What one upstream attempt produced, as the router and the retry policy see it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from chaoskit.mesh.http.message import Request, Response
from chaoskit.mesh.stats import ClusterStats

# "timeout" is the per-try timer; "route_timeout" the route's global timer, which also runs
# while the request waits for a connection (then no host was chosen for it: host is "").
Failure = Literal["connect", "reset", "timeout", "route_timeout", "overflow", "no_healthy"]


@dataclass(slots=True)
class AttemptResult:
    response: Response | None = None
    failure: Failure | None = None
    host: str = ""  # "ip:port" of the chosen endpoint, "" when none was chosen
    service_time_s: float = 0.0
    # A failed connect: Envoy's reset reason and transport failure reason, for the reply.
    reset_reason: str = ""
    transport_failure: str = ""

    @property
    def status(self) -> int | None:
        return self.response.status if self.response is not None else None


@dataclass(frozen=True, slots=True)
class HashContext:
    """What consistent hashing may key on: the request and who sent it."""

    source_ip: str = ""


class UpstreamCluster(Protocol):
    """A cluster as the router uses it (implemented by ``chaoskit.mesh.upstream``)."""

    @property
    def stats(self) -> ClusterStats: ...

    @property
    def uses_hashing(self) -> bool: ...

    async def attempt(
        self,
        request: Request,
        *,
        timeout_s: float | None,
        exclude: frozenset[str],
        hash_context: HashContext,
        host_selection_attempts: int,
        route_timeout_s: float | None = None,
    ) -> AttemptResult: ...

    def try_begin_retry(self) -> bool: ...

    def end_retry(self) -> None: ...
