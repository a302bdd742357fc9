"""LoadProfile: validation with clear errors, friendly durations, splitting across workers."""

from __future__ import annotations

import pytest

from chaoskit.errors import ConfigError
from chaoskit.load import LoadProfile

TARGET = "http://127.0.0.1:9"


def test_durations_are_go_style_strings_or_seconds() -> None:
    profile = LoadProfile.build(TARGET, duration="1m30s", think="250ms", timeout=5)
    assert (profile.duration_s, profile.think_s, profile.timeout_s) == (90.0, 0.25, 5.0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"duration": "ten seconds"}, "is not a duration"),
        ({"duration": "0s"}, "must be in (0, 3600s]"),
        ({"duration": "2h"}, "must be in (0, 3600s]"),
        ({"duration": "1s", "model": "open"}, "needs rate > 0"),
        ({"duration": "1s", "users": 0}, "users=0 must be at least 1"),
        ({"duration": "1s", "path": "productpage"}, "must start with '/'"),
        ({"duration": "1s", "model": "bursty"}, "must be 'closed' or 'open'"),
    ],
)
def test_bad_profiles_say_what_is_wrong(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        LoadProfile.build(TARGET, **kwargs)  # type: ignore[arg-type]


def test_a_target_must_be_a_url() -> None:
    with pytest.raises(ConfigError, match="http:// or https://"):
        LoadProfile.build("127.0.0.1:80", duration="1s")


def test_split_shares_users_and_rate_between_processes() -> None:
    closed = LoadProfile.build(TARGET, duration="1s", users=5, processes=2)
    assert [p.users for p in closed.split()] == [3, 2]
    assert [p.seed for p in closed.split()] == [0, 1]
    opened = LoadProfile.build(TARGET, duration="1s", model="open", rate=300.0, processes=3)
    assert [p.rate for p in opened.split()] == [100.0, 100.0, 100.0]
    assert all(p.processes == 1 for p in opened.split())


def test_scaling_changes_only_the_window() -> None:
    profile = LoadProfile.build(TARGET, duration="10s", users=3)
    assert profile.scaled(0.5).duration_s == 5.0
    assert profile.scaled(0.01).duration_s == 0.5  # never a zero-length window
    assert profile.scaled(0.5).users == 3


def test_json_round_trip() -> None:
    profile = LoadProfile.build(
        TARGET,
        duration="2s",
        logins=["jason", None],
        headers={"x-a": "1"},
        markers=["Sorry"],
        processes=2,
        distributed=True,
    )
    assert LoadProfile.from_json(profile.to_json()) == profile
    assert profile.describe()["login"] == "jason"


def test_distributed_split_gives_every_worker_a_profile() -> None:
    # The master waits for all N workers, even those Locust will give no user.
    profile = LoadProfile.build(TARGET, duration="1s", users=1, processes=3, distributed=True)
    parts = profile.split()
    assert len(parts) == 3
    assert all(p.distributed and p.processes == 1 for p in parts)
    assert [p.seed for p in parts] == [0, 1, 2]
    independent = LoadProfile.build(TARGET, duration="1s", users=1, processes=3)
    assert len(independent.split()) == 1


def test_connect_timeout_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="connect_timeout_s=0 must be in"):
        LoadProfile.build(TARGET, duration="1s", connect_timeout_s=0.0)
