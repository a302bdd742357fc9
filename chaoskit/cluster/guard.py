"""The context guard: chaos runs only against a local kind cluster unless told otherwise.

Three checks, all of which must hold:

1. the kubeconfig context is named ``kind-*`` (kind names its contexts ``kind-<cluster>``);
2. that context's API server is on loopback (127.0.0.0/8, ``localhost`` or ``::1``), where
   kind binds it;
3. server-side, every node's ``spec.providerID`` starts with ``kind://``, which kind sets
   and no cloud provider does.

The embedded mesh (``chaoskit mesh up``) is local too, and passes the same three checks in
its own names: its kubeconfig context is ``chaoskit-embedded`` and its one node's provider
ID is ``chaoskit://embedded``, a scheme no cloud or kind uses. So the dress rehearsal
(``--mesh kube --kube-context chaoskit-embedded``) needs no override, while a context of
that name that leads to anything else is refused like any other.

The first two are read from the kubeconfig without contacting anything; when one fails the
guard refuses before it connects. ``allow_non_kind=True`` (the ``--i-understand-this-is-not-kind``
flag) turns refusals into warnings in the report, and is only accepted together with an
explicitly named context: the guard never lets "whatever current-context is" through.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import yaml

from chaoskit.errors import BackendError

if TYPE_CHECKING:
    from chaoskit.kube.client import KubeClient

OVERRIDE_FLAG = "--i-understand-this-is-not-kind"
CONTEXT_FLAG = "--kube-context"
MESH_FLAG = "--mesh"
KIND_PROVIDER_PREFIX = "kind://"
# What the embedded mesh writes into its kubeconfig and Node (chaoskit.controlplane.server,
# chaoskit.controlplane.api_workloads; a test keeps them equal).
EMBEDDED_CONTEXT = "chaoskit-embedded"
EMBEDDED_PROVIDER_PREFIX = "chaoskit://"


class UnsafeTarget(BackendError):
    """The target is not (provably) a local kind cluster; the message says which check failed."""


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class GuardReport:
    """What the guard verified; experiments log it in their report."""

    context: str
    server: str
    checks: tuple[Check, ...]
    overridden: bool = False

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def describe(self) -> str:
        head = f"context {self.context} ({self.server})"
        if self.ok:
            what = "embedded mesh" if self.context == EMBEDDED_CONTEXT else "kind cluster"
            return f"{head}: {what} verified ({'; '.join(c.detail for c in self.checks)})"
        failed = "; ".join(c.detail for c in self.checks if not c.ok)
        return f"{head}: NOT a kind cluster, allowed by {OVERRIDE_FLAG}: {failed}"


# --- the kubeconfig -------------------------------------------------------------------------


def _kubeconfig_files(path: str | Path | None) -> list[Path]:
    if path is not None:
        return [Path(path).expanduser()]
    env = os.environ.get("KUBECONFIG", "")
    files = [Path(p).expanduser() for p in env.split(os.pathsep) if p]
    return files or [Path("~/.kube/config").expanduser()]


def kubeconfig_target(path: str | Path | None, context: str | None) -> tuple[str, str]:
    """``(context name, API server URL)`` for ``context`` (default: current-context).

    With several files (``KUBECONFIG=a:b``) the first file that names an entry wins, as in
    kubectl.
    """
    contexts: dict[str, dict[str, Any]] = {}
    clusters: dict[str, dict[str, Any]] = {}
    current = ""
    files = _kubeconfig_files(path)
    for file in files:
        try:
            data = yaml.safe_load(file.read_text()) or {}
        except FileNotFoundError:
            continue
        except (OSError, yaml.YAMLError) as exc:
            raise BackendError(f"cannot read kubeconfig {file}: {exc}") from None
        if not isinstance(data, dict):
            continue
        current = current or str(data.get("current-context") or "")
        for entry in data.get("contexts") or []:
            contexts.setdefault(str(entry.get("name")), entry.get("context") or {})
        for entry in data.get("clusters") or []:
            clusters.setdefault(str(entry.get("name")), entry.get("cluster") or {})
    name = context or current
    where = ", ".join(str(f) for f in files)
    if not name:
        raise UnsafeTarget(f"no context given and no current-context in {where}")
    if name not in contexts:
        raise UnsafeTarget(f"context {name!r} is not in {where}")
    cluster = clusters.get(str(contexts[name].get("cluster")), {})
    server = str(cluster.get("server") or "")
    if not server:
        raise UnsafeTarget(f"context {name!r} has no cluster server in {where}")
    return name, server


# --- the checks -------------------------------------------------------------------------------


def check_context_name(context: str) -> Check:
    if context.startswith("kind-"):
        return Check("context name", True, f"context name {context} is kind-*")
    if context == EMBEDDED_CONTEXT:
        return Check("context name", True, f"context name {context} is the embedded mesh's")
    return Check(
        "context name",
        False,
        f"context name {context!r} does not start with 'kind-' (kind names its contexts "
        f"kind-<cluster>) and is not {EMBEDDED_CONTEXT} (the embedded mesh's)",
    )


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_server(server: str) -> Check:
    host = urlsplit(server).hostname or ""
    if is_loopback(host):
        return Check("API server", True, f"API server {host} is on loopback")
    return Check(
        "API server",
        False,
        f"API server {server} is not on loopback (127.0.0.0/8, localhost or ::1), "
        "where kind binds it",
    )


def provider_prefix(context: str) -> str:
    """The provider ID every node of a local target must carry: the embedded mesh's for its
    context, kind's for the rest."""
    return EMBEDDED_PROVIDER_PREFIX if context == EMBEDDED_CONTEXT else KIND_PROVIDER_PREFIX


def check_nodes(nodes: Iterable[dict[str, Any]], prefix: str = KIND_PROVIDER_PREFIX) -> Check:
    nodes = list(nodes)
    owner = "the embedded mesh's" if prefix == EMBEDDED_PROVIDER_PREFIX else "kind's"
    if not nodes:
        return Check("nodes", False, f"the cluster lists no nodes, so none is proven to be {owner}")
    foreign = [
        f"{(n.get('metadata') or {}).get('name', '?')} "
        f"({(n.get('spec') or {}).get('providerID') or 'no providerID'})"
        for n in nodes
        if not str((n.get("spec") or {}).get("providerID") or "").startswith(prefix)
    ]
    if foreign:
        return Check("nodes", False, f"node spec.providerID is not {prefix}*: {', '.join(foreign)}")
    return Check("nodes", True, f"all {len(nodes)} node(s) have providerID {prefix}*")


def _refusal(context: str, failed: list[Check]) -> UnsafeTarget:
    reasons = "\n".join(f"  - {check.detail}" for check in failed)
    return UnsafeTarget(
        f"refusing to run chaos against context {context!r}: it is not a local kind cluster "
        "(nor the embedded mesh)\n"
        f"{reasons}\n"
        # The whole override: the flag is refused with --mesh kind, and never works alone.
        f"To run against it anyway, pass {MESH_FLAG} kube {CONTEXT_FLAG} {context} "
        f"{OVERRIDE_FLAG}."
    )


# --- the guard ---------------------------------------------------------------------------------


def verify(
    kubeconfig: str | Path | None,
    context: str | None,
    *,
    allow_non_kind: bool = False,
    connect: Callable[[str | Path | None, str], KubeClient] | None = None,
) -> GuardReport:
    """Check the target; raise :class:`UnsafeTarget` unless it is kind or the override is on."""
    if allow_non_kind and not context:
        raise UnsafeTarget(
            f"{OVERRIDE_FLAG} needs an explicit {CONTEXT_FLAG} NAME: the guard never "
            "waves through whatever the kubeconfig's current-context happens to be"
        )
    name, server = kubeconfig_target(kubeconfig, context)
    local = [check_context_name(name), check_server(server)]
    failed = [c for c in local if not c.ok]
    if failed and not allow_non_kind:
        raise _refusal(name, failed)  # before connecting to anything
    client = (connect or _connect)(kubeconfig, name)
    try:
        return verify_client(client, name, server, allow_non_kind=allow_non_kind, local=local)
    finally:
        client.close()


def verify_client(
    client: KubeClient,
    context: str,
    server: str,
    *,
    allow_non_kind: bool = False,
    local: list[Check] | None = None,
) -> GuardReport:
    """The server-side check (nodes), on top of the kubeconfig checks."""
    checks = list(
        local if local is not None else [check_context_name(context), check_server(server)]
    )
    try:
        checks.append(check_nodes(client.nodes(), provider_prefix(context)))
    except BackendError as exc:
        checks.append(
            Check("nodes", False, f"cannot list nodes to prove the cluster is kind: {exc}")
        )
    failed = [c for c in checks if not c.ok]
    if failed and not allow_non_kind:
        raise _refusal(context, failed)
    return GuardReport(context, server, tuple(checks), overridden=bool(failed))


def _connect(kubeconfig: str | Path | None, context: str) -> KubeClient:
    from chaoskit.kube.client import KubeClient

    return KubeClient.from_kubeconfig(
        str(kubeconfig) if kubeconfig is not None else None, context, request_timeout_s=15.0
    )
