"""What load to send: a frozen, validated description that crosses into the worker as JSON."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from chaoskit.durations import parse_seconds
from chaoskit.errors import ConfigError

Model = Literal["closed", "open"]

# Every run stops by itself: a window longer than this is a typo, not a game day.
MAX_DURATION_S = 3600.0
DEFAULT_MAX_REQUESTS = 500_000


def _seconds(name: str, value: float | str) -> float:
    try:
        seconds = parse_seconds(value) if isinstance(value, str) else float(value)
    except (ValueError, ConfigError) as exc:
        raise ConfigError(
            f"load: {name}={value!r} is not a duration ({exc}); use e.g. '10s'"
        ) from exc
    if not math.isfinite(seconds) or seconds < 0:
        raise ConfigError(f"load: {name}={value!r} must be a finite, non-negative duration")
    return seconds


@dataclass(frozen=True, slots=True)
class LoadProfile:
    """One load window.

    ``closed``: ``users`` virtual users, each sending its next request when the previous
    one finished (plus ``think_s``): what Locust does. ``open``: ``rate`` requests per second
    sent on a fixed schedule whatever the replies do, latency measured from each request's
    intended send time, so a stalled service shows in the tail (coordinated omission).
    ``logins`` assigns Bookinfo users round-robin to virtual users (``None`` = anonymous);
    real Bookinfo sets ``end-user`` from the session cookie, never from a request header.

    ``processes=N`` sends from N worker processes: independent ones by default (the parent
    splits users and rate), or with ``distributed=True`` Locust's own master/worker mode, one
    master process dispatching the users to N workers over loopback; ``connect_timeout_s``
    bounds how long master and workers wait for each other.
    """

    target: str
    path: str = "/productpage"
    model: Model = "closed"
    users: int = 1
    rate: float | None = None
    duration_s: float = 10.0
    think_s: float = 0.0
    timeout_s: float = 30.0
    logins: tuple[str | None, ...] = (None,)
    headers: tuple[tuple[str, str], ...] = ()
    markers: tuple[str, ...] = ()
    detect_version: bool = True
    method: str = "GET"
    max_in_flight: int = 1000
    max_requests: int = DEFAULT_MAX_REQUESTS
    processes: int = 1
    distributed: bool = False
    connect_timeout_s: float = 30.0
    late_threshold_s: float = 0.010
    seed: int = 0
    # Host names the worker resolves to fixed addresses (curl's --resolve): an https target
    # named by its virtual host then carries that name as TLS SNI, as a gateway needs.
    resolve: tuple[tuple[str, str], ...] = ()
    # Locust user classes drive the load instead of one path: the file they are defined in
    # (absolute) and their names (empty: every concrete User class in it, as `locust -f`).
    locustfile: str | None = None
    user_classes: tuple[str, ...] = ()
    # Locust's own CSV statistics (`locust --csv PREFIX --csv-full-history`): written to
    # PREFIX_stats.csv, _stats_history.csv, _failures.csv and _exceptions.csv.
    csv_prefix: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.target.startswith(("http://", "https://")):
            raise ConfigError(f"load: target {self.target!r} must be an http:// or https:// URL")
        if not self.path.startswith("/"):
            raise ConfigError(f"load: path {self.path!r} must start with '/'")
        if self.model not in ("closed", "open"):
            raise ConfigError(f"load: model {self.model!r} must be 'closed' or 'open'")
        if self.model == "open" and (self.rate is None or self.rate <= 0):
            raise ConfigError("load: the open model needs rate > 0 (requests per second)")
        if self.model == "closed" and self.users < 1:
            raise ConfigError(f"load: users={self.users} must be at least 1")
        if not 0 < self.duration_s <= MAX_DURATION_S:
            raise ConfigError(
                f"load: duration {self.duration_s:g}s must be in (0, {MAX_DURATION_S:g}s]"
            )
        if self.processes < 1 or self.max_in_flight < 1 or self.max_requests < 1:
            raise ConfigError("load: processes, max_in_flight and max_requests must be ≥ 1")
        if not 0 < self.connect_timeout_s <= MAX_DURATION_S:
            raise ConfigError(
                f"load: connect_timeout_s={self.connect_timeout_s:g} "
                f"must be in (0, {MAX_DURATION_S:g}]"
            )
        if not self.logins:
            raise ConfigError("load: logins must name at least one user (None = anonymous)")
        if self.user_classes and self.locustfile is None:
            names = ", ".join(self.user_classes)
            raise ConfigError(f"load: user class {names} needs its locustfile")
        if self.locustfile is not None:
            self._check_user_class()

    def _check_user_class(self) -> None:
        assert self.locustfile is not None
        what = f"load: locustfile {self.locustfile}"
        if not Path(self.locustfile).is_file():
            raise ConfigError(f"{what} does not exist; give its path (relative to the rootdir)")
        if self.logins != (None,):
            raise ConfigError(
                f"{what}: login= and logins= are for chaoskit's own Bookinfo user; a user "
                "class logs in itself (in on_start, as in Locust)"
            )
        if self.model == "open" and self.users < 1:
            raise ConfigError(
                f"{what}: users={self.users}: the open model deals its arrivals to users "
                "(each with its own session); give at least 1"
            )

    @classmethod
    def build(
        cls,
        target: str,
        *,
        duration: float | str,
        think: float | str = 0.0,
        timeout: float | str = 30.0,
        login: str | None = None,
        logins: tuple[str | None, ...] | list[str | None] | None = None,
        headers: dict[str, str] | None = None,
        markers: tuple[str, ...] | list[str] = (),
        **rest: Any,
    ) -> LoadProfile:
        """The friendly constructor: durations as ``"10s"``, one ``login`` or a mix."""
        chosen = tuple(logins) if logins is not None else (login,)
        return cls(
            target=target,
            duration_s=_seconds("duration", duration),
            think_s=_seconds("think", think),
            timeout_s=_seconds("timeout", timeout),
            logins=chosen,
            headers=tuple(sorted((headers or {}).items())),
            markers=tuple(markers),
            **rest,
        )

    def scaled(self, factor: float) -> LoadProfile:
        """The same load over ``factor`` × the window (``--chaos-duration-scale``)."""
        return replace(self, duration_s=min(MAX_DURATION_S, max(0.5, self.duration_s * factor)))

    def split(self) -> list[LoadProfile]:
        """One profile per worker process, sharing users and rate between them.

        In distributed mode every worker gets a profile, even one the master will give no
        users: the master waits for all N. Its ``users`` is then only informative, since
        the master dispatches the users (except a locustfile's open model: there they are
        the worker's sessions, which it asks the master for); its ``rate`` is what its
        dispatcher sends.
        """
        if self.processes == 1:
            return [self]
        parts = []
        for index in range(self.processes):
            users = self.users // self.processes + (index < self.users % self.processes)
            rate = None if self.rate is None else self.rate / self.processes
            if self.model == "closed" and users == 0 and not self.distributed:
                continue
            parts.append(
                replace(
                    self,
                    users=max(users, 1),
                    rate=rate,
                    processes=1,
                    seed=self.seed + index,
                    csv_prefix=self._csv_part(index),
                )
            )
        return parts

    def _csv_part(self, index: int) -> str | None:
        """Each independent worker has its own Locust statistics, so its own CSV files;
        in distributed mode the master writes them from every worker's reports."""
        if self.csv_prefix is None or self.distributed:
            return None
        return f"{self.csv_prefix}-p{index}"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["logins"] = list(self.logins)
        data["headers"] = dict(self.headers)
        data["markers"] = list(self.markers)
        data["resolve"] = dict(self.resolve)
        data["user_classes"] = list(self.user_classes)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LoadProfile:
        values = dict(data)
        values["logins"] = tuple(values.get("logins", (None,)))
        values["headers"] = tuple(sorted(dict(values.get("headers", {})).items()))
        values["markers"] = tuple(values.get("markers", ()))
        values["resolve"] = tuple(sorted(dict(values.get("resolve", {})).items()))
        values["user_classes"] = tuple(values.get("user_classes", ()))
        return cls(**values)

    def describe(self) -> dict[str, Any]:
        """The profile as the report shows it."""
        logins = [login for login in self.logins if login]
        return {
            "model": self.model,
            "users": self.users if self.model == "closed" else None,
            "rate": self.rate,
            "duration_s": self.duration_s,
            "path": self.path if self.locustfile is None else None,
            "user_class": self.user_class_label(),
            "login": ",".join(logins) if logins else None,
            "target": self.target,
        }

    def user_class_label(self) -> str | None:
        """``locustfile.py:ShopUser`` as the report shows it (None for a path load)."""
        if self.locustfile is None:
            return None
        return f"{Path(self.locustfile).name}:{','.join(self.user_classes) or '(every class)'}"
