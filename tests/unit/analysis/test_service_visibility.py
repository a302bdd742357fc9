"""Which Services a resource sees (exportTo) and which labels a pod has (its node's), as
istioctl's analyzers decide (istio/istio 1.28.10 pkg/config/analysis/analyzers/util/
service_lookup.go; pilot/pkg/serviceregistry/util/label/label.go AugmentLabels)."""

from __future__ import annotations

from typing import Any

from chaoskit.analysis.registry import Registry
from chaoskit.topology.spec import MeshSpec


def mesh(export_to: list[str], node_labels: dict[str, str] | None = None) -> MeshSpec:
    workload: dict[str, Any] = {
        "name": "hello-v1",
        "namespace": "hello",
        "labels": {"app": "hello", "version": "v1"},
        "app": {"name": "echo"},
    }
    nodes = []
    if node_labels is not None:
        workload["nodeName"] = "node-a"
        nodes = [{"name": "node-a", "labels": node_labels}]
    return MeshSpec.model_validate(
        {
            "apiVersion": "chaoskit.dev/v1alpha1",
            "kind": "MeshSpec",
            "spec": {
                "namespaces": [{"name": "hello"}, {"name": "other"}],
                "services": [
                    {
                        "name": "hello",
                        "namespace": "hello",
                        "ports": [{"name": "http", "port": 9080}],
                        "exportTo": export_to,
                    }
                ],
                "workloads": [workload],
                "nodes": nodes,
            },
        }
    )


FQDN = "hello.hello.svc.cluster.local"


def test_a_service_without_export_to_is_seen_everywhere() -> None:
    registry = Registry(mesh([]))
    assert registry.host_exists(FQDN, "other")
    assert registry.host_exists(FQDN, "hello")


def test_export_to_limits_who_sees_the_service() -> None:
    dot = Registry(mesh(["."]))
    assert dot.host_exists(FQDN, "hello")
    assert not dot.host_exists(FQDN, "other")
    banana = Registry(mesh(["banana"]))  # not even its own namespace
    assert not banana.host_exists(FQDN, "hello")
    assert banana.host_exists(FQDN, "banana")


def test_the_referrers_own_export_to_is_where_it_looks() -> None:
    """GetDestinationHost looks in the referring resource's exportTo namespaces when it has
    them: a VirtualService exported to 'bogus' does not see a Service exported to '.'."""
    registry = Registry(mesh(["."]))
    assert not registry.host_exists(FQDN, "hello", ["bogus"])
    assert registry.host_exists(FQDN, "hello", ["."])


def test_pods_carry_their_nodes_topology_labels_and_hostname() -> None:
    spec = mesh(
        [], {"topology.kubernetes.io/region": "us-west-1", "topology.kubernetes.io/zone": ""}
    )
    registry = Registry(spec)
    (workload,) = spec.spec.workloads
    labels = registry.pod_labels(workload)
    assert labels["topology.kubernetes.io/region"] == "us-west-1"
    assert "topology.kubernetes.io/zone" not in labels  # an empty node label adds nothing
    assert labels["kubernetes.io/hostname"] == "node-a"
    assert labels["version"] == "v1"
    unplaced = mesh([])
    assert Registry(unplaced).pod_labels(unplaced.spec.workloads[0]) == {
        "app": "hello",
        "version": "v1",
    }
