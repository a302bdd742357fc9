"""`chaoskit cluster up --dry-run` prints the plan exactly; the plan is what the facts say."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from chaoskit.cli import main
from chaoskit.cluster import pins
from chaoskit.cluster.plan import up_plan
from chaoskit.controlplane.compat import compat_for
from chaoskit.mesh.releases import DEFAULT_ISTIO, install_tag

REPO = Path(__file__).resolve().parents[3]
ASSETS = REPO / "chaoskit" / "cluster" / "assets"
RESOURCES = REPO / "chaoskit" / "samples"
NODE = (
    "kindest/node:v1.34.3@sha256:08497ee19eace7b4b5348db5c6a1591d7752b164530a36f855cb0f2bdcbadd48"
)


def expected_dry_run(resources: Path) -> str:
    k = "kubectl --context kind-chaoskit"
    wait = "rollout status deployment/{} --timeout=300s"
    lines = [
        "chaoskit cluster up: 34 steps (Istio 1.28.10, kind v0.31.0, context kind-chaoskit)",
        " 1. check that istioctl is 1.28.10",
        "    $ istioctl version --remote=false",
        " 2. create the kind cluster",
        f"    $ kind create cluster --name chaoskit --config {ASSETS}/kind-config.yaml --image "
        f"{NODE} --wait 180s",
        " 3. mark the cluster as created by chaoskit",
        f"    $ {k} label namespace kube-system chaoskit.dev/created-by=chaoskit-cluster-up "
        "--overwrite",
        " 4. check that the context is the kind cluster",
        "    $ (built-in) context guard on kind-chaoskit: name kind-*, API server on loopback, "
        "every node's spec.providerID kind://",
        " 5. install Istio 1.28.10 (demo profile, NodePort ingress)",
        f"    $ istioctl install --context kind-chaoskit -f {ASSETS}/istio-operator.yaml -y",
        " 6. wait for istiod",
        f"    $ {k} -n istio-system {wait.format('istiod')}",
        " 7. wait for the ingress gateway",
        f"    $ {k} -n istio-system {wait.format('istio-ingressgateway')}",
        " 8. create namespace bookinfo",
        f"    $ {k} apply -f {ASSETS}/namespace.yaml",
        " 9. enable sidecar injection in bookinfo (before any Bookinfo pod exists)",
        f"    $ {k} label namespace bookinfo istio-injection=enabled --overwrite",
        "10. enable sidecar injection in default (before any demo pod exists)",
        f"    $ {k} label namespace default istio-injection=enabled --overwrite",
        "11. deploy Bookinfo (images 1.20.3, with ratings-faulty at 0)",
        f"    $ {k} apply -f {ASSETS}/bookinfo.yaml",
        "12. deploy the in-mesh load client (fortio, published on 127.0.0.1:8088)",
        f"    $ {k} apply -f {ASSETS}/fortio.yaml",
        "13. deploy the demo workloads of the seed templates (in default)",
        f"    $ {k} apply -f {ASSETS}/demo.yaml",
        "14. create the ingress gateway's TLS Secret istio-system/my-tls-secret "
        "(self-signed, *.example.com)",
        "    $ (built-in) a self-signed certificate for *.example.com (valid 365 days), then "
        f"{k} apply --server-side -f TEMPFILE: the Secret is in a private temporary file, its "
        "key is never printed",
        "15. apply the base Istio resources: Bookinfo's subsets and ingress, the demo subsets "
        "(the packaged samples)",
        f"    $ {k} apply -f {resources}/destination-rule-all.yaml -f "
        f"{resources}/bookinfo-gateway.yaml -f {resources}/demo-destination-rules.yaml",
    ]
    number = 16
    for deployment in (
        "details-v1",
        "ratings-v1",
        "ratings-faulty",
        "reviews-v1",
        "reviews-v2",
        "reviews-v3",
        "productpage-v1",
        "fortio",
    ):
        lines += [
            f"{number}. wait for {deployment}",
            f"    $ {k} -n bookinfo {wait.format(deployment)}",
        ]
        number += 1
    for deployment in (
        "my-service-stable",
        "my-service-canary",
        "my-service-v1",
        "my-service-v2",
        "api-service-v1",
        "httpbin-v1",
        "httpbin-v2",
        "fortio-deploy",
        "my-app",
    ):
        lines += [
            f"{number}. wait for {deployment} (default)",
            f"    $ {k} -n default {wait.format(deployment)}",
        ]
        number += 1
    lines += [
        "33. wait for Bookinfo through the ingress gateway",
        "    $ (built-in) GET http://127.0.0.1:8080/productpage every 2s until the body contains "
        "<title>Simple Bookstore App</title>, for up to 300s",
        "34. wait for my-service through the in-mesh client (fortio)",
        "    $ (built-in) GET http://127.0.0.1:8088/fortio/fetch/my-service.default:80/ every 2s "
        'until the body contains "service": "my-service", for up to 120s',
    ]
    return "\n".join(lines) + "\n"


def test_dry_run_prints_every_step_and_command_and_runs_nothing(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("PATH", "")  # nothing could run: no tool is even found
    assert main(["cluster", "up", "--dry-run"]) == 0
    out, err = capsys.readouterr()
    assert out == expected_dry_run(REPO / "chaoskit" / "samples")
    assert err == ""


def test_dry_run_with_an_existing_cluster_skips_creating_and_claiming_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["cluster", "up", "--dry-run", "--use-existing", "--resources", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        "chaoskit cluster up: 32 steps (Istio 1.28.10, kind v0.31.0, context kind-chaoskit)\n"
        " 1. check that istioctl is 1.28.10\n"
        "    $ istioctl version --remote=false\n"
        " 2. check that the context is the kind cluster\n"
    )
    assert "kind create" not in out
    assert "kube-system" not in out
    assert (
        f"-f {tmp_path}/destination-rule-all.yaml -f {tmp_path}/bookinfo-gateway.yaml "
        f"-f {tmp_path}/demo-destination-rules.yaml"
    ) in out


def test_every_cluster_command_names_the_kind_context() -> None:
    for step in up_plan(resources_dir=RESOURCES):
        if step.argv[1:] == ("version", "--remote=false"):
            continue  # the client's own version: asks no cluster
        if step.argv and step.argv[0] in ("kubectl", "istioctl"):
            assert "--context" in step.argv, step.argv
            assert pins.CONTEXT in step.argv, step.argv


def test_every_asset_and_resource_the_plan_applies_exists() -> None:
    for step in up_plan(resources_dir=RESOURCES):
        for flag, value in zip(step.argv, step.argv[1:], strict=False):
            if flag in ("-f", "--config"):
                assert Path(value).is_file(), value


def test_the_plan_waits_for_every_deployment_of_the_manifests() -> None:
    waited = [
        (s.argv[4], s.argv[-2].removeprefix("deployment/"))
        for s in up_plan(resources_dir=RESOURCES)
        if "rollout" in s.argv and s.argv[4] != pins.ISTIO_NAMESPACE
    ]
    assert waited == [
        *((pins.BOOKINFO_NAMESPACE, d) for d in pins.BOOKINFO_DEPLOYMENTS),
        *((pins.BOOKINFO_NAMESPACE, d) for d in pins.CLIENT_DEPLOYMENTS),
        *((pins.DEMO_NAMESPACE, d) for d in pins.DEMO_DEPLOYMENTS),
    ]
    # ...and those are all the Deployments the applied manifests have, in their namespaces.
    shipped = {
        (doc["metadata"]["namespace"], doc["metadata"]["name"])
        for name in ("bookinfo.yaml", "fortio.yaml", "demo.yaml")
        for doc in yaml.safe_load_all(pins.asset(name).read_text())
        if doc and doc["kind"] == "Deployment"
    }
    assert set(waited) == shipped


def test_namespaces_are_labelled_for_injection_before_their_pods_are_deployed() -> None:
    names = [" ".join(s.argv) for s in up_plan(resources_dir=RESOURCES)]

    def index(fragment: str) -> int:
        (found,) = [i for i, line in enumerate(names) if fragment in line]
        return found

    for namespace, asset in (
        (pins.BOOKINFO_NAMESPACE, "bookinfo.yaml"),
        (pins.BOOKINFO_NAMESPACE, "fortio.yaml"),
        (pins.DEMO_NAMESPACE, "demo.yaml"),
    ):
        label = index(f"label namespace {namespace} istio-injection=enabled")
        assert label < index(f"apply -f {pins.asset(asset)}"), asset


def test_the_tls_secret_exists_before_the_gateway_template_could_need_it() -> None:
    steps = up_plan(resources_dir=RESOURCES)
    (at,) = [i for i, s in enumerate(steps) if s.tls_secret is not None]
    secret = steps[at].tls_secret
    assert secret is not None
    assert (secret.name, secret.namespace, secret.hosts) == (
        "my-tls-secret",
        "istio-system",
        ("*.example.com",),
    )
    install = next(i for i, s in enumerate(steps) if s.argv[:2] == ("istioctl", "install"))
    first_wait = next(
        i for i, s in enumerate(steps) if "rollout" in s.argv and "bookinfo" in s.argv
    )
    assert install < at < first_wait
    argv = secret.apply_argv(Path("/tmp/x/secret.json"))
    assert argv == (
        "kubectl",
        "--context",
        pins.CONTEXT,
        "apply",
        "--server-side",
        "-f",
        "/tmp/x/secret.json",
    )


def test_the_last_steps_wait_for_bookinfo_and_my_service_to_answer() -> None:
    *_, bookinfo, demo = up_plan(resources_dir=RESOURCES)
    assert bookinfo.http is not None
    assert bookinfo.http.url == pins.PRODUCTPAGE_URL
    assert demo.http is not None
    assert demo.http.url == "http://127.0.0.1:8088/fortio/fetch/my-service.default:80/"
    assert demo.http.expect == '"service": "my-service"'


def test_steps_that_race_istios_webhooks_are_retried() -> None:
    by_name = {s.name: s for s in up_plan(resources_dir=RESOURCES)}
    applied = "apply the base Istio resources: Bookinfo's subsets and ingress, the demo subsets "
    assert by_name[applied + "(the packaged samples)"].retries >= 3
    assert by_name["deploy the demo workloads of the seed templates (in default)"].retries >= 1
    assert by_name["deploy Bookinfo (images 1.20.3, with ratings-faulty at 0)"].retries >= 1
    assert all(s.hint for s in by_name.values() if s.name.startswith("wait for"))


def test_istioctls_version_is_checked_before_anything_is_created_or_installed() -> None:
    for create in (True, False):
        first = up_plan(resources_dir=RESOURCES, create=create)[0]
        assert first.argv == ("istioctl", "version", "--remote=false")
        assert first.expect_version == pins.istio_version()
        assert f"ISTIO_VERSION={pins.istio_version()}" in first.hint


def _first_lines(capsys: pytest.CaptureFixture[str], *argv: str) -> list[str]:
    assert main(["cluster", "up", "--dry-run", *argv]) == 0
    return capsys.readouterr().out.splitlines()[:2]


def test_without_an_input_cluster_up_installs_the_release_the_mesh_emulates_by_default(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.delenv(pins.ISTIO_VERSION_ENV)
    tag = install_tag(DEFAULT_ISTIO)  # the default minor's newest known patch
    assert f"(Istio {tag}," in _first_lines(capsys)[0]
    assert compat_for().istio_version == tag  # the embedded mesh's default is the same release


def test_istio_version_selects_the_release_a_minor_its_newest_patch(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    assert _first_lines(capsys, "--istio-version", "1.29")[1] == (
        " 1. check that istioctl is 1.29.6"
    )
    # A patch newer than the table knows is installed as asked: the workflow input's purpose.
    assert "(Istio 1.30.9," in _first_lines(capsys, "--istio-version", "1.30.9")[0]
    assert main(["cluster", "images"]) == 0  # the same release, for the image cache
    assert "gcr.io/istio-release/pilot:1.30.9" in capsys.readouterr().out


def test_a_release_chaoskit_does_not_emulate_is_refused_by_name(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["cluster", "up", "--dry-run", "--istio-version", "1.31.0"]) != 0
    assert "'1.31.0' is newer than the newest release chaoskit emulates" in (
        capsys.readouterr().err
    )


def _lines(steps: list) -> list[str]:  # type: ignore[type-arg]
    return [" ".join(s.argv) for s in steps]


def test_ambient_installs_the_ambient_profile_after_the_gateway_api_crds() -> None:
    lines = _lines(up_plan(resources_dir=RESOURCES, ambient=True))
    (install,) = [i for i, line in enumerate(lines) if line.startswith("istioctl install")]
    assert lines[install].endswith(f"-f {ASSETS}/istio-operator.yaml --set profile=ambient -y")
    (crds,) = [i for i, line in enumerate(lines) if "gateway-api/releases/download" in line]
    assert crds < install
    # The Gateway API release the installed Istio builds against (the values: test below).
    assert f"/{pins.gateway_api_version()}/standard-install.yaml" in lines[crds]
    (ztunnel,) = [i for i, line in enumerate(lines) if "daemonset/ztunnel" in line]
    assert install < ztunnel
    # The sidecar plan has none of it.
    sidecar = " ".join(_lines(up_plan(resources_dir=RESOURCES)))
    assert "profile=ambient" not in sidecar
    assert "ztunnel" not in sidecar
    assert "waypoint" not in sidecar


def test_ambient_enrolls_the_app_namespaces_before_their_pods_and_adds_a_waypoint_each() -> None:
    lines = _lines(up_plan(resources_dir=RESOURCES, ambient=True))
    assert not [line for line in lines if "istio-injection" in line]

    def index(fragment: str) -> int:
        (found,) = [i for i, line in enumerate(lines) if fragment in line]
        return found

    for namespace, asset in (
        (pins.BOOKINFO_NAMESPACE, "bookinfo.yaml"),
        (pins.DEMO_NAMESPACE, "demo.yaml"),
    ):
        label = index(f"label namespace {namespace} istio.io/dataplane-mode=ambient")
        assert label < index(f"apply -f {pins.asset(asset)}"), asset
        waypoint = index(f"waypoint apply --context kind-chaoskit -n {namespace} ")
        assert lines[waypoint].endswith("--enroll-namespace --wait")
        # before the rollouts are awaited, so the Bookinfo wait covers the waypoint too
        assert waypoint < index(f"-n {pins.BOOKINFO_NAMESPACE} rollout status deployment/details")


@pytest.mark.parametrize(
    ("version", "gateway_api"), [("1.28", "v1.4.1"), ("1.29", "v1.4.1"), ("1.30", "v1.5.1")]
)
def test_ambient_images_and_gateway_api_follow_the_release(
    monkeypatch: pytest.MonkeyPatch, version: str, gateway_api: str
) -> None:
    from chaoskit.cluster.plan import cluster_images

    monkeypatch.setenv(pins.ISTIO_VERSION_ENV, install_tag(version))
    assert pins.gateway_api_version() == gateway_api
    tag = install_tag(version)
    ambient = set(cluster_images(ambient=True)) - set(cluster_images())
    assert ambient == {f"gcr.io/istio-release/{n}:{tag}" for n in ("ztunnel", "install-cni")}


def test_ambient_on_a_release_without_a_recorded_gateway_api_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from chaoskit.errors import ConfigError

    monkeypatch.setenv(pins.ISTIO_VERSION_ENV, "1.27.0")  # an older patch, given by hand
    with pytest.raises(ConfigError, match=r"GATEWAY_API_VERSIONS in chaoskit/cluster/pins\.py"):
        up_plan(resources_dir=RESOURCES, ambient=True)
