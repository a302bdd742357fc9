"""``python -m benchmarks.scale``: the embedded mesh's scaling curve, into BENCHMARKS.md.

For each size N (N echo services with one workload each, in one namespace, plus the
ingress gateway: N + 1 pods) it measures ``mesh up`` until every proxy is SYNCED, apply →
all proxies acknowledged (one VirtualService changed each time, as ``chaoskit apply``
waits), and memory per pod (RSS, and PSS where the kernel reports it: RSS counts the
interpreter's shared pages once per pod). A line fitted to the apply → ack times gives
the cost per proxy. Then, at the largest size, a connectivity soak: open-loop load spread
over every service through the gateway, with proxy-status read every few seconds; the
goal is no proxy lost.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.sections import replace_section
from chaoskit.controlplane.launcher import MeshProcess
from chaoskit.controlplane.pods import pod_pids
from chaoskit.kube.client import KubeClient
from chaoskit.mesh.http.client import HttpConnection, UpstreamError
from chaoskit.mesh.http.message import Headers, Request

ROOT = Path(__file__).resolve().parent.parent
START = "<!-- scale:start -->"
END = "<!-- scale:end -->"
VS_PATH = "/apis/networking.istio.io/v1/namespaces/default/virtualservices"


def spec_text(services: int) -> str:
    lines = [
        "apiVersion: chaoskit.dev/v1alpha1",
        "kind: MeshSpec",
        "metadata: {name: scale}",
        "spec:",
        '  istioVersion: "1.28"',
        "  namespaces: [{name: default}, {name: istio-system, labels: {}}]",
        "  services:",
        "    - {name: istio-ingressgateway, namespace: istio-system,"
        " selector: {istio: ingressgateway}, ports: [{name: http2, port: 80, targetPort: 8080}]}",
    ]
    lines += [
        f"    - {{name: svc-{i}, namespace: default, ports: [{{name: http, port: 8080}}]}}"
        for i in range(services)
    ]
    lines += [
        "  workloads:",
        "    - {name: istio-ingressgateway, namespace: istio-system,"
        " labels: {app: istio-ingressgateway, istio: ingressgateway},"
        " app: {name: ingress-gateway}, sidecar: false}",
    ]
    lines += [
        f"    - {{name: svc-{i}, namespace: default, labels: {{app: svc-{i}, version: v1}},"
        " app: {name: echo}}"
        for i in range(services)
    ]
    return "\n".join(lines) + "\n"


@dataclass
class Memory:
    """kB per process: RSS counts every resident page, shared or not; PSS divides each shared
    page among its sharers; USS (private clean + dirty) is what the process alone holds."""

    rss: int
    pss: int
    uss: int


def process_memory(pid: int) -> Memory | None:
    try:
        rss = int(Path(f"/proc/{pid}/status").read_text().split("VmRSS:")[1].split()[0])
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except (OSError, IndexError, ValueError):
        return None
    fields = {
        line.split(":")[0]: int(line.split()[1]) for line in rollup.splitlines()[1:] if ":" in line
    }
    return Memory(rss, fields["Pss"], fields["Private_Clean"] + fields["Private_Dirty"])


def pod_memory(state_dir: Path) -> list[Memory]:
    """Memory of every pod process of the mesh in ``state_dir``."""
    found = (process_memory(pid) for pid in pod_pids(state_dir).values())
    return [m for m in found if m is not None]


def fork_server_pid(control_plane: int) -> int | None:
    """The mesh's fork server (the control plane's child whose pages the pods share)."""
    try:
        children = Path(f"/proc/{control_plane}/task/{control_plane}/children").read_text()
    except OSError:
        return None
    for pid in children.split():
        try:
            if b"chaoskit.mesh.forkserver" in Path(f"/proc/{pid}/cmdline").read_bytes():
                return int(pid)
        except OSError:
            continue
    return None


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def virtual_service(name: str, timeout_s: int) -> dict[str, object]:
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "hosts": [name],
            "http": [{"route": [{"destination": {"host": name}}], "timeout": f"{timeout_s}s"}],
        },
    }


def gateway_routes(services: int) -> list[dict[str, Any]]:
    """A Gateway on port 80 and one VirtualService routing /svc-i to service svc-i."""
    gateway = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "Gateway",
        "metadata": {"name": "soak", "namespace": "istio-system"},
        "spec": {
            "selector": {"istio": "ingressgateway"},
            "servers": [
                {"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": ["*"]}
            ],
        },
    }
    routes = [
        {
            "match": [{"uri": {"prefix": f"/svc-{i}/"}}],
            "route": [{"destination": {"host": f"svc-{i}"}}],
        }
        for i in range(services)
    ]
    vs = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "metadata": {"name": "soak", "namespace": "default"},
        "spec": {"hosts": ["*"], "gateways": ["istio-system/soak"], "http": routes},
    }
    return [gateway, vs]


@dataclass
class SizeResult:
    pods: int
    up_s: float
    synced_s: float
    ack_ms: list[float]
    memory: list[Memory]
    server: Memory | None
    cpu_s: float  # pods', fork server's and control plane's CPU seconds until all SYNCED
    apply_cpu_s: float  # the same processes' CPU seconds per apply → ack

    def ack(self, q: float) -> float:
        ordered = sorted(self.ack_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class SoakResult:
    pods: int
    seconds: float
    rate: float
    sent: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    checks: int = 0
    lost: set[str] = field(default_factory=set)
    not_synced: set[str] = field(default_factory=set)
    elapsed_s: float = 0.0  # from the first request sent to the last answered
    unanswered: int = 0  # still unanswered a minute after the last send
    shed: int = 0  # not sent: every connection slot was busy (the machine fell behind)
    load: tuple[str, str] = ("?", "?")  # 1-minute load average at its start and end


def measure_size(services: int, applies: int, workdir: Path) -> SizeResult:
    spec = workdir / f"scale-{services}.yaml"
    spec.write_text(spec_text(services))
    state = workdir / f"mesh-{services}"
    started = time.monotonic()
    mesh = MeshProcess.start(state, spec=spec, timeout_s=600)
    up = time.monotonic() - started
    client = KubeClient.from_kubeconfig(mesh.info.kubeconfig, embedded=True)
    try:
        while True:
            rows = client.proxy_status()["proxies"]
            if all(r["state"] == "SYNCED" for r in rows):
                break
            time.sleep(0.05)
        synced = time.monotonic() - started
        server_pid = fork_server_pid(mesh.process.pid)
        pids = [mesh.process.pid, *pod_pids(state).values()]
        pids += [server_pid] if server_pid is not None else []
        start_cpu = sum(cpu_seconds(pid) for pid in pids)
        ack_ms = []
        for i in range(applies):
            body = virtual_service("svc-1", i + 1)
            t0 = time.perf_counter()
            if i == 0:
                version = client.call("POST", VS_PATH, body=body)["metadata"]["resourceVersion"]
            else:
                current = client.call("GET", f"{VS_PATH}/svc-1")
                body["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]  # type: ignore[index]
                version = client.call("PUT", f"{VS_PATH}/svc-1", body=body)["metadata"][
                    "resourceVersion"
                ]
            reached = client.wait_synced(int(version), timeout_s=60)["proxies"]
            ack_ms.append((time.perf_counter() - t0) * 1000)
            assert len(reached) == services + 1, f"{len(reached)} proxies acknowledged"
        apply_cpu = (sum(cpu_seconds(pid) for pid in pids) - start_cpu) / max(1, applies)
        server = process_memory(server_pid) if server_pid is not None else None
        return SizeResult(
            services + 1, up, synced, ack_ms, pod_memory(state), server, start_cpu, apply_cpu
        )
    finally:
        client.close()
        mesh.stop(timeout_s=60)


async def soak_load(
    address: tuple[str, int], services: int, rate: float, seconds: float, result: SoakResult
) -> None:
    """Open loop at ``rate`` rps, request i to /svc-(i mod N)/, bounded by count and time."""
    idle: list[HttpConnection] = []
    slots = asyncio.Semaphore(256)
    total = int(rate * seconds)
    start = time.perf_counter() + 0.05
    tasks = []

    async def one(i: int) -> None:
        if slots.locked():  # all connections busy: shed, as a fixed-size client pool would
            result.shed += 1
            return
        async with slots:
            conn = None
            while idle and conn is None:
                candidate = idle.pop()
                conn = candidate if candidate.is_reusable else None
            try:
                if conn is None:
                    conn = await HttpConnection.open(address, connect_timeout_s=5)
                path = f"/svc-{i % services}/"
                response = await asyncio.wait_for(
                    conn.send(Request("GET", path, Headers([("host", "soak.local")]))), 10
                )
            except (UpstreamError, TimeoutError):
                result.errors += 1
                return
            result.statuses[response.status] = result.statuses.get(response.status, 0) + 1
            if conn.is_reusable:
                idle.append(conn)

    began = time.perf_counter()
    for i in range(total):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.get_running_loop().create_task(one(i)))
        result.sent += 1
    # Requests still queued for a connection slot a minute after the last send are counted
    # as unanswered, not waited for: on a saturated machine the backlog outgrows the run.
    _, late = await asyncio.wait(tasks, timeout=60)
    for task in late:
        task.cancel()
    result.unanswered = len(late)
    result.elapsed_s = time.perf_counter() - began
    for conn in idle:
        conn.close()


def soak(services: int, rate: float, seconds: float, workdir: Path) -> SoakResult:
    spec = workdir / f"soak-{services}.yaml"
    spec.write_text(spec_text(services))
    mesh = MeshProcess.start(workdir / "mesh-soak", spec=spec, timeout_s=600)
    client = KubeClient.from_kubeconfig(mesh.info.kubeconfig, embedded=True)
    result = SoakResult(services + 1, seconds, rate)
    try:
        version = 0
        for obj in gateway_routes(services):
            meta = obj["metadata"]
            assert isinstance(meta, dict)
            plural = f"{str(obj['kind']).lower()}s"
            path = f"/apis/networking.istio.io/v1/namespaces/{meta['namespace']}/{plural}"
            version = int(client.call("POST", path, body=obj)["metadata"]["resourceVersion"])
        client.wait_synced(version, timeout_s=60)
        host, port = mesh.info.ingress_http.removeprefix("http://").split(":")

        def check() -> None:
            rows = client.proxy_status()["proxies"]
            result.checks += 1
            result.lost |= {r["proxy"] for r in rows if r.get("lost")}
            result.not_synced |= {r["proxy"] for r in rows if r["state"] != "SYNCED"}

        async def run() -> None:
            load = asyncio.get_running_loop().create_task(
                soak_load((host, int(port)), services, rate, seconds, result)
            )
            while not load.done():
                await asyncio.sleep(5)
                await asyncio.to_thread(check)
            await load

        before = load_average()
        asyncio.run(run())
        check()
        result.load = (before, load_average())
        return result
    finally:
        client.close()
        mesh.stop(timeout_s=60)


def slope(results: list[SizeResult]) -> tuple[float, float]:
    """Least-squares line through (pods, p50 apply→ack ms): (ms per proxy, intercept ms)."""
    xs = [r.pods for r in results]
    ys = [statistics.median(r.ack_ms) for r in results]
    if len(xs) < 2:
        return float("nan"), float("nan")
    fit = statistics.linear_regression(xs, ys)
    return fit.slope, fit.intercept


def load_average() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def report(
    results: list[SizeResult], soaked: SoakResult | str | None, load: tuple[str, str]
) -> str:
    per_proxy, intercept = slope(results)
    lines = [
        START,
        "## Mesh size: start-up, push cost, memory",
        "",
        f"Measured by `python -m benchmarks.scale` on {time.strftime('%Y-%m-%d', time.gmtime())} "
        f"on {platform.node()} ({os.cpu_count()} cores, "
        f"Python {platform.python_version()}; 1-minute load average {load[0]} before the run, "
        f"{load[1]} after). N echo services with one workload each plus the ingress gateway. "
        "Apply → ack: one VirtualService changed, from the API request to every proxy's "
        "acknowledgement, as `chaoskit apply` waits. CPU columns: user + system seconds of the "
        "control plane, the fork server and every pod (the benchmark's own client excluded); "
        "unlike wall times they do not grow with other work on the machine.",
        "",
        "| pods | mesh up → ready | → all SYNCED | CPU to start | apply → all acked p50 / p99 (n) "
        "| CPU per apply | per pod: RSS / PSS / USS, mean | fork server: RSS / PSS |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        mb = [
            statistics.mean(getattr(m, k) for m in r.memory) / 1024 for k in ("rss", "pss", "uss")
        ]
        server = f"{r.server.rss / 1024:.1f} / {r.server.pss / 1024:.1f} MB" if r.server else "?"
        lines.append(
            f"| {r.pods} | {r.up_s:.1f} s | {r.synced_s:.1f} s | {r.cpu_s:.1f} s | "
            f"{statistics.median(r.ack_ms):.0f} / {r.ack(0.99):.0f} ms ({len(r.ack_ms)}) | "
            f"{r.apply_cpu_s * 1000:.0f} ms | "
            f"{mb[0]:.1f} / {mb[1]:.1f} / {mb[2]:.1f} MB | {server} |"
        )
    lines += [
        "",
        f"Apply → ack, least-squares line through the p50s: {per_proxy:.2f} ms per proxy "
        f"{'+' if intercept >= 0 else '−'} {abs(intercept):.0f} ms.",
    ]
    if isinstance(soaked, str):
        lines += ["", f"Connectivity soak: failed ({soaked})."]
    elif soaked is not None:
        ok = soaked.statuses.get(200, 0)
        others = {k: v for k, v in soaked.statuses.items() if k != 200}
        lines += [
            "",
            f"Connectivity soak: {soaked.pods} pods, {soaked.rate:.0f} rps open loop over every "
            f"service through the gateway for {soaked.seconds:.0f} s (load average "
            f"{soaked.load[0]} at its start, {soaked.load[1]} at its end; sending and answers "
            f"took {soaked.elapsed_s:.0f} s): {soaked.sent} scheduled, "
            f"{ok} × 200 ({ok / max(soaked.elapsed_s, 1e-9):.0f} per second), other statuses "
            f"{others}, {soaked.errors} transport errors, {soaked.shed} not sent because all 256 "
            f"connections were busy, {soaked.unanswered} unanswered a minute after the last "
            "send; "
            f"proxy-status read {soaked.checks} times: "
            f"{len(soaked.lost)} proxies lost, {len(soaked.not_synced)} ever not SYNCED.",
        ]
    lines += [END]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale")
    parser.add_argument("--sizes", default="25,50,100,200", help="service counts (pods = N + 1)")
    parser.add_argument("--applies", type=int, default=30, help="apply → ack samples per size")
    parser.add_argument("--soak-seconds", type=float, default=600.0, help="0 skips the soak")
    parser.add_argument("--soak-rps", type=float, default=500.0)
    parser.add_argument("--out", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    before = load_average()
    results = []
    with tempfile.TemporaryDirectory(prefix="chaoskit-scale-") as tmp:
        for services in sizes:
            result = measure_size(services, args.applies, Path(tmp))
            print(
                f"{result.pods} pods: up {result.up_s:.1f}s, synced {result.synced_s:.1f}s, "
                f"ack p50 {statistics.median(result.ack_ms):.0f} ms p99 {result.ack(0.99):.0f} ms",
                flush=True,
            )
            results.append(result)
        soaked: SoakResult | str | None = None
        if args.soak_seconds > 0:
            try:
                soaked = soak(max(sizes), args.soak_rps, args.soak_seconds, Path(tmp))
            except Exception as exc:  # the size results above are still worth writing
                soaked = f"{type(exc).__name__}: {exc}"
    text = report(results, soaked, (before, load_average()))
    replace_section(args.out, text, START, END)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
