"""The resource corpus under experiments/resources/ and the broken variants in tests/data/invalid/.

- The base state analyzes clean against the default mesh, and so does the base plus each
  alternative (``bookinfo/``, ``seed/``, ``istio-tasks/``).
- Alone and offline, a file only gets IST0101, as istioctl gives without a cluster.
- Every file round-trips (load → dump → load).
- Each broken variant gets the finding its header names: code, level, dotted path, line
  and a part of the message (and the CLI exits non-zero on an Error).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from chaoskit.analysis.analyzer import analyze_paths
from chaoskit.analysis.messages import Level, Message
from chaoskit.istio.loading import dump_resources, load_files, load_text
from chaoskit.topology.spec import MeshSpec

ROOT = Path(__file__).resolve().parent.parent
RESOURCES = ROOT / "experiments" / "resources"
BASE = sorted(RESOURCES.glob("*.yaml"))
ALTERNATIVES = sorted(
    p for d in ("bookinfo", "seed", "istio-tasks") for p in (RESOURCES / d).glob("*.yaml")
)
INVALID = sorted((ROOT / "tests" / "data" / "invalid").glob("*.yaml"))
ALL = BASE + ALTERNATIVES


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _serious(messages: list[Message]) -> list[str]:
    return [m.format() for m in messages if m.type.level >= Level.WARNING]


def test_the_corpus_is_complete() -> None:
    """The issue's list: the seed's templates, the LB examples and Istio's Bookinfo samples."""
    names = {p.name for p in ALL}
    assert len(list((RESOURCES / "seed").glob("*.yaml"))) == 9
    for sample in (
        "destination-rule-all.yaml",
        "virtual-service-all-v1.yaml",
        "virtual-service-reviews-test-v2.yaml",
        "virtual-service-ratings-test-delay.yaml",
        "virtual-service-ratings-test-abort.yaml",
        "virtual-service-reviews-50-v3.yaml",
        "virtual-service-reviews-80-20.yaml",
        "virtual-service-reviews-v3.yaml",
        "bookinfo-gateway.yaml",
    ):
        assert sample in names


def test_base_state_is_clean_against_the_default_mesh() -> None:
    result = analyze_paths([RESOURCES], mesh=MeshSpec.default())
    assert _serious(result.messages) == []
    assert len(result.resources) == 8


@pytest.mark.parametrize("alternative", ALTERNATIVES, ids=_rel)
def test_base_plus_each_alternative_is_clean(alternative: Path) -> None:
    result = analyze_paths([*BASE, alternative], mesh=MeshSpec.default())
    assert _serious(result.messages) == []


@pytest.mark.parametrize("path", ALL, ids=_rel)
def test_alone_and_offline_only_unknown_references_are_reported(path: Path) -> None:
    result = analyze_paths([path])
    assert {m.type.code for m in result.messages} <= {"IST0101"}


@pytest.mark.parametrize("path", ALL, ids=_rel)
def test_round_trip(path: Path) -> None:
    first = load_files([path])
    assert first.problems == []
    again = load_text(dump_resources(first.resources), "<dump>")
    assert [r.resource for r in again.resources] == [r.resource for r in first.resources]


def _expectations(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text().splitlines():
        if line.startswith(("# expect-", "# defect:")):
            key, _, value = line[2:].partition(":")
            out[key.strip()] = value.strip()
    return out


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_each_broken_variant_gets_its_finding(path: Path) -> None:
    expected = _expectations(path)
    assert {"expect-code", "expect-level", "expect-line", "defect"} <= set(expected), path
    result = analyze_paths([*BASE, path], mesh=MeshSpec.default())
    mine = [m for m in result.messages if m.source == str(path)]
    summary = [(m.type.code, m.type.level.label, m.path, m.line, m.text) for m in mine]
    match = [
        m
        for m in mine
        if m.type.code == expected["expect-code"]
        and m.type.level.label == expected["expect-level"]
        and (m.path or "") == expected.get("expect-path", "")
        and m.line == int(expected["expect-line"])
        and expected.get("expect-message", "") in m.text
    ]
    assert match, f"{path.name}: expected {expected}, got {summary}"
    # Every finding names the file, the document, the line, the field and a fix or reason.
    formatted = match[0].format()
    assert f"{path}:{expected['expect-line']}" in formatted
    assert "document" in formatted


def test_the_cli_analyzes_the_corpus_clean_against_the_built_in_mesh() -> None:
    """``chaoskit analyze experiments/resources/`` (the issue's acceptance command) exits 0."""
    result = subprocess.run(
        [sys.executable, "-m", "chaoskit.cli", "analyze", str(RESOURCES)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout
    assert "No validation issues found" in result.stdout
    offline = subprocess.run(
        [sys.executable, "-m", "chaoskit.cli", "analyze", "--offline", str(RESOURCES)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert offline.returncode == 79
    assert "IST0101" in offline.stdout


def test_the_cli_exits_non_zero_on_errors_and_zero_on_warnings_only() -> None:
    invalid = ROOT / "tests" / "data" / "invalid"
    error = subprocess.run(
        [
            sys.executable,
            "-m",
            "chaoskit.cli",
            "analyze",
            "--offline",
            str(invalid / "vs-timeout-space.yaml"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert error.returncode == 79
    assert "IST0106" in error.stdout
    warning = subprocess.run(
        [
            sys.executable,
            "-m",
            "chaoskit.cli",
            "analyze",
            "--mesh-spec",
            "default",
            *map(str, BASE),
            str(invalid / "vs-weights-not-100.yaml"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert warning.returncode == 0, warning.stdout
    assert "CK0101" in warning.stdout


@pytest.mark.parametrize(
    ("content", "needle"),
    [(b"\x00\x01\x02binary", "binary"), (b"a: b\n" * (1 << 20), "MiB")],
    ids=["binary", "huge"],
)
def test_binary_and_huge_files_are_refused_with_a_clear_error(
    tmp_path: Path, content: bytes, needle: str
) -> None:
    path = tmp_path / "input.yaml"
    path.write_bytes(content)
    result = analyze_paths([path])
    assert [m.type.code for m in result.messages] == ["CK0001"]
    assert needle in result.messages[0].text
