"""The direct reference: the same echo app on the same HTTP layer, with no sidecar.

``python -m benchmarks.refserver PORT`` serves until killed.
"""

from __future__ import annotations

import sys

import uvloop

from chaoskit.mesh.apps.base import AppContext
from chaoskit.mesh.apps.echo import EchoApp
from chaoskit.mesh.http.message import Request, Response
from chaoskit.mesh.http.server import ConnectionInfo, start_server


async def _no_outbound(request: Request, port: int) -> Response:
    raise RuntimeError("no outbound calls")


async def main(port: int) -> None:
    app = EchoApp(AppContext("ref", "bench", "127.0.0.1", {"app": "ref"}, {}, _no_outbound))

    async def handler(request: Request, info: ConnectionInfo) -> Response:
        return await app.handle(request)

    server = await start_server(handler, "127.0.0.1", port)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    uvloop.run(main(int(sys.argv[1])))
