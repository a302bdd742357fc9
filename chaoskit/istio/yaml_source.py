"""Read YAML documents and remember the line of every field, for located error messages."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from chaoskit.errors import Problem

# Kubernetes refuses objects over ~1.5 MiB; a resource file this large is a mistake.
MAX_FILE_BYTES = 4 * 1024 * 1024
YAML_SUFFIXES = (".yaml", ".yml", ".json")
LOAD_ERROR_CODE = "CK0001"

_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_\-/@:]+$")

try:  # libyaml is much faster when present
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment,misc,unused-ignore]
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _Loader = yaml.SafeLoader


def join_path(parent: str, key: str | int) -> str:
    """Append a key or list index to a dotted path: ``spec.http[0].match[0].headers.end-user``."""
    if isinstance(key, int):
        return f"{parent}[{key}]"
    part = key if _PLAIN_KEY.match(key) else f'["{key}"]'
    if not parent:
        return part
    return f"{parent}{part}" if part.startswith("[") else f"{parent}.{part}"


@dataclass(frozen=True, slots=True)
class YamlDocument:
    """One document of a YAML file, with the 1-based line of each field path."""

    source: str
    index: int
    data: Any
    lines: Mapping[str, int] = field(default_factory=dict)
    start_line: int = 1

    def line_of(self, path: str) -> int:
        """The line of ``path``, or of its nearest ancestor that has one."""
        probe = path
        while probe:
            if probe in self.lines:
                return self.lines[probe]
            probe = _parent(probe)
        return self.start_line


def _parent(path: str) -> str:
    if path.endswith("]"):
        return path[: path.rindex("[")]
    return path.rpartition(".")[0]


def _index_lines(node: yaml.Node, path: str, lines: dict[str, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            child = join_path(path, str(key))
            lines.setdefault(child, key_node.start_mark.line + 1)
            _index_lines(value_node, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            child = join_path(path, i)
            lines.setdefault(child, item.start_mark.line + 1)
            _index_lines(item, child, lines)


def _load_problem(
    source: str, message: str, line: int | None = None, document: int = 1, *, fix: str = ""
) -> Problem:
    return Problem(source=source, document=document, line=line, path="", message=message, fix=fix)


def read_text(path: Path) -> tuple[str | None, list[Problem]]:
    """Read a resource file as UTF-8 text, refusing huge and binary files with a clear reason."""
    source = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, [
                _load_problem(
                    source,
                    f"file is {size:,} bytes; resource files over {MAX_FILE_BYTES:,} bytes are "
                    "refused (Kubernetes stores objects up to about 1.5 MiB)",
                    fix="split it, or check that it is the file you meant",
                )
            ]
        raw = path.read_bytes()
    except OSError as exc:
        return None, [
            _load_problem(
                source,
                f"cannot read file: {exc.strerror or exc}",
                fix="check the path and its permissions",
            )
        ]
    if b"\x00" in raw:
        return None, [
            _load_problem(
                source,
                "file is binary (it contains NUL bytes), not YAML",
                fix="pass YAML files (.yaml, .yml or .json)",
            )
        ]
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        return None, [
            _load_problem(
                source,
                f"file is not UTF-8 text (bad byte at offset {exc.start})",
                fix="save it as UTF-8 YAML",
            )
        ]


def parse_documents(text: str, source: str) -> tuple[list[YamlDocument], list[Problem]]:
    """Split ``text`` into documents; a syntax error ends the file with one located problem."""
    documents: list[YamlDocument] = []
    loader = _Loader(text)
    index = 0
    try:
        while loader.check_node():
            node = loader.get_node()
            index += 1
            if node is None:
                continue
            data = loader.construct_document(node)
            if data is None:  # an empty document between separators, skipped as kubectl does
                continue
            lines: dict[str, int] = {}
            _index_lines(node, "", lines)
            documents.append(YamlDocument(source, index, data, lines, node.start_mark.line + 1))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        what = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        detail = f"{context}, {what}" if context else str(what)
        return documents, [
            _load_problem(
                source,
                f"malformed YAML: {detail}",
                line,
                max(index, 1),
                fix="fix the syntax (indentation, quoting, colons) at this line",
            )
        ]
    finally:
        loader.dispose()
    if not documents:
        return [], [
            _load_problem(
                source,
                "file holds no YAML documents",
                1,
                fix="add a resource or remove the file",
            )
        ]
    return documents, []


def collect_files(path: Path, *, recursive: bool = False) -> list[Path]:
    """YAML files of a directory in name order (non-recursive by default, like istioctl)."""
    if not path.is_dir():
        return [path]
    pattern = "**/*" if recursive else "*"
    return sorted(p for p in path.glob(pattern) if p.is_file() and p.suffix in YAML_SUFFIXES)
