"""Fault objects are written into the VirtualService in force, as Istio's task does."""

from __future__ import annotations

import pytest

from chaoskit.errors import ConfigError
from chaoskit.experiment.faults import fault_spec, targets, with_fault, with_pool_limits
from chaoskit.experiment.session import derive_spec
from chaoskit.kube.objects import clean
from chaoskit.kube.undo import Journal, ObjectRef, ObjectUndo, leftover_journals

REVIEWS = {
    "apiVersion": "networking.istio.io/v1",
    "kind": "VirtualService",
    "metadata": {"name": "reviews", "namespace": "bookinfo", "resourceVersion": "7"},
    "spec": {
        "hosts": ["reviews"],
        "http": [
            {
                "match": [{"uri": {"prefix": "/a"}}],
                "route": [{"destination": {"host": "reviews", "subset": "v2"}}],
            },
            {"route": [{"destination": {"host": "reviews", "subset": "v1"}}]},
        ],
    },
}


def test_without_a_virtual_service_one_is_created_with_a_default_route() -> None:
    vs = with_fault(
        None,
        "ratings",
        "bookinfo",
        fault_spec("delay", 100, fixed_delay="7s"),
        {"End-User": "jason"},
        "ck-1",
    )
    first, default = vs["spec"]["http"]
    assert first["match"] == [{"headers": {"end-user": {"exact": "jason"}}}]
    assert first["fault"]["delay"]["fixedDelay"] == "7s"
    assert default == {"name": "default", "route": [{"destination": {"host": "ratings"}}]}


def test_a_scoped_fault_goes_first_in_copies_of_existing_routes() -> None:
    vs = with_fault(
        REVIEWS,
        "reviews",
        "bookinfo",
        fault_spec("abort", 50, http_status=503),
        {"end-user": "jason"},
        "ck-2",
    )
    routes = vs["spec"]["http"]
    assert len(routes) == 4
    assert [r.get("name") for r in routes[:2]] == ["ck-2", "ck-2"]
    assert routes[0]["match"] == [
        {"uri": {"prefix": "/a"}, "headers": {"end-user": {"exact": "jason"}}}
    ]
    assert routes[2:] == REVIEWS["spec"]["http"]


def test_an_unscoped_fault_goes_on_every_route() -> None:
    vs = with_fault(
        REVIEWS, "reviews", "bookinfo", fault_spec("abort", 10, http_status=500), None, ""
    )
    assert all(r["fault"]["abort"]["httpStatus"] == 500 for r in vs["spec"]["http"])
    assert "fault" not in REVIEWS["spec"]["http"][0]


def test_targets_ignores_gateway_only_services_and_other_namespaces() -> None:
    assert targets(REVIEWS, "reviews", "bookinfo")
    assert not targets(REVIEWS, "reviews", "default")
    gateway_only = {**REVIEWS, "spec": {**REVIEWS["spec"], "gateways": ["bookinfo-gateway"]}}
    assert not targets(gateway_only, "reviews", "bookinfo")


def test_pool_limits_merge_into_the_existing_rule() -> None:
    dr = {
        "kind": "DestinationRule",
        "metadata": {"name": "r", "namespace": "bookinfo"},
        "spec": {
            "host": "reviews",
            "trafficPolicy": {"outlierDetection": {"consecutive5xxErrors": 1}},
        },
    }
    squeezed = with_pool_limits(dr, "reviews", "bookinfo", {"tcp": {"maxConnections": 1}})
    assert squeezed["spec"]["trafficPolicy"] == {
        "outlierDetection": {"consecutive5xxErrors": 1},
        "connectionPool": {"tcp": {"maxConnections": 1}},
    }


def test_snapshots_drop_server_fields_and_journals_survive_a_crash(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert "resourceVersion" not in clean(REVIEWS)["metadata"]
    undo = ObjectUndo(ObjectRef("VirtualService", "bookinfo", "reviews"), clean(REVIEWS))
    Journal.for_run(tmp_path, "run-a").write([undo])
    Journal.for_run(tmp_path, "run-b").write([])
    leftovers = leftover_journals(tmp_path, current="run-b")
    assert [(j.path.stem, j.read()) for j in leftovers] == [("run-a", [undo])]


def test_replica_overrides_name_real_workloads(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = derive_spec({"bookinfo/ratings-v1": 3}, tmp_path)
    assert path is not None
    assert "replicas: 3" in path.read_text()
    with pytest.raises(ConfigError, match="unknown workloads: bookinfo/ratings-v9"):
        derive_spec({"bookinfo/ratings-v9": 3}, tmp_path)


def test_applying_broken_yaml_names_the_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from chaoskit.experiment.chaos import Chaos
    from chaoskit.experiment.record import ExperimentRecord

    chaos = Chaos(None, "run", ExperimentRecord("id", "n", "f", ""))  # type: ignore[arg-type]
    broken = tmp_path / "broken.yaml"
    broken.write_text("kind: VirtualService\n  spec: [\n")
    with pytest.raises(ConfigError, match=r"broken\.yaml: not valid YAML"):
        chaos.apply(broken)
    listed = tmp_path / "list.yaml"
    listed.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match=r"document\(s\) \[1\] are not objects"):
        chaos.apply(listed)
