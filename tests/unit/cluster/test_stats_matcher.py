"""The doctor's reading of a sidecar's bootstrap stats matcher, for the stats Envoy creates
only at first use. The matcher is shaped as Istio writes ``proxyStatsMatcher`` into the
bootstrap (istio/istio tools/packaging/common/envoy_bootstrap.json, tag 1.28.10:
``inclusionPrefixes`` as ``prefix`` and ``inclusionRegexps`` as ``safe_regex`` patterns of
``stats_matcher.inclusion_list``)."""

from __future__ import annotations

import json

from chaoskit.cluster.doctor import CREATED_AT_FIRST_USE
from chaoskit.cluster.stats_matcher import BOOTSTRAP_DUMP, bootstrap_stats_matcher, keeps

FIVE_XX = CREATED_AT_FIRST_USE["upstream 5xx"]
EJECTIONS = CREATED_AT_FIRST_USE["outlier ejections"]


def dump(stats_config: dict[str, object] | None) -> str:
    bootstrap = {"node": {"id": "sidecar~10.244.0.7~fortio.default~default.svc.cluster.local"}}
    if stats_config is not None:
        bootstrap["stats_config"] = stats_config  # type: ignore[assignment]
    configs = [
        {"@type": BOOTSTRAP_DUMP, "bootstrap": bootstrap},
        {"@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump"},
    ]
    return json.dumps({"configs": configs})


def istio_matcher(prefixes: list[str], regexps: list[str]) -> dict[str, object]:
    patterns = [{"prefix": p} for p in ["reporter=", "cluster_manager", "server", *prefixes]]
    patterns += [{"safe_regex": {"regex": r}} for r in regexps]
    return {"stats_matcher": {"inclusion_list": {"patterns": patterns}}}


def test_the_operator_matcher_keeps_the_stats_created_at_first_use() -> None:
    # chaoskit/cluster/assets/istio-operator.yaml's proxyStatsMatcher
    matcher = bootstrap_stats_matcher(
        dump(istio_matcher(["cluster.outbound"], [".*outlier_detection.*", ".*upstream_rq_.*"]))
    )
    assert matcher is not None
    assert keeps(matcher, FIVE_XX)
    assert keeps(matcher, EJECTIONS)


def test_istios_default_matcher_drops_them() -> None:
    matcher = bootstrap_stats_matcher(dump(istio_matcher([], [])))
    assert matcher is not None
    assert not keeps(matcher, FIVE_XX)
    assert not keeps(matcher, EJECTIONS)


def test_a_regex_must_match_the_whole_name_as_envoys_re2_matcher_does() -> None:
    matcher = bootstrap_stats_matcher(dump(istio_matcher([], ["upstream_rq_5xx"])))
    assert matcher is not None
    assert not keeps(matcher, FIVE_XX)


def test_no_matcher_keeps_everything_and_no_bootstrap_is_unknown() -> None:
    assert bootstrap_stats_matcher(dump(None)) == {}
    assert keeps({}, FIVE_XX)
    assert bootstrap_stats_matcher(json.dumps({"configs": []})) is None
    assert not keeps({"reject_all": True}, FIVE_XX)
    excluded = {"exclusion_list": {"patterns": [{"suffix": ".upstream_rq_5xx"}]}}
    assert not keeps(excluded, FIVE_XX)
    assert keeps(excluded, EJECTIONS)
