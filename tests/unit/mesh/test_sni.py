"""A gateway TLS listener's accepted server names, as Envoy's filter-chain match has them."""

from __future__ import annotations

import pytest

from chaoskit.load import LoadProfile
from chaoskit.mesh.sni import accepts


@pytest.mark.parametrize(
    ("hosts", "name", "accepted"),
    [
        (("*.example.com",), "api.example.com", True),
        (("*.example.com",), "a.b.example.com", True),  # a wildcard covers deeper names
        (("*.example.com",), "example.com", False),
        (("*.example.com",), "api.example.org", False),
        (("*.example.com",), None, False),  # no SNI: no chain has empty server_names
        (("default/shop.example.com",), "SHOP.example.com", True),
        (("*",), None, True),  # "*": no server_names, so every handshake matches
        ((), "anything", True),
    ],
)
def test_server_names(hosts: tuple[str, ...], name: str | None, accepted: bool) -> None:
    assert accepts(hosts, name) is accepted


def test_a_load_profile_keeps_its_resolved_names_across_the_process_boundary() -> None:
    profile = LoadProfile.build(
        "https://api.example.com:18443",
        duration="1s",
        resolve=(("api.example.com", "127.0.0.1"),),
    )
    assert LoadProfile.from_json(profile.to_json()) == profile
