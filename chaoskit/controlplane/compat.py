"""Behaviour that changed between Istio releases, derived from the emulated version.

The embedded mesh and the kind backend pin the same Istio release (``PINNED_ISTIO``);
a mesh spec may name an older one to reproduce its behaviour.
"""

from __future__ import annotations

from chaoskit.errors import ConfigError
from chaoskit.mesh.config import Compat

PINNED_ISTIO = "1.28"
OLDEST_SUPPORTED = (1, 18)


def parse_version(text: str) -> tuple[int, int]:
    parts = text.strip().lstrip("v").split(".")
    try:
        major, minor = int(parts[0]), int(parts[1])
    except (IndexError, ValueError):
        raise ConfigError(
            f"istioVersion {text!r} is not a version; write major.minor, e.g. {PINNED_ISTIO!r}"
        ) from None
    if (major, minor) < OLDEST_SUPPORTED:
        raise ConfigError(
            f"istioVersion {text!r} is older than the oldest emulated release "
            f"{OLDEST_SUPPORTED[0]}.{OLDEST_SUPPORTED[1]}"
        )
    return major, minor


def compat_for(istio_version: str = PINNED_ISTIO) -> Compat:
    version = parse_version(istio_version)
    return Compat(
        istio_version=f"{version[0]}.{version[1]}",
        # EXCLUDE_UNSAFE_503_FROM_DEFAULT_RETRY defaults to true from 1.24.
        default_retry_on_503=version < (1, 24),
        # DISABLE_SHADOW_HOST_SUFFIX defaults to true from 1.28.
        mirror_shadow_suffix=version < (1, 28),
        # Istio 1.20 ships Envoy 1.28, which dropped "always eject one host".
        always_eject_one_host=version < (1, 20),
    )
