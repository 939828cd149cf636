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

import contextlib
import math
import re
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from itertools import islice
from typing import Any

import yaml
from yaml.events import CollectionEndEvent, CollectionStartEvent
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
    # path -> column map of a quoted string or line map of a block (span_in_string)
    _string_maps: dict[Path, list[int] | _BlockLines] = field(default_factory=dict, compare=False, repr=False)

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
        """The span of characters ``offset:offset+length`` inside the string scalar at ``path``.

        Each string's map from value offsets to source columns is built once, so a string with
        thousands of references costs time linear in its length, not references x length.
        """
        info = self.info(path)
        if info is None:
            return self.span(path)
        start = info.value
        if info.style in (None, "'", '"') and start.end_line == start.line:
            if info.style is None:
                col0 = start.col - 1
                return _columns_span(start, col0 + offset, col0 + offset + length)
            columns = self._string_maps.get(path)
            if not isinstance(columns, list):
                line = self.lines[start.line - 1] if start.line <= len(self.lines) else ""
                columns = self._string_maps[path] = _quoted_columns(line, start, info.style)
            last = len(columns) - 1
            return _columns_span(start, columns[min(offset, last)], columns[min(offset + length, last)])
        if info.style == "|":
            block = self._string_maps.get(path)
            if not isinstance(block, _BlockLines):
                block = self._string_maps[path] = _BlockLines(self.lines, start.line)
            return block.span(start, offset, length)
        # Folded and multi-line flow scalars: the start of the value, which is still the right line.
        return start


def _columns_span(start: Span, raw_index: int, raw_end: int) -> Span:
    return Span(start.file, start.line, raw_index + 1, start.line, max(raw_end, raw_index + 1) + 1)


def _quoted_columns(line: str, start: Span, style: str) -> list[int]:
    """Column (0-based) in the source line of each value character of a one-line quoted scalar.

    An escape (``\\x`` in double quotes, ``''`` in single quotes) counts as two source characters
    for one value character; the list ends at the closing quote.
    """
    pos = start.col  # just after the opening quote
    end = min(len(line), (start.end_col or len(line) + 1) - 1)
    columns = [pos]
    while pos < end:
        pos += 2 if (style == "'" and line.startswith("''", pos)) or (style == '"' and line[pos] == "\\") else 1
        columns.append(pos)
    return columns


class _BlockLines:
    """Where the value offsets of a ``|`` block fall, built as far as offsets are asked for.

    A literal block's content starts on the line after the indicator; its indentation is that
    of the first non-empty content line.
    """

    def __init__(self, lines: list[str], indicator_line: int) -> None:
        self.lines = lines
        self.first = indicator_line  # 0-based index of the first content line
        self.indent = next((len(ln) - len(ln.lstrip(" ")) for ln in islice(lines, self.first, None) if ln.strip()), 0)
        self.ends: list[int] = []  # value offset of the end of each content line, increasing
        self.body_lengths: list[int] = []

    def span(self, start: Span, offset: int, length: int) -> Span:
        while (not self.ends or self.ends[-1] < offset) and self.first + len(self.ends) < len(self.lines):
            body = max(len(self.lines[self.first + len(self.ends)]) - self.indent, 0)
            self.ends.append((self.ends[-1] + 1 if self.ends else 0) + body)
            self.body_lengths.append(body)
        index = bisect_left(self.ends, offset)
        if index == len(self.ends):
            return start
        number = self.first + 1 + index
        col = self.indent + offset - (self.ends[index] - self.body_lengths[index]) + 1
        return Span(start.file, number, col, number, col + max(length, 1))


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
    except _NestedTooDeep as exc:
        return [], [error("KN060", f"values are nested more than {MAX_DEPTH} levels deep",
                          Span(file, exc.line + 1, exc.column + 1),
                          "a workflow holds plain data: no deep nesting")], text
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
        builder = _Builder(file, doc.positions, doc.problems, eof, characters=len(text) + MAX_ALIAS_CHARACTERS)
        try:
            with collector_paused():
                doc.data = builder.build(node, ())
        except _TooLarge as exc:  # nothing of it is usable: report it like a document that is no mapping
            diagnostics.append(exc.diagnostic)
            continue
        doc.positions[()] = (_marks(node, eof), None, None)
        documents.append(doc)
    return documents, diagnostics, text


# Where LibYAML and PyYAML disagree (found by differential fuzzing, tests/compiler): tabs and
# byte-order marks inside the text (what each accepts, and BOM columns), and a comment right
# after a block scalar indicator (`|#`, which only LibYAML accepts). Such texts take the
# pure-Python path, so both paths give the same result for every input.
_LIBYAML_DISAGREES = re.compile("[\t\ufeff]|[|>][-+0-9]*#")
_LIBYAML_NEUTRAL = str.maketrans({"\t": " ", "\ufeff": " "})
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


class _NestedTooDeep(Exception):
    """Collections nest deeper than MAX_DEPTH, first at ``mark``."""

    def __init__(self, line: int, column: int) -> None:
        super().__init__(f"nested more than {MAX_DEPTH} levels deep")
        self.line, self.column = line, column  # 0-based, as in a mark


# Both composers recurse once per nesting level: PyYAML's raises RecursionError after a few
# hundred levels, LibYAML's (C code) overflows the stack after some tens of thousands and takes
# the process down. A text that could nest that deep is measured with the parser's events first
# (an iterative state machine). Every level opens a flow collection or starts at least one
# column further right (two levels for a sequence written at its key's indentation), which gives
# a cheap upper bound for the common case.
_SAFE_NESTING = 2_000


def _nesting_bound(text: str) -> int:
    longest = max(map(len, text.splitlines()), default=0)
    return text.count("[") + text.count("{") + 2 * longest + 2


def _check_nesting(text: str, loader: type) -> None:
    depth = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                mark = event.start_mark
                raise _NestedTooDeep(mark.line, mark.column) if mark else _NestedTooDeep(0, 0)
        elif isinstance(event, CollectionEndEvent):
            depth -= 1


def _refused_for_nesting(text: str, exc: yaml.YAMLError) -> None:
    """Raise _NestedTooDeep when LibYAML refused ``text`` for nesting more than its own limit.

    LibYAML's scanner stops at 1,000 flow levels before its parser has produced the events that
    would show MAX_DEPTH crossed. The pure-Python scanner would then take time quadratic in the
    depth (seconds for a 2 KB text), so the nesting is measured on the text before the refusal.
    """
    mark = getattr(exc, "problem_mark", None)
    if mark is None or "nesting depth" not in str(getattr(exc, "problem", "")):
        return
    starts = [0, *(m.end() for m in islice(_LINE_BREAK.finditer(text), mark.line))]
    assert _CLoader is not None
    with contextlib.suppress(yaml.YAMLError):  # the prefix ends mid-document
        _check_nesting(text[: starts[-1] + mark.column], _CLoader)
    raise _NestedTooDeep(mark.line, mark.column)


def _compose(text: str) -> tuple[list[Node | None], _EndFix]:
    """Every document's node tree, and the end fix its marks need.

    Raises PyYAML's own error for invalid YAML, and _NestedTooDeep.
    """
    if _CLoader is not None and not _LIBYAML_DISAGREES.search(text):
        try:
            if _nesting_bound(text) > _SAFE_NESTING:
                _check_nesting(text, _CLoader)
            with collector_paused():
                return list(yaml.compose_all(text, Loader=_CLoader)), _end_of_text(text)
        except yaml.YAMLError as exc:
            _refused_for_nesting(text, exc)
            # parse again below: the pure-Python parser's messages are the documented ones
    elif _CLoader is not None and _nesting_bound(text) > _SAFE_NESTING:
        # The pure-Python scanner takes time quadratic in the flow nesting depth: measure it with
        # LibYAML first, on the text with what only it reads differently made harmless (one
        # character for one, so the marks stay where they are).
        sanitized = text.translate(_LIBYAML_NEUTRAL)
        try:
            _check_nesting(sanitized, _CLoader)
        except yaml.YAMLError as exc:
            _refused_for_nesting(sanitized, exc)
    try:
        with collector_paused():
            return list(yaml.compose_all(text, Loader=_Loader)), None
    except RecursionError:
        _check_nesting(text, _Loader)  # raises where the nesting gets too deep
        raise


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def _kind(node: Node) -> str:
    if isinstance(node, SequenceNode):
        return "list"
    if isinstance(node, ScalarNode):
        return "scalar value"
    return "mapping"


# Limits on what one document may expand to; each is reported as a located KN060 error. A real
# workflow stays far below them (10,000 steps are about 200,000 values, nested a dozen deep).
MAX_VALUES = 1_000_000  # values in one document, aliases expanded
MAX_ALIAS_VALUES = 10_000  # values produced by expanding aliases (a 600-byte "billion laughs")
# Characters that aliases may add to the text's own: ten thousand aliases of one long string are
# few values but gigabytes of inputs JSON.
MAX_ALIAS_CHARACTERS = 1_000_000
MAX_DEPTH = 100  # nesting of mappings and lists

_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
# The scalar tags a JSON value can have; anything else (binary, timestamp, set, custom tags) is
# refused rather than turned into an object no later stage expects.
_JSON_SCALAR_TAGS = frozenset({_STR_TAG, "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
                               "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null"})
_SURROGATE = re.compile("[\ud800-\udfff]")


class _TooLarge(Exception):
    """The document breaks a size limit; ``diagnostic`` says where."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


class _Builder:
    """Turns a composed node tree into plain data, recording positions and duplicate keys.

    Values JSON cannot hold (other tags, NaN, huge integers, lone surrogates) become located
    KN007 problems with the value kept as its source text; breaking a size limit raises
    :class:`_TooLarge`.
    """

    def __init__(self, file: str, positions: dict[Path, tuple[_Marks, _Marks | None, str | None]],
                 diagnostics: list[Diagnostic], eof: _EndFix = None, characters: int = 2**63):
        self.file = file
        # Scalars and keys may hold this many characters in all. Each character of a value stands
        # for at least one of the text, so only aliases can go past the text's own length.
        self.characters = characters
        self.eof = eof
        self.positions = positions
        self.diagnostics = diagnostics
        self.constructor = _Loader("")
        self.values = 0
        self.alias_values = 0
        self.in_alias = 0  # > 0 while building a collection node a second time (an alias)
        self.built: set[int] = set()  # ids of the collection nodes built so far

    def _too_large(self, node: Node, message: str) -> _TooLarge:
        return _TooLarge(error("KN060", message, _span(self.file, node, self.eof),
                               "a workflow holds plain data: no deep nesting, no alias expansion bombs"))

    def build(self, node: Node, path: Path, depth: int = 0) -> JSON:
        self.values += 1
        if self.values > MAX_VALUES:
            raise self._too_large(node, f"the document holds more than {MAX_VALUES:,} values")
        if isinstance(node, ScalarNode):
            self.characters -= len(node.value)
            if self.characters < 0:
                raise self._too_many_characters(node)
            if node.tag == _STR_TAG:
                value = node.value
                if node.style == '"' and _SURROGATE.search(value):
                    return self._not_json(node, "holds a lone surrogate (an escape like \\ud800), "
                                                "which UTF-8 cannot encode")
                return value  # what construct_object would return, without its bookkeeping
            return self._scalar(node)
        if depth >= MAX_DEPTH:
            raise self._too_large(node, f"values are nested more than {MAX_DEPTH} levels deep")
        if id(node) in self.built:  # an alias: the composer shares the anchored node
            self.in_alias += 1
            try:
                return self._collection(node, path, depth)
            finally:
                self.in_alias -= 1
        self.built.add(id(node))
        return self._collection(node, path, depth)

    def _too_many_characters(self, node: Node) -> _TooLarge:
        return self._too_large(node, f"aliases expand to more than {MAX_ALIAS_CHARACTERS:,} characters")

    def _collection(self, node: Node, path: Path, depth: int) -> JSON:
        if self.in_alias:
            self.alias_values += len(node.value)
            if self.alias_values > MAX_ALIAS_VALUES:
                raise self._too_large(node, f"aliases expand to more than {MAX_ALIAS_VALUES:,} values")
        expected = _MAP_TAG if isinstance(node, MappingNode) else _SEQ_TAG
        if node.tag != expected:
            self.diagnostics.append(error("KN007", f"tag '{_short(node.tag)}' is not supported",
                                          _span(self.file, node, self.eof),
                                          "a workflow holds JSON values: remove the tag"))
        if isinstance(node, MappingNode):
            return self._mapping(node, path, depth)
        items = []
        positions = self.positions
        for i, child in enumerate(node.value):
            child_path = (*path, i)
            positions[child_path] = (_marks(child, self.eof), None, _style(child))
            items.append(self.build(child, child_path, depth + 1))
        return items

    def _scalar(self, node: ScalarNode) -> JSON:
        if node.tag not in _JSON_SCALAR_TAGS:
            return self._not_json(node, f"has the tag '{_short(node.tag)}', which JSON has no value for")
        try:
            value = self.constructor.construct_object(node, deep=True)
        except (ValueError, yaml.YAMLError) as exc:  # `!!int x`, integers over Python's 4,300 digits
            return self._not_json(node, f"is not a valid {_short(node.tag)}: {exc}")
        except (KeyError, IndexError):  # `!!bool maybe`, `!!float ''`: PyYAML indexes into a table or the text
            return self._not_json(node, f"is not a valid {_short(node.tag)}")
        if isinstance(value, float) and not math.isfinite(value):
            return self._not_json(node, "is not a number JSON can hold (NaN and infinities are not)")
        return value

    def _not_json(self, node: ScalarNode, problem: str) -> str:
        shown = node.value if len(node.value) <= 40 else node.value[:37] + "..."
        self.diagnostics.append(error("KN007", f"value {shown!r} {problem}", _span(self.file, node, self.eof),
                                      "a workflow holds JSON values: strings, numbers, booleans, null, "
                                      "lists and mappings"))
        return node.value  # kept as text so later checks see a value of the usual shape

    def _mapping(self, node: MappingNode, path: Path, depth: int) -> dict[str, JSON]:
        result: dict[str, JSON] = {}
        first_seen: dict[str, Node] = {}
        positions = self.positions
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.diagnostics.append(error("KN007", "mapping keys must be plain strings",
                                              _span(self.file, key_node, self.eof)))
                continue
            key = key_node.value
            self.characters -= len(key)
            if self.characters < 0:
                raise self._too_many_characters(key_node)
            if key_node.style == '"' and _SURROGATE.search(key):
                self._not_json(key_node, "holds a lone surrogate, which UTF-8 cannot encode")
                continue
            if key in first_seen:
                self.diagnostics.append(error(
                    "KN003", f"duplicate key '{key}'", _span(self.file, key_node, self.eof),
                    "remove one of the two entries; YAML would silently keep only the last",
                    related=[(_span(self.file, first_seen[key], self.eof), f"'{key}' first defined here")]))
                continue
            first_seen[key] = key_node
            child = (*path, key)
            positions[child] = (_marks(value_node, self.eof), _marks(key_node, self.eof), _style(value_node))
            result[key] = self.build(value_node, child, depth + 1)
        return result


def _short(tag: str) -> str:
    """``!!binary`` for ``tag:yaml.org,2002:binary``, as it is written."""
    return "!!" + tag[len("tag:yaml.org,2002:"):] if tag.startswith("tag:yaml.org,2002:") else tag


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
