"""Counters and gauges under Envoy's stat names, rendered as Envoy's admin ``/stats`` does."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator

from chaoskit.regex import compile_re2


class StatsStore:
    """Flat ``name → int``; counters only grow (until /reset_counters), gauges are set."""

    __slots__ = ("_counters", "_declared", "_gauges", "keep")

    def __init__(self) -> None:
        self._counters: defaultdict[str, int] = defaultdict(int)
        self._gauges: dict[str, int] = {}
        # Counters that exist at 0 before their first increment (Envoy creates a cluster's
        # stats with the cluster); kept apart so a mesh of many clusters stores no zeros.
        self._declared: set[str] = set()
        # The bootstrap's stats matcher (chaoskit/mesh/stats_matcher.py): Envoy never creates
        # a stat it rejects, so a rejected stat is absent from every rendering.
        self.keep: Callable[[str], bool] | None = None

    @property
    def counters(self) -> defaultdict[str, int]:
        """The counters' own dict (never replaced), for hot paths that add to it directly."""
        return self._counters

    @property
    def gauges(self) -> dict[str, int]:
        """The gauges' own dict (never replaced), for hot paths that set it directly."""
        return self._gauges

    def declare(self, names: Iterable[str]) -> None:
        self._declared.update(names)

    def inc(self, name: str, amount: int = 1) -> None:
        self._counters[name] += amount

    def set_gauge(self, name: str, value: int) -> None:
        self._gauges[name] = value

    def add_gauge(self, name: str, delta: int) -> None:
        self._gauges[name] = self._gauges.get(name, 0) + delta

    def get(self, name: str) -> int:
        if name in self._gauges:
            return self._gauges[name]
        return self._counters.get(name, 0)

    def items(self, kind: str = "All") -> Iterator[tuple[str, int]]:
        """Sorted stats; ``kind`` is Envoy's ``/stats?type=``: All, Counters or Gauges."""
        chosen: dict[str, int] = {}
        if kind in ("All", "Counters"):
            chosen.update(dict.fromkeys(self._declared, 0))
            chosen.update(self._counters)
        if kind in ("All", "Gauges"):
            chosen.update(self._gauges)
        if self.keep is not None:
            keep = self.keep
            chosen = {name: value for name, value in chosen.items() if keep(name)}
        return iter(sorted(chosen.items()))

    def reset_counters(self) -> None:
        self._counters.clear()

    def render(self, filter_regex: str | None = None, kind: str = "All") -> str:
        """Envoy's text format: ``name: value`` per line, sorted; ``?filter=`` is a regex search."""
        pattern = compile_re2(filter_regex) if filter_regex else None
        lines = [
            f"{name}: {value}"
            for name, value in self.items(kind)
            if pattern is None or pattern.search(name) is not None
        ]
        return "\n".join(lines) + ("\n" if lines else "")

    def as_dict(self) -> dict[str, int]:
        return dict(self.items())


class ClusterStats:
    """The ``cluster.<name>.`` stats of one cluster, with the names pre-built once."""

    __slots__ = ("_counters", "_gauges", "prefix", "store")

    def __init__(self, store: StatsStore, cluster: str) -> None:
        self.store = store
        self.prefix = f"cluster.{cluster}."
        # Every request moves several of these: one dict write each, not a call chain.
        self._counters = store.counters
        self._gauges = store.gauges

    def inc(self, stat: str, amount: int = 1) -> None:
        self._counters[self.prefix + stat] += amount

    def declare(self, stats: Iterable[str]) -> None:
        self.store.declare(self.prefix + stat for stat in stats)

    def gauge(self, stat: str, value: int) -> None:
        self._gauges[self.prefix + stat] = value

    def add_gauge(self, stat: str, delta: int) -> None:
        self.store.add_gauge(self.prefix + stat, delta)

    def response(self, status: int) -> None:
        """Envoy counts every upstream attempt by exact code and by class."""
        counters, prefix = self._counters, self.prefix
        counters[f"{prefix}upstream_rq_{status}"] += 1
        counters[f"{prefix}upstream_rq_{status // 100}xx"] += 1
        counters[prefix + "upstream_rq_completed"] += 1
