"""A latency recorder that keeps raw samples, and a uniform random subset past a cap.

Quantile intervals need raw samples (order statistics), not histogram buckets, so the
recorder keeps every latency up to ``cap`` (200 000 by default: about 6 MB of Python
floats, 4 MB of JSON) and then switches to reservoir sampling (J. S. Vitter, "Random sampling with a
reservoir", *ACM TOMS* 11:37–57, 1985, algorithm R) with a seeded ``random.Random``: the
kept samples stay a uniform random subset of everything recorded, so the statistics on
them remain valid, only less precise. ``sampled`` says that it happened; ``count``,
``total``, ``minimum`` and ``maximum`` always cover every recorded latency.

``to_dict``/``from_dict`` carry a recorder between processes as plain JSON data (a load
worker sends its recorder to the test process, which merges them).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping
from typing import Any

from chaoskit.stats._validate import check_int
from chaoskit.stats.quantiles import quantile

DEFAULT_CAP = 200_000
FORMAT_VERSION = 1


def _rng(seed: int, count: int) -> random.Random:
    """The reservoir's random source at a given point of the stream (reproducible)."""
    return random.Random(f"chaoskit.stats.LatencyRecorder:{seed}:{count}")


class LatencyRecorder:
    """Latencies in seconds: all of them up to ``cap``, then a uniform reservoir of ``cap``.

    Two recorders given the same ``seed`` and the same latencies in the same order keep
    the same samples.
    """

    __slots__ = ("_cap", "_count", "_max", "_min", "_rng", "_samples", "_seed", "_sorted", "_total")

    def __init__(self, cap: int = DEFAULT_CAP, seed: int = 0) -> None:
        check_int("cap", cap, 1)
        check_int("seed", seed)
        self._cap = cap
        self._seed = seed
        self._rng = _rng(seed, 0)
        self._samples: list[float] = []  # in slot order: reading never reorders them
        self._sorted: list[float] | None = []  # a sorted copy, rebuilt after a change
        self._count = 0
        self._total = 0.0
        self._min = math.inf
        self._max = -math.inf

    # -- recording -----------------------------------------------------------------------

    def add(self, seconds: float) -> None:
        """Record one latency (finite, >= 0)."""
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            raise TypeError(f"a latency must be a number of seconds, got {seconds!r}")
        value = float(seconds)
        if not (math.isfinite(value) and value >= 0.0):
            raise ValueError(f"a latency must be a finite number of seconds >= 0, got {value!r}")
        self._count += 1
        self._total += value
        self._min = min(self._min, value)
        self._max = max(self._max, value)
        self._sorted = None
        if len(self._samples) < self._cap:
            self._samples.append(value)
            return
        # Algorithm R: keep the count-th item with probability cap/count, in a uniform slot.
        slot = self._rng.randrange(self._count)
        if slot < self._cap:
            self._samples[slot] = value

    def extend(self, latencies: Iterable[float]) -> None:
        """Record each latency in order."""
        for seconds in latencies:
            self.add(seconds)

    def merge(self, other: LatencyRecorder) -> None:
        """Fold ``other`` into this recorder (``other`` is left unchanged).

        Below the cap the samples are concatenated. Otherwise the merged reservoir is a
        uniform random subset of ``cap`` of the union: how many come from each side is
        drawn from the hypergeometric law of the two stream sizes, then that many are drawn
        uniformly from each side's reservoir. Both recorders must have the same ``cap``.
        """
        if other is self:
            raise ValueError("cannot merge a recorder into itself")
        if other._cap != self._cap:
            raise ValueError(
                f"cannot merge recorders with different caps ({self._cap} and {other._cap})"
            )
        if other._count == 0:
            return
        mine, theirs = self._samples, other._samples
        n_mine, n_theirs = self._count, other._count
        combined = n_mine + n_theirs
        if combined <= self._cap:
            merged = mine + theirs  # neither side has dropped anything
        else:
            # How many of `cap` uniform picks from the union fall on my side
            # (hypergeometric, drawn one pick at a time). Each side holds at least that
            # many: all of its stream, or a full reservoir of `cap`.
            left_mine, left_theirs, from_mine = n_mine, n_theirs, 0
            for _ in range(self._cap):
                if self._rng.random() * (left_mine + left_theirs) < left_mine:
                    from_mine += 1
                    left_mine -= 1
                else:
                    left_theirs -= 1
            merged = self._rng.sample(mine, from_mine) + self._rng.sample(
                theirs, self._cap - from_mine
            )
        self._samples = merged
        self._sorted = None
        self._count = combined
        self._total += other._total
        self._min = min(self._min, other._min)
        self._max = max(self._max, other._max)
        self._rng = _rng(self._seed, self._count)

    # -- reading -------------------------------------------------------------------------

    @property
    def cap(self) -> int:
        return self._cap

    @property
    def seed(self) -> int:
        return self._seed

    @property
    def count(self) -> int:
        """How many latencies were recorded (kept or not)."""
        return self._count

    @property
    def kept(self) -> int:
        """How many samples are kept: ``count`` until the cap, then ``cap``."""
        return len(self._samples)

    @property
    def sampled(self) -> bool:
        """True once samples were dropped: quantiles come from a uniform random subset."""
        return len(self._samples) < self._count

    @property
    def total(self) -> float:
        """The sum of every recorded latency."""
        return self._total

    @property
    def mean(self) -> float:
        """The mean of every recorded latency; NaN when none was recorded."""
        return self._total / self._count if self._count else math.nan

    @property
    def minimum(self) -> float | None:
        return self._min if self._count else None

    @property
    def maximum(self) -> float | None:
        return self._max if self._count else None

    def _ordered(self) -> list[float]:
        if self._sorted is None:
            self._sorted = sorted(self._samples)
        return self._sorted

    def sorted_values(self) -> list[float]:
        """The kept samples in ascending order (a copy)."""
        return list(self._ordered())

    def quantile(self, q: float) -> float:
        """The type-7 sample quantile of the kept samples."""
        return quantile(self._ordered(), q)

    def __len__(self) -> int:
        return self._count

    def __repr__(self) -> str:
        sampled = ", sampled" if self.sampled else ""
        return f"LatencyRecorder(count={self._count}, kept={self.kept}, cap={self._cap}{sampled})"

    # -- transport -----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``json.dumps``: floats survive the round trip exactly."""
        return {
            "version": FORMAT_VERSION,
            "cap": self._cap,
            "seed": self._seed,
            "count": self._count,
            "total": self._total,
            "min": self.minimum,
            "max": self.maximum,
            "samples": list(self._samples),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LatencyRecorder:
        """Rebuild a recorder from :meth:`to_dict` output (checked, since it crossed a process).

        Later reservoir draws are seeded from ``seed`` and ``count``: reproducible, though
        not the continuation of the sender's random stream.
        """
        if not isinstance(data, Mapping):
            raise ValueError(f"a recorder is a JSON object, got {type(data).__name__}")
        if data.get("version") != FORMAT_VERSION:
            raise ValueError(
                f"unsupported recorder format version {data.get('version')!r} "
                f"(this chaoskit reads {FORMAT_VERSION})"
            )
        try:
            recorder = cls(cap=data["cap"], seed=data["seed"])
            count = check_int("recorder count", data["count"], 0)
            total, samples = data["total"], data["samples"]
            low, high = data["min"], data["max"]
        except KeyError as exc:
            raise ValueError(f"recorder data lacks the field {exc.args[0]!r}") from None
        except TypeError as exc:
            raise ValueError(f"recorder data is malformed: {exc}") from None
        if not isinstance(samples, list):
            raise ValueError("recorder samples must be a list of numbers")
        values = [
            float(v) for v in samples if isinstance(v, int | float) and not isinstance(v, bool)
        ]
        if len(values) != len(samples) or not all(math.isfinite(v) and v >= 0.0 for v in values):
            raise ValueError("recorder samples must be finite numbers of seconds >= 0")
        if len(values) != min(count, recorder._cap):
            raise ValueError(
                f"recorder holds {len(values)} samples for count {count} and cap "
                f"{recorder._cap}; expected {min(count, recorder._cap)}"
            )
        if isinstance(total, bool) or not isinstance(total, int | float):
            raise ValueError(f"recorder total must be a number, got {total!r}")
        if count and not (
            isinstance(low, int | float) and isinstance(high, int | float) and low <= high
        ):
            raise ValueError(f"recorder min/max are invalid: {low!r}, {high!r}")
        recorder._samples = values
        recorder._sorted = None
        recorder._count = count
        recorder._total = float(total)
        if count:
            recorder._min, recorder._max = float(low), float(high)
        recorder._rng = _rng(recorder._seed, count)
        return recorder
