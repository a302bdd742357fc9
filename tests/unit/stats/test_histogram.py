"""The latency recorder: raw samples, a deterministic reservoir past the cap, merge, JSON."""

from __future__ import annotations

import json
import math
import random
import statistics

import pytest

from chaoskit.stats import LatencyRecorder, quantile


def test_keeps_every_sample_under_the_cap() -> None:
    recorder = LatencyRecorder()
    recorder.extend([0.3, 0.1, 0.2])
    assert recorder.count == 3
    assert len(recorder) == 3
    assert recorder.kept == 3
    assert not recorder.sampled
    assert recorder.sorted_values() == [0.1, 0.2, 0.3]
    assert recorder.quantile(0.5) == 0.2
    assert recorder.minimum == 0.1
    assert recorder.maximum == 0.3
    assert recorder.total == pytest.approx(0.6)
    assert recorder.mean == pytest.approx(0.2)
    assert recorder.cap == 200_000


def test_empty_recorder() -> None:
    recorder = LatencyRecorder()
    assert (recorder.count, recorder.kept, recorder.sampled) == (0, 0, False)
    assert recorder.minimum is None
    assert recorder.maximum is None
    assert math.isnan(recorder.mean)
    assert recorder.sorted_values() == []
    with pytest.raises(ValueError, match="no values"):
        recorder.quantile(0.5)


def test_sorted_values_is_a_copy() -> None:
    recorder = LatencyRecorder()
    recorder.extend([2.0, 1.0])
    values = recorder.sorted_values()
    values.append(99.0)
    assert recorder.sorted_values() == [1.0, 2.0]


def test_reservoir_past_the_cap_remembers_it_and_keeps_exact_totals() -> None:
    recorder = LatencyRecorder(cap=100, seed=1)
    recorder.extend(float(i) for i in range(1000))
    assert recorder.count == 1000
    assert recorder.kept == 100
    assert recorder.sampled
    assert recorder.minimum == 0.0
    assert recorder.maximum == 999.0
    assert recorder.total == sum(range(1000))
    assert len(set(recorder.sorted_values())) == 100  # a subset: no duplicates
    assert "sampled" in repr(recorder)


def test_reservoir_is_deterministic_given_the_seed() -> None:
    def fill(seed: int) -> list[float]:
        recorder = LatencyRecorder(cap=50, seed=seed)
        recorder.extend(float(i) for i in range(5000))
        return recorder.sorted_values()

    assert fill(7) == fill(7)
    assert fill(7) != fill(8)


def test_reservoir_is_uniform() -> None:
    # Every item of a 1000-long stream should be kept with probability 1/10. Over 400
    # seeds, count how often each decile is represented: expected 400·10 = 4000 each.
    per_decile = [0] * 10
    for seed in range(400):
        recorder = LatencyRecorder(cap=100, seed=seed)
        recorder.extend(float(i) for i in range(1000))
        for value in recorder.sorted_values():
            per_decile[int(value) // 100] += 1
    # sd of each count ≈ sqrt(40000·0.1·0.9) = 60; 5 sd is 300.
    assert all(abs(count - 4000) < 300 for count in per_decile)


def test_merge_under_the_cap_concatenates() -> None:
    a, b = LatencyRecorder(), LatencyRecorder()
    a.extend([0.1, 0.4])
    b.extend([0.2, 0.3])
    a.merge(b)
    assert a.sorted_values() == [0.1, 0.2, 0.3, 0.4]
    assert a.count == 4
    assert not a.sampled
    assert (a.minimum, a.maximum) == (0.1, 0.4)
    assert b.count == 2  # the other side is untouched
    a.merge(LatencyRecorder())  # merging nothing changes nothing
    assert a.count == 4


def test_merge_past_the_cap_weights_by_stream_size() -> None:
    # 9000 latencies of 1 s and 1000 of 2 s: a uniform reservoir of 1000 holds ~100 2 s.
    heavy, light = LatencyRecorder(cap=1000, seed=1), LatencyRecorder(cap=1000, seed=2)
    heavy.extend([1.0] * 9000)
    light.extend([2.0] * 1000)
    heavy.merge(light)
    assert heavy.count == 10_000
    assert heavy.kept == 1000
    assert heavy.sampled
    twos = sum(v == 2.0 for v in heavy.sorted_values())
    # Hypergeometric sd = sqrt(1000·0.1·0.9·(9000/9999)) ≈ 9; allow 5 sd.
    assert abs(twos - 100) <= 45
    assert heavy.total == pytest.approx(9000 + 2000)
    # Further adds continue the reservoir (the cap holds).
    heavy.extend([3.0] * 10)
    assert heavy.kept == 1000
    assert heavy.count == 10_010


def test_merge_rejects_itself_and_other_caps() -> None:
    recorder = LatencyRecorder(cap=10)
    with pytest.raises(ValueError, match="itself"):
        recorder.merge(recorder)
    other = LatencyRecorder(cap=20)
    other.add(1.0)
    with pytest.raises(ValueError, match="different caps"):
        recorder.merge(other)


def test_json_round_trip_is_exact() -> None:
    rng = random.Random(3)
    recorder = LatencyRecorder(cap=500, seed=9)
    recorder.extend(rng.expovariate(20.0) for _ in range(2000))
    wire = json.dumps(recorder.to_dict(), allow_nan=False)
    restored = LatencyRecorder.from_dict(json.loads(wire))
    assert restored.to_dict() == recorder.to_dict()
    assert restored.sorted_values() == recorder.sorted_values()
    assert restored.sampled
    assert restored.quantile(0.99) == quantile(recorder.sorted_values(), 0.99)
    # The restored recorder keeps sampling reproducibly.
    again = LatencyRecorder.from_dict(json.loads(wire))
    restored.extend([0.5] * 100)
    again.extend([0.5] * 100)
    assert restored.to_dict() == again.to_dict()


def test_empty_round_trip() -> None:
    data = json.loads(json.dumps(LatencyRecorder().to_dict()))
    assert LatencyRecorder.from_dict(data).count == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"version": 2}, "version"),
        ({"samples": [0.1, -1.0]}, "finite"),
        ({"samples": [0.1]}, "expected 2"),
        ({"count": -1}, "count"),
        ({"count": "2"}, "malformed"),
        ({"min": None}, "min/max"),
        ({"cap": 0}, "cap"),
    ],
)
def test_from_dict_rejects_bad_data(change: dict[str, object], message: str) -> None:
    recorder = LatencyRecorder()
    recorder.extend([0.1, 0.2])
    data = {**recorder.to_dict(), **change}
    with pytest.raises(ValueError, match=message):
        LatencyRecorder.from_dict(data)


def test_from_dict_rejects_missing_fields_and_non_objects() -> None:
    data = LatencyRecorder().to_dict()
    del data["samples"]
    with pytest.raises(ValueError, match="samples"):
        LatencyRecorder.from_dict(data)
    with pytest.raises(ValueError, match="JSON object"):
        LatencyRecorder.from_dict([])  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [-0.001, math.inf, math.nan])
def test_add_rejects_impossible_latencies(bad: float) -> None:
    with pytest.raises(ValueError, match="finite number of seconds"):
        LatencyRecorder().add(bad)
    with pytest.raises(TypeError):
        LatencyRecorder().add("0.1")  # type: ignore[arg-type]


def test_reservoir_quantiles_stay_close_to_the_full_stream() -> None:
    rng = random.Random(12)
    stream = [rng.lognormvariate(-2.0, 0.6) for _ in range(50_000)]
    recorder = LatencyRecorder(cap=5_000, seed=0)
    recorder.extend(stream)
    full = statistics.quantiles(stream, n=100, method="inclusive")[94]  # p95
    assert recorder.quantile(0.95) == pytest.approx(full, rel=0.05)


def test_reading_mid_stream_does_not_change_what_is_kept() -> None:
    quiet, curious = LatencyRecorder(cap=20, seed=4), LatencyRecorder(cap=20, seed=4)
    for i in range(500):
        quiet.add(float(i % 37))
        curious.add(float(i % 37))
        if i % 50 == 0:
            curious.sorted_values()
            curious.quantile(0.9)
    assert quiet.to_dict() == curious.to_dict()
