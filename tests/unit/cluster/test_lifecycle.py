"""`cluster up | down | status` with every command, HTTP call and the guard faked."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from chaoskit.cluster import pins
from chaoskit.cluster.guard import UnsafeTarget
from chaoskit.cluster.lifecycle import Cluster, RunResult, StepFailed
from chaoskit.cluster.plan import up_plan
from chaoskit.cluster.tools import MissingTool
from chaoskit.errors import BackendError, ConfigError

REPO = Path(__file__).resolve().parents[3]
RESOURCES = REPO / "chaoskit" / "samples"
OWNER_QUERY = (
    "kubectl",
    "--context",
    "kind-chaoskit",
    "get",
    "namespace",
    "kube-system",
    "-o",
    "jsonpath={.metadata.labels.chaoskit\\.dev/created-by}",
)


ISTIOCTL_VERSION = ("istioctl", "version", "--remote=false")


class Runner:
    """Answers commands from a script: the first matching prefix's results, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []
        self.script: list[tuple[tuple[str, ...], list[RunResult]]] = []
        self.clusters: list[str] = []

    def on(self, prefix: Sequence[str], *results: RunResult) -> None:
        self.script.append((tuple(prefix), list(results)))

    def __call__(self, argv: Sequence[str], timeout_s: float) -> RunResult:
        argv = tuple(argv)
        self.calls.append(argv)
        if argv == ("kind", "get", "clusters"):
            return RunResult(0, "".join(f"{c}\n" for c in self.clusters))
        for prefix, results in self.script:
            if argv[: len(prefix)] == prefix and results:
                return results.pop(0) if len(results) > 1 else results[0]
        if argv[:3] == ("kind", "create", "cluster"):
            self.clusters.append(pins.CLUSTER_NAME)
        if argv == ISTIOCTL_VERSION:  # the pinned istioctl, unless a test scripts another
            return RunResult(0, f"{pins.istio_version()}\n")
        return RunResult(0, "")


@pytest.fixture
def tools_dir(tmp_path: Path) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("kind", "kubectl", "istioctl", "docker"):
        (bin_dir / name).write_text("#!/bin/sh\n")
        (bin_dir / name).chmod(0o755)
    return bin_dir


PAGE = (200, "<html><head><title>Simple Bookstore App</title></head></html>")
# What fortio's /fortio/fetch/ passes back from the demo echo (assets/demo.yaml).
ECHO = (
    200,
    '{"service": "my-service", "version": "v1", "pod": "my-service-v1-1", "namespace": "default"}',
)


class Http:
    """Answers the productpage URL from ``answers`` (the last one repeats) and the demo
    service's URL through fortio with ``demo``."""

    def __init__(
        self, *answers: tuple[int, str] | OSError, demo: tuple[int, str] | OSError = ECHO
    ) -> None:
        self.answers = list(answers)
        self.demo = demo
        self.urls: list[str] = []
        self.demo_urls: list[str] = []

    def __call__(self, url: str, timeout_s: float) -> tuple[int, str]:
        if url == pins.DEMO_URL:
            self.demo_urls.append(url)
            answer = self.demo
        else:
            self.urls.append(url)
            answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, OSError):
            raise answer
        return answer


def make(tmp_path: Path, tools_dir: Path, runner: Runner, http: Http | None = None) -> Cluster:
    clock = [0.0]

    def sleep(seconds: float) -> None:
        clock[0] += seconds

    return Cluster(
        state_dir=tmp_path / "state",
        out=io.StringIO(),
        runner=runner,
        fetch=http or Http(PAGE),
        guard=lambda context: f"context {context}: kind cluster verified",
        sleep=sleep,
        clock=lambda: clock[0],
        path=str(tools_dir),
    )


def output(cluster: Cluster) -> str:
    assert isinstance(cluster.out, io.StringIO)
    return cluster.out.getvalue()


def test_up_runs_the_plan_in_order_and_records_ownership(tmp_path: Path, tools_dir: Path) -> None:
    runner = Runner()
    http = Http(OSError("connection refused"), (503, "no healthy upstream"), PAGE)
    cluster = make(tmp_path, tools_dir, runner, http)
    assert cluster.up(resources_dir=RESOURCES) == 0
    commands = [c for c in runner.calls if c != ("kind", "get", "clusters")]
    (secret_call,) = [c for c in commands if "--server-side" in c]
    expected = [
        s.argv or (s.tls_secret.apply_argv(Path(secret_call[-1])) if s.tls_secret else ())
        for s in up_plan(resources_dir=RESOURCES)
    ]
    assert commands == [argv for argv in expected if argv]
    assert http.urls == ["http://127.0.0.1:8080/productpage"] * 3
    assert http.demo_urls == ["http://127.0.0.1:8088/fortio/fetch/my-service.default:80/"]
    state = json.loads((tmp_path / "state" / "cluster.json").read_text())
    assert (state["cluster"], state["context"], state["istioVersion"]) == (
        "chaoskit",
        "kind-chaoskit",
        "1.28.10",
    )
    text = output(cluster)
    assert text.startswith(
        "[1/34] check that istioctl is 1.28.10\n      $ istioctl version --remote=false\n"
        "      ok (0.0s)\n[2/34] create the kind cluster\n      $ kind create cluster --name "
        "chaoskit"
    )
    assert "[4/34] check that the context is the kind cluster\n" in text
    assert "      context kind-chaoskit: kind cluster verified\n" in text
    assert text.endswith(
        "Run the game day: pytest experiments/ --mesh kind --kube-context kind-chaoskit\n"
    )


def test_a_failing_step_says_which_shows_its_output_and_the_next_step(
    tmp_path: Path, tools_dir: Path
) -> None:
    runner = Runner()
    failed = RunResult(
        1,
        'Waiting for deployment "reviews-v2" rollout to finish: 0 of 1 updated '
        "replicas are available...\nerror: timed out waiting for the condition",
    )
    runner.on(
        (
            "kubectl",
            "--context",
            "kind-chaoskit",
            "-n",
            "bookinfo",
            "rollout",
            "status",
            "deployment/reviews-v2",
        ),
        failed,
    )
    cluster = make(tmp_path, tools_dir, runner)
    with pytest.raises(StepFailed) as error:
        cluster.up(resources_dir=RESOURCES)
    assert str(error.value) == (
        "step 20/34 (wait for reviews-v2) exited with 1:\n"
        "  $ kubectl --context kind-chaoskit -n bookinfo rollout status deployment/reviews-v2 "
        "--timeout=300s\n"
        '    Waiting for deployment "reviews-v2" rollout to finish: 0 of 1 updated replicas are '
        "available...\n"
        "    error: timed out waiting for the condition\n"
        "next: `kubectl --context kind-chaoskit -n bookinfo describe deployment reviews-v2` and "
        "`kubectl --context kind-chaoskit -n bookinfo get events`; docker.io pulls may be "
        "rate-limited"
    )
    assert not any("productpage-v1" in " ".join(c) for c in runner.calls)  # it stopped there


def test_webhook_races_are_retried_then_reported_with_the_number_of_tries(
    tmp_path: Path, tools_dir: Path
) -> None:
    runner = Runner()
    webhook = RunResult(
        1, 'Error from server (InternalError): failed calling webhook "validation.istio.io"'
    )
    runner.on(
        (
            "kubectl",
            "--context",
            "kind-chaoskit",
            "apply",
            "-f",
            str(RESOURCES / "destination-rule-all.yaml"),
        ),
        webhook,
        webhook,
        RunResult(0, "created"),
    )
    cluster = make(tmp_path, tools_dir, runner)
    assert cluster.up(resources_dir=RESOURCES) == 0
    assert "      exit 1; retrying in 5s (1/5 retries)\n" in output(cluster)
    assert "      exit 1; retrying in 10s (2/5 retries)\n" in output(cluster)

    runner2 = Runner()
    runner2.on(
        (
            "kubectl",
            "--context",
            "kind-chaoskit",
            "apply",
            "-f",
            str(RESOURCES / "destination-rule-all.yaml"),
        ),
        webhook,
    )
    with pytest.raises(
        StepFailed,
        match=r"step 15/34 \(apply the base Istio resources: Bookinfo's subsets and ingress, "
        r"the demo subsets \(the packaged samples\)\) exited with 1 after 6 tries:",
    ):
        make(tmp_path, tools_dir, runner2).up(resources_dir=RESOURCES)


def test_a_command_that_hangs_is_reported_as_a_timeout(tmp_path: Path, tools_dir: Path) -> None:
    runner = Runner()
    runner.on(
        ("istioctl", "install"),
        RunResult(-9, "- Processing resources for Istio core.", timed_out=True),
    )
    with pytest.raises(
        StepFailed,
        match=r"step 5/34 \(install Istio 1\.28\.10 \(demo profile, "
        r"NodePort ingress\)\) timed out after 900s after 2 tries:",
    ):
        make(tmp_path, tools_dir, runner).up(resources_dir=RESOURCES)


def test_the_ingress_never_serving_bookinfo_is_a_clear_failure(
    tmp_path: Path, tools_dir: Path
) -> None:
    http = Http((404, "not found"))
    with pytest.raises(StepFailed) as error:
        make(tmp_path, tools_dir, Runner(), http).up(resources_dir=RESOURCES)
    message = str(error.value)
    assert message.startswith(
        "step 33/34 (wait for Bookinfo through the ingress gateway): "
        "http://127.0.0.1:8080/productpage did not serve <title>Simple Bookstore App</title> "
        "within 300s (last: HTTP 404)\nnext: `kubectl --context kind-chaoskit -n istio-system "
        "get svc istio-ingressgateway` must show NodePort 30080"
    )
    assert len(http.urls) == 151  # every 2 s for 300 s, and once more at the deadline


def test_my_service_never_answering_through_fortio_is_a_clear_failure(
    tmp_path: Path, tools_dir: Path
) -> None:
    http = Http(PAGE, demo=(503, "no healthy upstream"))
    with pytest.raises(StepFailed) as error:
        make(tmp_path, tools_dir, Runner(), http).up(resources_dir=RESOURCES)
    assert str(error.value).startswith(
        "step 34/34 (wait for my-service through the in-mesh client (fortio)): "
        "http://127.0.0.1:8088/fortio/fetch/my-service.default:80/ did not serve "
        '"service": "my-service" within 120s (last: HTTP 503)\nnext: `kubectl --context '
        "kind-chaoskit -n bookinfo get svc fortio` must show NodePort 30088"
    )


class SecretRunner(Runner):
    """Also keeps what the Secret file held, and its mode, while kubectl had it."""

    def __init__(self) -> None:
        super().__init__()
        self.secret: dict[str, object] = {}
        self.mode = 0

    def __call__(self, argv: Sequence[str], timeout_s: float) -> RunResult:
        if "--server-side" in argv:
            path = Path(argv[-1])
            self.secret = json.loads(path.read_text())
            self.mode = path.stat().st_mode & 0o777
        return super().__call__(argv, timeout_s)


def test_the_tls_secret_is_self_signed_for_the_gateway_and_its_key_never_shown(
    tmp_path: Path, tools_dir: Path
) -> None:
    import base64

    from cryptography import x509

    runner = SecretRunner()
    cluster = make(tmp_path, tools_dir, runner)
    assert cluster.up(resources_dir=RESOURCES) == 0
    (call,) = [c for c in runner.calls if "--server-side" in c]
    assert call[:6] == ("kubectl", "--context", "kind-chaoskit", "apply", "--server-side", "-f")
    secret = runner.secret
    assert secret["type"] == "kubernetes.io/tls"
    assert secret["metadata"] == {"name": "my-tls-secret", "namespace": "istio-system"}
    data = secret["data"]
    assert isinstance(data, dict)
    assert set(data) == {"tls.crt", "tls.key"}
    certificate = x509.load_pem_x509_certificate(base64.b64decode(data["tls.crt"]))
    names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert names.value.get_values_for_type(x509.DNSName) == ["*.example.com"]
    lifetime = certificate.not_valid_after_utc - certificate.not_valid_before_utc
    assert lifetime.days >= 365
    assert runner.mode == 0o600  # only this user could read it
    assert not Path(call[-1]).exists()
    assert not Path(call[-1]).parent.exists()
    key = base64.b64decode(data["tls.key"]).decode()
    text = output(cluster)
    assert key.splitlines()[1] not in text
    assert str(call[-1]) not in text  # the step shows its description, not the file
    assert "[14/34] create the ingress gateway's TLS Secret istio-system/my-tls-secret" in text


def test_a_failing_secret_step_names_the_step_not_the_file(tmp_path: Path, tools_dir: Path) -> None:
    runner = Runner()
    runner.on(
        ("kubectl", "--context", "kind-chaoskit", "apply", "--server-side"),
        RunResult(1, "error: the server could not find the requested resource"),
    )
    with pytest.raises(StepFailed) as error:
        make(tmp_path, tools_dir, runner).up(resources_dir=RESOURCES)
    message = str(error.value)
    assert message.startswith(
        "step 14/34 (create the ingress gateway's TLS Secret istio-system/my-tls-secret "
        "(self-signed, *.example.com)) exited with 1 after 3 tries:\n  $ (built-in) a "
        "self-signed certificate for *.example.com (valid 365 days), then kubectl --context "
        "kind-chaoskit apply --server-side -f TEMPFILE"
    )
    (call, *_) = [c for c in runner.calls if "--server-side" in c]
    assert call[-1] not in message
    assert not Path(call[-1]).exists()


def test_a_guard_refusal_stops_up_before_istio_is_installed(
    tmp_path: Path, tools_dir: Path
) -> None:
    runner = Runner()
    cluster = make(tmp_path, tools_dir, runner)

    def refuse(context: str) -> str:
        raise UnsafeTarget("API server https://10.0.0.1:6443 is not on loopback")

    cluster.guard = refuse
    with pytest.raises(
        StepFailed,
        match=r"step 4/34 \(check that the context is the kind "
        r"cluster\) failed: API server https://10\.0\.0\.1:6443 is not on loopback",
    ):
        cluster.up(resources_dir=RESOURCES)
    assert not any(c[:2] == ("istioctl", "install") for c in runner.calls)


@pytest.mark.parametrize(
    ("printed", "seen"),
    [("1.27.3\n", "prints version 1.27.3"), ("client version: 1.29.0\n", "prints version 1.29.0")],
)
def test_an_istioctl_of_another_version_stops_up_before_anything_is_created(
    tmp_path: Path, tools_dir: Path, printed: str, seen: str
) -> None:
    runner = Runner()
    runner.on(ISTIOCTL_VERSION, RunResult(0, printed))
    with pytest.raises(StepFailed) as error:
        make(tmp_path, tools_dir, runner).up(resources_dir=RESOURCES)
    assert str(error.value) == (
        f"step 1/34 (check that istioctl is 1.28.10) failed: `istioctl version --remote=false` "
        f"{seen}, but chaoskit installs Istio 1.28.10; istioctl installs its own version, so another "
        "one would install a different Istio than the experiments expect\n"
        "next: install istioctl 1.28.10: curl -sL https://istio.io/downloadIstio | "
        'ISTIO_VERSION=1.28.10 sh - && export PATH="$PWD/istio-1.28.10/bin:$PATH"; then run the '
        "same `chaoskit cluster up` again"
    )
    assert runner.calls[-1] == ISTIOCTL_VERSION
    assert not any(c[:2] == ("kind", "create") for c in runner.calls)
    assert not (tmp_path / "state" / "cluster.json").exists()


def test_an_istioctl_that_prints_no_version_is_refused_too(tmp_path: Path, tools_dir: Path) -> None:
    runner = Runner()
    runner.on(ISTIOCTL_VERSION, RunResult(0, "Error: unknown flag: --remote\n"))
    runner.clusters = ["chaoskit"]
    with pytest.raises(
        StepFailed,
        match=r"step 1/32 \(check that istioctl is 1\.28\.10\) failed: `istioctl version "
        r"--remote=false` printed no version \(Error: unknown flag: --remote\)",
    ):
        make(tmp_path, tools_dir, runner).up(use_existing=True, resources_dir=RESOURCES)
    assert not any(c[:2] == ("istioctl", "install") for c in runner.calls)


def test_up_refuses_to_reuse_or_recreate_by_accident(tmp_path: Path, tools_dir: Path) -> None:
    runner = Runner()
    runner.clusters = ["chaoskit"]
    with pytest.raises(
        BackendError,
        match=r"a kind cluster named chaoskit exists already; "
        r"`chaoskit cluster up --use-existing` installs",
    ):
        make(tmp_path, tools_dir, runner).up(resources_dir=RESOURCES)
    with pytest.raises(BackendError, match="--use-existing, but there is no kind cluster named"):
        make(tmp_path, tools_dir, Runner()).up(use_existing=True, resources_dir=RESOURCES)


def test_use_existing_installs_without_claiming_the_cluster(
    tmp_path: Path, tools_dir: Path
) -> None:
    runner = Runner()
    runner.clusters = ["chaoskit"]
    cluster = make(tmp_path, tools_dir, runner)
    assert cluster.up(use_existing=True, resources_dir=RESOURCES) == 0
    assert not any(c[:2] == ("kind", "create") for c in runner.calls)
    assert not any("kube-system" in c for c in runner.calls)
    assert not (tmp_path / "state" / "cluster.json").exists()


def test_missing_tools_and_resources_are_reported_before_anything_runs(
    tmp_path: Path, tools_dir: Path
) -> None:
    (tools_dir / "istioctl").unlink()
    runner = Runner()
    with pytest.raises(
        MissingTool, match=r"istioctl \(installs Istio\)[^|]*\| ISTIO_VERSION=1\.28\.10"
    ):
        make(tmp_path, tools_dir, runner).up(resources_dir=RESOURCES)
    with pytest.raises(
        ConfigError,
        match=r"destination-rule-all\.yaml does not exist; pass --resources DIR",
    ):
        make(tmp_path, tools_dir, runner).up(resources_dir=tmp_path)
    assert runner.calls == []


# --- down ----------------------------------------------------------------------------------------


def test_down_deletes_a_cluster_labelled_as_created_by_chaoskit(
    tmp_path: Path, tools_dir: Path
) -> None:
    runner = Runner()
    runner.clusters = ["chaoskit"]
    runner.on(OWNER_QUERY, RunResult(0, "chaoskit-cluster-up"))
    cluster = make(tmp_path, tools_dir, runner)
    assert cluster.down() == 0
    assert runner.calls[-1] == ("kind", "delete", "cluster", "--name", "chaoskit")
    assert output(cluster).endswith("cluster down: deleted kind cluster chaoskit\n")


def test_down_trusts_the_state_file_when_the_cluster_does_not_answer(
    tmp_path: Path, tools_dir: Path
) -> None:
    runner = Runner()
    runner.clusters = ["chaoskit"]
    runner.on(OWNER_QUERY, RunResult(1, "", stderr="Unable to connect to the server"))
    state = tmp_path / "state"
    state.mkdir()
    (state / "cluster.json").write_text(json.dumps({"cluster": "chaoskit"}))
    assert make(tmp_path, tools_dir, runner).down() == 0
    assert runner.calls[-1][:3] == ("kind", "delete", "cluster")
    assert not (state / "cluster.json").exists()


def test_down_refuses_a_cluster_chaoskit_did_not_create(tmp_path: Path, tools_dir: Path) -> None:
    runner = Runner()
    runner.clusters = ["chaoskit", "other"]
    runner.on(OWNER_QUERY, RunResult(0, ""))
    with pytest.raises(BackendError) as error:
        make(tmp_path, tools_dir, runner).down()
    assert str(error.value) == (
        "refusing to delete kind cluster chaoskit: chaoskit did not create it (it answers, and "
        "its kube-system namespace has no chaoskit.dev/created-by=chaoskit-cluster-up label). "
        "If it is yours to delete: kind delete cluster --name chaoskit"
    )
    assert not any(c[:2] == ("kind", "delete") for c in runner.calls)


def test_down_ignores_an_old_state_file_when_an_unlabelled_cluster_answers(
    tmp_path: Path, tools_dir: Path
) -> None:
    """cluster.json is left from chaoskit's cluster; someone has since made their own
    `chaoskit` kind cluster. It answers without the label: not ours, whatever the file says."""
    runner = Runner()
    runner.clusters = ["chaoskit"]
    runner.on(OWNER_QUERY, RunResult(0, ""))
    state = tmp_path / "state"
    state.mkdir()
    (state / "cluster.json").write_text(json.dumps({"cluster": "chaoskit"}))
    cluster = make(tmp_path, tools_dir, runner)
    with pytest.raises(BackendError) as error:
        cluster.down()
    assert str(error.value) == (
        "refusing to delete kind cluster chaoskit: chaoskit did not create it (it answers, and "
        "its kube-system namespace has no chaoskit.dev/created-by=chaoskit-cluster-up label; "
        f"{state / 'cluster.json'} names it, but that file counts only when the cluster cannot "
        "be asked, and this one answers). If it is yours to delete: "
        "kind delete cluster --name chaoskit"
    )
    assert not any(c[:2] == ("kind", "delete") for c in runner.calls)
    assert (state / "cluster.json").exists()
    assert cluster.status() == 1
    assert "not created by chaoskit (`cluster down` will not delete it)" in output(cluster)


def test_down_refuses_a_cluster_that_neither_answers_nor_is_named_in_the_state_file(
    tmp_path: Path, tools_dir: Path
) -> None:
    runner = Runner()
    runner.clusters = ["chaoskit"]
    runner.on(OWNER_QUERY, RunResult(1, "", stderr="Unable to connect to the server"))
    with pytest.raises(BackendError, match=r"\(it does not answer, and .*cluster\.json does not "):
        make(tmp_path, tools_dir, runner).down()
    assert not any(c[:2] == ("kind", "delete") for c in runner.calls)


def test_down_without_a_cluster_is_a_no_op(tmp_path: Path, tools_dir: Path) -> None:
    runner = Runner()
    cluster = make(tmp_path, tools_dir, runner)
    assert cluster.down() == 0
    assert output(cluster) == "cluster down: there is no kind cluster named chaoskit\n"
    assert runner.calls == [("kind", "get", "clusters")]


# --- status --------------------------------------------------------------------------------------


def deployments(*rows: tuple[str, int, int]) -> RunResult:
    items = [
        {"metadata": {"name": n}, "spec": {"replicas": want}, "status": {"readyReplicas": ready}}
        for n, ready, want in rows
    ]
    return RunResult(0, json.dumps({"items": items}))


def test_status_reports_each_part_and_exits_0_when_ready(tmp_path: Path, tools_dir: Path) -> None:
    runner = Runner()
    runner.clusters = ["chaoskit"]
    runner.on(OWNER_QUERY, RunResult(0, "chaoskit-cluster-up"))
    kubectl = ("kubectl", "--context", "kind-chaoskit", "-n")
    runner.on(
        (*kubectl, "istio-system"), deployments(("istiod", 1, 1), ("istio-ingressgateway", 1, 1))
    )
    runner.on(
        (*kubectl, "bookinfo"), deployments(("productpage-v1", 1, 1), ("ratings-faulty", 0, 0))
    )
    runner.on((*kubectl, "default"), deployments(("my-service-stable", 2, 2), ("my-app", 1, 1)))
    cluster = make(tmp_path, tools_dir, runner)
    assert cluster.status() == 0
    lines = output(cluster).splitlines()
    assert lines[1:] == [
        "cluster: chaoskit, context kind-chaoskit, created by chaoskit",
        "guard: context kind-chaoskit: kind cluster verified",
        "istio-system: istiod 1/1, istio-ingressgateway 1/1",
        "bookinfo: productpage-v1 1/1, ratings-faulty 0/0",
        "default: my-service-stable 2/2, my-app 1/1",
        "ingress: http://127.0.0.1:8080/productpage -> HTTP 200",
    ]


def test_status_exits_1_when_something_is_not_ready(tmp_path: Path, tools_dir: Path) -> None:
    runner = Runner()
    runner.clusters = ["chaoskit"]
    kubectl = ("kubectl", "--context", "kind-chaoskit", "-n")
    runner.on((*kubectl, "istio-system"), deployments(("istiod", 1, 1)))
    runner.on((*kubectl, "bookinfo"), deployments(("reviews-v2", 0, 1)))
    runner.on((*kubectl, "default"), deployments(("my-service-stable", 1, 2)))
    cluster = make(tmp_path, tools_dir, runner, Http(OSError("connection refused")))
    assert cluster.status() == 1
    text = output(cluster)
    assert "not created by chaoskit (`cluster down` will not delete it)" in text
    assert "bookinfo: reviews-v2 0/1\n" in text
    assert "default: my-service-stable 1/2\n" in text
    assert "ingress: http://127.0.0.1:8080/productpage -> connection refused\n" in text
    runner.clusters = []
    assert make(tmp_path, tools_dir, runner).status() == 1
