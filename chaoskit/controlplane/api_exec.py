"""``pods/exec`` over the websocket channel protocol, for what the cluster backend runs.

On a cluster the backend reads a sidecar's Envoy admin API with ``pilot-agent request
GET|POST <path>`` in the ``istio-proxy`` container (pilot-agent forwards to Envoy's admin
port, ``pilot/cmd/pilot-agent/app/request.go``). The embedded sidecar serves its admin API on
the pod's own address, so that command is answered by forwarding there; any other command
fails with exit code 127, naming what is emulated.

Frames follow ``k8s.io/apimachinery/pkg/util/remotecommand``: one leading byte names the
channel (1 stdout, 2 stderr, 3 error), and the error channel ends the session with a
``Status`` (``Success``, or ``NonZeroExitCode`` with the code as an ``ExitCode`` cause).
Subprotocols ``v5``/``v4.channel.k8s.io`` are offered, what kubectl and the Python client ask.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web

from chaoskit.controlplane.store import BadRequest, JsonObject
from chaoskit.mesh.bootstrap import ADMIN_PORT
from chaoskit.topology.podshape import PROXY_CONTAINER

if TYPE_CHECKING:
    from chaoskit.controlplane.api import KubeApi

PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io", "channel.k8s.io")
STDOUT, STDERR, ERROR = 1, 2, 3
NOT_FOUND = 127
ADMIN_METHODS = ("GET", "POST")


def exit_status(code: int, message: str) -> JsonObject:
    if code == 0:
        return {"metadata": {}, "status": "Success"}
    return {
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
    }


class ExecRoutes:
    def __init__(self, api: KubeApi) -> None:
        self.api = api
        path = "/api/v1/namespaces/{namespace}/pods/{name}/exec"
        api.app.router.add_get(path, self.exec)
        api.app.router.add_post(path, self.exec)

    async def exec(self, request: web.Request) -> web.StreamResponse:
        pod = self.api.cp.pod(request.match_info["namespace"], request.match_info["name"])
        command = request.query.getall("command", [])
        container = request.query.get("container") or pod.app
        names = [pod.app] + ([PROXY_CONTAINER] if pod.kind == "sidecar" else [])
        if pod.kind == "gateway":
            names = [pod.app, PROXY_CONTAINER]  # the gateway's container is Envoy itself
        if container not in names:
            raise BadRequest(
                f"container {container} is not valid for pod {pod.name}; choose one of: "
                f"[{' '.join(names)}]"
            )
        if not command:
            raise BadRequest("you must specify at least 1 command")
        socket = web.WebSocketResponse(protocols=PROTOCOLS)
        if not socket.can_prepare(request).ok:
            raise BadRequest(
                "pods/exec needs a websocket upgrade with a channel.k8s.io subprotocol "
                "(the embedded API server does not speak SPDY)"
            )
        await socket.prepare(request)
        code, stdout, stderr = await self._run(
            f"{pod.ip}:{pod.host_port(ADMIN_PORT)}", container == PROXY_CONTAINER, command
        )
        if stdout:
            await socket.send_bytes(bytes([STDOUT]) + stdout)
        if stderr:
            await socket.send_bytes(bytes([STDERR]) + stderr)
        message = (
            f"command terminated with non-zero exit code: error executing command "
            f"[{' '.join(command)}], exit code {code}"
        )
        status = json.dumps(exit_status(code, message))
        await socket.send_bytes(bytes([ERROR]) + status.encode())
        await socket.close()
        return socket

    async def _run(
        self, admin: str, in_proxy: bool, command: list[str]
    ) -> tuple[int, bytes, bytes]:
        """Exit code, stdout and stderr of ``command``."""
        if (
            in_proxy
            and len(command) == 4
            and command[:2] == ["pilot-agent", "request"]
            and command[2].upper() in ADMIN_METHODS
        ):
            return await self._admin(admin, command[2].upper(), command[3])
        what = " ".join(command)
        return (
            NOT_FOUND,
            b"",
            (
                f"exec {what!r}: the embedded mesh runs only "
                f"`pilot-agent request GET|POST <admin path>` in {PROXY_CONTAINER}\n"
            ).encode(),
        )

    @staticmethod
    async def _admin(admin: str, method: str, path: str) -> tuple[int, bytes, bytes]:
        url = f"http://{admin}/{path.lstrip('/')}"  # admin: the pod's address:admin port
        timeout = aiohttp.ClientTimeout(total=30)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.request(method, url) as reply,
            ):
                body = await reply.read()
                status = reply.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            return 1, b"", f"Error: {method} {url}: {exc}\n".encode()
        if status >= 400:
            # pilot-agent prints the body and fails on an unsuccessful admin status.
            return 1, body, f"Error: received unsuccessful status code {status}\n".encode()
        return 0, body, b""
