"""The fork server launched before the control plane's imports, and who owns it after."""

from __future__ import annotations

import asyncio
from pathlib import Path

from chaoskit.controlplane import pods
from chaoskit.controlplane.pods import PodRunner, close_early, launch_early
from chaoskit.mesh.apps import base


def test_the_mesh_takes_over_the_early_server_and_starts_it(tmp_path: Path) -> None:
    async def run() -> tuple[bool, bool, int | None]:
        await launch_early(tmp_path)
        runner = PodRunner(tmp_path)
        launched = runner.forks.launched
        process = runner.forks._process
        await runner.open(["bookinfo-productpage", "echo", "ingress-gateway"])
        taken = runner.forks._process is process
        await runner.close()
        assert process is not None
        return launched, taken, process.returncode

    launched, taken, code = asyncio.run(run())
    assert launched
    assert taken
    assert code == 0  # left on EOF of its stdin, once the runner closed
    assert not pods._EARLY


def test_an_app_the_early_server_lacks_gets_a_server_that_has_it(tmp_path: Path) -> None:
    async def run() -> tuple[bool, int | None, frozenset[str]]:
        await launch_early(tmp_path)
        runner = PodRunner(tmp_path)
        early = runner.forks._process
        # An app registered after the early launch (as a plugin could) is not preloaded.
        base.register_app("late-app", "chaoskit.mesh.apps.echo:EchoApp")
        try:
            await runner.open(["late-app"])
        finally:
            base._APPS.pop("late-app")
        replaced = runner.forks._process is not early
        apps = runner.forks.apps
        await runner.close()
        assert early is not None
        return replaced, early.returncode, apps

    replaced, early_code, apps = asyncio.run(run())
    assert replaced
    assert early_code is not None  # the early one was stopped, not leaked
    assert "late-app" in apps


def test_an_early_server_nobody_took_over_is_stopped(tmp_path: Path) -> None:
    async def run() -> int | None:
        await launch_early(tmp_path)
        process = pods._EARLY[tmp_path]._process
        await close_early(tmp_path)  # what the control plane does when its start failed
        assert process is not None
        return process.returncode

    assert asyncio.run(run()) is not None
    assert not pods._EARLY
