"""Reviewable, deterministic YAML for manifests and the IR.

What comes out of ``kubernaut compile`` is read in pull requests and applied by GitOps tools that
parse YAML 1.1 (PyYAML, go-yaml v2) or YAML 1.2 (go-yaml v3, most editors). So the output:

* is one resource per document, each introduced by ``---``;
* starts every document with ``apiVersion``, ``kind``, ``metadata`` (name first), ``spec``,
  ``data``, ``status``; everything else keeps the producer's insertion order, so producers
  decide the human order and the same input always gives the same bytes;
* never uses anchors or aliases (a reader must see every value where it applies);
* never folds long lines, writes multi-line strings as ``|`` blocks when a block can hold them
  exactly and double-quoted otherwise;
* quotes every string that either YAML version could read as a bool, null, number or date
  (``"yes"``, ``"on"``, ``"1e3"``, ``"0o17"``, ``"2026-01-01"``), so no parser changes its type.

The contract, tested with hypothesis: ``list(yaml.safe_load_all(dump_documents(docs))) == docs``.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from compiler.gcpause import collector_paused
from compiler.yamlwriter import Unsupported, write_documents

__all__ = ["dump_document", "dump_documents"]

_TOP_LEVEL_ORDER = ("apiVersion", "kind", "metadata", "spec", "data", "status")
_METADATA_ORDER = ("name", "generateName", "namespace", "labels", "annotations", "ownerReferences")

_STR_TAG = "tag:yaml.org,2002:str"

# Words YAML 1.1 reads as bool or null (the spec's full list: PyYAML omits y/n, go-yaml v2 does
# not), and YAML 1.2's; compared case-insensitively because quoting one string too many is free.
_KEYWORDS = frozenset(
    ["y", "yes", "n", "no", "true", "false", "on", "off", "null", "~", "", ".inf", "+.inf", "-.inf", ".nan"]
)
# YAML 1.1 timestamps (a date alone, or a date and a time); both versions' loaders in the wild
# turn them into date objects.
_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
    r"(?:(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)?"
)
# YAML 1.1 sexagesimal numbers (`1:30`, `-2:10:05.5`).
_SEXAGESIMAL = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?")
# Line breaks other than "\n": a reader normalises them to "\n" in block and single-quoted
# scalars (and they are invisible in a review), so a string holding one is always written
# double-quoted, where they are escaped. The BOM is invisible too.
_FORCE_DOUBLE_QUOTES = frozenset("\r\x85\u2028\u2029\ufeff")


def _looks_like_number(text: str) -> bool:
    # Covers YAML 1.1 and 1.2 ints and floats in every base: `1_000`, `0x1F`, `0o17`, `0b101`,
    # `017`, `1e3`, `.5`, `+1.`. Python's parsers accept a superset (surrounding blanks,
    # "infinity"), which only means an extra pair of quotes.
    candidate = text.replace("_", "")
    try:
        int(candidate, 0)
        return True
    except ValueError:
        pass
    try:
        float(candidate)
        return True
    except ValueError:
        # int(x, 0) rejects YAML 1.1's leading-zero octal ("017"); float() accepts it.
        return False


def _is_ambiguous(text: str) -> bool:
    """True when a plain scalar ``text`` would not load back as this string in YAML 1.1 or 1.2."""
    return (
        text.lower() in _KEYWORDS
        or _looks_like_number(text)
        or _TIMESTAMP.fullmatch(text) is not None
        or _SEXAGESIMAL.fullmatch(text) is not None
        or text in ("=", "<<")  # YAML 1.1 value and merge keys
    )


def _block_literal_fits(text: str) -> bool:
    """True when a ``|`` block can hold ``text`` exactly.

    Trailing blanks on a line would be invisible and are refused by the emitter anyway; the
    emitter falls back to double quotes itself for anything else it cannot write as a block
    (control characters, tabs).
    """
    if "\n" not in text:
        return False
    return not any(line.endswith((" ", "\t")) for line in text.split("\n"))


class _ReviewDumper(yaml.SafeDumper):
    """SafeDumper with the house style; representers live on this class only (no global state)."""

    def ignore_aliases(self, data: Any) -> bool:
        # An object used twice is written out twice: anchors make a review point elsewhere.
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # Indent block sequences under their key (`containers:\n  - name: x`), the style of the
        # Kubernetes and Tekton documentation.
        super().increase_indent(flow, False)


def _string_style(data: str) -> str | None:
    """The style asked of the emitter for a string; it still refuses what cannot hold it."""
    if _FORCE_DOUBLE_QUOTES.intersection(data) or _is_ambiguous(data):
        return '"'
    if _block_literal_fits(data):
        return "|"
    return None


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    return dumper.represent_scalar(_STR_TAG, data, style=_string_style(data))


_ReviewDumper.add_representer(str, _represent_str)


def _plain(value: Any, path: str) -> Any:
    """A copy of ``value`` made of dict, list, str, int, float, bool and None only.

    Accepts any Mapping, tuples (the frozen IR uses them) and str/int/float subclasses such as
    enums, so producers need not convert first; anything else is a bug in the producer and is
    reported with the path where it sits. Copying also guarantees no shared sub-objects.
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        # str.__str__ yields the underlying text even for enums that override __str__.
        return str.__str__(value)
    if isinstance(value, enum.Enum):
        return _plain(value.value, path)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, Mapping):
        out: dict[Any, Any] = {}
        for key, item in value.items():
            if not isinstance(key, (str, int, float, bool)):
                raise TypeError(f"{path}: mapping key {key!r} is not a scalar")
            out[_plain(key, path)] = _plain(item, f"{path}.{key}")
        return out
    if isinstance(value, (list, tuple)):
        return [_plain(item, f"{path}[{index}]") for index, item in enumerate(value)]
    raise TypeError(f"{path}: cannot write a {type(value).__name__} as YAML")


def _ordered(mapping: dict[Any, Any], first: tuple[str, ...]) -> dict[Any, Any]:
    out = {key: mapping[key] for key in first if key in mapping}
    out.update((key, item) for key, item in mapping.items() if key not in out)
    return out


def _shallow(value: Any) -> Any:
    """One level of ``_plain``: what the direct writer calls for a value of another type."""
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, enum.Enum):
        return _shallow(value.value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, Mapping):
        if not all(isinstance(key, (str, int, float, bool)) for key in value):
            raise TypeError("a mapping key is not a scalar")
        return dict(value)
    if isinstance(value, (list, tuple)):
        return list(value)
    raise TypeError(f"cannot write a {type(value).__name__} as YAML")


def _document(doc: Mapping[str, Any], index: int) -> dict[Any, Any]:
    """The document with its top-level and metadata keys in the house order (a shallow copy)."""
    if not isinstance(doc, Mapping):
        raise TypeError(f"document {index} is a {type(doc).__name__}, not a mapping")
    top = _shallow(doc)
    metadata = top.get("metadata")
    if isinstance(metadata, Mapping):
        top["metadata"] = _ordered(_shallow(metadata), _METADATA_ORDER)
    return _ordered(top, _TOP_LEVEL_ORDER)


def _dump(docs: list[dict[Any, Any]], explicit_start: bool) -> str:
    try:
        with collector_paused():
            return write_documents(docs, explicit_start, _string_style, _shallow)
    except TypeError:
        # Say where: the writer met the value without its path.
        for index, doc in enumerate(docs):
            _plain(doc, f"document {index}")
        raise
    except Unsupported:
        return dump_with_pyyaml([_plain(doc, f"document {index}") for index, doc in enumerate(docs)],
                                explicit_start)


def dump_with_pyyaml(docs: list[dict[Any, Any]], explicit_start: bool) -> str:
    """The reference: PyYAML's dumper with the house style (the direct writer's fallback)."""
    return yaml.dump_all(
        docs,
        Dumper=_ReviewDumper,
        explicit_start=explicit_start,
        default_flow_style=False,
        sort_keys=False,
        allow_unicode=True,
        width=math.inf,  # never fold: a folded line changes what a reviewer greps for
        indent=2,
    )


def dump_documents(docs: Iterable[Mapping[str, Any]]) -> str:
    """Multi-document YAML, ``---`` before every document; ``""`` for no documents."""
    return _dump([_document(doc, index) for index, doc in enumerate(docs)], explicit_start=True)


def dump_document(doc: Mapping[str, Any]) -> str:
    """One document without a leading ``---`` (``kubernaut compile --emit ir``)."""
    return _dump([_document(doc, 0)], explicit_start=False)
