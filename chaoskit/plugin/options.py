"""Command-line options, ini keys and markers of the chaoskit pytest plugin.

No option clashes with Locust's own pytest plugin (which owns ``--host``).
"""

from __future__ import annotations

import glob
from pathlib import Path

import pytest

from chaoskit.plugin.state import STATE, PluginState

MESHES = ("local", "kind", "kube")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("chaoskit", "chaos experiments on an Istio mesh")
    group.addoption(
        "--mesh",
        choices=MESHES,
        default=None,
        help="where experiments run: local (embedded mesh, default), kind, kube",
    )
    group.addoption(
        "--kube-context",
        default=None,
        help="kubeconfig context for kind/kube (kind default: kind-chaoskit; KUBECONFIG is read)",
    )
    group.addoption(
        "--i-understand-this-is-not-kind",
        action="store_true",
        default=False,
        dest="chaos_allow_non_kind",
        help="with --mesh kube and an explicit --kube-context: act on a cluster that is not kind",
    )
    group.addoption(
        "--chaos-report",
        default=None,
        metavar="DIR",
        help="write results.json, junit.xml and report.html here (default reports/<time>/)",
    )
    group.addoption("--chaos-seed", type=int, default=None, help="seed for fault and LB draws")
    group.addoption(
        "--chaos-dataplane",
        default=None,
        choices=("sidecar", "ambient", "ambient-l4"),
        help="the embedded mesh's data plane: sidecars (default), ambient with a waypoint per "
        "namespace, or ambient without waypoints (ztunnel only)",
    )
    group.addoption(
        "--chaos-duration-scale",
        type=float,
        default=None,
        metavar="F",
        help="multiply every load window (0.5 for quick runs, 3 for game days)",
    )
    group.addoption(
        "--chaos-require-all",
        action="store_true",
        default=False,
        help="a game day: an experiment whose workloads the mesh does not run is an error, not "
        "a skip (experiments marked chaos(embedded_only=...) are still skipped, with the reason)",
    )
    group.addoption(
        "--chaos-abort-below",
        type=float,
        default=None,
        metavar="RATE",
        help="stop injecting, roll back and end the run when the success rate at the load's "
        "entry (gateway or in-mesh client) falls below RATE during a window, e.g. 0.5",
    )
    group.addoption(
        "--chaos-mutation",
        default=None,
        metavar="NAME",
        help="weaken every Istio object experiments apply with this mutation operator "
        "(implies --chaos-keep-going)",
    )
    group.addoption(
        "--chaos-keep-going",
        action="store_true",
        default=False,
        help="go on past a check that does not pass, recording every check, and fail with "
        "the first at the end (the outcome an ordinary run would reach)",
    )
    group.addoption(
        "--istio-version",
        default=None,
        metavar="X.Y[.Z]",
        help="the Istio release the embedded mesh emulates (default: the newest verified); "
        "with --mesh kind/kube, the release the cluster is expected to run",
    )
    group.addoption(
        "--address-mode",
        default=None,
        choices=("auto", "ip", "port"),
        help="the embedded mesh's pods: ip (a loopback address each, Linux) or port (ports "
        "of their own on 127.0.0.1, macOS without aliases); default auto-detects",
    )
    group.addoption(
        "--chaos-strict",
        action="store_true",
        default=None,
        help="exit non-zero (11) when an experiment is INCONCLUSIVE; without it, such a run "
        "exits 0 and JUnit XML shows the experiment as skipped with what would decide it",
    )
    group.addoption(
        "--chaos-spec",
        default=None,
        metavar="PATH",
        help="run the embedded mesh from this mesh spec (e.g. a `chaoskit mesh snapshot` "
        "twin's mesh.yaml) instead of the built-in Bookinfo mesh",
    )
    parser.addini("chaos_mesh", "default for --mesh", default="local")
    group.addoption(
        "--chaos-locust-csv",
        action="store_true",
        default=None,
        help="write Locust's own CSV statistics of every load window (its --csv files) to "
        "locust/ next to results.json",
    )
    parser.addini("chaos_spec", "default for --chaos-spec (relative to the rootdir)", default="")
    parser.addini("chaos_locust_csv", "default for --chaos-locust-csv", type="bool", default=False)
    parser.addini("chaos_istio_version", "default for --istio-version", default="")
    parser.addini("chaos_address_mode", "default for --address-mode", default="")
    parser.addini("chaos_strict", "default for --chaos-strict", type="bool", default=False)
    parser.addini("chaos_seed", "default for --chaos-seed", default="0")
    parser.addini("chaos_abort_below", "default for --chaos-abort-below", default="")
    parser.addini("chaos_duration_scale", "default for --chaos-duration-scale", default="1.0")
    parser.addini(
        "chaos_base", "Istio YAML files every experiment starts from", type="linelist", default=[]
    )
    parser.addini(
        "chaos_replicas",
        "replica overrides for the embedded mesh, e.g. bookinfo/ratings-v1=3",
        type="linelist",
        default=[],
    )
    parser.addini("chaos_dataplane", "default for --chaos-dataplane", default="sidecar")
    parser.addini(
        "chaos_namespace",
        "namespace faults target by default (bookinfo; with a mesh spec, its first namespace)",
        default="",
    )
    parser.addini(
        "chaos_namespaces",
        "the blast radius on a real cluster: the only namespaces experiments may change "
        "(bookinfo and default; with a mesh spec, its namespaces)",
        type="linelist",
        default=[],
    )
    parser.addini("chaos_ingress_http", "the gateway's http URL on a real cluster", default="")
    parser.addini("chaos_ingress_https", "the gateway's https URL on a real cluster", default="")
    parser.addini(
        "chaos_client_url", "the in-mesh fortio client's URL on a real cluster", default=""
    )
    parser.addini(
        "chaos_resources",
        "your folder of Istio YAML for the resources fixture (default: the samples shipped "
        "with chaoskit)",
        default="",
    )
    parser.addini(
        "chaos_experiments",
        "directory of the experiment suite: runs inside it always write a report",
        default="experiments",
    )


def _replicas(lines: list[str]) -> dict[str, int]:
    found = {}
    for line in lines:
        name, _, count = line.partition("=")
        if not count.strip().isdigit():
            raise pytest.UsageError(
                f"chaos_replicas: {line!r} must look like namespace/workload=N, "
                "e.g. bookinfo/ratings-v1=3"
            )
        found[name.strip()] = int(count)
    return found


def _abort_floor(config: pytest.Config) -> float | None:
    value = config.getoption("--chaos-abort-below")
    if value is None and str(config.getini("chaos_abort_below")).strip():
        value = float(str(config.getini("chaos_abort_below")))
    if value is not None and not 0 < value <= 1:
        raise pytest.UsageError(f"--chaos-abort-below {value} must be a rate in (0, 1]")
    return None if value is None else float(value)


def _istio_version(config: pytest.Config) -> str | None:
    from chaoskit.errors import ConfigError
    from chaoskit.mesh.releases import parse_release

    value = config.getoption("--istio-version") or str(config.getini("chaos_istio_version"))
    if not value.strip():
        return None
    try:
        parse_release(value)
    except ConfigError as exc:
        raise pytest.UsageError(f"--istio-version / chaos_istio_version: {exc}") from None
    return value.strip()


def _address_mode(config: pytest.Config) -> str | None:
    from chaoskit.controlplane.address_mode import check_mode
    from chaoskit.errors import ConfigError

    value = config.getoption("--address-mode") or str(config.getini("chaos_address_mode"))
    if not value.strip():
        return None
    try:
        return check_mode(value, "chaos_address_mode")
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None


def _base_files(config: pytest.Config) -> list[Path]:
    files: list[Path] = []
    for pattern in config.getini("chaos_base"):
        if Path(pattern).is_absolute():
            found = sorted(Path(p) for p in glob.glob(pattern))
        else:
            found = sorted(config.rootpath.glob(pattern))
        if not found:
            raise pytest.UsageError(
                f"chaos_base: {pattern!r} matches no file under {config.rootpath}"
            )
        files.extend(found)
    return files


def resources_dir(config: pytest.Config) -> Path:
    """The folder the ``resources`` fixture points at: ``chaos_resources`` (relative to the
    rootdir), else the Istio YAML that ships in the package."""
    configured = str(config.getini("chaos_resources")).strip()
    if not configured:
        from chaoskit.samples import SAMPLES_DIR

        return SAMPLES_DIR
    path = Path(configured)
    path = path if path.is_absolute() else config.rootpath / path
    if not path.is_dir():
        raise pytest.UsageError(
            f"chaos_resources: {path} is not a folder; fix the ini key chaos_resources "
            f"(relative paths start at {config.rootpath}) or remove it to use the samples "
            "shipped with chaoskit"
        )
    return path


def mesh_spec_path(config: pytest.Config) -> Path | None:
    """``--chaos-spec`` (relative to where pytest runs) or ini ``chaos_spec`` (relative to
    the rootdir), checked now so a bad spec stops the run in one message."""
    option = config.getoption("--chaos-spec")
    configured = str(config.getini("chaos_spec")).strip()
    if option:
        path, source = config.invocation_params.dir / str(option), "--chaos-spec"
    elif configured:
        path, source = config.rootpath / configured, "ini chaos_spec"
    else:
        return None
    from chaoskit.errors import ConfigError
    from chaoskit.topology.spec import MeshSpec

    try:
        MeshSpec.load(path)
    except ConfigError as exc:
        raise pytest.UsageError(f"{source}: {exc}") from None
    return path.resolve()


def _spec_namespaces(path: Path | None) -> list[str]:
    """The application namespaces a spec declares (not istio-system), in its order."""
    if path is None:
        return []
    from chaoskit.topology.spec import MeshSpec

    return [ns.name for ns in MeshSpec.load(path).spec.namespaces if ns.name != "istio-system"]


def _inside(config: pytest.Config, directory: str) -> bool:
    suite = (config.rootpath / directory).resolve()
    for arg in config.args:
        path = (config.invocation_params.dir / arg.split("::")[0]).resolve()
        if path == suite or suite in path.parents:
            return True
    return False


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    from chaoskit.experiment.mutations import OPERATORS
    from chaoskit.experiment.session import Settings

    config.addinivalue_line(
        "markers",
        "chaos(namespace, needs, embedded_only, uncatchable): an experiment; faults target "
        "this namespace by default; needs lists the workloads (namespace/app) it needs, "
        "skipped with a reason where the mesh does not run them; embedded_only says why it "
        "can only be judged on the embedded mesh (--mesh local), skipped with that reason "
        "elsewhere; uncatchable "
        "maps partial weakenings the experiment cannot catch to why (chaoskit mutate)",
    )
    config.addinivalue_line(
        "markers",
        "dataplanes(*planes): run the experiment once per data plane (sidecar, ambient, "
        "ambient-l4), each on a mesh of that plane, as test ids [sidecar], [ambient]; the "
        "chaos_dataplane fixture tells the experiment which",
    )
    mutation = config.getoption("--chaos-mutation")
    if mutation is not None and mutation not in OPERATORS:
        raise pytest.UsageError(
            f"--chaos-mutation {mutation!r} is unknown; choose one of {', '.join(OPERATORS)}"
        )
    report = config.getoption("--chaos-report")
    seed = config.getoption("--chaos-seed")
    spec = mesh_spec_path(config)
    # With a spec, the namespaces faults target and a cluster's blast radius default to the
    # spec's own (Bookinfo's otherwise); the ini keys still decide when they are set.
    spec_namespaces = _spec_namespaces(spec)
    namespace = str(config.getini("chaos_namespace")).strip() or (
        spec_namespaces[0] if spec_namespaces else "bookinfo"
    )
    namespaces = (
        list(config.getini("chaos_namespaces"))
        or spec_namespaces
        or [
            "bookinfo",
            "default",
        ]
    )
    scale = config.getoption("--chaos-duration-scale")
    settings = Settings(
        backend=config.getoption("--mesh") or str(config.getini("chaos_mesh")),
        kube_context=config.getoption("--kube-context"),
        report_dir=Path(report).resolve() if report else None,
        seed=int(seed if seed is not None else config.getini("chaos_seed")),
        duration_scale=float(scale if scale is not None else config.getini("chaos_duration_scale")),
        mutation=mutation,
        replicas=_replicas(list(config.getini("chaos_replicas"))),
        base=_base_files(config),
        namespace=namespace,
        namespaces=namespaces,
        allow_non_kind=bool(config.getoption("chaos_allow_non_kind")),
        ingress_http=str(config.getini("chaos_ingress_http")),
        ingress_https=str(config.getini("chaos_ingress_https")),
        client_url=str(config.getini("chaos_client_url")),
        abort_below=_abort_floor(config),
        dataplane=config.getoption("--chaos-dataplane") or str(config.getini("chaos_dataplane")),
        istio_version=_istio_version(config),
        address_mode=_address_mode(config),
        root=config.rootpath,
        argv=list(config.invocation_params.args),
        spec=spec,
        locust_csv=bool(
            config.getini("chaos_locust_csv")
            if config.getoption("--chaos-locust-csv") is None
            else True
        ),
    )
    if settings.duration_scale <= 0:
        raise pytest.UsageError("--chaos-duration-scale must be > 0")
    resources_dir(config)  # a wrong chaos_resources stops the run here, in one line
    reporting = report is not None or _inside(config, str(config.getini("chaos_experiments")))
    strict = config.getoption("--chaos-strict")
    state = PluginState(
        settings,
        reporting,
        strict=bool(config.getini("chaos_strict") if strict is None else strict),
    )
    config.stash[STATE] = state
    from chaoskit.plugin.results import ResultCollector

    config.pluginmanager.register(ResultCollector(config), "chaoskit-results")
    is_worker = hasattr(config, "workerinput")
    if reporting and not is_worker and getattr(config.option, "xmlpath", None) is None:
        from chaoskit.experiment.session import default_report_dir

        # Fix the report directory now so JUnit XML lands next to results.json.
        directory = settings.report_dir or default_report_dir(settings.root)
        settings.report_dir = directory
        config.option.xmlpath = str(directory / "junit.xml")


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(STATE, None)
    if state is not None and state.session is not None:
        state.session.close()
        state.session = None
