"""Expected outcomes derived from the mesh config in force and Bookinfo's own timeouts.

Instead of a hand-picked number, an experiment can assert "behaves as its config predicts".
The model follows istio-semantics §2 and §5:

- A fault-injected abort is a local reply of the caller's fault filter, which runs before
  the router, so retries never recover it: success = 1 − abort share.
- A delay happens in the fault filter too, before the router starts the route timeout.
- productpage calls reviews with a 3 s timeout and tries twice; reviews v2 waits 10 s for
  ratings, v3 2.5 s; v1 never calls ratings. A call that times out shows the app's error
  text instead of the data.

Only what the model covers is predicted; anything else is a clear ``ConfigError`` rather
than a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chaoskit.durations import parse_seconds
from chaoskit.errors import ConfigError
from chaoskit.mesh.apps.bookinfo.backends import CALL_TIMEOUT_S, REVIEWS_TRIES
from chaoskit.mesh.apps.bookinfo.catalog import RATINGS_UNAVAILABLE, REVIEWS_UNAVAILABLE
from chaoskit.mesh.apps.bookinfo.reviews import BLACK_STARS_TIMEOUT_S, OTHER_STARS_TIMEOUT_S

RATINGS_TIMEOUT_S = {"v1": 0.0, "v2": BLACK_STARS_TIMEOUT_S, "v3": OTHER_STARS_TIMEOUT_S}


@dataclass(frozen=True)
class Prediction:
    value: float
    why: str


@dataclass(frozen=True)
class PagePrediction(Prediction):
    """A Bookinfo page for one user: its latency (``value``), the error text it shows
    (``""`` when none), and the share of pages the fault applies to."""

    text: str
    share: float
    version: str


@dataclass(frozen=True)
class Route:
    destination: str  # subset name ('' for none)
    timeout_s: float | None
    delay_s: float
    delay_share: float
    abort_share: float


def _header_ok(condition: dict[str, Any], value: str | None) -> bool:
    if value is None:
        return False
    if "exact" in condition:
        return bool(value == condition["exact"])
    if "prefix" in condition:
        return value.startswith(str(condition["prefix"]))
    raise ConfigError(f"prediction supports exact and prefix header matches, not {condition}")


def _matches(route: dict[str, Any], headers: dict[str, str]) -> bool:
    matches = route.get("match") or [{}]
    for match in matches:
        conditions = match.get("headers") or {}
        if all(_header_ok(c, headers.get(name.lower())) for name, c in conditions.items()):
            return True  # uri conditions are taken to match Bookinfo's own paths
    return False


def _share(kind: str, part: dict[str, Any] | None) -> float:
    from chaoskit.experiment.faults import configured_percent

    return configured_percent(kind, part) / 100.0 if part else 0.0


class Predictor:
    def __init__(
        self, objects: list[dict[str, Any]], pod_labels: list[dict[str, str]] | None = None
    ) -> None:
        self.objects = objects
        # The labels of the running pods: how an unrouted service's calls spread over
        # versions (Envoy balances over endpoints, so each version gets its pods' share).
        self.pod_labels = pod_labels or []

    def _virtual_service(self, service: str, namespace: str) -> dict[str, Any] | None:
        from chaoskit.experiment.faults import targets

        found = [
            o
            for o in self.objects
            if o.get("kind") == "VirtualService" and targets(o, service, namespace)
        ]
        found.sort(key=lambda o: o["metadata"].get("creationTimestamp", ""))
        return found[0] if found else None

    def _route_spec(self, service: str, namespace: str, headers: dict[str, str]) -> dict[str, Any]:
        """The first HTTP route of the VirtualService in force that ``headers`` match
        (an empty route when no VirtualService targets ``service``)."""
        vs = self._virtual_service(service, namespace)
        if vs is None:
            return {}
        for route in (vs.get("spec") or {}).get("http") or []:
            if _matches(route, headers):
                return dict(route)
        raise ConfigError(f"no route of VirtualService {vs['metadata']['name']} matches {headers}")

    def route(self, service: str, namespace: str, headers: dict[str, str]) -> Route:
        route = self._route_spec(service, namespace, headers)
        if not route:
            return Route("", None, 0.0, 0.0, 0.0)
        destinations = route.get("route") or []
        if len(destinations) != 1:
            raise ConfigError(
                f"the route to {service}.{namespace} in force splits between "
                f"{len(destinations)} destinations; the prediction needs one destination per route"
            )
        fault = route.get("fault") or {}
        delay = fault.get("delay")
        timeout = route.get("timeout")
        return Route(
            str(destinations[0]["destination"].get("subset", "")),
            parse_seconds(timeout) if timeout else None,
            parse_seconds(delay["fixedDelay"]) if delay else 0.0,
            _share("delay", delay),
            _share("abort", fault.get("abort")),
        )

    def _version(self, service: str, namespace: str, subset: str) -> str:
        for obj in self.objects:
            spec = obj.get("spec") or {}
            if obj.get("kind") != "DestinationRule" or spec.get("host") not in (
                service,
                f"{service}.{namespace}",
            ):
                continue
            for entry in spec.get("subsets") or []:
                if entry.get("name") == subset:
                    return str(entry.get("labels", {}).get("version", subset))
        raise ConfigError(
            f"the prediction needs one reviews version per user: route to a subset of reviews "
            f"(got {subset or 'no subset'}, which balances across versions)"
        )

    def success_rate(
        self, service: str, namespace: str, headers: dict[str, str] | None = None
    ) -> Prediction:
        """Requests to ``service`` that succeed: aborts are not retried (fault filter first)."""
        route = self.route(service, namespace, headers or {})
        return Prediction(
            1.0 - route.abort_share,
            f"abort on {route.abort_share:.0%} of calls to {service}; retries do not recover "
            "an injected abort (the fault filter answers before the router)",
        )

    def call_bound(
        self, service: str, namespace: str, headers: dict[str, str] | None = None
    ) -> Prediction:
        """The longest a call to ``service`` can take by the route in force (an injected
        delay comes first; then Envoy's router: each try is cut at perTryTimeout, the whole
        at the route timeout). A per-try timeout is retried only when retryOn has ``5xx``
        or ``gateway-error``; between tries Envoy backs off at most 25 ms × 2^k, capped at
        250 ms. Without any timeout there is no bound: a ``ConfigError``."""
        route = self._route_spec(service, namespace, headers or {})
        fault = route.get("fault") or {}
        delay = parse_seconds(fault["delay"]["fixedDelay"]) if fault.get("delay") else 0.0
        timeout = parse_seconds(route["timeout"]) if route.get("timeout") else None
        retries = route.get("retries") or {}
        per_try = parse_seconds(retries["perTryTimeout"]) if retries.get("perTryTimeout") else None
        retry_on = {r.strip() for r in str(retries.get("retryOn", "")).split(",")}
        attempts = int(retries.get("attempts", 0) or 0)
        why = []
        bound = timeout
        if per_try is not None:
            tries = 1 + attempts if retry_on & {"5xx", "gateway-error"} else 1
            backoff = sum(min(0.025 * 2**k, 0.25) for k in range(tries - 1))
            tried = tries * per_try + backoff
            why.append(
                f"{tries} tr{'ies' if tries > 1 else 'y'} × perTryTimeout {per_try:g}s"
                + ("" if tries > 1 else " (retryOn has no 5xx or gateway-error)")
            )
            bound = tried if bound is None else min(bound, tried)
        if timeout is not None:
            why.append(f"route timeout {timeout:g}s")
        if bound is None:
            raise ConfigError(
                f"calls to {service}.{namespace} have no timeout in the route in force: "
                "nothing bounds their latency (set timeout or retries.perTryTimeout)"
            )
        if delay:
            why.append(f"after an injected {delay:g}s delay")
        return Prediction(delay + bound, f"calls to {service}: " + ", ".join(why))

    def bookinfo_page(self, user: str | None = None, namespace: str = "bookinfo") -> PagePrediction:
        """The /productpage a user gets, from the reviews and ratings routes in force."""
        headers = {"end-user": user} if user else {}
        reviews = self.route("reviews", namespace, headers)
        version = self._version("reviews", namespace, reviews.destination)
        return self._page(version, reviews, headers, user, namespace)

    def _reviews_versions(self, namespace: str) -> dict[str, float]:
        """Each reviews version's share of calls when no route picks a subset: its share
        of the running reviews pods."""
        versions = [
            labels.get("version", "")
            for labels in self.pod_labels
            if labels.get("app") == "reviews"
        ]
        if not versions:
            raise ConfigError(
                "no subset of reviews is routed to and no reviews pod is known: the version "
                "mix cannot be predicted"
            )
        return {v: versions.count(v) / len(versions) for v in sorted(set(versions))}

    def text_share(
        self, text: str, user: str | None = None, namespace: str = "bookinfo"
    ) -> Prediction:
        """The share of a user's /productpage answers that show ``text`` (an error text
        such as "Ratings service is currently unavailable"), under the routing in force:
        with reviews routed to one subset, that version's page; unrouted, each version in
        its share of the pods (reviews v1 never calls ratings, so a ratings fault reaches
        only the pages of v2 and v3)."""
        if text not in (RATINGS_UNAVAILABLE, REVIEWS_UNAVAILABLE):
            raise ConfigError(
                f"the page model predicts the reviews and ratings error texts, not {text!r}"
            )
        headers = {"end-user": user} if user else {}
        reviews = self.route("reviews", namespace, headers)
        if reviews.destination:
            mix = {self._version("reviews", namespace, reviews.destination): 1.0}
        else:
            mix = self._reviews_versions(namespace)
        share, parts = 0.0, []
        for version, weight in mix.items():
            page = self._page(version, reviews, headers, user, namespace)
            hit = page.share if page.text == text else 0.0
            share += weight * hit
            parts.append(f"reviews {version} ({weight:.0%} of pages): {hit:.0%}")
        return Prediction(share, "; ".join(parts))

    def _page(
        self,
        version: str,
        reviews: Route,
        headers: dict[str, str],
        user: str | None,
        namespace: str,
    ) -> PagePrediction:
        why = [f"{user or 'anonymous'} → reviews {version}"]
        reviews_time, text, share = 0.0, "", 1.0
        if version != "v1":
            ratings = self.route("ratings", namespace, headers)
            limit = RATINGS_TIMEOUT_S[version]
            if ratings.timeout_s is not None:
                limit = min(limit, ratings.timeout_s)
            if ratings.abort_share:
                text, share = RATINGS_UNAVAILABLE, ratings.abort_share
                why.append(f"ratings aborted for {share:.0%}")
            elif ratings.delay_share:
                share = ratings.delay_share
                reviews_time = min(ratings.delay_s, limit)
                why.append(
                    f"ratings delayed {ratings.delay_s:g}s for {share:.0%}, "
                    f"reviews {version} waits ≤ {limit:g}s"
                )
                if ratings.delay_s >= limit:
                    text = RATINGS_UNAVAILABLE
        per_try = (
            CALL_TIMEOUT_S if reviews.timeout_s is None else min(CALL_TIMEOUT_S, reviews.timeout_s)
        )
        if reviews_time >= per_try:
            why.append(
                f"productpage gives up on reviews after {per_try:g}s and tries {REVIEWS_TRIES}×"
            )
            return PagePrediction(
                per_try * REVIEWS_TRIES, "; ".join(why), REVIEWS_UNAVAILABLE, share, version
            )
        return PagePrediction(reviews_time, "; ".join(why), text, share, version)
