"""Access logs on a real Istio are flushed once a second (``--file-flush-interval-msec 1000``,
istio/istio pkg/envoy/proxy.go, tag 1.28.10): a read right after a load window waits a
flush interval, once per batch of reads, so the window's last requests are not missing."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from chaoskit.experiment.cluster_mesh import LOG_FLUSH_S, LOG_FLUSH_SLACK_S, ClusterBackend
from chaoskit.kube.client import KubeClient
from tests.contract.fake_apiserver import FakeApiServer
from tests.contract.test_cluster_mesh import NS, cluster, make_backend

__all__ = ["cluster"]  # the fixture: Bookinfo's ratings and reviews, with sidecars


class BufferedEnvoy:
    """Lines served but not yet flushed; a flush happens while the reader sleeps."""

    def __init__(self, fake: FakeApiServer, pod: str) -> None:
        self.fake, self.pod = fake, pod
        self.buffer: list[tuple[float, str]] = []

    def serve(self, request_id: str) -> None:
        line = json.dumps({"response_code": 200, "request_id": request_id})
        self.buffer.append((1_800_000_000.0 + len(self.buffer), line))

    def flush(self) -> None:
        self.fake.logs.setdefault((NS, self.pod), []).extend(self.buffer)
        self.buffer.clear()


def setup(
    cluster: FakeApiServer, fake_client: KubeClient, tmp_path: Path
) -> tuple[ClusterBackend, BufferedEnvoy, list[float]]:
    backend, clock = make_backend(cluster, fake_client, tmp_path)
    pod = backend.pods(NS, "app=reviews")[0]
    envoy = BufferedEnvoy(cluster, pod.name)
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if seconds >= LOG_FLUSH_S:
            envoy.flush()  # a whole flush interval passed
        clock.sleep(seconds)

    backend._sleep = sleep
    return backend, envoy, slept


def test_the_last_requests_of_a_window_are_read_after_the_flush(
    cluster: FakeApiServer, fake_client: KubeClient, tmp_path: Path
) -> None:
    backend, envoy, slept = setup(cluster, fake_client, tmp_path)
    pod = backend.pods(NS, "app=reviews")[0]
    envoy.serve("first")
    envoy.serve("last")
    ids = [r["request_id"] for r in backend.access_log(pod, 0)[1]]
    assert ids == ["first", "last"]
    assert slept == [LOG_FLUSH_S + LOG_FLUSH_SLACK_S]


def test_one_wait_serves_a_batch_of_reads_and_a_later_batch_waits_again(
    cluster: FakeApiServer, fake_client: KubeClient, tmp_path: Path
) -> None:
    backend, envoy, slept = setup(cluster, fake_client, tmp_path)
    pod = backend.pods(NS, "app=reviews")[0]
    for _ in range(3):
        backend.access_log(pod, 0)
    assert len(slept) == 1
    backend._sleep(5.0)  # the next load window
    slept.clear()
    envoy.serve("next-window")
    assert [r["request_id"] for r in backend.access_log(pod, 0)[1]] == ["next-window"]
    assert slept == [LOG_FLUSH_S + LOG_FLUSH_SLACK_S]


def test_after_a_load_window_reads_wait_until_a_flush_after_its_end_and_not_again(
    cluster: FakeApiServer, fake_client: KubeClient, tmp_path: Path
) -> None:
    """The window's last request was answered half a second before the load ended was
    noted; Envoy flushes its line a flush interval after it was written."""
    backend, clock = make_backend(cluster, fake_client, tmp_path)
    pod = backend.pods(NS, "app=reviews")[0]
    envoy = BufferedEnvoy(cluster, pod.name)
    slept: list[float] = []
    backend.load_started()
    envoy.serve("last")
    flush_due = clock.now - 0.5 + LOG_FLUSH_S

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.sleep(seconds)
        if clock.now >= flush_due:
            envoy.flush()

    backend._sleep = sleep
    backend.load_ended(time.time() - 0.5)
    assert [r["request_id"] for r in backend.access_log(pod, 0)[1]] == ["last"]
    assert slept == [pytest.approx(LOG_FLUSH_S + LOG_FLUSH_SLACK_S - 0.5, abs=0.1)]
    sleep(3.0)  # the checks take their time; nothing is served in between
    slept.clear()
    assert [r["request_id"] for r in backend.access_log(pod, 0)[1]] == ["last"]
    assert slept == []  # nothing served since the load ended: no second wait
    backend.load_started()  # a new window: until its end is known, the batch rule decides
    envoy.serve("next-window")
    flush_due = clock.now + LOG_FLUSH_S
    assert [r["request_id"] for r in backend.access_log(pod, 0)[1]] == ["last", "next-window"]
    assert slept == [LOG_FLUSH_S + LOG_FLUSH_SLACK_S]
