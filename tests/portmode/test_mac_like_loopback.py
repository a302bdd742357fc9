"""The embedded mesh on a loopback with only 127.0.0.1, as a Mac without aliases has it.

``chaoskit mesh up`` run as a new user would, in a network namespace whose loopback is
127.0.0.1/32 (tests/portmode/netns.py): it must pick port mode on its own, say so, serve
Bookinfo through the ingress, and show every pod as 127.0.0.1 with ports of its own in the
pod objects and in ``proxy-config endpoints``. The long checks (the e2e core and the Bookinfo
experiments' verdicts against ip mode) are ``make portmode``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.portmode.netns import mac_like

pytestmark = pytest.mark.usefixtures("mac_like_loopback")

# One shell session in the namespace (the namespace dies with its last process): mesh up,
# a page through the ingress, the pods and endpoints as the CLI shows them, mesh down.
_SESSION = """
set -e
chaoskit() {{ "{python}" -m chaoskit.cli "$@"; }}
chaoskit mesh up --detach --state-dir "{state}" --timeout 90
"{python}" -c "import urllib.request as u; print(u.urlopen('http://127.0.0.1:18080/productpage', timeout=10).read().decode())" | grep -o '<title>.*</title>'
echo '--- status'
chaoskit mesh status --state-dir "{state}" -o json
echo '--- endpoints'
CHAOSKIT_HOME="{home}" chaoskit proxy-config endpoints deploy/productpage-v1 -n bookinfo --kubeconfig "{state}/kubeconfig"
echo '--- down'
chaoskit mesh down --state-dir "{state}"
"""


def _run(tmp_path: Path, script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        mac_like(["bash", "-c", script]), capture_output=True, text=True, timeout=240
    )


def test_mesh_up_picks_port_mode_and_pods_differ_by_port(tmp_path: Path) -> None:
    state = tmp_path / "state"
    script = _SESSION.format(python=sys.executable, state=state, home=tmp_path)
    done = _run(tmp_path, script)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    up, rest = done.stdout.split("--- status", 1)
    status_text, rest = rest.split("--- endpoints", 1)
    endpoints_text, _ = rest.split("--- down", 1)
    assert "port mode" in up
    assert "<title>Simple Bookstore App</title>" in up
    status = json.loads(status_text)
    assert status["mesh"]["addressMode"] == "port"
    rows = status["proxies"]
    assert {row["ip"] for row in rows} == {"127.0.0.1"}
    admin_ports = [row["ports"]["15000"] for row in rows]
    assert len(set(admin_ports)) == len(rows)  # one admin port per pod
    # Every endpoint is 127.0.0.1:port, and a port belongs to one pod's app only.
    app_ports = {port for row in rows for name, port in row["ports"].items() if name != "15000"}
    lines = [line.split() for line in endpoints_text.strip().splitlines()[1:]]
    assert lines
    for endpoint, *_ in lines:
        host, _, port = endpoint.rpartition(":")
        assert host == "127.0.0.1"
        assert int(port) in app_ports


def test_ip_mode_is_refused_with_the_way_out(tmp_path: Path) -> None:
    script = (
        f'"{sys.executable}" -m chaoskit.cli mesh up --address-mode ip '
        f'--state-dir "{tmp_path / "state"}" --timeout 30'
    )
    done = _run(tmp_path, script)
    assert done.returncode != 0
    assert "cannot bind loopback addresses other than 127.0.0.1" in done.stderr
    assert "--address-mode port" in done.stderr
