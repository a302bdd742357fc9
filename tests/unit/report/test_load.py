"""Loading results files: every defect is a ConfigError naming the file and the place."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chaoskit.errors import ConfigError
from chaoskit.report import check_results, load_history, load_results
from tests.unit.report.helpers import HISTORY, LATEST


def write(tmp_path: Path, data: Any, name: str = "results.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_fixture_loads() -> None:
    data = load_results(LATEST)
    assert data["schema"] == "chaoskit.results/1"
    assert len(data["experiments"]) == 5


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.json: no such file"):
        load_results(tmp_path / "nope.json")


def test_not_json_says_where(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text('{"schema": "chaoskit.results/1",\n  "run": }', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_results(path)
    assert str(path) in str(info.value)
    assert "not JSON" in str(info.value)
    assert "line 2" in str(info.value)


def test_nan_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text('{"schema": NaN}', encoding="utf-8")
    with pytest.raises(ConfigError, match="NaN is not valid JSON"):
        load_results(path)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_bytes(b'{"schema": "\xff"}')
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_results(path)


def test_top_level_must_be_an_object(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="expected a JSON object at the top, got a list"):
        load_results(write(tmp_path, []))


def test_missing_schema(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="missing key 'schema'"):
        load_results(write(tmp_path, {"run": {}}))


def test_wrong_schema(tmp_path: Path, latest: dict[str, Any]) -> None:
    latest["schema"] = "chaoskit.results/2"
    with pytest.raises(ConfigError) as info:
        load_results(write(tmp_path, latest))
    assert "schema is 'chaoskit.results/2'" in str(info.value)
    assert "'chaoskit.results/1'" in str(info.value)


def test_missing_key_names_its_path(tmp_path: Path, latest: dict[str, Any]) -> None:
    del latest["experiments"][1]["windows"][0]["summary"]["n"]
    path = write(tmp_path, latest)
    with pytest.raises(ConfigError) as info:
        load_results(path)
    assert str(info.value) == (
        f"{path}: results.experiments[1].windows[0].summary: missing key 'n'"
    )


def test_wrong_type_names_its_path(latest: dict[str, Any]) -> None:
    latest["run"]["started"] = "yesterday"
    with pytest.raises(ConfigError, match=r"results\.run\.started: expected integer or number"):
        check_results(latest, "x.json")


def test_bool_is_not_a_count(latest: dict[str, Any]) -> None:
    latest["experiments"][0]["windows"][0]["series"][0]["n"] = True
    with pytest.raises(ConfigError, match=r"series\[0\]\.n: expected integer, got True"):
        check_results(latest)


def test_unknown_outcome(latest: dict[str, Any]) -> None:
    latest["experiments"][2]["outcome"] = "passed"
    with pytest.raises(ConfigError, match="'passed' is not one of held, failed"):
        check_results(latest)


def test_unknown_keys_are_ignored(latest: dict[str, Any]) -> None:
    latest["run"]["new_in_1_1"] = {"anything": [1, 2]}
    latest["experiments"][0]["extra"] = None
    assert check_results(latest) is latest


def test_history_is_sorted_by_start(
    tmp_path: Path, latest: dict[str, Any], older: dict[str, Any]
) -> None:
    # Directory names sort the other way round from the start times.
    for name, data in (("a", latest), ("b", older)):
        (tmp_path / name).mkdir()
        write(tmp_path / name, data)
    runs = load_history(tmp_path)
    assert [r["run"]["id"] for r in runs] == [older["run"]["id"], latest["run"]["id"]]
    assert len(load_history(HISTORY)) == 2


def test_history_needs_runs(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no \*/results.json found"):
        load_history(tmp_path)
    with pytest.raises(ConfigError, match="not a directory"):
        load_history(tmp_path / "missing")


def test_history_names_the_bad_file(tmp_path: Path) -> None:
    (tmp_path / "r1").mkdir()
    (tmp_path / "r1" / "results.json").write_text("{", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"r1/results\.json: not JSON"):
        load_history(tmp_path)


def test_history_skips_the_latest_link(tmp_path: Path) -> None:
    import shutil

    source = Path(__file__).resolve().parents[2] / "data" / "results" / "history"
    runs = sorted(p for p in source.glob("*/results.json"))
    for index, path in enumerate(runs):
        (tmp_path / f"run{index}").mkdir()
        shutil.copy(path, tmp_path / f"run{index}" / "results.json")
    (tmp_path / "latest").symlink_to("run0")
    assert len(load_history(tmp_path)) == len(runs)


def test_history_leaves_out_runs_that_executed_no_experiment(
    tmp_path: Path, latest: dict[str, Any], older: dict[str, Any]
) -> None:
    refused = {**latest, "run": {**latest["run"], "id": "refused"}, "experiments": []}
    all_skipped = {
        **older,
        "run": {**older["run"], "id": "all-skipped"},
        "experiments": [{**e, "outcome": "skipped"} for e in older["experiments"]],
    }
    for name, data in (("a", latest), ("b", older), ("c", refused), ("d", all_skipped)):
        (tmp_path / name).mkdir()
        write(tmp_path / name, data)
    ids = [r["run"]["id"] for r in load_history(tmp_path)]
    assert ids == [older["run"]["id"], latest["run"]["id"]]


def test_history_of_only_refused_runs_says_so(tmp_path: Path, latest: dict[str, Any]) -> None:
    (tmp_path / "a").mkdir()
    write(tmp_path / "a", {**latest, "experiments": []})
    with pytest.raises(ConfigError, match="no run there executed an experiment"):
        load_history(tmp_path)
