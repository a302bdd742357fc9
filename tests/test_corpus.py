"""The resource corpus under chaoskit/samples/ and the variants in tests/data/.

- The base state (top-level files) analyzes clean against the default mesh, and so does the
  base plus each alternative (``bookinfo/``, ``seed/``, ``istio-tasks/``).
- Alone and offline, a file only gets IST0101: istioctl --use-kube=false skips the analyzers
  that need Services, Pods or Secrets, so what is left is subsets no DestinationRule in the
  file defines. Which ones is asserted per file.
- Every file round-trips (load → dump → load).
- Each broken variant in tests/data/invalid/ gets the finding its header names (code, level,
  dotted path, line, part of the message), located and with a fix; the CLI exits 79 on an
  Error, as istioctl does.
- Each variant in tests/data/valid/ is something Istio accepts that looks wrong: no Error or
  Warning.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from chaoskit.analysis.analyzer import AnalysisResult, analyze_paths
from chaoskit.analysis.messages import Level, Message
from chaoskit.analysis.output import EXIT_FILE_PARSE_ERROR, EXIT_ISSUES_FOUND, exit_code
from chaoskit.cli import main
from chaoskit.istio.loading import dump_resources, load_files, load_text
from chaoskit.topology.spec import MeshSpec

ROOT = Path(__file__).resolve().parent.parent
RESOURCES = ROOT / "chaoskit" / "samples"
# The base state: the built-in mesh's initial resources, linked at the top level.
BASE = sorted(p for p in RESOURCES.glob("*.yaml") if p.resolve().parent.name == "base")
# An alias at the top level, as the Bookinfo issue spells the path (bookinfo/ has the file).
ALIASES = [RESOURCES / "virtual-service-reviews-test-v2.yaml"]
ALTERNATIVES = sorted(
    p
    for d in ("bookinfo", "seed", "istio-tasks", "protections")
    for p in (RESOURCES / d).glob("*.yaml")
)
ALL = BASE + ALTERNATIVES


def test_the_top_level_alias_is_the_bookinfo_file() -> None:
    (alias,) = ALIASES
    assert alias.resolve() == (RESOURCES / "bookinfo" / alias.name).resolve()


INVALID = sorted((ROOT / "tests" / "data" / "invalid").glob("*.yaml"))
VALID = sorted((ROOT / "tests" / "data" / "valid").glob("*.yaml"))
MESH = MeshSpec.default()


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _serious(messages: list[Message]) -> list[str]:
    return [m.format() for m in messages if m.level >= Level.WARNING]


def _subset(host_subset: str, path: str, *, mirror: bool = False) -> tuple[str, str]:
    kind = "mirror" if mirror else "host"
    return path, f'Referenced {kind}+subset in destinationrule not found: "{host_subset}"'


R0 = "spec.http[0].route[0].destination.subset"
R1 = "spec.http[1].route[0].destination.subset"
MIRROR = "spec.http[0].mirror.subset"
# What each file gets alone with --offline: every finding, as (path, message).
OFFLINE: dict[str, list[tuple[str, str]]] = {
    "bookinfo-gateway.yaml": [],
    "demo-destination-rules.yaml": [],
    "destination-rule-all.yaml": [],
    "bookinfo/virtual-service-all-v1.yaml": [
        _subset(f"{svc}+v1", R0) for svc in ("productpage", "reviews", "ratings", "details")
    ],
    "bookinfo/virtual-service-ratings-delay-2s.yaml": [_subset("ratings+v1", R0)],
    "bookinfo/virtual-service-ratings-test-abort.yaml": [
        _subset("ratings+v1", R0),
        _subset("ratings+v1", R1),
    ],
    "bookinfo/virtual-service-ratings-test-delay.yaml": [
        _subset("ratings+v1", R0),
        _subset("ratings+v1", R1),
    ],
    "bookinfo/virtual-service-reviews-50-v3.yaml": [
        _subset("reviews+v1", R0),
        _subset("reviews+v3", "spec.http[0].route[1].destination.subset"),
    ],
    "bookinfo/virtual-service-reviews-80-20.yaml": [
        _subset("reviews+v1", R0),
        _subset("reviews+v2", "spec.http[0].route[1].destination.subset"),
    ],
    "bookinfo/virtual-service-reviews-test-v2.yaml": [
        _subset("reviews+v2", R0),
        _subset("reviews+v1", R1),
    ],
    "bookinfo/virtual-service-reviews-timeout.yaml": [_subset("reviews+v2", R0)],
    "bookinfo/virtual-service-reviews-v3.yaml": [_subset("reviews+v3", R0)],
    "istio-tasks/httpbin-circuit-breaker.yaml": [],
    # chaoskit's own protections the experiments apply.
    "protections/ratings-outlier-detection.yaml": [],
    "protections/ratings-retry-5xx.yaml": [_subset("ratings+v1", R0)],
    "istio-tasks/httpbin-mirror.yaml": [
        _subset("httpbin+v1", R0),
        _subset("httpbin+v2", MIRROR, mirror=True),
    ],
    # Templates 1 and 2 carry their DestinationRule; 7 carries its Gateway.
    "seed/01-basic-routing.yaml": [],
    "seed/02-canary.yaml": [],
    "seed/03-circuit-breaker.yaml": [],
    "seed/04-retries-timeouts.yaml": [],
    "seed/05-mirroring.yaml": [
        _subset("my-service+v1", R0),
        _subset("my-service+v2", MIRROR, mirror=True),
    ],
    "seed/06-fault-injection.yaml": [],
    "seed/07-ingress-gateway.yaml": [],
    "seed/08-load-balancing.yaml": [],
    "seed/09-sticky-sessions.yaml": [],
}


def test_the_corpus_is_complete() -> None:
    """The issue's list: the seed's templates and LB examples, Istio's samples and tasks."""
    assert sorted(str(p.relative_to(RESOURCES)) for p in ALL) == sorted(OFFLINE)
    assert (RESOURCES / "README.md").is_file()
    for path in ALTERNATIVES:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# "), f"{path.name}: the first line says where it comes from"


def test_base_state_is_clean_against_the_default_mesh() -> None:
    result = analyze_paths([RESOURCES], mesh=MESH)
    assert result.messages == []
    assert sorted({r.kind for r in result.resources}) == [
        "DestinationRule",
        "Gateway",
        "VirtualService",
    ]


@pytest.mark.parametrize("alternative", ALTERNATIVES, ids=_rel)
def test_base_plus_each_alternative_is_clean(alternative: Path) -> None:
    result = analyze_paths([*BASE, alternative], mesh=MESH)
    assert [m.format() for m in result.messages] == []


@pytest.mark.parametrize("path", ALL, ids=_rel)
def test_alone_and_offline_only_subsets_without_a_rule_are_reported(path: Path) -> None:
    result = analyze_paths([path])
    assert {m.type.code for m in result.messages} <= {"IST0101"}
    assert [(m.path, m.text) for m in result.messages] == OFFLINE[str(path.relative_to(RESOURCES))]


@pytest.mark.parametrize("path", ALL, ids=_rel)
def test_round_trip(path: Path) -> None:
    first = load_files([path])
    assert first.problems == []
    again = load_text(dump_resources(first.resources), "<dump>")
    assert again.problems == []
    assert [r.resource for r in again.resources] == [r.resource for r in first.resources]


# --- broken variants ----------------------------------------------------------------------


def _expectations(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith(("# expect-", "# defect:")):
            key, _, value = line[2:].partition(":")
            out[key.strip()] = value.strip()
    return out


def _analyze_variant(path: Path) -> AnalysisResult:
    # Variants are applied on top of the base state, against the built-in mesh.
    return analyze_paths([*BASE, path], mesh=MESH)


def test_there_are_enough_broken_variants() -> None:
    assert len(INVALID) >= 30
    codes = {_expectations(p)["expect-code"] for p in INVALID}
    assert {"CK0001", "CK0101", "IST0101", "IST0106", "IST0109", "IST0130", "IST0173"} <= codes


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.stem)
def test_each_broken_variant_gets_its_finding(path: Path) -> None:
    expected = _expectations(path)
    assert {
        "expect-code",
        "expect-level",
        "expect-path",
        "expect-line",
        "expect-message",
        "defect",
    } <= set(expected), path
    result = _analyze_variant(path)
    mine = [m for m in result.messages if m.source == str(path)]
    summary = [(m.type.code, m.level.label, m.path, m.line, m.text) for m in mine]
    match = [
        m
        for m in mine
        if m.type.code == expected["expect-code"]
        and m.level.label == expected["expect-level"]
        and m.path == expected["expect-path"]
        and m.line == int(expected["expect-line"])
        and expected["expect-message"] in m.text
    ]
    assert match, f"{path.name}: expected {expected}, got {summary}"
    # Nothing from the base state: the variant is the only thing wrong.
    assert [m.format() for m in result.messages if m.source != str(path)] == []
    # Every finding names the file, the document, the line, the field and a fix.
    for message in mine:
        formatted = message.format()
        assert f"{path}:{message.line}" in formatted
        assert "(document " in formatted
        assert message.path == "" or f"at {message.path} " in formatted
        assert message.fix, formatted
        assert "; fix: " in formatted


def test_the_cli_exit_code_follows_the_worst_finding_of_each_variant(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """In-process through chaoskit.cli.main: 79 for an Error, 65 for an unreadable file."""
    for path in INVALID:
        expected = _expectations(path)
        result = _analyze_variant(path)
        code = main(["analyze", "--mesh-spec", "default", *map(str, BASE), str(path)])
        capsys.readouterr()
        assert code == exit_code(result, failure_threshold=Level.ERROR), path.name
        if expected["expect-level"] == "Error":
            wanted = EXIT_FILE_PARSE_ERROR if expected["expect-code"] == "CK0001" else 79
            assert code == wanted, path.name
        elif not result.failed(Level.ERROR):
            assert code == 0, path.name


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
    [message] = result.messages
    assert (message.type.code, message.level) == ("CK0001", Level.ERROR)
    assert needle in message.text
    assert exit_code(result, failure_threshold=Level.ERROR) == EXIT_FILE_PARSE_ERROR


# --- accepted variants --------------------------------------------------------------------


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_what_istio_accepts_is_not_reported(path: Path) -> None:
    header = path.read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("# accepted: "), "the first line says why Istio accepts it"
    result = _analyze_variant(path)
    assert [m.format() for m in result.messages] == []
    assert load_files([path]).problems == []


# --- the command line, once --------------------------------------------------------------


def test_the_cli_analyzes_the_corpus_clean_against_the_built_in_mesh() -> None:
    """``chaoskit analyze chaoskit/samples/`` (the issue's acceptance command) exits 0."""
    for extra in ([], ["--mesh-spec", "default"], ["--offline"]):
        result = subprocess.run(
            [sys.executable, "-m", "chaoskit.cli", "analyze", str(RESOURCES), *extra],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout
        assert result.stdout == (
            "\u2714 No validation issues found when analyzing namespaces: bookinfo, default.\n"
        )
    broken = subprocess.run(
        [sys.executable, "-m", "chaoskit.cli", "analyze", *map(str, BASE), str(INVALID[0])],
        capture_output=True,
        text=True,
        check=False,
    )
    assert broken.returncode in (EXIT_ISSUES_FOUND, EXIT_FILE_PARSE_ERROR)
