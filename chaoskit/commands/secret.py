"""``chaoskit secret create NAME --host H``: a self-signed TLS Secret for a gateway.

The Secret has Kubernetes' ``kubernetes.io/tls`` shape (``tls.crt``/``tls.key``), so a
Gateway's ``credentialName`` finds it as on a cluster. It is created in the gateway
workload's namespace (istio-system by default), where Istio looks for it.
"""

from __future__ import annotations

import argparse

from chaoskit.commands._target import add_target_arguments, connect


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("secret", help="create a self-signed TLS Secret")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    create = actions.add_parser("create", help="create a self-signed kubernetes.io/tls Secret")
    create.add_argument("name", help="the Secret's name (a Gateway's credentialName)")
    create.add_argument(
        "--host", action="append", required=True, help="a DNS name or wildcard (repeatable)"
    )
    create.add_argument("-n", "--namespace", default="istio-system")
    create.add_argument("--days", type=int, default=30, help="validity (default 30 days)")
    add_target_arguments(create)
    create.set_defaults(handler=run_create)


def run_create(args: argparse.Namespace) -> int:
    from chaoskit.controlplane.certificates import tls_secret

    body = tls_secret(args.name, args.namespace, list(args.host), days=args.days)
    client = connect(args)
    try:
        client.call("POST", f"/api/v1/namespaces/{args.namespace}/secrets", body=body)
    finally:
        client.close()
    print(f"secret/{args.name} created in {args.namespace} for {', '.join(args.host)}")
    return 0
