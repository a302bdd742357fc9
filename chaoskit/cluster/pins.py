"""The versions, names and ports a chaoskit kind cluster is built from (one place to bump).

The Istio release is an input: ``cluster up --istio-version`` (or ``CHAOSKIT_ISTIO_VERSION``,
which the game-day workflow's matrix sets), by default the newest patch of the release the
embedded mesh emulates by default (chaoskit.mesh.releases), so both run the same Istio. The
node image is kind v0.31.0's Kubernetes 1.34 image (pinned by digest): Istio's minimum is
1.30 for 1.28 and 1.29 and 1.32 for 1.30 (``MinK8SVersion`` in
istioctl/pkg/install/k8sversion/version.go @ 1.28.10, 1.29.6, 1.30.3).
"""

from __future__ import annotations

import os
from pathlib import Path

from chaoskit.mesh.releases import DEFAULT_ISTIO, install_tag

# The environment variable that selects the Istio release for `cluster up`, `cluster doctor`
# and `cluster images` (the CLI's --istio-version sets it for the command).
ISTIO_VERSION_ENV = "CHAOSKIT_ISTIO_VERSION"
DEFAULT_ISTIO_VERSION = install_tag(DEFAULT_ISTIO)


def istio_version() -> str:
    """The Istio release to install (a patch tag, as istio.io/downloadIstio names it)."""
    return install_tag(os.environ.get(ISTIO_VERSION_ENV) or DEFAULT_ISTIO_VERSION)


# Ambient mode (`cluster up --ambient`): waypoints are Gateway API Gateways, so the Gateway
# API CRDs go in first, at the version each Istio release builds against
# (sigs.k8s.io/gateway-api in go.mod @ 1.28.10 and 1.29.6: v1.4.1; @ 1.30.3: v1.5.1).
GATEWAY_API_VERSIONS = {"1.28": "v1.4.1", "1.29": "v1.4.1", "1.30": "v1.5.1"}
# What `istioctl waypoint apply` names a namespace's waypoint (DefaultNamespaceWaypoint,
# pkg/config/constants/constants.go @ 1.30.3).
WAYPOINT_NAME = "waypoint"
ZTUNNEL_DAEMONSET = "ztunnel"


def gateway_api_version() -> str:
    from chaoskit.errors import ConfigError

    minor = ".".join(istio_version().split(".")[:2])
    if minor not in GATEWAY_API_VERSIONS:
        raise ConfigError(
            f"cluster up --ambient: the Gateway API release Istio {minor} builds against is not "
            f"recorded (known: Istio {', '.join(GATEWAY_API_VERSIONS)}); add it to "
            "GATEWAY_API_VERSIONS in chaoskit/cluster/pins.py from that tag's go.mod"
        )
    return GATEWAY_API_VERSIONS[minor]


def gateway_api_crds() -> str:
    """The standard-channel CRDs of that release, as Istio's ambient guide installs them."""
    return (
        "https://github.com/kubernetes-sigs/gateway-api/releases/download/"
        f"{gateway_api_version()}/standard-install.yaml"
    )


KIND_VERSION = "v0.31.0"
KIND_NODE_IMAGE = (
    "kindest/node:v1.34.3@sha256:08497ee19eace7b4b5348db5c6a1591d7752b164530a36f855cb0f2bdcbadd48"
)
KUBECTL_VERSION = "v1.34.3"
BOOKINFO_IMAGE_TAG = "1.20.3"

CLUSTER_NAME = "chaoskit"
CONTEXT = f"kind-{CLUSTER_NAME}"
BOOKINFO_NAMESPACE = "bookinfo"
ISTIO_NAMESPACE = "istio-system"
# The seed templates' demo workloads (assets/demo.yaml) live where the embedded mesh has them.
DEMO_NAMESPACE = "default"

# Host ports that kind-config.yaml maps to the ingress gateway's NodePorts.
INGRESS_HTTP = "http://127.0.0.1:8080"
INGRESS_HTTPS = "https://127.0.0.1:8443"
# The in-mesh load client (fortio), published like the gateway: NodePort 30088 -> :8088.
FORTIO_URL = "http://127.0.0.1:8088"
PRODUCTPAGE_URL = f"{INGRESS_HTTP}/productpage"
PRODUCTPAGE_TITLE = "<title>Simple Bookstore App</title>"

# Ownership: `cluster up` labels kube-system so that `cluster down` deletes only its own cluster.
OWNER_LABEL = "chaoskit.dev/created-by"
OWNER_VALUE = "chaoskit-cluster-up"

# The Deployments of assets/bookinfo.yaml, in the order `cluster up` waits for them.
BOOKINFO_DEPLOYMENTS = (
    "details-v1",
    "ratings-v1",
    "ratings-faulty",
    "reviews-v1",
    "reviews-v2",
    "reviews-v3",
    "productpage-v1",
)

# The Deployments of assets/fortio.yaml: the in-mesh load client.
CLIENT_DEPLOYMENTS = ("fortio",)
FORTIO_IMAGE = "docker.io/fortio/fortio:1.69.4"

# The Deployments of assets/demo.yaml (namespace default), in the order `cluster up` waits
# for them: the embedded topology's demo workloads (a test keeps the two equal).
DEMO_DEPLOYMENTS = (
    "my-service-stable",
    "my-service-canary",
    "my-service-v1",
    "my-service-v2",
    "api-service-v1",
    "httpbin-v1",
    "httpbin-v2",
    "fortio-deploy",
    "my-app",
)
# The official nginx image renders /etc/nginx/templates/*.template with envsubst at start:
# the demo echo's headers come from the pod's name and labels, without a custom image.
ECHO_IMAGE = "docker.io/library/nginx:1.30.0-alpine-slim"
# The image of Istio 1.28's samples/httpbin/httpbin.yaml (it listens on 8080).
HTTPBIN_IMAGE = "docker.io/mccutchen/go-httpbin:v2.15.0"
# What an answer of the demo echo contains (assets/demo.yaml): `cluster up` waits for it
# through the in-mesh client, so the whole path (fortio, both sidecars, nginx) is ready.
DEMO_URL = f"{FORTIO_URL}/fortio/fetch/my-service.{DEMO_NAMESPACE}:80/"
DEMO_EXPECT = '"service": "my-service"'

# The seed's TLS gateway template reads credentialName my-tls-secret for *.example.com; a
# gateway finds such Secrets in its own namespace. `cluster up` makes it self-signed.
TLS_SECRET = "my-tls-secret"
TLS_HOSTS = ("*.example.com",)
TLS_DAYS = 365

ASSETS = Path(__file__).resolve().parent / "assets"


def asset(name: str) -> Path:
    return ASSETS / name
