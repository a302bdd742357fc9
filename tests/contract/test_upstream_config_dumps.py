"""The config-arrival fingerprint on istioctl's own ``config_dump`` testdata (Istio 1.28.10).

``proxyconfig-config_dump.json`` is a sidecar's full dump; ``compare-configdump.json`` and
``compare-configdump_diff.json`` are the pair istioctl's ``proxy-status`` comparison test
uses, which differ in real config (a port, an EDS setting).
"""

from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from chaoskit.errors import ReadinessTimeout
from chaoskit.experiment.cluster_mesh import PER_PUSH_FIELDS, config_fingerprint
from chaoskit.kube.client import KubeClient
from tests.contract.fake_apiserver import FakeApiServer
from tests.contract.test_cluster_mesh import NS, cluster, make_backend, ratings_fault
from tests.contract.upstream import config_dump

__all__ = ["cluster"]  # the fixture: Bookinfo's ratings and reviews, with sidecars


def repushed(value: Any, counter: itertools.count[int]) -> Any:
    """The same config after an unrelated push: every per-push field has a new value."""
    if isinstance(value, dict):
        return {
            k: f"2026-12-03T09:00:{next(counter) % 60:02d}Z/{next(counter)}"
            if k in PER_PUSH_FIELDS
            else repushed(v, counter)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [repushed(v, counter) for v in value]
    return value


def test_the_upstream_dump_carries_per_push_fields_at_every_level() -> None:
    """Without this the next test would prove nothing."""
    dump = config_dump("proxyconfig-config_dump.json")
    assert repushed(dump, itertools.count()) != dump
    clusters = next(c for c in dump["configs"] if c["@type"].endswith("ClustersConfigDump"))
    assert "version_info" in clusters
    assert any("last_updated" in c for c in clusters["dynamic_active_clusters"])


def test_an_unrelated_push_is_not_an_arrival() -> None:
    dump = config_dump("proxyconfig-config_dump.json")
    assert config_fingerprint(repushed(dump, itertools.count())) == config_fingerprint(dump)


def test_a_real_config_change_is_an_arrival() -> None:
    before = config_dump("compare-configdump.json")
    after = config_dump("compare-configdump_diff.json")
    assert config_fingerprint(before) != config_fingerprint(after)
    # and only the per-push fields of the changed dump moving does not hide it
    moved = repushed(copy.deepcopy(after), itertools.count(7))
    assert config_fingerprint(moved) == config_fingerprint(after) != config_fingerprint(before)


# --- the same, end to end: the fake serves the upstream dumps through pods/exec -------------


def serve_dumps(cluster: FakeApiServer, after_write: dict[str, Any]) -> None:
    """Every sidecar answers ``config_dump`` with istioctl's dump, and ``after_write`` once
    the VirtualService is stored (what istiod pushed)."""
    before = json.dumps(config_dump("compare-configdump.json"))
    after = json.dumps(after_write)

    def dump() -> str:
        return after if ("virtualservices", NS, "ratings") in cluster.objects else before

    cluster.admin_default["config_dump"] = dump
    cluster.admin_by_pod.pop("config_dump", None)  # the same dump for every pod


def test_a_push_that_only_moves_per_push_fields_never_counts_as_arrival(
    cluster: FakeApiServer, fake_client: KubeClient, tmp_path: Path
) -> None:
    serve_dumps(cluster, repushed(config_dump("compare-configdump.json"), itertools.count()))
    mesh, clock = make_backend(cluster, fake_client, tmp_path, timeout_s=5.0)
    with pytest.raises(ReadinessTimeout, match=r"no config change seen on .*\(0 of 3 changed\)"):
        mesh.apply_objects([ratings_fault()], run_id="run-7")
    assert clock.now >= mesh.timeout_s


def test_a_push_with_real_config_counts_as_arrival(
    cluster: FakeApiServer, fake_client: KubeClient, tmp_path: Path
) -> None:
    serve_dumps(cluster, config_dump("compare-configdump_diff.json"))
    mesh, clock = make_backend(cluster, fake_client, tmp_path)
    mesh.apply_objects([ratings_fault()], run_id="run-7")
    assert clock.now < mesh.timeout_s
