"""Seed template 6: a 10% 5 s delay and a 5% HTTP 503 abort on ratings.

Source: https://istio.io/latest/docs/tasks/traffic-management/fault-injection/ (Envoy's
fault filter draws the delay and the abort independently, delay first).
"""

from __future__ import annotations

import pytest
import yaml

# The in-mesh client that calls services from inside the mesh.
pytestmark = pytest.mark.chaos(needs=["fortio"], needs_app=["fortio"])

# The equivalence bands (absolute points) the observed shares must lie within.
DELAY_BAND = 0.025
ABORT_BAND = 0.02


def test_observed_fault_rates_match_the_template(chaos, load, resources):
    """Calls to ratings are delayed by 5 s and aborted with 503 at the rates the template's
    YAML states: each observed share lies, with 95% confidence, inside a band around the
    configured one (delay 10% ± 2.5 points, abort 5% ± 2 points), an equivalence check
    that passes only on evidence. Exact binomial sums over the checks at about 3,600
    answered calls: a correct fault passes both bands 99.6% of the time (else the run is
    INCONCLUSIVE, never FAILED: 0.0% false FAILs); 1.5 times the configured rates (the
    ``raise-fault-percent`` mutant) put the delay's interval wholly above its band (FAIL)
    99.1% of the time, and half of them (``halve-fault-percent``) wholly below
    it more than 99.99% of the time. The abort band alone catches only gross changes (no
    abort, or twice the rate): at this n, 7.5% aborts FAIL it one time in five."""
    template = resources / "seed" / "06-fault-injection.yaml"
    fault = yaml.safe_load(template.read_text())["spec"]["http"][0]["fault"]
    delay_share = fault["delay"]["percentage"]["value"] / 100
    abort_share = fault["abort"]["percentage"]["value"] / 100
    chaos.apply(template)

    # 3,600 calls, the n the docstring's error rates are for; at 400/s the window's 5 s tail
    # of delayed calls follows 9 s of sending instead of 18.
    window = load.run("/ratings/0", service="ratings.bookinfo:9080", rate=400.0, duration="9s")
    # The shares are of the calls that got an answer, so a load generator that fell behind
    # (or calls still in flight at the end) cannot dilute them; they presume most calls
    # answered (a guard, not a check: no fault rate could flip it).
    window.share(where=lambda r: r.status != 0, subject="calls answered").precondition_at_least(
        0.95, "the shares presume calls that answered"
    )
    answered = window.only(lambda r: r.status != 0, f"{window.label} (answered)")
    # Delayed: at least 5 s on the wire, from when the call left (not its scheduled slot).
    delayed = answered.share(
        where=lambda r: r.latency_s - r.late_s >= 5.0, subject="share delayed ≥ 5s"
    )
    delayed.matches(delay_share, tolerance=DELAY_BAND)
    answered.share(status=fault["abort"]["httpStatus"]).matches(abort_share, tolerance=ABORT_BAND)
