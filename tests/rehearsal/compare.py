"""The dress rehearsal's verdict check: the cluster backend's run against the local one.

Both runs are the same suite on the same mesh design, so every experiment must reach the
same outcome on both; where they differ, one backend has a bug. The allowed differences
are an experiment marked ``chaos(embedded_only=...)``, which the cluster run skips with its
reason, and an experiment's run in a data plane the cluster does not run (``dataplanes``
marker: the local run starts a mesh per plane, the cluster runs one).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chaoskit.report.load import load_results

# The start of the skip message of an experiment marked embedded_only on a cluster backend
# (chaoskit/plugin/fixtures.py).
EMBEDDED_ONLY = "runs on the embedded mesh only"
# ... and of an experiment's run in another data plane than the cluster's
# (chaoskit/plugin/dataplanes.py, OTHER_PLANE).
OTHER_PLANE = "the cluster runs the"


@dataclass(frozen=True)
class Row:
    experiment: str
    local: str
    cluster: str
    verdict: str  # same | embedded-only | other-dataplane | DIFFERENT | MISSING
    why: str = ""

    @property
    def agrees(self) -> bool:
        return self.verdict in ("same", "embedded-only", "other-dataplane")


def compare(local: dict[str, Any], cluster: dict[str, Any]) -> list[Row]:
    """One row per experiment of either run, in the local run's order."""
    ours = {e["id"]: e for e in local["experiments"]}
    theirs = {e["id"]: e for e in cluster["experiments"]}
    rows = []
    for key in [*ours, *(k for k in theirs if k not in ours)]:
        a, b = ours.get(key), theirs.get(key)
        name = (a or b or {}).get("name", key)
        if a is None or b is None:
            where = "the local run" if a is None else "the cluster run"
            rows.append(
                Row(
                    name,
                    a["outcome"] if a else "-",
                    b["outcome"] if b else "-",
                    "MISSING",
                    f"not in {where}",
                )
            )
        elif b["outcome"] == "skipped" and str(b["message"]).startswith(EMBEDDED_ONLY):
            rows.append(Row(name, a["outcome"], "skipped", "embedded-only", b["message"]))
        elif b["outcome"] == "skipped" and str(b["message"]).startswith(OTHER_PLANE):
            rows.append(Row(name, a["outcome"], "skipped", "other-dataplane", b["message"]))
        elif a["outcome"] == b["outcome"]:
            rows.append(Row(name, a["outcome"], b["outcome"], "same"))
        else:
            why = b["message"] if b["outcome"] != "held" else a["message"]
            rows.append(Row(name, a["outcome"], b["outcome"], "DIFFERENT", str(why)))
    return rows


def table(rows: list[Row]) -> str:
    width = max([len(r.experiment) for r in rows] + [10])
    lines = [f"{'experiment':<{width}}  {'local':<12} {'cluster':<12} verdicts"]
    for row in rows:
        line = f"{row.experiment:<{width}}  {row.local:<12} {row.cluster:<12} {row.verdict}"
        if row.why and not row.agrees:
            line += f"\n{'':<{width}}  {row.why.splitlines()[0][:300]}"
        lines.append(line)
    return "\n".join(lines)


def compare_files(local: Path, cluster: Path) -> list[Row]:
    return compare(load_results(local), load_results(cluster))
