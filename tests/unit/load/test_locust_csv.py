"""Locust's own CSV statistics next to the records: written by Locust's writer in the
worker, checked against chaoskit's records of the same window."""

from __future__ import annotations

import csv
from pathlib import Path

from chaoskit.load import LoadProfile, run_load
from chaoskit.load.records import IN_FLIGHT_AT_STOP
from tests.unit.load.conftest import Server

SHOP = Path(__file__).resolve().parents[2] / "data" / "locustfiles" / "shop.py"
# Locust's columns (locust 2.47.0, locust/stats.py StatsCSV), as its dashboards read them.
STATS_COLUMNS = [
    "Type",
    "Name",
    "Request Count",
    "Failure Count",
    "Median Response Time",
    "Average Response Time",
    "Min Response Time",
    "Max Response Time",
    "Average Content Size",
    "Requests/s",
    "Failures/s",
]


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def test_a_user_class_window_writes_locusts_four_csv_files(server: Server, tmp_path: Path) -> None:
    prefix = tmp_path / "csv" / "checkout-w1"
    profile = LoadProfile.build(
        server.url,
        duration="20s",
        users=2,
        max_requests=60,
        locustfile=str(SHOP),
        user_classes=("Shopper",),
        csv_prefix=str(prefix),
    )
    result = run_load(profile)
    # Requests still pending when Locust stopped never reach its statistics (nor its hook).
    seen = [r for r in result.records if r.error != IN_FLIGHT_AT_STOP]
    suffixes = ("_stats.csv", "_stats_history.csv", "_failures.csv", "_exceptions.csv")
    assert sorted(result.csv_files) == sorted(f"{prefix}{s}" for s in suffixes)
    with Path(f"{prefix}_stats.csv").open(encoding="utf-8") as stream:
        header = next(csv.reader(stream))
    assert header[: len(STATS_COLUMNS)] == STATS_COLUMNS
    assert "99%" in header
    assert "100%" in header
    stats = {row["Name"]: row for row in _rows(Path(f"{prefix}_stats.csv"))}
    assert set(stats) == {"browse", "checkout", "Aggregated"}
    # Locust's counts agree with chaoskit's records of the same requests.
    for name in ("browse", "checkout"):
        mine = [r for r in seen if r.name == name]
        assert int(stats[name]["Request Count"]) == len(mine)
        assert int(stats[name]["Failure Count"]) == sum(not r.ok for r in mine)
    assert int(stats["Aggregated"]["Request Count"]) == len(seen)
    failures = _rows(Path(f"{prefix}_failures.csv"))
    assert [f["Name"] for f in failures] == ["checkout"]
    assert "cart is empty" in failures[0]["Error"]
    history = _rows(Path(f"{prefix}_stats_history.csv"))
    # Full history: one row per name and the Aggregated one per write, the last the totals.
    assert {row["Name"] for row in history} >= {"browse", "checkout", "Aggregated"}
    last = [row for row in history if row["Name"] == "Aggregated"][-1]
    assert int(last["Total Request Count"]) == len(seen)


def test_a_task_that_raises_is_in_the_exceptions_csv(server: Server, tmp_path: Path) -> None:
    prefix = tmp_path / "careless"
    profile = LoadProfile.build(
        server.url,
        duration="20s",
        users=1,
        max_requests=10,
        locustfile=str(SHOP),
        user_classes=("Careless",),
        csv_prefix=str(prefix),
    )
    run_load(profile)
    [row] = _rows(Path(f"{prefix}_exceptions.csv"))
    assert "the task broke" in row["Message"]
    assert "shop.py" in row["Traceback"]
    assert int(row["Count"]) >= 1


def test_independent_processes_write_one_set_each(server: Server, tmp_path: Path) -> None:
    prefix = tmp_path / "path-load"
    profile = LoadProfile.build(
        server.url,
        path="/items",
        duration="1s",  # chaoskit's own closed loop runs to its duration
        users=2,
        processes=2,
        max_requests=20,
        csv_prefix=str(prefix),
    )
    result = run_load(profile)
    stats = sorted(f for f in result.csv_files if f.endswith("_stats.csv"))
    assert stats == [f"{prefix}-p0_stats.csv", f"{prefix}-p1_stats.csv"]
    counts = [
        int(next(r for r in _rows(Path(f)) if r["Name"] == "Aggregated")["Request Count"])
        for f in stats
    ]
    assert sum(counts) == sum(r.error != IN_FLIGHT_AT_STOP for r in result.records)


def test_distributed_mode_writes_one_set_from_the_master(server: Server, tmp_path: Path) -> None:
    prefix = tmp_path / "spread"
    profile = LoadProfile.build(
        server.url,
        path="/items",
        duration="1s",
        users=2,
        processes=2,
        distributed=True,
        max_requests=40,
        csv_prefix=str(prefix),
    )
    result = run_load(profile)
    assert sorted(result.csv_files) == sorted(
        f"{prefix}{s}"
        for s in ("_stats.csv", "_stats_history.csv", "_failures.csv", "_exceptions.csv")
    )
    rows = {row["Name"]: row for row in _rows(Path(f"{prefix}_stats.csv"))}
    # The master's statistics hold both workers' requests: they agree with the records.
    answered = sum(r.error != IN_FLIGHT_AT_STOP for r in result.records)
    assert int(rows["/items"]["Request Count"]) == answered
    assert int(rows["Aggregated"]["Request Count"]) == answered
