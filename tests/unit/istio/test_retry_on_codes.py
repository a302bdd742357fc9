"""retryOn status codes: Istio keeps only codes Go's http.StatusText knows (retry.go)."""

from __future__ import annotations

from chaoskit.istio.loading import load_text

VS = """apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: r}}
spec:
  hosts: [ratings]
  http:
  - route: [{{destination: {{host: ratings}}}}]
    retries: {{attempts: 2, retryOn: "5xx,{code}"}}
"""


def test_a_known_status_code_is_accepted() -> None:
    assert load_text(VS.format(code=503)).problems == []


def test_an_unknown_status_code_is_refused_before_it_reaches_the_compiler() -> None:
    problems = load_text(VS.format(code=555)).problems
    assert [p.path for p in problems] == ["spec.http[0].retries.retryOn"]
    assert "'555'" in problems[0].message
