"""One experiment as a ``<section>``: hypothesis, faults, verdict with evidence, windows,
charts with their data tables, ejections, response flags, versions and stat deltas."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from chaoskit.report import fmt
from chaoskit.report.by_name import by_name_charts
from chaoskit.report.charts import DASHED, SOLID, ChartSet, band, line, r, stack_labels
from chaoskit.report.markup import esc, table
from chaoskit.report.series import Point, downsample, window_points
from chaoskit.report.summary import badge
from chaoskit.stats import wilson_interval

# Envoy response flags seen at the gateway, in words (Envoy's access-log documentation).
FLAG_MEANINGS = {
    "-": "none (a normal reply)",
    "UH": "no healthy upstream host",
    "UF": "upstream connection failure",
    "UO": "upstream overflow (circuit breaker)",
    "NR": "no route configured",
    "URX": "upstream retry limit exceeded",
    "UC": "upstream connection terminated",
    "UT": "upstream request timeout",
    "LR": "connection reset locally",
    "UR": "upstream reset the connection",
    "DC": "downstream connection terminated",
    "FI": "fault injection: abort",
    "DI": "fault injection: delay",
    "RL": "rate limited locally",
    "DPE": "downstream protocol error",
    "UPE": "upstream protocol error",
    "NC": "no cluster: the route's upstream cluster does not exist (e.g. a missing subset)",
}


class Clock:
    """Seconds since the experiment started: every chart and table shares this axis."""

    def __init__(self, experiment: Mapping[str, Any]) -> None:
        candidates = [experiment["started"]]
        candidates += [w["start"] for w in experiment["windows"]]
        candidates += [f["applied"] for f in experiment["faults"]]
        known = [float(c) for c in candidates if c is not None]
        self.zero = known[0] if known else 0.0
        ends = [float(w["end"]) for w in experiment["windows"]]
        ends += [float(e["end"] or e["start"]) for e in experiment["ejections"]]
        ends += [float(f["removed"]) for f in experiment["faults"] if f["removed"] is not None]
        if experiment["started"] is not None and experiment["duration_s"] is not None:
            ends.append(float(experiment["started"]) + float(experiment["duration_s"]))
        self.end = max([self.zero, *ends]) - self.zero

    def rel(self, epoch: float) -> float:
        return float(epoch) - self.zero

    def text(self, epoch: float | None) -> str:
        return fmt.DASH if epoch is None else f"+{self.rel(epoch):.1f} s"


def experiment_section(
    experiment: Mapping[str, Any], *, charts: ChartSet, level: int, anchor: str
) -> str:
    clock = Clock(experiment)
    h = f"h{level}"
    sub = level + 1
    meta = (
        f'<p class="meta"><code>{esc(experiment["id"])}</code> · '
        f"started {esc(fmt.timestamp(experiment['started']))} · "
        f"took {esc(fmt.duration(experiment['duration_s']))}{_ran_on(experiment)}</p>"
    )
    hypothesis = experiment["hypothesis"].strip()
    parts = [
        f'<section class="experiment o-{esc(experiment["outcome"])}" id="{anchor}" '
        f'aria-labelledby="{anchor}-h">',
        f'<{h} id="{anchor}-h">{badge(experiment["outcome"])} '
        f'<span class="name">{esc(experiment["name"])}</span></{h}>',
        meta,
        f'<p class="hypothesis"><strong>Hypothesis:</strong> {esc(hypothesis)}</p>'
        if hypothesis
        else '<p class="hypothesis muted">No hypothesis: the test has no docstring.</p>',
        _warnings(experiment, sub),
        _evidence(experiment, sub),
        _faults(experiment, clock, sub),
        _planned(experiment, sub),
    ]
    if experiment["windows"]:
        parts.append(_windows_table(experiment, clock, sub))
        parts.append(_charts(experiment, clock, charts, sub, anchor))
        parts.append(_breakdowns(experiment, sub))
        bands = _fault_bands(experiment, clock)
        parts.append(by_name_charts(experiment, clock.rel, charts, bands, sub))
    if experiment["ejections"]:
        parts.append(_ejections(experiment, clock, charts, sub))
    if experiment["stat_deltas"]:
        parts.append(_stat_deltas(experiment, sub))
    parts.append("</section>")
    return "".join(parts)


def _ran_on(experiment: Mapping[str, Any]) -> str:
    """ " · on the kube mesh (context chaoskit-embedded)"; empty for results written before
    experiments recorded their mesh."""
    mesh = experiment.get("mesh")
    if not isinstance(mesh, Mapping) or not mesh.get("backend"):
        return ""
    context = f" (context <code>{esc(str(mesh['context']))}</code>)" if mesh.get("context") else ""
    plane = f", {esc(str(mesh['dataplane']))} data plane" if mesh.get("dataplane") else ""
    return f" · on the {esc(str(mesh['backend']))} mesh{context}{plane}"


def _warnings(experiment: Mapping[str, Any], level: int) -> str:
    """Config the mesh accepted that does not do what it says (a subset nothing defines)."""
    found = experiment.get("warnings") or []
    if not found:
        return ""
    items = "".join(f"<li>{esc(str(line))}</li>" for line in found)
    return f'<h{level}>Warnings</h{level}><ul class="warnings">{items}</ul>'


def _planned(experiment: Mapping[str, Any], level: int) -> str:
    """A cluster's pre-flight: every change the experiment was about to make, in order."""
    planned = experiment.get("planned_changes") or []
    if not planned:
        return ""
    items = "".join(f"<li><code>{esc(str(line))}</code></li>" for line in planned)
    return f"<h{level}>Planned changes (pre-flight)</h{level}><ul>{items}</ul>"


def _evidence(experiment: Mapping[str, Any], level: int) -> str:
    h = f"h{level}"
    items = []
    for a in experiment["assertions"]:
        extra = []
        if a["window"]:
            extra.append(f"window: {esc(a['window'])}")
        reason = str(a.get("reason") or "")
        if reason and reason not in a["explanation"]:
            extra.append(esc(reason))
        predicted = a["predicted"]
        if isinstance(predicted, dict) and "value" in predicted:
            value = predicted["value"]
            if not isinstance(value, int | float):
                shown = str(value)
            elif a.get("unit") == "seconds":
                shown = fmt.latency(value)
            elif a.get("unit") == "rate":
                shown = fmt.pct(value)
            else:
                shown = fmt.number(value)
            extra.append(
                f"predicted from the mesh config: {esc(shown)} ({esc(predicted.get('why', ''))})"
            )
        detail = f'<br><span class="muted">{"; ".join(extra)}</span>' if extra else ""
        items.append(f"<li>{badge(str(a['verdict']))} {esc(a['explanation'])}{detail}</li>")
    message = experiment["message"].strip()
    if any(_restates(message, str(a["explanation"])) for a in experiment["assertions"]):
        message = ""  # the evidence list already says it
    out = [f"<{h}>Verdict and evidence</{h}>"]
    if items:
        out.append(f'<ul class="evidence">{"".join(items)}</ul>')
    else:
        out.append('<p class="muted">No assertion was evaluated.</p>')
    if message:
        out.append(f'<pre class="message" aria-label="message">{esc(message)}</pre>')
    return "".join(out)


def _restates(message: str, explanation: str) -> bool:
    """Whether ``message`` is only ``explanation`` with an exception name in front."""
    return (
        bool(explanation)
        and message.endswith(explanation)
        and len(message) - len(explanation) <= 40
    )


def _faults(experiment: Mapping[str, Any], clock: Clock, level: int) -> str:
    h = f"h{level}"
    if not experiment["faults"]:
        return f'<{h}>Faults</{h}><p class="muted">No fault was injected.</p>'
    out = [f"<{h}>Faults</{h}>"]
    for fault in experiment["faults"]:
        applied, removed = fault["applied"], fault["removed"]
        if applied is None:
            when = "never in force (it was not applied)"
        elif removed is None:
            when = f"in force from {clock.text(applied)}, never rolled back"
        else:
            span = fmt.duration(float(removed) - float(applied))
            when = f"in force {clock.text(applied)} → {clock.text(removed)} ({span})"
        proof_text = _proof(fault["proof"])
        yaml = fault["yaml"] or ""
        yaml_html = (
            f'<pre class="yaml" tabindex="0" aria-label="fault YAML"><code>{esc(yaml)}</code></pre>'
            if yaml
            else ""
        )
        out.append(
            f'<div class="fault"><p><strong>{esc(fault["kind"])}</strong>: '
            f"{esc(fault['description'])}</p><ul>"
            f"<li>Target: {esc(fault['target'] or fmt.DASH)}</li><li>{esc(when)}</li>"
            f"{proof_text}</ul>{yaml_html}</div>"
        )
    return "".join(out)


SIDECARS_SHOWN = 4


def _sidecars(names: Sequence[Any]) -> str:
    """``3 sidecars: a, b, c``; a long list (Istio pushes a route to every sidecar of the
    mesh unless a Sidecar resource scopes it) is cut after a few names."""
    if not names:
        return "no sidecar"
    shown = ", ".join(str(n) for n in names[:SIDECARS_SHOWN])
    more = f" and {len(names) - SIDECARS_SHOWN} more" if len(names) > SIDECARS_SHOWN else ""
    return f"{len(names)} sidecar{'s' if len(names) > 1 else ''}: {shown}{more}"


def _proof(proof: Any) -> str:
    """Proof that the fault took effect: in the callers' routes, then at its rate. Applied
    YAML lists each fault written in it under ``faults``."""
    if not isinstance(proof, dict):
        return ""
    parts = proof.get("faults")
    if isinstance(parts, list) and parts:
        return "".join(_proof_lines(p, f"{p.get('fault', 'fault')}: ") for p in parts)
    return _proof_lines(proof, "")


def _proof_lines(proof: Mapping[str, Any], prefix: str) -> str:
    names = [str(s) for s in proof.get("sidecars") or []]
    if proof.get("in_config"):
        where = f"in the routes of {_sidecars(names)}" if names else "in force"
    else:
        where = "not found in any sidecar's routes"
    out = f"<li>Proof: {esc(prefix)}{esc(where)}</li>"
    judgement = proof.get("judgement")
    if isinstance(judgement, dict) and judgement.get("explanation"):
        out += f"<li>Effect: {esc(judgement['explanation'])}</li>"
    return out


def _windows_table(experiment: Mapping[str, Any], clock: Clock, level: int) -> str:
    h = f"h{level}"
    rows = []
    # "Late" (sent behind schedule) only means something for open-loop load.
    open_loop = any(
        w["load"]["model"] == "open" or w["summary"]["late"] for w in experiment["windows"]
    )
    for w in experiment["windows"]:
        s = w["summary"]
        n, ok = int(s["n"]), int(s["ok"])
        if n and 0 <= ok <= n:
            ci = wilson_interval(ok, n)
            rate = f"{fmt.pct(ok / n)}<br><small>{fmt.pct(ci.low)}–{fmt.pct(ci.high)}</small>"
        else:
            rate = fmt.DASH
        load = w["load"]
        shape = [str(load["model"])]
        if load["users"] is not None:
            shape.append(f"{fmt.number(load['users'])} users")
        if load["rate"] is not None:
            shape.append(f"{fmt.number(load['rate'])} rps offered")
        if load.get("login"):
            shape.append(f"as {load['login']}")
        if load.get("user_class"):
            shape.append(f"user class {load['user_class']}")
        when = f"{clock.text(w['start'])} → {clock.text(w['end'])}"
        lat = s["latency_s"]
        rows.append(
            [
                f"{esc(w['label'])}<br><small>{esc(when)}<br>{esc(', '.join(shape))}</small>",
                esc(fmt.number(n)),
                esc(fmt.number(ok)),
                rate,
                _throughput(s, load.get("rate")),
                esc(fmt.latency(lat["p50"])),
                esc(fmt.latency(lat["p90"])),
                esc(fmt.latency(lat["p99"])),
                esc(fmt.latency(lat["max"])),
                *([esc(fmt.number(s["late"]))] if open_loop else []),
            ]
        )
    headers = ["Window and load", "Requests", "OK", "Success (95% CI)", "Throughput"]
    headers += ["p50", "p90", "p99", "max", *(["Late"] if open_loop else [])]
    return f"<{h}>Windows</{h}>" + table(
        headers,
        rows,
        caption="Exact numbers for each measurement window, from every request (the charts "
        "below may merge points); times are seconds since the experiment started",
        numeric=[False, *[True] * 9],
        css="wide windows",
    )


def _throughput(summary: Mapping[str, Any], offered: float | None) -> str:
    """The achieved rate over the load's schedule against the offered one, with start-up
    and drain apart (older results have only the whole-window throughput)."""
    achieved = summary.get("achieved_rps")
    if not isinstance(achieved, int | float):
        return esc(fmt.rps(summary["throughput_rps"]))
    lines = [f"{fmt.rps(achieved)} over {fmt.number(summary['scheduled_s'])} s"]
    if offered is not None:
        lines.append(f"of {fmt.rps(offered)} offered")
    edges = [
        f"{word} {summary[key]:.2g} s"
        for word, key in (("start-up", "startup_s"), ("drain", "drain_s"))
        if isinstance(summary.get(key), int | float)
    ]
    small = [*lines[1:], ", ".join(edges), f"{fmt.rps(summary['throughput_rps'])} whole window"]
    return esc(lines[0]) + "".join(f"<br><small>{esc(t)}</small>" for t in small if t)


def _chart_rows(experiment: Mapping[str, Any]) -> list[list[Point]]:
    return downsample([window_points(w) for w in experiment["windows"]])


def _fault_bands(experiment: Mapping[str, Any], clock: Clock) -> list[dict[str, Any]]:
    """One shaded band per fault, labels stacked where faults begin together."""
    bands = [
        band(
            clock.rel(f["applied"]),
            clock.rel(f["removed"]) if f["removed"] is not None else clock.end,
            f"fault: {f['kind']}",
            open_ended=f["removed"] is None,
        )
        for f in experiment["faults"]
        if f["applied"] is not None
    ]
    return stack_labels(bands, clock.end)


def _charts(
    experiment: Mapping[str, Any], clock: Clock, charts: ChartSet, level: int, anchor: str
) -> str:
    windows = _chart_rows(experiment)
    if not any(windows):
        return (
            f'<p class="muted">No per-second series was recorded for {esc(experiment["name"])}.</p>'
        )
    bands = _fault_bands(experiment, clock)
    fault_words = (
        "; shaded and hatched: "
        + ", ".join(f"{b['label']} from {b['from']} s to {b['to']} s" for b in bands)
        if bands
        else ""
    )
    p99_max = max((p.p99 for w in windows for p in w if p.p99 is not None), default=None)
    scale, unit = (1.0, "s") if p99_max is not None and p99_max >= 1.0 else (1000.0, "ms")

    def xy(get: Any) -> list[list[float | None]]:
        data: list[list[float | None]] = []
        for i, w in enumerate(windows):
            if i and w and data:
                data.append([r(w[0].t - clock.zero - 0.001, 3), None])  # break between windows
            data += [[r(clock.rel(p.t), 3), get(p)] for p in w]
        return data

    x_axis = {"title": "seconds since the experiment started", "min": 0, "max": r(clock.end, 3)}
    latency = {
        "kind": "line",
        "x": x_axis,
        "y": {"title": f"latency ({unit})", "min": 0},
        "series": [
            line("p50", SOLID, xy(lambda p: r(p.p50 * scale if p.p50 is not None else None))),
            line("p99", DASHED, xy(lambda p: r(p.p99 * scale if p.p99 is not None else None))),
        ],
        "bands": bands,
    }
    rates = [p.success_rate for w in windows for p in w if p.success_rate is not None]
    success = {
        "kind": "line",
        "x": x_axis,
        "y": {"title": "success rate (%)", "max": 100, "percent": True},
        "series": [
            line(
                "success rate",
                SOLID,
                xy(lambda p: r(p.success_rate * 100 if p.success_rate is not None else None, 3)),
            )
        ],
        "bands": bands,
    }
    throughput = {
        "kind": "line",
        "x": x_axis,
        "y": {"title": "requests per second", "min": 0},
        "series": [line("throughput", SOLID, xy(lambda p: r(p.throughput, 3)))],
        "bands": bands,
    }
    name = experiment["name"]
    npoints = sum(len(w) for w in windows)
    figures = [
        charts.figure(
            latency,
            f"Latency over time: p50 (solid line) and p99 (dashed line), in {unit}",
            f"Line chart of p50 and p99 latency of {name}, {npoints} points; highest p99 "
            f"{fmt.latency(p99_max)}{fault_words}. The data table below lists every point.",
        ),
        charts.figure(
            success,
            "Success rate over time (%)",
            f"Line chart of the success rate of {name}; lowest "
            f"{fmt.pct(min(rates) if rates else None)}{fault_words}. "
            "The data table below lists every point.",
        ),
        charts.figure(
            throughput,
            "Throughput over time (requests per second)",
            f"Line chart of the throughput of {name}{fault_words}. "
            "The data table below lists every point.",
        ),
    ]
    merged = npoints < sum(len(w["series"]) for w in experiment["windows"])
    note = (
        " Long series are merged to at most 300 points: merged points show the summed "
        "requests, the request-weighted mean p50 and the highest p99 of the seconds they cover."
        if merged
        else ""
    )
    return (
        f"<h{level}>Over time</h{level}>"
        f'<p class="muted">Time is in seconds since the experiment started; a hatched band '
        f"marks each fault from when it was applied to when it was removed.{note}</p>"
        f'<div class="charts">{"".join(figures)}</div>'
        f"{_series_table(windows, experiment, clock, unit, scale)}"
    )


def _series_table(
    windows: Sequence[Sequence[Point]],
    experiment: Mapping[str, Any],
    clock: Clock,
    unit: str,
    scale: float,
) -> str:
    rows = []
    for w, points in zip(experiment["windows"], windows, strict=True):
        for p in points:
            rows.append(
                [
                    esc(f"{clock.rel(p.t):.1f}"),
                    esc(w["label"]),
                    esc(fmt.number(p.n)),
                    esc(fmt.number(p.errors)),
                    esc(fmt.pct(p.success_rate)),
                    esc(f"{p.throughput:.3g}"),
                    esc(_scaled(p.p50, scale)),
                    esc(_scaled(p.p99, scale)),
                ]
            )
    headers = ["t (s)", "Window", "Requests", "Errors", "Success", "rps"]
    headers += [f"p50 ({unit})", f"p99 ({unit})"]
    return (
        "<details><summary>Data table for these charts</summary>"
        + table(
            headers,
            rows,
            caption="Every charted point",
            numeric=[True, False, *[True] * 6],
            css="wide",
        )
        + "</details>"
    )


def _scaled(value: float | None, scale: float) -> str:
    return fmt.DASH if value is None else f"{value * scale:.4g}"


def _count_table(
    experiment: Mapping[str, Any], key: str, caption: str, first: str, words: Mapping[str, str]
) -> str:
    labels = [str(w["label"]) for w in experiment["windows"]]
    names: list[str] = []
    for w in experiment["windows"]:
        for name in w["summary"].get(key) or {}:
            if name not in names:
                names.append(str(name))
    if not names:
        return ""
    headers = [first, *(["Meaning"] if words else []), *labels]
    rows = []
    for name in sorted(names, key=lambda n: (n != "-" and n != "200", n)):
        row = [f"<code>{esc(name)}</code>"]
        if words:
            row.append(esc(words.get(name, "")))
        for w in experiment["windows"]:
            s = w["summary"]
            count = int((s.get(key) or {}).get(name, 0))
            share = f" <small>({fmt.pct(count / s['n'])})</small>" if s["n"] else ""
            row.append(f"{esc(fmt.number(count))}{share}")
        rows.append(row)
    numeric = [False, *([False] if words else []), *[True] * len(labels)]
    return table(headers, rows, caption=caption, numeric=numeric)


def _breakdowns(experiment: Mapping[str, Any], level: int) -> str:
    tables = [
        _count_table(
            experiment,
            "flags",
            "Envoy response flags of the gateway's replies, per window",
            "Flag",
            FLAG_MEANINGS,
        ),
        _count_table(
            experiment,
            "mesh_flags",
            "Envoy response flags of the calls inside the mesh (every sidecar's outbound "
            "log), per window",
            "Flag",
            FLAG_MEANINGS,
        ),
        _count_table(experiment, "statuses", "HTTP status codes, per window", "Status", {}),
        _count_table(
            experiment, "versions", "Reviews version seen on each page, per window", "Version", {}
        ),
    ]
    shown = [t for t in tables if t]
    by_name = _by_name_tables(experiment)
    out = ""
    if shown:
        out += f'<h{level}>Replies</h{level}><div class="tables">{"".join(shown)}</div>'
    if by_name:
        out += f"<h{level}>Requests by name</h{level}>{by_name}"
    return out


def _by_name_tables(experiment: Mapping[str, Any]) -> str:
    """Locust's statistics table, one per window of a user class's load: request name,
    method, count, failures (Locust's own verdicts included) and latency quantiles."""
    tables = []
    for w in experiment["windows"]:
        rows = w["summary"].get("by_name") or []
        if not rows:
            continue
        body = [
            [
                esc(str(row.get("method", ""))),
                f"<code>{esc(str(row['name']))}</code>",
                esc(fmt.number(row["n"])),
                esc(fmt.number(row["failures"]))
                + (f" <small>({fmt.pct(row['failures'] / row['n'])})</small>" if row["n"] else ""),
                esc(fmt.latency(row.get("p50"))),
                esc(fmt.latency(row.get("p90"))),
                esc(fmt.latency(row.get("p99"))),
                esc(fmt.latency(row.get("max"))),
                esc(fmt.number(None if row.get("bytes_avg") is None else round(row["bytes_avg"]))),
            ]
            for row in rows
        ]
        tables.append(
            table(
                ["Type", "Name", "Requests", "Failures", "p50", "p90", "p99", "Max", "Avg bytes"],
                body,
                caption=f"Window {w['label']}: per request name, as Locust groups them",
                numeric=[False, False, True, True, True, True, True, True, True],
            )
            + _csv_links(w.get("locust_csv") or [])
        )
    return f'<div class="tables">{"".join(tables)}</div>' if tables else ""


# A CSV path from results.json becomes a link only when it is plainly a relative file
# name beside the report (results files are data: never a scheme, never outside).
_SAFE_CSV = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_./-]*\.csv")


def _csv_links(files: Sequence[Any]) -> str:
    """Links to Locust's CSV files of a window (ini chaos_locust_csv)."""
    if not files:
        return ""
    items = []
    for name in files:
        text = str(name)
        label = esc(text.rsplit("/", 1)[-1])
        safe = _SAFE_CSV.fullmatch(text) and ".." not in text.split("/")
        items.append(f'<a href="{esc(text)}">{label}</a>' if safe else f"<code>{label}</code>")
    return f'<p class="muted">Locust\'s own statistics: {" · ".join(items)}</p>'


def _ejections(experiment: Mapping[str, Any], clock: Clock, charts: ChartSet, level: int) -> str:
    rows_order: list[str] = []
    bars = []
    table_rows = []
    for e in experiment["ejections"]:
        row = f"{e['host']} ({_short_cluster(e['cluster'])})"
        if row not in rows_order:
            rows_order.append(row)
        end = e["end"]
        to = clock.rel(end) if end is not None else clock.end
        bars.append(
            {"row": row, "from": r(clock.rel(e["start"]), 3), "to": r(to, 3), "open": end is None}
        )
        lasted = (
            fmt.duration(float(end) - float(e["start"]))
            if end is not None
            else "still ejected at the end"
        )
        table_rows.append(
            [
                esc(e["host"]),
                esc(_short_cluster(e["cluster"])),
                esc(e["observer"]),
                esc(clock.text(e["start"])),
                esc(clock.text(end) if end is not None else "still ejected"),
                esc(lasted),
            ]
        )
    bands = _fault_bands(experiment, clock)
    spec = {
        "kind": "timeline",
        "x": {"title": "seconds since the experiment started", "min": 0, "max": r(clock.end, 3)},
        "rows": rows_order,
        "bars": bars,
        "bands": bands,
    }
    figure = charts.figure(
        spec,
        "Outlier ejections: one row per upstream host, a bar while it was ejected",
        f"Timeline of {len(bars)} outlier ejections of {len(rows_order)} hosts in "
        f"{experiment['name']}; the table below lists each with its times.",
    )
    return f"<h{level}>Outlier ejections</h{level}>{figure}" + table(
        ["Host", "Cluster", "Seen by", "Ejected", "Returned", "Lasted"],
        table_rows,
        caption="Ejections seen on the client sidecars' /clusters",
    )


def _short_cluster(cluster: str) -> str:
    """``outbound|9080||reviews.bookinfo.svc.cluster.local`` → ``reviews.bookinfo:9080``."""
    parts = str(cluster).split("|")
    if len(parts) == 4 and parts[0] in ("outbound", "inbound"):
        host = parts[3].removesuffix(".svc.cluster.local")
        subset = f" {parts[2]}" if parts[2] else ""
        return f"{host}:{parts[1]}{subset}"
    return str(cluster)


def _stat_deltas(experiment: Mapping[str, Any], level: int) -> str:
    rows = []
    for observer, stats in sorted(experiment["stat_deltas"].items()):
        for stat, delta in sorted(stats.items()):
            rows.append(
                [
                    esc(observer),
                    f"<code>{esc(stat)}</code>",
                    esc(fmt.number(delta)),
                ]
            )
    return f"<h{level}>Sidecar counters</h{level}>" + table(
        ["Sidecar", "Counter", "Change"],
        rows,
        caption="Counters that changed during the experiment",
        numeric=[False, False, True],
        css="stats",
    )
