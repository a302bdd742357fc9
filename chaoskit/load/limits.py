"""The open-file limit a load worker needs: one socket per concurrent request, and more.

A closed-loop user holds one connection; the open model holds up to ``max_in_flight``.
Linux's usual soft limit is 1,024, below the canary flood's 1,400 users, and a socket
refused for lack of descriptors would show as a transport error: a failure of the mesh
that the mesh never had. So the worker raises its soft limit (an unprivileged process may,
up to the hard limit: setrlimit(2)) and, when even the hard limit is too low, stops with an
error that says so and how to lift it, before sending anything.
"""

from __future__ import annotations

import math
import resource

from chaoskit.load.profile import LoadProfile

# Descriptors besides the sockets: output files, Locust's and gevent's own, a master link.
RESERVE = 64


class TooFewOpenFiles(RuntimeError):
    """The hard open-file limit is below what the load needs."""


def open_files_needed(profile: LoadProfile) -> int:
    """Descriptors one worker process of ``profile`` may hold at once."""
    users = profile.users
    if profile.distributed:  # the master deals each of its workers a share of the users
        users = math.ceil(users / profile.processes)
    concurrent = users if profile.model == "closed" else profile.max_in_flight
    return concurrent + RESERVE


def ensure_open_files(needed: int) -> int:
    """Raise the soft ``RLIMIT_NOFILE`` to at least ``needed``; return the soft limit now.

    Raises :class:`TooFewOpenFiles` when the hard limit is lower than ``needed``.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    unlimited = resource.RLIM_INFINITY
    if soft == unlimited or soft >= needed:
        return soft
    if hard != unlimited and hard < needed:
        raise TooFewOpenFiles(
            f"the load needs about {needed} open files (one per concurrent request), but "
            f"this process may open at most {hard} (hard RLIMIT_NOFILE; soft {soft}); raise "
            f"it before running (`ulimit -n {needed}` in the shell as root, or `LimitNOFILE=` "
            "for a service), or send with fewer users or processes=N"
        )
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
    return needed
