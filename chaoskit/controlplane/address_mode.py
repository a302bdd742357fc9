"""How the embedded mesh tells pods apart on loopback: by address, or by port.

- ``ip``: every pod listens on its own 127.x address with Kubernetes' ports (9080, 15000).
  Linux routes all of 127.0.0.0/8 to the loopback interface, so this needs nothing.
- ``port``: every pod listens on 127.0.0.1 with ports of its own (its admin, app and
  listener ports). macOS routes only 127.0.0.1 to ``lo0`` unless an administrator adds an
  alias per address, so there this is the mode that runs without sudo.

Left to itself the mesh tries to bind one other loopback address once and picks ``ip`` when
it can; ``--address-mode`` (``mesh up``, the pytest option or ini ``chaos_address_mode``)
or ``CHAOSKIT_ADDRESS_MODE`` overrides that.
"""

from __future__ import annotations

import errno
import os
import socket

from chaoskit.errors import BackendError, ConfigError

IP_MODE = "ip"
PORT_MODE = "port"
ADDRESS_MODES = (IP_MODE, PORT_MODE)
AUTO = "auto"
ENV_VAR = "CHAOSKIT_ADDRESS_MODE"
_PROBE_ADDRESS = "127.0.0.2"


def loopback_aliases_work() -> bool:
    """Whether this host can bind a loopback address other than 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((_PROBE_ADDRESS, 0))
        except OSError as exc:
            if exc.errno == errno.EADDRNOTAVAIL:
                return False
            raise
    return True


def check_mode(value: str, where: str) -> str:
    """``value`` as a mode (``auto`` included), or a ConfigError naming ``where``."""
    text = value.strip().lower()
    if text not in (AUTO, *ADDRESS_MODES):
        raise ConfigError(f"{where}: {value!r} is not an address mode; use ip, port or auto")
    return text


def resolve_address_mode(requested: str | None = None) -> str:
    """The mode a new mesh runs in: ``requested`` (else the environment's), auto-detected
    when neither says. Asking for ``ip`` where only 127.0.0.1 binds fails with the fix."""
    wanted = requested or os.environ.get(ENV_VAR) or AUTO
    mode = check_mode(wanted, "--address-mode" if requested else ENV_VAR)
    if mode == AUTO:
        return IP_MODE if loopback_aliases_work() else PORT_MODE
    if mode == IP_MODE and not loopback_aliases_work():
        raise BackendError(
            "address mode ip: this machine cannot bind loopback addresses other than 127.0.0.1 "
            "(Linux can; macOS needs `sudo ifconfig lo0 alias 127.N.0.M` per pod); use "
            "--address-mode port (or leave the mode to auto-detection) to give every pod its "
            "own ports on 127.0.0.1 instead"
        )
    return mode
