"""``load.run(user=..., locustfile=...)`` as the load driver reads it: which file and which
classes, and the errors for what cannot be run."""

from __future__ import annotations

from pathlib import Path

import pytest

from chaoskit.errors import ConfigError
from chaoskit.experiment.driver import resolve_user_class

DATA = Path(__file__).resolve().parents[2] / "data" / "locustfiles"
SHOP, MIX = DATA / "shop.py", DATA / "mix.py"


def test_a_name_with_its_file_or_the_file_alone() -> None:
    assert resolve_user_class(f"{SHOP}:Shopper", None) == (str(SHOP), ("Shopper",))
    assert resolve_user_class("Shopper", SHOP) == (str(SHOP), ("Shopper",))
    # No name: every class of the file, as `locust -f` runs them.
    assert resolve_user_class(None, SHOP) == (str(SHOP), ())
    assert resolve_user_class(None, None) is None


def test_several_classes_of_one_file() -> None:
    assert resolve_user_class(["Browser", "Payer"], MIX) == (str(MIX), ("Browser", "Payer"))
    assert resolve_user_class([f"{MIX}:Browser", f"{MIX}:Payer"], None) == (
        str(MIX),
        ("Browser", "Payer"),
    )


def test_classes_of_two_files_or_none_are_refused() -> None:
    with pytest.raises(ConfigError, match="the classes come from 2 files"):
        resolve_user_class([f"{MIX}:Browser", f"{SHOP}:Shopper"], None)
    with pytest.raises(ConfigError, match=r"user=\[\]"):
        resolve_user_class([], MIX)
    with pytest.raises(ConfigError, match="does not exist"):
        resolve_user_class(["Browser"], DATA / "missing.py")
