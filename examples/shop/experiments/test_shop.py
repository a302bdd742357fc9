"""Does the shop's Istio config keep pages up when a replica misbehaves?

Run against the twin in ``mesh.yaml`` (``chaos_spec`` in pytest.ini): every service is the
generic app with the latency, errors and calls its settings give, behind Istio sidecars
running the config in ``resources/``. Load enters through the ingress gateway at ``/``.

The windows are a few seconds, so the bounds are loose (90%): low enough that the confidence
interval of a few hundred pages clears them when the protection works, and far above what
the pages get without it (about 70%).
"""

from __future__ import annotations


def test_a_slow_pricing_replica_is_retried_on_the_other(chaos, load):
    """One of pricing's two replicas takes 2 s to answer. catalog's sidecar gives up on it
    after the 150 ms per-try timeout and tries the other replica (Istio skips hosts already
    tried), so at least 90% of pages still answer (all do), and the retries are seen.
    Without the retry policy the 800 ms route timeout answers 504 for every call to the
    slow replica and those pages fail."""
    chaos.replica_latency("pricing", "2s")

    window = load.run(rate=40.0, duration="4s", label="one pricing replica slow")
    window.success_rate().at_least(0.9)
    load.calls_to(window, "pricing").assert_retried()


def test_a_failing_cart_replica_is_ejected(chaos, load):
    """One of cart's three replicas answers 503 to everything (the fault replaces its own
    0.1% of errors). frontend's sidecar ejects it after its second consecutive 5xx (within
    3 s of the window's start, which includes the load's own start-up), so at least 90% of
    pages still answer (about 99% do). Without outlier detection a third of the cart calls
    keep failing."""
    chaos.replica_errors("cart", rate=1.0)

    window = load.run(
        rate=50.0,
        duration="5s",
        watch_ejections="cart",
        seen_from="app=frontend",
        label="one cart replica failing",
    )
    window.success_rate().at_least(0.9)
    window.ejections.assert_ejected_within(window.start, seconds=3.0)
