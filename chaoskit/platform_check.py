"""What chaoskit needs from the operating system, checked before it starts processes.

The embedded mesh and the load workers are POSIX programs: pods are forked (``os.fork`` in
the fork server, chaoskit.mesh.forkserver), a lost node is a pod stopped with SIGSTOP and
resumed with SIGCONT, processes leave on SIGTERM handled by the event loop
(``loop.add_signal_handler``), a detached mesh runs in its own session (``setsid``), pods
learn of the control plane's death from an inherited pipe (``pass_fds``), and the load worker
raises its open-file limit (the ``resource`` module). Linux has all of it natively and macOS
too (in port mode when its loopback has only 127.0.0.1); native Windows has none of it, so
there chaoskit runs inside WSL2, a Linux.
"""

from __future__ import annotations

import os
import sys

from chaoskit.errors import BackendError

_NEEDED = ("fork", "setsid", "killpg")


def check_posix(what: str) -> None:
    """Fail with the way out where ``what`` (e.g. "the embedded mesh") cannot run."""
    missing = [name for name in _NEEDED if not hasattr(os, name)]
    if os.name == "posix" and not missing:
        return
    raise BackendError(
        f"{what} needs a POSIX system (fork, signals such as SIGSTOP/SIGCONT, sessions); "
        f"this is {sys.platform} (missing os.{', os.'.join(missing) or 'fork'}). chaoskit runs "
        "natively on Linux and macOS; on Windows run it inside WSL2 (`wsl --install`, then "
        "`pip install chaoskit` in the Linux shell)"
    )
