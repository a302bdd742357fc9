"""``make rehearse``: the experiment suite through the cluster backend against the embedded mesh.

1. ``chaoskit mesh up --detach`` in a state directory of its own (any free ports);
2. ``pytest experiments/ --mesh kube --kube-context chaoskit-embedded``; the backend finds
   the mesh's ingress and in-mesh client in its API objects, as it does on kind;
3. the local suite's results: ``--local-results FILE`` (a run made anyway, e.g. the mutation
   test's baseline in CI) or, without it or when the file is absent, ``pytest experiments/``;
4. ``chaoskit mesh down``, however the steps above ended;
5. the verdicts side by side; exit 1 on any disagreement an ``embedded_only`` marker does not
   explain, 2 when a run wrote no results.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from chaoskit.controlplane.server import CONTEXT_NAME, MeshInfo
from tests.rehearsal.compare import compare_files, table

REPO = Path(__file__).resolve().parents[2]


def _chaoskit(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "chaoskit.cli", *args], cwd=REPO, check=True)


def _suite(report: Path, *args: str, env: dict[str, str] | None = None) -> float:
    """Run the experiment suite; its exit status is the verdicts', judged by the comparison."""
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "pytest", "experiments/", f"--chaos-report={report}", *args],
        cwd=REPO,
        env=env,
        check=False,
    )
    return time.monotonic() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.rehearsal", description=__doc__)
    parser.add_argument("--local-results", type=Path, default=None)
    parser.add_argument("--reports", type=Path, default=REPO / "reports")
    args = parser.parse_args(argv)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    cluster_report = args.reports / f"rehearsal-{stamp}"
    local = args.local_results
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="chaoskit-rehearsal-") as home:
        state = Path(home) / "mesh"
        started = time.monotonic()
        try:  # mesh down even when mesh up failed half-way
            _chaoskit(
                *("mesh", "up", "--detach", "--state-dir", str(state)),
                *("--ingress-port", "0", "--ingress-https-port", "0"),
            )
            info = MeshInfo.read(state)
            assert info is not None, f"mesh up wrote no {state}/mesh.json"
            timings["mesh up"] = time.monotonic() - started
            env = {**os.environ, "KUBECONFIG": info.kubeconfig}
            # The backend finds the ingress and the load client in the API objects, as
            # on kind (chaoskit.cluster.discovery); no address is passed in.
            timings["cluster run"] = _suite(
                cluster_report, *("--mesh", "kube", "--kube-context", CONTEXT_NAME), env=env
            )
        finally:
            _chaoskit("mesh", "down", "--state-dir", str(state))
    if local is None or not local.exists():
        local_report = args.reports / f"rehearsal-{stamp}-local"
        timings["local run"] = _suite(local_report)
        local = local_report / "results.json"
    cluster = cluster_report / "results.json"
    missing = [str(p) for p in (local, cluster) if not p.exists()]
    if missing:
        print(f"rehearsal: no results written: {', '.join(missing)}", file=sys.stderr)
        return 2
    rows = compare_files(local, cluster)
    print("=" * 30 + " dress rehearsal " + "=" * 30)
    print(table(rows))
    print(f"local:   {local}\ncluster: {cluster}")
    print("took: " + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()))
    different = [r for r in rows if not r.agrees]
    if different:
        print(f"rehearsal: {len(different)} of {len(rows)} experiments disagree", file=sys.stderr)
        return 1
    print(f"rehearsal: all {len(rows)} experiments agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
