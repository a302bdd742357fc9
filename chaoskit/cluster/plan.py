"""What ``chaoskit cluster up`` does, as data: an ordered list of steps.

``--dry-run`` prints this list, the tests compare it, and :mod:`chaoskit.cluster.lifecycle`
runs it. Every ``kubectl``/``istioctl`` command names the kind context explicitly
(``--context kind-chaoskit``), so no step depends on the kubeconfig's current-context.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from chaoskit.cluster import ambient_plan, pins, tools
from chaoskit.samples import SAMPLES_DIR

ROLLOUT_TIMEOUT = "300s"
# The Istio resources every experiment starts from (the packaged samples), as the embedded
# mesh has them in force: Bookinfo's subsets and gateway, and the demo services' subsets.
BASE_RESOURCES = (
    "destination-rule-all.yaml",
    "bookinfo-gateway.yaml",
    "demo-destination-rules.yaml",
)
# A pod-creating apply right after the install can race the injector webhook.
INJECTOR_NOT_READY = (
    "the sidecar injector webhook may not answer yet; "
    "`kubectl --context kind-chaoskit -n istio-system get pods`"
)
TEMP_FILE = "TEMPFILE"  # how --dry-run names the built-in Secret step's file


@dataclass(frozen=True, slots=True)
class HttpWait:
    """Poll ``url`` until it answers 200 with ``expect`` in the body."""

    url: str
    expect: str
    interval_s: float = 2.0


@dataclass(frozen=True, slots=True)
class TlsSecret:
    """A self-signed certificate for ``hosts``, applied as a ``kubernetes.io/tls`` Secret.

    The Secret goes to kubectl in a private temporary file (mode 0600, deleted afterwards),
    never through the command line or the output. Server-side apply: kubectl's client-side
    apply would copy the whole Secret, key included, into an annotation.
    """

    name: str
    namespace: str
    hosts: tuple[str, ...]
    days: int

    def apply_argv(self, manifest: Path) -> tuple[str, ...]:
        return _kubectl("apply", "--server-side", "-f", str(manifest))


@dataclass(frozen=True, slots=True)
class Step:
    """One step of ``cluster up``.

    ``argv`` is the command to run; a step without one is built in: ``http`` polls a URL,
    ``guard_context`` runs the context guard, ``tls_secret`` makes and applies a Secret.
    ``expect_version``: the command must also print this version. ``retries`` re-runs a
    failed command (webhooks refuse requests for a while after an Istio install); ``hint``
    is the next thing to try when the step fails for good.
    """

    name: str
    argv: tuple[str, ...] = ()
    timeout_s: float = 600.0
    retries: int = 0
    hint: str = ""
    http: HttpWait | None = None
    guard_context: str | None = None
    tls_secret: TlsSecret | None = None
    expect_version: str | None = None

    def command_line(self) -> str:
        if self.argv:
            return shlex.join(self.argv)
        if self.http is not None:
            return (
                f"(built-in) GET {self.http.url} every {self.http.interval_s:g}s until the body "
                f"contains {self.http.expect}, for up to {self.timeout_s:g}s"
            )
        if self.guard_context is not None:
            return (
                f"(built-in) context guard on {self.guard_context}: name kind-*, API server on "
                "loopback, every node's spec.providerID kind://"
            )
        if self.tls_secret is not None:
            secret = self.tls_secret
            apply = shlex.join(secret.apply_argv(Path(TEMP_FILE)))
            return (
                f"(built-in) a self-signed certificate for {', '.join(secret.hosts)} (valid "
                f"{secret.days} days), then {apply}: the Secret is in a private temporary "
                "file, its key is never printed"
            )
        return "(nothing to run)"


def _kubectl(*args: str) -> tuple[str, ...]:
    return ("kubectl", "--context", pins.CONTEXT, *args)


def default_resources_dir() -> Path:
    """The Istio YAML that ships in the package (``chaoskit/samples``), so ``cluster up``
    works from any directory, not only from a checkout."""
    return SAMPLES_DIR


def up_plan(*, resources_dir: Path, create: bool = True, ambient: bool = False) -> list[Step]:
    """The steps of ``cluster up``; ``create=False`` skips creating the cluster (it exists,
    e.g. made by helm/kind-action in CI) and therefore does not claim ownership of it;
    ``ambient`` installs Istio's ambient profile and enrolls the app namespaces in ambient,
    each with a waypoint, instead of injecting sidecars (``chaoskit/cluster/ambient_plan.py``)."""
    # istioctl installs its own Istio version, whatever the operator file says: a stale one
    # on PATH would install another Istio than the one pinned. Checked before anything runs.
    steps: list[Step] = [
        Step(
            f"check that istioctl is {pins.istio_version()}",
            ("istioctl", "version", "--remote=false"),
            timeout_s=60,
            expect_version=pins.istio_version(),
            hint=f"install istioctl {pins.istio_version()}: {tools.istioctl().install}",
        )
    ]
    if create:
        steps += [
            Step(
                "create the kind cluster",
                (
                    "kind",
                    "create",
                    "cluster",
                    "--name",
                    pins.CLUSTER_NAME,
                    "--config",
                    str(pins.asset("kind-config.yaml")),
                    "--image",
                    pins.KIND_NODE_IMAGE,
                    "--wait",
                    "180s",
                ),
                timeout_s=600,
                hint=(
                    "is Docker running (`docker info`)? Does a cluster of that name exist "
                    "already (`kind get clusters`)? Is something else on 127.0.0.1:8080 or :8443?"
                ),
            ),
            Step(
                "mark the cluster as created by chaoskit",
                _kubectl(
                    "label",
                    "namespace",
                    "kube-system",
                    f"{pins.OWNER_LABEL}={pins.OWNER_VALUE}",
                    "--overwrite",
                ),
                timeout_s=60,
                retries=2,
                hint="`kubectl --context kind-chaoskit get ns kube-system` should answer",
            ),
        ]
    steps += [
        Step(
            "check that the context is the kind cluster",
            guard_context=pins.CONTEXT,
            timeout_s=60,
            hint=(
                "`kubectl config get-contexts kind-chaoskit` should point at https://127.0.0.1; "
                "`kind export kubeconfig --name chaoskit` rewrites it"
            ),
        ),
        *(ambient_plan.gateway_api_steps() if ambient else ()),
        Step(
            f"install Istio {pins.istio_version()} "
            + (ambient_plan.PROFILE_NOTE if ambient else "(demo profile, NodePort ingress)"),
            (
                "istioctl",
                "install",
                "--context",
                pins.CONTEXT,
                "-f",
                str(pins.asset("istio-operator.yaml")),
                *(ambient_plan.PROFILE_FLAGS if ambient else ()),
                "-y",
            ),
            timeout_s=900,
            retries=1,
            hint=(
                "`kubectl --context kind-chaoskit -n istio-system get pods` shows what is not "
                "ready; `istioctl version` must be "
                f"{pins.istio_version()}; then `chaoskit cluster up --use-existing` resumes"
            ),
        ),
        Step(
            "wait for istiod",
            _kubectl(
                "-n",
                pins.ISTIO_NAMESPACE,
                "rollout",
                "status",
                "deployment/istiod",
                f"--timeout={ROLLOUT_TIMEOUT}",
            ),
            timeout_s=330,
            hint="`kubectl --context kind-chaoskit -n istio-system describe deployment istiod`",
        ),
        *(ambient_plan.ztunnel_steps() if ambient else ()),
        Step(
            "wait for the ingress gateway",
            _kubectl(
                "-n",
                pins.ISTIO_NAMESPACE,
                "rollout",
                "status",
                "deployment/istio-ingressgateway",
                f"--timeout={ROLLOUT_TIMEOUT}",
            ),
            timeout_s=330,
            hint=(
                "`kubectl --context kind-chaoskit -n istio-system describe deployment "
                "istio-ingressgateway`"
            ),
        ),
        Step(
            f"create namespace {pins.BOOKINFO_NAMESPACE}",
            _kubectl("apply", "-f", str(pins.asset("namespace.yaml"))),
            timeout_s=60,
        ),
    ]
    app_namespaces = (pins.BOOKINFO_NAMESPACE, pins.DEMO_NAMESPACE)
    if ambient:
        steps += ambient_plan.enroll_steps(app_namespaces)
    else:
        steps += [
            Step(
                "enable sidecar injection in bookinfo (before any Bookinfo pod exists)",
                _kubectl(
                    "label",
                    "namespace",
                    pins.BOOKINFO_NAMESPACE,
                    "istio-injection=enabled",
                    "--overwrite",
                ),
                timeout_s=60,
            ),
            Step(
                f"enable sidecar injection in {pins.DEMO_NAMESPACE} (before any demo pod exists)",
                _kubectl(
                    "label",
                    "namespace",
                    pins.DEMO_NAMESPACE,
                    "istio-injection=enabled",
                    "--overwrite",
                ),
                timeout_s=60,
            ),
        ]
    steps += [
        Step(
            f"deploy Bookinfo (images {pins.BOOKINFO_IMAGE_TAG}, with ratings-faulty at 0)",
            _kubectl("apply", "-f", str(pins.asset("bookinfo.yaml"))),
            timeout_s=120,
            retries=3,
            hint=INJECTOR_NOT_READY,
        ),
        Step(
            "deploy the in-mesh load client (fortio, published on 127.0.0.1:8088)",
            _kubectl("apply", "-f", str(pins.asset("fortio.yaml"))),
            timeout_s=120,
            retries=3,
            hint="`kubectl --context kind-chaoskit -n bookinfo get deployment fortio`",
        ),
        Step(
            f"deploy the demo workloads of the seed templates (in {pins.DEMO_NAMESPACE})",
            _kubectl("apply", "-f", str(pins.asset("demo.yaml"))),
            timeout_s=120,
            retries=3,
            hint=INJECTOR_NOT_READY,
        ),
        Step(
            f"create the ingress gateway's TLS Secret {pins.ISTIO_NAMESPACE}/{pins.TLS_SECRET} "
            f"(self-signed, {', '.join(pins.TLS_HOSTS)})",
            tls_secret=TlsSecret(
                pins.TLS_SECRET, pins.ISTIO_NAMESPACE, pins.TLS_HOSTS, pins.TLS_DAYS
            ),
            timeout_s=60,
            retries=2,
            hint="`kubectl --context kind-chaoskit -n istio-system get secrets` should answer",
        ),
        Step(
            "apply the base Istio resources: Bookinfo's subsets and ingress, the demo "
            "subsets (the packaged samples)",
            _kubectl(
                "apply",
                *(arg for name in BASE_RESOURCES for arg in ("-f", str(resources_dir / name))),
            ),
            timeout_s=120,
            retries=5,
            hint=(
                "Istio's validation webhook refuses requests until istiod is ready; "
                "it retries; pass --resources DIR for your own base files"
            ),
        ),
    ]
    if ambient:
        steps += ambient_plan.waypoint_steps(app_namespaces)
    waits = [
        *(
            (pins.BOOKINFO_NAMESPACE, d)
            for d in (*pins.BOOKINFO_DEPLOYMENTS, *pins.CLIENT_DEPLOYMENTS)
        ),
        *((pins.DEMO_NAMESPACE, d) for d in pins.DEMO_DEPLOYMENTS),
    ]
    for namespace, deployment in waits:
        steps.append(
            Step(
                f"wait for {deployment}"
                + ("" if namespace == pins.BOOKINFO_NAMESPACE else f" ({namespace})"),
                _kubectl(
                    "-n",
                    namespace,
                    "rollout",
                    "status",
                    f"deployment/{deployment}",
                    f"--timeout={ROLLOUT_TIMEOUT}",
                ),
                timeout_s=330,
                hint=(
                    f"`kubectl --context kind-chaoskit -n {namespace} describe deployment "
                    f"{deployment}` and `kubectl --context kind-chaoskit -n {namespace} get "
                    "events`; docker.io pulls may be rate-limited"
                ),
            )
        )
    steps.append(
        Step(
            "wait for Bookinfo through the ingress gateway",
            http=HttpWait(pins.PRODUCTPAGE_URL, pins.PRODUCTPAGE_TITLE),
            timeout_s=300,
            hint=(
                "`kubectl --context kind-chaoskit -n istio-system get svc istio-ingressgateway` "
                "must show NodePort 30080; `kubectl --context kind-chaoskit -n bookinfo get "
                "gateway,virtualservice` must list bookinfo-gateway and bookinfo"
            ),
        )
    )
    steps.append(
        Step(
            "wait for my-service through the in-mesh client (fortio)",
            http=HttpWait(pins.DEMO_URL, pins.DEMO_EXPECT),
            timeout_s=120,
            hint=(
                "`kubectl --context kind-chaoskit -n bookinfo get svc fortio` must show NodePort "
                "30088; `kubectl --context kind-chaoskit -n default logs deploy/my-service-v1 -c "
                "echo` shows whether nginx rendered its template"
            ),
        )
    )
    return steps


def cluster_images(*, ambient: bool = False) -> list[str]:
    """Every image ``cluster up`` runs: Istio's (from the operator file's hub, at the pinned
    version; ambient adds ztunnel and the CNI node agent) and each container image in the
    shipped manifests. The game-day workflow caches these and loads them into kind, so a
    run does not depend on registry limits."""
    operator = yaml.safe_load(pins.asset("istio-operator.yaml").read_text())
    hub = operator["spec"]["hub"]
    names = ("pilot", "proxyv2", *(ambient_plan.IMAGES if ambient else ()))
    images = [f"{hub}/{name}:{pins.istio_version()}" for name in names]
    for asset in ("bookinfo.yaml", "fortio.yaml", "demo.yaml"):
        for doc in yaml.safe_load_all(pins.asset(asset).read_text()):
            if doc and doc.get("kind") == "Deployment":
                for container in doc["spec"]["template"]["spec"]["containers"]:
                    images.append(str(container["image"]))
    return sorted(dict.fromkeys(images))


def render(steps: Sequence[Step]) -> str:
    """The plan as ``--dry-run`` prints it."""
    lines = [
        f"chaoskit cluster up: {len(steps)} steps "
        f"(Istio {pins.istio_version()}, kind {pins.KIND_VERSION}, context {pins.CONTEXT})"
    ]
    width = len(str(len(steps)))
    for number, step in enumerate(steps, 1):
        lines.append(f"{number:>{width}}. {step.name}")
        lines.append(f"{'':>{width}}  $ {step.command_line()}")
    return "\n".join(lines) + "\n"
