"""YAML loading that remembers where every node came from.

PyYAML's composer gives us nodes with marks; we turn each document into plain JSON-like data
plus a map from *paths* (``("spec", "steps", 0, "image")``) to source positions, so every later
diagnostic can point at the exact line and column. Duplicate keys, binary files, non-UTF-8
bytes, empty files and non-mapping documents are reported here as diagnostics, never raised.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from compiler.diagnostics import Diagnostic, Span, error

Path = tuple[str | int, ...]
JSON = Any


class _Loader(yaml.SafeLoader):
    """SafeLoader without the timestamp resolver: ``2026-01-01`` stays a string, as JSON has no dates."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True)
class NodeInfo:
    """Where one value (and, for mapping entries, its key) sits in the source."""

    value: Span
    key: Span | None = None
    style: str | None = None  # scalar style: None (plain), "'", '"', "|", ">"


@dataclass
class SourceDocument:
    """One YAML document of a file: its data and the position of every node."""

    file: str
    text: str
    index: int  # 0-based document number within the file
    data: JSON
    positions: dict[Path, NodeInfo] = field(default_factory=dict)
    # Problems found while reading this document (duplicate keys...): they make it invalid.
    problems: list[Diagnostic] = field(default_factory=list)

    def span(self, path: Path) -> Span:
        """The value's span for ``path``, or the nearest ancestor's when the path does not exist."""
        for cut in range(len(path), -1, -1):
            info = self.positions.get(path[:cut])
            if info is not None:
                return info.value
        return Span(self.file, 1, 1)

    def key_span(self, path: Path) -> Span:
        """The span of the mapping key that introduces ``path`` (falls back to the value)."""
        info = self.positions.get(path)
        if info is not None and info.key is not None:
            return info.key
        return self.span(path)

    @cached_property
    def lines(self) -> list[str]:
        # Split once: a large workflow asks for thousands of positions inside strings.
        return self.text.splitlines()

    def span_in_string(self, path: Path, offset: int, length: int) -> Span:
        """The span of characters ``offset:offset+length`` inside the string scalar at ``path``."""
        info = self.positions.get(path)
        if info is None:
            return self.span(path)
        return _offset_span(self.lines, info, offset, length)


def _span(file: str, node: Node) -> Span:
    start, end = node.start_mark, node.end_mark
    return Span(file, start.line + 1, start.column + 1, end.line + 1, end.column + 1)


def _offset_span(lines: list[str], info: NodeInfo, offset: int, length: int) -> Span:
    """Map a character offset inside a scalar's *value* to a source position.

    Exact for plain and quoted single-line scalars and for literal blocks; for the rarer folded
    or multi-line flow scalars we fall back to the start of the value, which is still the right line.
    """
    start = info.value
    if info.style in (None, "'", '"') and start.end_line == start.line:
        line_text = lines[start.line - 1] if start.line <= len(lines) else ""
        col0 = start.col - 1 + (0 if info.style is None else 1)
        raw_index = _raw_index(line_text, col0, offset, info.style)
        raw_end = _raw_index(line_text, col0, offset + length, info.style)
        return Span(start.file, start.line, raw_index + 1, start.line, max(raw_end, raw_index + 1) + 1)
    if info.style == "|":
        return _block_offset_span(lines, start, offset, length)
    return start


def _raw_index(line: str, col0: int, offset: int, style: str | None) -> int:
    """Column (0-based) in the source line of value character number ``offset``."""
    if style is None:
        return col0 + offset
    pos, seen = col0, 0
    while seen < offset and pos < len(line):
        if (style == "'" and line.startswith("''", pos)) or (style == '"' and line[pos] == "\\"):
            pos += 2
        else:
            pos += 1
        seen += 1
    return pos


def _block_offset_span(lines: list[str], start: Span, offset: int, length: int) -> Span:
    # A literal block's content starts on the line after the indicator; its indentation is
    # that of the first non-empty content line.
    first = start.line  # 1-based line of the indicator; content begins at index `first`
    content = lines[first:]
    indent = next((len(ln) - len(ln.lstrip(" ")) for ln in content if ln.strip()), 0)
    remaining = offset
    for number, ln in enumerate(content, start=first + 1):
        body_len = max(len(ln) - indent, 0)
        if remaining <= body_len:
            col = indent + remaining + 1
            return Span(start.file, number, col, number, col + max(length, 1))
        remaining -= body_len + 1  # the newline
    return start


def _is_binary(raw: bytes) -> bool:
    return b"\x00" in raw[:8192]


def _decode(file: str, raw: bytes) -> tuple[str | None, Diagnostic | None]:
    if _is_binary(raw):
        return None, error("KN002", "file is binary, not YAML", Span(file, 1, 1),
                           "a workflow is a UTF-8 YAML text file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start].decode("utf-8", errors="replace")
        line = before.count("\n") + 1
        col = len(before) - (before.rfind("\n") + 1) + 1
        return None, error("KN002", f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})",
                           Span(file, line, col), "save the file as UTF-8")
    if text.startswith("\ufeff"):
        text = text[1:]
    return text, None


def load_documents(file: str, raw: bytes) -> tuple[list[SourceDocument], list[Diagnostic], str]:
    """Parse every document of a file. Returns (documents, file-level diagnostics, decoded text).

    Problems inside a document (duplicate keys) are kept on ``SourceDocument.problems``.
    """
    text, problem = _decode(file, raw)
    if text is None:
        assert problem is not None
        return [], [problem], ""
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        span = Span(file, mark.line + 1, mark.column + 1) if mark else Span(file, 1, 1)
        problem_text = exc.problem or "invalid YAML"
        context = f" ({exc.context})" if exc.context else ""
        return [], [error("KN001", f"YAML syntax error: {problem_text}{context}", span,
                          "check indentation, quoting and ':' after keys")], text
    except yaml.YAMLError as exc:  # reader errors (control characters) carry no problem mark
        return [], [error("KN001", f"YAML syntax error: {exc}", Span(file, 1, 1))], text

    documents: list[SourceDocument] = []
    diagnostics: list[Diagnostic] = []
    non_empty = [(i, n) for i, n in enumerate(nodes) if n is not None and not _is_null(n)]
    if not non_empty:
        return [], [error("KN002", "file is empty: no workflow in it", Span(file, 1, 1),
                          "a workflow file holds one or more WorkflowExecution documents")], text
    for index, node in non_empty:
        doc = SourceDocument(file, text, index, None)
        if not isinstance(node, MappingNode):
            diagnostics.append(error("KN002", f"document {index + 1} is a {_kind(node)}, not a mapping",
                                     _span(file, node), "a workflow document starts with 'apiVersion:'"))
            continue
        builder = _Builder(file, doc.positions, doc.problems)
        doc.data = builder.build(node, ())
        doc.positions[()] = NodeInfo(_span(file, node))
        documents.append(doc)
    return documents, diagnostics, text


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def _kind(node: Node) -> str:
    if isinstance(node, SequenceNode):
        return "list"
    if isinstance(node, ScalarNode):
        return "scalar value"
    return "mapping"


class _Builder:
    """Turns a composed node tree into plain data, recording positions and duplicate keys."""

    def __init__(self, file: str, positions: dict[Path, NodeInfo], diagnostics: list[Diagnostic]):
        self.file = file
        self.positions = positions
        self.diagnostics = diagnostics
        self.constructor = _Loader("")

    def build(self, node: Node, path: Path) -> JSON:
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        if isinstance(node, SequenceNode):
            items = []
            for i, child in enumerate(node.value):
                self.positions[(*path, i)] = NodeInfo(_span(self.file, child), None, _style(child))
                items.append(self.build(child, (*path, i)))
            return items
        return self.constructor.construct_object(node, deep=True)

    def _mapping(self, node: MappingNode, path: Path) -> dict[str, JSON]:
        result: dict[str, JSON] = {}
        first_seen: dict[str, Span] = {}
        for key_node, value_node in node.value:
            key_span = _span(self.file, key_node)
            if not isinstance(key_node, ScalarNode):
                self.diagnostics.append(error("KN007", "mapping keys must be plain strings", key_span))
                continue
            key = key_node.value
            if key in first_seen:
                self.diagnostics.append(error(
                    "KN003", f"duplicate key '{key}'", key_span,
                    "remove one of the two entries; YAML would silently keep only the last",
                    related=[(first_seen[key], f"'{key}' first defined here")]))
                continue
            first_seen[key] = key_span
            child = (*path, key)
            self.positions[child] = NodeInfo(_span(self.file, value_node), key_span, _style(value_node))
            result[key] = self.build(value_node, child)
        return result


def _style(node: Node) -> str | None:
    return node.style if isinstance(node, ScalarNode) else None


def iter_paths(data: JSON, path: Path = ()) -> Iterator[tuple[Path, JSON]]:
    """Every (path, value) pair in nested data, parents before children."""
    yield path, data
    if isinstance(data, dict):
        for k, v in data.items():
            yield from iter_paths(v, (*path, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from iter_paths(v, (*path, i))
