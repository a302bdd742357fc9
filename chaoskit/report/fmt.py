"""Numbers, times and durations as a reader wants them (plain text; escape before use)."""

from __future__ import annotations

import math
import time

DASH = "–"


def pct(rate: float | None, digits: int = 1) -> str:
    """``0.9834`` → ``98.3%``; exactly 0 or 1 → ``0%``/``100%``; ``None`` → an en dash.

    A rate short of 1 never rounds up to ``100.0%`` (99.996% is not all): digits are
    added until it shows.
    """
    if rate is None or not math.isfinite(rate):
        return DASH
    if rate in (0.0, 1.0):
        return f"{rate * 100:.0f}%"
    text = f"{rate * 100:.{digits}f}"
    while digits < 6 and (float(text) in (0.0, 100.0)):
        digits += 1
        text = f"{rate * 100:.{digits}f}"
    return f"{text}%"


def points(delta: float, digits: int = 1) -> str:
    """A difference of two rates in percentage points, signed: ``-0.07`` → ``−7.0 points``."""
    return f"{_signed(delta * 100, digits)} points"


def signed_pct(ratio: float, digits: int = 0) -> str:
    """A ratio as a signed change: ``1.38`` → ``+38%``, ``0.9`` → ``−10%``."""
    if not math.isfinite(ratio):
        return "unbounded"
    return f"{_signed((ratio - 1.0) * 100, digits)}%"


def _signed(value: float, digits: int) -> str:
    text = f"{abs(value):.{digits}f}"
    if float(text) == 0.0:
        return f"±{text}"
    return f"+{text}" if value > 0 else f"−{text}"


def latency(seconds: float | None) -> str:
    """``0.01234`` → ``12.3 ms``; ``6.05`` → ``6.05 s``; ``None`` → an en dash."""
    if seconds is None or not math.isfinite(seconds):
        return DASH
    if seconds < 1.0:
        ms = seconds * 1000.0
        return f"{ms:.3g} ms" if ms < 100 else f"{ms:.0f} ms"
    return f"{seconds:.3g} s" if seconds < 100 else f"{seconds:.0f} s"


def duration(seconds: float | None) -> str:
    """``99.6`` → ``1 min 39.6 s``; ``12.4`` → ``12.4 s``."""
    if seconds is None or not math.isfinite(seconds):
        return DASH
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(seconds, 60.0)
    if minutes < 60:
        return f"{int(minutes)} min {rest:.0f} s"
    hours, minutes = divmod(minutes, 60.0)
    return f"{int(hours)} h {int(minutes)} min"


def timestamp(epoch: float | None) -> str:
    """Unix seconds as ``2026-11-25 07:15:02 UTC`` (UTC so reports agree across machines)."""
    if epoch is None or not math.isfinite(epoch):
        return DASH
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(epoch))


def number(value: float | None, digits: int = 3) -> str:
    """A plain number with ``digits`` significant digits; integers stay whole."""
    if value is None or not math.isfinite(value):
        return DASH
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:.{digits}g}"


def rps(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return DASH
    return f"{value:.3g} rps" if value < 1000 else f"{value:,.0f} rps"
