"""Argument checks shared by the statistics modules, with messages that say the fix."""

from __future__ import annotations

import math


def check_confidence(confidence: float) -> float:
    """Return ``confidence`` as a float if it lies strictly between 0 and 1."""
    if isinstance(confidence, bool) or not isinstance(confidence, int | float):
        raise TypeError(f"confidence must be a number such as 0.95, got {confidence!r}")
    value = float(confidence)
    if not 0.0 < value < 1.0:
        hint = f" (write {value / 100:g}, not {value:g})" if 1.0 < value < 100.0 else ""
        raise ValueError(f"confidence must be strictly between 0 and 1, got {value:g}{hint}")
    return value


def check_probability(name: str, value: float) -> float:
    """Return ``value`` as a float if it lies in [0, 1]."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number in [0, 1], got {value!r}")
    number = float(value)
    if not 0.0 <= number <= 1.0:
        hint = f" (write {number / 100:g}, not {number:g})" if 1.0 < number <= 100.0 else ""
        raise ValueError(f"{name} must be in [0, 1], got {number:g}{hint}")
    return number


def check_counts(successes: int, trials: int) -> None:
    """Check a binomial count: integers with ``0 <= successes <= trials``."""
    for name, value in (("successes", successes), ("trials", trials)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an int, got {value!r}")
    if trials < 0 or not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials, got {successes}/{trials}")


def check_finite(name: str, value: float) -> float:
    """Return ``value`` as a float if it is a finite number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{name} must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {number!r}")
    return number


def check_int(name: str, value: object, minimum: int | None = None) -> int:
    """Return ``value`` if it is an int (not a bool) and at least ``minimum`` (if given)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value
