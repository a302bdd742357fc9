"""The Istio releases chaoskit emulates, read from istio/istio's release tags.

Source: the tags of github.com/istio/istio as of commit 86c9f01fd735 (2026-08-22). The
newest GA patch of each recent minor: 1.28.10, 1.29.6, 1.30.3. 1.31 has only pre-releases
there (1.31.0-rc.0), so the default is 1.30, the newest release that can be verified.

A version is ``major.minor`` or ``major.minor.patch``. A bare minor means its newest known
patch, because some fixes were backported to patch releases (compat.py): "1.28" behaves as
1.28.10, the patch ``chaoskit cluster up`` installs. A patch newer than the ones known is
accepted (a new patch can be tried before this table learns it) and has every fix the
table knows of its minor.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from chaoskit.errors import ConfigError

OLDEST_MINOR = (1, 18)
# The newest GA patch of each minor with a tag in the source above.
NEWEST_PATCH: dict[tuple[int, int], int] = {(1, 28): 10, (1, 29): 6, (1, 30): 3}
DEFAULT_ISTIO = "1.30"
# Istio supports a minor until six weeks after minor N+2 ships: the two newest are what users
# run, and what the game day covers.
SUPPORTED_MINORS = ("1.29", "1.30")
NEWEST_MINOR = max(NEWEST_PATCH)


@dataclass(frozen=True, slots=True, order=True)
class IstioRelease:
    major: int
    minor: int
    patch: int | None = None  # None: a minor older than the ones whose patches are tracked

    @property
    def minor_version(self) -> tuple[int, int]:
        return self.major, self.minor

    def at_least(
        self, minor: tuple[int, int], backports: Mapping[tuple[int, int], int] | None = None
    ) -> bool:
        """True from ``minor``.0 on, and from the given patch of an older minor that got the
        change as a backport ({(1, 28): 6} = 1.28.6 and later 1.28 patches)."""
        if self.minor_version >= minor:
            return True
        first = (backports or {}).get(self.minor_version)
        return first is not None and self.patch is not None and self.patch >= first

    def __str__(self) -> str:
        base = f"{self.major}.{self.minor}"
        return base if self.patch is None else f"{base}.{self.patch}"


def parse_release(text: str) -> IstioRelease:
    """``1.30`` or ``1.30.3`` (a leading ``v`` is allowed) as an emulated release."""
    raw = str(text).strip()
    parts = raw.removeprefix("v").split(".")
    if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts):
        raise ConfigError(
            f"Istio version {raw!r} is not a release; write major.minor or major.minor.patch, "
            f"e.g. {DEFAULT_ISTIO!r} or '{DEFAULT_ISTIO}.{NEWEST_PATCH[NEWEST_MINOR]}' "
            "(pre-releases such as 1.31.0-rc.0 are not emulated)"
        )
    major, minor = int(parts[0]), int(parts[1])
    if (major, minor) < OLDEST_MINOR:
        raise ConfigError(
            f"Istio version {raw!r} is older than the oldest emulated release "
            f"{OLDEST_MINOR[0]}.{OLDEST_MINOR[1]}"
        )
    if (major, minor) > NEWEST_MINOR:
        newest = f"{NEWEST_MINOR[0]}.{NEWEST_MINOR[1]}.{NEWEST_PATCH[NEWEST_MINOR]}"
        raise ConfigError(
            f"Istio version {raw!r} is newer than the newest release chaoskit emulates "
            f"({newest}, the newest GA tag in istio/istio it was checked against); "
            f"use {DEFAULT_ISTIO!r} or an older release"
        )
    known = NEWEST_PATCH.get((major, minor))
    if len(parts) == 3:
        return IstioRelease(major, minor, int(parts[2]))
    return IstioRelease(major, minor, known)


def install_tag(text: str) -> str:
    """The release tag to install on a cluster: a bare minor becomes its newest known patch;
    a given patch is kept as written (a newer patch than the table knows can be tried)."""
    release = parse_release(text)
    if release.patch is None:
        raise ConfigError(
            f"Istio version {text!r}: name a patch release to install, e.g. '{text}.0' "
            f"(chaoskit knows the newest patches of {', '.join(_minors())} only)"
        )
    return str(release)


def _minors() -> list[str]:
    return [f"{m[0]}.{m[1]}" for m in sorted(NEWEST_PATCH)]
