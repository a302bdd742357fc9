"""DestinationRule outlierDetection → Envoy's outlier detector, as Istio 1.28 translates it.

Source: istio/istio pilot/pkg/networking/core/cluster_traffic_policy.go,
``applyOutlierDetection`` (tag 1.28.9, commit 4c6838d7f5b97e2e3bc80c7492e99e6707e61ca4);
Envoy's defaults from api/envoy/config/cluster/v3/outlier_detection.proto.
"""

from __future__ import annotations

from typing import Any

from chaoskit.controlplane.policy import outlier_spec
from chaoskit.istio.destination_rule import OutlierDetection
from chaoskit.mesh.config import OutlierSpec
from chaoskit.mesh.outlier import OutlierDetector

HOSTS = ("10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80")


class _Clock:
    def now(self) -> float:
        return 0.0


def _spec(**fields: Any) -> OutlierSpec:
    spec = outlier_spec(OutlierDetection.model_validate(fields))
    assert spec is not None
    return spec


def _detector(spec: OutlierSpec) -> OutlierDetector:
    detector = OutlierDetector(spec, _Clock())
    for host in HOSTS:
        detector.add_host(host)
    return detector


def test_split_local_origin_errors_are_passed_to_the_data_plane() -> None:
    spec = _spec(
        consecutive5xxErrors=2,
        splitExternalLocalOriginErrors=True,
        consecutiveLocalOriginFailures=3,
        maxEjectionPercent=100,
    )
    assert spec.split_external_local_origin_errors
    assert spec.consecutive_local_origin_failure == 3
    detector = _detector(spec)
    # Connect failures no longer count as 5xx: two of them eject nothing...
    detector.report(HOSTS[0], None, "connect")
    detector.report(HOSTS[0], None, "connect")
    assert not detector.ejected_hosts()
    # ...the third reaches consecutiveLocalOriginFailures.
    detector.report(HOSTS[0], None, "connect")
    assert detector.ejected_hosts() == [HOSTS[0]]
    assert detector.stats["outlier_detection.ejections_enforced_consecutive_local_origin_failure"]


def test_split_without_a_count_takes_envoys_default_of_five() -> None:
    spec = _spec(splitExternalLocalOriginErrors=True)
    assert (spec.split_external_local_origin_errors, spec.consecutive_local_origin_failure) == (
        True,
        5,
    )


def test_unset_gateway_errors_are_detected_but_not_enforced() -> None:
    """Envoy's default consecutive_gateway_failure is 5 at 0 % enforcement: counted only."""
    detector = _detector(_spec(consecutive5xxErrors=10, maxEjectionPercent=100))
    for _ in range(5):
        detector.report(HOSTS[0], 503)
    assert detector.stats["outlier_detection.ejections_detected_consecutive_gateway_failure"] == 1
    assert not detector.ejected_hosts()
    assert [e.enforced for e in detector.events] == [False]


def test_set_gateway_errors_are_enforced_and_zero_disables_them() -> None:
    assert _spec(consecutiveGatewayErrors=3).enforcing_consecutive_gateway_failure == 100
    zero = _spec(consecutiveGatewayErrors=0, consecutive5xxErrors=0)
    assert (zero.enforcing_consecutive_gateway_failure, zero.enforcing_consecutive_5xx) == (0, 0)
