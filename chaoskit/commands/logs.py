"""``chaoskit logs POD [-c istio-proxy|app] [-f]``: a pod's log, like ``kubectl logs``.

On the embedded mesh a pod is one process writing its app's and its sidecar's output to
``STATE_DIR/logs/<pod>.<namespace>.log``; the sidecar's lines are Envoy's
(``[debug][router] ...``, what ``proxy-config log --level debug`` turns on), so ``-c
istio-proxy`` shows those and ``-c <app>`` (the default, as Istio's
``kubectl.kubernetes.io/default-container`` annotation makes it) the rest. With
``--kubeconfig`` the cluster's API server answers (``GET pods/{name}/log``).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from chaoskit.commands._target import add_target_arguments, connect, default_state_dir
from chaoskit.commands.proxy import _find_pod
from chaoskit.errors import ConfigError
from chaoskit.topology.podshape import long_running_containers

SIDECAR = "istio-proxy"
FOLLOW_POLL_S = 0.2


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "logs",
        help="print a pod's log (like kubectl logs)",
        description="Print a container's log of a pod: its app (the default) or its sidecar.",
        epilog="Example: chaoskit logs deploy/reviews-v1 -n bookinfo -c istio-proxy -f",
    )
    parser.add_argument("target", metavar="POD|deploy/NAME", help="pod[.namespace] or deploy/NAME")
    parser.add_argument("-n", "--namespace", default="default")
    parser.add_argument(
        "-c",
        "--container",
        default=None,
        help=f"{SIDECAR} (the sidecar) or the app's container (the default)",
    )
    parser.add_argument("-f", "--follow", action="store_true", help="keep printing new lines")
    parser.add_argument("--tail", type=int, default=-1, help="only the last N lines")
    add_target_arguments(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    client = connect(args)
    try:
        pod = _find_pod(client, args.target, args.namespace)
        container = _container(pod, args.container)
        if args.kubeconfig:
            if args.follow:
                raise ConfigError("-f on a cluster: use `kubectl logs -f` (it streams)")
            meta = pod["metadata"]
            text = client.pod_log(meta["namespace"], meta["name"], container)
            _print(_tail([_untimed(line) for line in text.splitlines()], args.tail))
            return 0
    finally:
        client.close()
    state_dir: Path = args.state_dir or default_state_dir()
    meta = pod["metadata"]
    live = state_dir / "logs" / f"{meta['name']}.{meta['namespace']}.log"
    wanted = _is_sidecar_line if container == SIDECAR else _is_app_line
    lines = [line for line in _read(live) if wanted(line)]
    _print(_tail(lines, args.tail))
    if args.follow:
        for line in _follow(live):
            if wanted(line):
                _print([line])
    return 0


def _container(pod: dict[str, Any], asked: str | None) -> str:
    # The app's container first, then the sidecar in either shape (native: an init container).
    names = [str(c["name"]) for c in long_running_containers(pod)]
    if asked is None:
        return names[0] if names else SIDECAR
    if asked == "app" and names:  # "app": whatever the app's container is named
        return names[0]
    if asked not in names:
        raise ConfigError(
            f"container {asked!r} is not in pod {pod['metadata']['name']}; its containers: "
            f"{', '.join(names) or 'none'}"
        )
    return asked


def _is_sidecar_line(line: str) -> bool:
    # Envoy's log format starts with the level and the logger: "[debug][router] ...".
    return line.startswith("[")


def _is_app_line(line: str) -> bool:
    return not _is_sidecar_line(line)


def _read(live: Path) -> list[str]:
    """The rotated part first (``<log>.1``), then the live file."""
    lines: list[str] = []
    for path in (live.with_name(live.name + ".1"), live):
        if path.exists():
            lines.extend(path.read_text(encoding="utf-8", errors="replace").splitlines())
    return lines


def _follow(live: Path) -> Iterator[str]:
    """New lines of ``live`` until Ctrl-C (or the mesh's logs are removed)."""
    offset = live.stat().st_size if live.exists() else 0
    partial = ""
    while live.parent.exists():
        size = live.stat().st_size if live.exists() else 0
        if size < offset:  # rotated: the live file started again
            offset = 0
        if size > offset:
            with live.open("rb") as stream:
                stream.seek(offset)
                chunk = stream.read(size - offset).decode("utf-8", "replace")
            offset = size
            *complete, partial = (partial + chunk).split("\n")
            yield from complete
        time.sleep(FOLLOW_POLL_S)


def _untimed(line: str) -> str:
    """``2026-01-02T03:04:05.000Z text`` -> ``text`` (the client asks for timestamps)."""
    stamp, _, rest = line.partition(" ")
    return rest if stamp[:4].isdigit() and stamp.endswith("Z") else line


def _tail(lines: list[str], count: int) -> list[str]:
    return lines[max(len(lines) - count, 0) :] if count >= 0 else lines


def _print(lines: list[str]) -> None:
    for line in lines:
        sys.stdout.write(line + "\n")
    sys.stdout.flush()
