"""The admin-output parsers on Envoy's own expected output (``tests/data/upstream/envoy``):
``/clusters`` text from ``test/server/admin/clusters_handler_test.cc`` and plain-text
``/stats`` from ``test/server/admin/stats_handler_test.cc`` (see the README)."""

from __future__ import annotations

from chaoskit.cluster.backend import parse_stats
from chaoskit.observe.ejections import cluster_hosts, ejected_hosts
from tests.contract.upstream import UPSTREAM

ENVOY = UPSTREAM / "envoy"


def test_stats_keep_counters_and_skip_text_readouts_and_histograms() -> None:
    text = (ENVOY / "stats-plain-text.txt").read_text()
    assert parse_stats(text) == {"c1": 10, "c2": 20}


def test_the_outlier_flag_marks_the_host_ejected() -> None:
    text = (ENVOY / "clusters.txt").read_text()
    assert ejected_hosts(text) == {("fake_cluster", "1.2.3.4:80")}
    assert ejected_hosts(text, "other") == set()


def test_only_hosts_count_as_hosts_not_the_per_cluster_lines() -> None:
    """Envoy writes ``fake_cluster::outlier::...``, ``::default_priority::...`` and
    ``::added_via_api::true`` beside the host lines; counting them as hosts inflated the
    number of hosts watched (the ejection checks' n) on a real cluster."""
    text = (ENVOY / "clusters.txt").read_text()
    assert cluster_hosts(text, "fake_cluster") == {"1.2.3.4:80"}
