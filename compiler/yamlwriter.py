"""A direct writer for the one YAML layout ``compiler.yamlout`` produces.

PyYAML's pure-Python emitter spent about 80% of ``kubernaut compile``: every node goes through a
representer, a serializer and an event-driven state machine that re-analyses each scalar. Our
output has one fixed layout (block mappings and sequences, ``{}``/``[]`` for empty ones, sequences
indented under their key, no anchors, no folding), so this module writes that layout directly.

What a *scalar* looks like (plain, quoted, ``|`` block, escapes) is still decided by PyYAML itself:
each distinct scalar is handed once to a real ``yaml.emitter.Emitter`` (its ``check_simple_key``,
``choose_scalar_style`` and writers) and the text is cached, so quoting rules cannot drift from
the emitter's. Anything outside the layout (a key that is not a short one-line string) raises
:class:`Unsupported` and the caller falls back to PyYAML's dumper. ``tests/compiler`` checks that
both give the same bytes for random documents.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Callable
from typing import Any

import yaml
from yaml.emitter import Emitter
from yaml.events import ScalarEvent
from yaml.nodes import ScalarNode

__all__ = ["Unsupported", "write_documents"]

_STR_TAG = "tag:yaml.org,2002:str"
_INDENT = 2  # yamlout's indent; sequences are indented under their key by the same amount


class Unsupported(Exception):
    """The documents hold something outside the fixed layout; the caller uses PyYAML instead."""


# The style ``compiler.yamlout`` asks the emitter for, given a string (its representer).
StyleFn = Callable[[str], "str | None"]
# Turns one value of another type (a Mapping, a tuple, an enum...) into a dict, list or scalar;
# raises TypeError for what cannot be written.
NormalizeFn = Callable[[Any], Any]
_SCALARS = frozenset({str, int, float, bool, type(None)})
# One rendered scalar: its text (ending with a line break) and whether it leaves the stream
# "open ended" (a ``|+`` block last in the stream makes the emitter write ``...``).
_Rendered = tuple[str, bool]

# Characters after which PyYAML's emitter would need to know the indentation: line breaks.
_MULTILINE = re.compile("[\n\x85\u2028\u2029]")


class _ScalarRenderer:
    """Asks one real PyYAML emitter how each scalar is written, once per distinct scalar."""

    def __init__(self, style_of: StyleFn) -> None:
        self._style_of = style_of
        self._stream = io.StringIO()
        # The options of yamlout's dumper that matter to scalars.
        self._emitter = Emitter(self._stream, allow_unicode=True, indent=_INDENT,
                                width=math.inf)  # type: ignore[arg-type]  # as yamlout's dumper
        self._emitter.tag_prefixes = Emitter.DEFAULT_TAG_PREFIXES.copy()  # set at document start
        self._resolver = yaml.resolver.Resolver()
        self._representer = yaml.representer.SafeRepresenter()
        self._keys: dict[str, str] = {}
        self._values: dict[tuple[type, Any], _Rendered] = {}
        self._multiline: dict[tuple[str, int], _Rendered] = {}

    def _event(self, value: Any) -> ScalarEvent:
        if type(value) is str:
            tag, text, style = _STR_TAG, value, self._style_of(value)
        else:
            representer = self._representer.yaml_representers.get(type(value))
            if representer is None:
                raise Unsupported(type(value).__name__)
            node = representer(self._representer, value)
            if not isinstance(node, ScalarNode):
                raise Unsupported(type(value).__name__)
            tag, text, style = node.tag, node.value, node.style
        # What the serializer computes: may this be written plain / quoted without a tag?
        implicit = (tag == self._resolver.resolve(ScalarNode, text, (True, False)),
                    tag == self._resolver.resolve(ScalarNode, text, (False, True)))
        return ScalarEvent(None, tag, implicit, text, style=style)

    def _render(self, event: ScalarEvent, indent: int, simple_key: bool) -> tuple[str, bool]:
        # The emitter's state as it is when it reaches this scalar right after an indicator
        # (`key:` or `- `) with whitespace written: the caller writes that one space itself.
        e = self._emitter
        e.event = event
        e.events = []
        e.flow_level = 0
        e.indent = indent
        e.indents = []
        e.column = 0
        e.whitespace = True
        e.indention = True
        e.open_ended = False
        e.root_context = e.sequence_context = e.mapping_context = False
        e.simple_key_context = simple_key
        e.analysis = None
        e.style = None
        e.prepared_tag = None
        e.prepared_anchor = None
        if simple_key and not e.check_simple_key():
            raise Unsupported("a mapping key that is not a short one-line string")
        e.process_tag()
        e.process_scalar()
        text = self._stream.getvalue()
        self._stream.seek(0)
        self._stream.truncate()
        return text, e.open_ended

    def key(self, key: Any) -> str:
        """``key:`` as the emitter writes a simple mapping key."""
        cached = self._keys.get(key) if type(key) is str else None
        if cached is None:
            if type(key) is not str:
                raise Unsupported("a mapping key that is not a string")
            text, _ = self._render(self._event(key), 0, simple_key=True)
            cached = self._keys[key] = text + ":"
        return cached

    def value(self, value: Any, indent: int) -> _Rendered:
        """A scalar in a block value or sequence item; ``indent`` is its content's indentation."""
        # -0.0 == 0.0 but they are written differently: floats are keyed by their repr.
        cache_key = (float, repr(value)) if type(value) is float else (type(value), value)
        cached = self._values.get(cache_key)
        if cached is not None:
            return cached
        if type(value) is str and _MULTILINE.search(value):
            # Block and quoted scalars that span lines depend on the indentation.
            multi = self._multiline.get((value, indent))
            if multi is None:
                multi = self._multiline[(value, indent)] = self._finish(self._event(value), indent)
            return multi
        rendered = self._values[cache_key] = self._finish(self._event(value), indent)
        return rendered

    def _finish(self, event: ScalarEvent, indent: int) -> _Rendered:
        text, open_ended = self._render(event, indent, simple_key=False)
        # Block scalars end with their line break; the emitter breaks the line after others.
        return (text if text.endswith("\n") else text + "\n"), open_ended


def _no_other_types(value: Any) -> Any:
    raise TypeError(f"cannot write a {type(value).__name__} as YAML")


class _Writer:
    def __init__(self, style_of: StyleFn, normalize: NormalizeFn) -> None:
        self.scalars = _ScalarRenderer(style_of)
        self.normalize = normalize
        self.out: list[str] = []
        self.open_ended = False
        self._pads: list[str] = []

    def pad(self, indent: int) -> str:
        while len(self._pads) <= indent:
            self._pads.append(" " * len(self._pads))
        return self._pads[indent]

    def mapping(self, mapping: dict[Any, Any], indent: int) -> None:
        """A non-empty block mapping; the first key goes where the output currently stands."""
        out = self.out
        pad = self.pad(indent)
        first = True
        for key, value in mapping.items():
            if first:
                first = False
            else:
                out.append(pad)
            if type(key) is not str:
                if not isinstance(key, str):  # numbers and booleans as keys: PyYAML's business
                    raise Unsupported("a mapping key that is not a string")
                key = str.__str__(key)  # a str enum
            out.append(self.scalars.key(key))
            self.node(value, indent + _INDENT, " ", "\n")

    def sequence(self, items: list[Any], indent: int) -> None:
        """A non-empty block sequence; the first ``-`` goes where the output currently stands."""
        out = self.out
        pad = self.pad(indent)
        first = True
        for item in items:
            if first:
                first = False
            else:
                out.append(pad)
            out.append("-")
            self.node(item, indent + _INDENT, " ", " ")

    def node(self, value: Any, indent: int, before_scalar: str, before_collection: str) -> None:
        """A value after ``key:`` or ``-``; ``indent`` is the indentation of its children."""
        out = self.out
        kind = type(value)
        if kind is dict:
            if value:
                out.append(before_collection if before_collection == " " else "\n" + self.pad(indent))
                self.mapping(value, indent)
            else:
                out.append(" {}\n")
                self.open_ended = False
        elif kind is list:
            if value:
                out.append(before_collection if before_collection == " " else "\n" + self.pad(indent))
                self.sequence(value, indent)
            else:
                out.append(" []\n")
                self.open_ended = False
        elif kind in _SCALARS:
            text, self.open_ended = self.scalars.value(value, indent)
            out.append(before_scalar)
            out.append(text)
        else:
            self.node(self.normalize(value), indent, before_scalar, before_collection)


def write_documents(docs: list[dict[Any, Any]], explicit_start: bool, style_of: StyleFn,
                    normalize: NormalizeFn = _no_other_types) -> str:
    """The YAML stream PyYAML's ``dump_all`` writes with yamlout's options.

    ``docs`` hold dict (string keys), list, str, int, float, bool and None; ``normalize`` turns
    any other value into one of those as it is met (no copy of the documents is made);
    ``style_of`` is yamlout's choice of style for a string. Raises :class:`Unsupported` for
    anything the fixed layout does not cover.
    """
    writer = _Writer(style_of, normalize)
    out = writer.out
    for index, doc in enumerate(docs):
        if type(doc) is not dict:
            raise Unsupported("a document that is not a mapping")
        if explicit_start or index > 0:
            out.append("---")
            if not doc:
                out.append(" {}\n")
                writer.open_ended = False
                continue
            out.append("\n")
            writer.open_ended = False
        elif not doc:
            out.append("{}\n")
            continue
        writer.mapping(doc, 0)
    if writer.open_ended:
        out.append("...\n")
    return "".join(out)
