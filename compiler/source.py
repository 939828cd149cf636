"""YAML loading that remembers where every node came from.

PyYAML's composer gives us nodes with marks; we turn each document into plain JSON-like data
plus a map from *paths* (``("spec", "steps", 0, "image")``) to source positions, so every later
diagnostic can point at the exact line and column. Duplicate keys, binary files, non-UTF-8
bytes, empty files and non-mapping documents are reported here as diagnostics, never raised.

The nodes come from LibYAML's composer (``yaml.CSafeLoader``) when PyYAML was built with it: its
marks have the pure-Python composer's line/column semantics, and it is an order of magnitude
faster. A document LibYAML rejects is parsed again by the pure-Python composer, so syntax errors
keep PyYAML's wording and positions; without LibYAML the pure-Python composer does everything.
Positions are kept as plain tuples and turned into spans only when a diagnostic asks.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from compiler.diagnostics import Diagnostic, Span, error
from compiler.gcpause import collector_paused

Path = tuple[str | int, ...]
JSON = Any


class _Loader(yaml.SafeLoader):
    """SafeLoader without the timestamp resolver: ``2026-01-01`` stays a string, as JSON has no dates."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

# LibYAML's parser resolves implicit tags through the same Python resolver table.
_CLoader: type | None = None
if yaml.__with_libyaml__:
    class _LibYAMLLoader(yaml.CSafeLoader):
        """``_Loader`` on LibYAML's parser and composer."""

    _LibYAMLLoader.yaml_implicit_resolvers = _Loader.yaml_implicit_resolvers
    _CLoader = _LibYAMLLoader

_STR_TAG = "tag:yaml.org,2002:str"
# A node's place as 0-based (line, column, end line, end column): tuples of ints cost a fraction
# of a Span each, and a large workflow has hundreds of thousands of nodes.
_Marks = tuple[int, int, int, int]


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
    # path -> (value marks, key marks or None, scalar style); see ``info``.
    positions: dict[Path, tuple[_Marks, _Marks | None, str | None]] = field(default_factory=dict)
    # Problems found while reading this document (duplicate keys...): they make it invalid.
    problems: list[Diagnostic] = field(default_factory=list)

    def info(self, path: Path) -> NodeInfo | None:
        """Where the node at ``path`` (and its key) sits, or None when there is no such node."""
        found = self.positions.get(path)
        if found is None:
            return None
        value, key, style = found
        return NodeInfo(_to_span(self.file, value), None if key is None else _to_span(self.file, key), style)

    def span(self, path: Path) -> Span:
        """The value's span for ``path``, or the nearest ancestor's when the path does not exist."""
        for cut in range(len(path), -1, -1):
            found = self.positions.get(path[:cut])
            if found is not None:
                return _to_span(self.file, found[0])
        return Span(self.file, 1, 1)

    def key_span(self, path: Path) -> Span:
        """The span of the mapping key that introduces ``path`` (falls back to the value)."""
        found = self.positions.get(path)
        if found is not None and found[1] is not None:
            return _to_span(self.file, found[1])
        return self.span(path)

    @cached_property
    def lines(self) -> list[str]:
        # Split once: a large workflow asks for thousands of positions inside strings.
        return self.text.splitlines()

    def span_in_string(self, path: Path, offset: int, length: int) -> Span:
        """The span of characters ``offset:offset+length`` inside the string scalar at ``path``."""
        info = self.info(path)
        if info is None:
            return self.span(path)
        return _offset_span(self.lines, info, offset, length)


# (index, line, column) of the end of the text when LibYAML composed a text without a final line
# break (see ``_end_of_text``), else None.
_EndFix = tuple[int, int, int] | None


def _marks(node: Node, eof: _EndFix = None) -> _Marks:
    start, end = node.start_mark, node.end_mark
    if eof is None:
        return start.line, start.column, end.line, end.column
    index, line, column = eof
    start_at = (line, column) if start.index == index else (start.line, start.column)
    end_at = (line, column) if end.index == index else (end.line, end.column)
    return (*start_at, *end_at)


def _to_span(file: str, marks: _Marks) -> Span:
    line, col, end_line, end_col = marks
    return Span(file, line + 1, col + 1, end_line + 1, end_col + 1)


def _span(file: str, node: Node, eof: _EndFix = None) -> Span:
    return _to_span(file, _marks(node, eof))


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
        nodes, eof = _compose(text)
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
                                     _span(file, node, eof), "a workflow document starts with 'apiVersion:'"))
            continue
        builder = _Builder(file, doc.positions, doc.problems, eof)
        with collector_paused():
            doc.data = builder.build(node, ())
        doc.positions[()] = (_marks(node, eof), None, None)
        documents.append(doc)
    return documents, diagnostics, text


# Where LibYAML and PyYAML disagree (found by differential fuzzing, tests/compiler): tabs and
# byte-order marks inside the text (what each accepts, and BOM columns), and a comment right
# after a block scalar indicator (`|#`, which only LibYAML accepts). Such texts take the
# pure-Python path, so both paths give the same result for every input.
_LIBYAML_DISAGREES = re.compile("[\t\ufeff]|[|>][-+0-9]*#")
_LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")


def _end_of_text(text: str) -> tuple[int, int, int] | None:
    """(index, line, column) of the end of a text that does not end with a line break.

    LibYAML reads such a text as if it had one more line break, so nodes that end at the end
    of the text end at (next line, column 0) instead of PyYAML's (last line, after the last
    character); the builder puts them back.
    """
    if not text or text.endswith(("\n", "\r", "\x85", "\u2028", "\u2029")):
        return None
    breaks = list(_LINE_BREAK.finditer(text))
    return len(text), len(breaks), len(text) - (breaks[-1].end() if breaks else 0)


def _compose(text: str) -> tuple[list[Node | None], _EndFix]:
    """Every document's node tree, and the end fix its marks need.

    Raises PyYAML's own error for invalid YAML.
    """
    if _CLoader is not None and not _LIBYAML_DISAGREES.search(text):
        try:
            with collector_paused():
                return list(yaml.compose_all(text, Loader=_CLoader)), _end_of_text(text)
        except yaml.YAMLError:
            pass  # parse again below: the pure-Python parser's messages are the documented ones
    with collector_paused():
        return list(yaml.compose_all(text, Loader=_Loader)), None


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

    def __init__(self, file: str, positions: dict[Path, tuple[_Marks, _Marks | None, str | None]],
                 diagnostics: list[Diagnostic], eof: _EndFix = None):
        self.file = file
        self.eof = eof
        self.positions = positions
        self.diagnostics = diagnostics
        self.constructor = _Loader("")

    def build(self, node: Node, path: Path) -> JSON:
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        if isinstance(node, SequenceNode):
            items = []
            positions = self.positions
            for i, child in enumerate(node.value):
                child_path = (*path, i)
                positions[child_path] = (_marks(child, self.eof), None, _style(child))
                items.append(self.build(child, child_path))
            return items
        if node.tag == _STR_TAG:
            return node.value  # what construct_object would return, without its bookkeeping
        return self.constructor.construct_object(node, deep=True)

    def _mapping(self, node: MappingNode, path: Path) -> dict[str, JSON]:
        result: dict[str, JSON] = {}
        first_seen: dict[str, Node] = {}
        positions = self.positions
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.diagnostics.append(error("KN007", "mapping keys must be plain strings",
                                              _span(self.file, key_node, self.eof)))
                continue
            key = key_node.value
            if key in first_seen:
                self.diagnostics.append(error(
                    "KN003", f"duplicate key '{key}'", _span(self.file, key_node, self.eof),
                    "remove one of the two entries; YAML would silently keep only the last",
                    related=[(_span(self.file, first_seen[key], self.eof), f"'{key}' first defined here")]))
                continue
            first_seen[key] = key_node
            child = (*path, key)
            positions[child] = (_marks(value_node, self.eof), _marks(key_node, self.eof), _style(value_node))
            result[key] = self.build(value_node, child)
        return result


def _style(node: Node) -> str | None:
    # LibYAML's composer says "" for plain scalars where PyYAML's says None.
    return (node.style or None) if isinstance(node, ScalarNode) else None


def iter_paths(data: JSON, path: Path = ()) -> Iterator[tuple[Path, JSON]]:
    """Every (path, value) pair in nested data, parents before children."""
    yield path, data
    if isinstance(data, dict):
        for k, v in data.items():
            yield from iter_paths(v, (*path, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from iter_paths(v, (*path, i))
