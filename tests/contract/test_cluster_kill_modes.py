"""``chaos.kill`` modes on the cluster backend, against the fake API server.

``app-crash`` is SIGTERM to the app container's PID 1 through ``pods/exec`` (the kubelet
restarts it: restartCount + 1); ``pod-deleted`` is a DELETE; ``node-lost`` is refused with
a message naming the mode and the backend.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chaoskit.errors import BackendError, ConfigError
from chaoskit.experiment.cluster_kill import APP_CRASH_COMMAND, app_container, restarts
from chaoskit.experiment.cluster_mesh import ClusterBackend
from chaoskit.kube.client import KubeClient
from tests.contract.fake_apiserver import FakeApiServer
from tests.contract.test_cluster_mesh import (  # its fixtures too
    NS,
    backend as backend,
    cluster as cluster,
    make_backend,
)


def test_app_crash_execs_sigterm_into_the_app_container_and_sees_the_restart(
    backend: ClusterBackend, cluster: FakeApiServer
) -> None:
    pod = backend.pods(NS, "app=ratings")[0]
    obj = cluster.pods[(NS, pod.name)]
    container = app_container(obj)
    assert container != "istio-proxy"
    backend.kill_pod(pod, "app-crash")
    assert restarts(cluster.pods[(NS, pod.name)], container) == 1
    assert backend.planned == [
        f"exec `{' '.join(APP_CRASH_COMMAND)}` in pod {NS}/{pod.name} (its app container "
        "exits; the kubelet restarts it)"
    ]
    names = [p.name for p in backend.pods(NS, "app=ratings")]
    assert pod.name in names  # the pod is not replaced: only its app container restarted
    backend.restart_pod(pod)  # returns: the workload has its ready count


def test_app_crash_refuses_to_pretend_when_pid_1_ignores_sigterm(
    cluster: FakeApiServer, fake_client: KubeClient, tmp_path: Path
) -> None:
    backend, _clock = make_backend(cluster, fake_client, tmp_path, timeout_s=5.0)
    pod = backend.pods(NS, "app=ratings")[0]
    container = app_container(cluster.pods[(NS, pod.name)])
    cluster.term_ignored.add((NS, pod.name, container))
    with pytest.raises(BackendError, match=r"PID 1 did not exit within 5s.*mode='pod-deleted'"):
        backend.kill_pod(pod, "app-crash")


def test_pod_deleted_deletes_the_pod(backend: ClusterBackend, cluster: FakeApiServer) -> None:
    pod = backend.pods(NS, "app=ratings")[0]
    backend.kill_pod(pod, "pod-deleted")
    assert (NS, pod.name) not in cluster.pods
    assert backend.planned == [
        f"delete pod {NS}/{pod.name} (grace period 0; its ReplicaSet starts a replacement)"
    ]


def test_node_lost_is_refused_naming_the_mode_and_the_backend(
    backend: ClusterBackend, cluster: FakeApiServer
) -> None:
    pod = backend.pods(NS, "app=ratings")[0]
    with pytest.raises(ConfigError, match=r"mode='node-lost'.*the kind backend cannot lose"):
        backend.kill_pod(pod, "node-lost")
    assert (NS, pod.name) in cluster.pods
    assert restarts(cluster.pods[(NS, pod.name)], app_container(cluster.pods[(NS, pod.name)])) == 0


def test_an_unknown_mode_lists_the_modes(backend: ClusterBackend) -> None:
    pod = backend.pods(NS, "app=ratings")[0]
    with pytest.raises(ConfigError, match=r"use one of app-crash, pod-deleted, node-lost"):
        backend.kill_pod(pod, "oom")


def test_an_endpoint_delay_is_refused_on_a_cluster(backend: ClusterBackend) -> None:
    pod = backend.pods(NS, "app=ratings")[0]
    with pytest.raises(ConfigError, match=r"endpoint_delay is for the embedded mesh"):
        backend.kill_pod(pod, "pod-deleted", 2.0)
