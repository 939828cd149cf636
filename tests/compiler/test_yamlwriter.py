"""compiler.yamlwriter: the direct writer gives exactly the bytes of PyYAML's emitter."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler import yamlout
from compiler.yamlwriter import Unsupported, write_documents


def fast(docs: list[dict[str, Any]], explicit_start: bool = True) -> str:
    return write_documents(docs, explicit_start, yamlout._string_style)


def reference(docs: list[dict[str, Any]], explicit_start: bool = True) -> str:
    return yamlout.dump_with_pyyaml(docs, explicit_start)


# Shapes where the emitter's output depends on context: indentation of multi-line scalars,
# sequences of sequences, empty collections in every position, values PyYAML quotes or tags.
EDGE_DOCUMENTS: list[dict[str, Any]] = [
    {"a": "x\ny", "b": {"c": "x\ny\n", "d": ["p\nq", {"e": " lead\ntrail"}]}},
    {"multi": "a\nb ", "nested": {"deeper": {"x": "a\n\nb "}}, "items": ["a\nb ", ["c\nd "]]},
    {"keep": "a\n\n", "strip": "a", "clip": "a\n", "lead": "\na", "space": " a\nb"},
    {"l": [[1, [2, []]], [], {}, [{}], [{"a": []}]], "m": {}, "n": []},
    {"f": [0.0, -0.0, 1e20, 1e-05, float("inf"), float("-inf"), float("nan"), 1.5, 3.0]},
    {"i": [0, -1, 10**30, True, False, None]},
    {"._": "._", "x": "1_0", "y": "0x1F", "z": "2026-01-01", "w": "~", "v": "yes"},
    {"tabs": "a\tb", "bom": "\ufeffx", "nel": "a\x85b", "ls": "a\u2028b", "astral": "😀", "ctl": "\x01"},
    {"'q'": "'q'", '"d"': '"d"', "# c": "# c", "- d": "- d", "a: b": "a: b", "k": "---", "e": "..."},
]


@pytest.mark.parametrize("doc", EDGE_DOCUMENTS)
@pytest.mark.parametrize("explicit_start", [True, False])
def test_same_bytes_as_pyyaml_for_edge_shapes(doc: dict[str, Any], explicit_start: bool) -> None:
    assert fast([doc], explicit_start) == reference([doc], explicit_start)


def test_keep_block_last_in_the_stream_ends_it_explicitly() -> None:
    docs = [{"a": "x"}, {"b": "y\n\n"}]
    assert fast(docs).endswith("b: |+\n  y\n\n...\n")
    assert fast(docs) == reference(docs)


def test_empty_documents() -> None:
    for docs in ([], [{}], [{}, {"a": 1}, {}]):
        assert fast(docs) == reference(docs)
    assert fast([{}], explicit_start=False) == reference([{}], explicit_start=False)


@pytest.mark.parametrize("key", ["", "k" * 123, "a\nb", 1, 2.5, True])
def test_keys_outside_the_layout_are_left_to_pyyaml(key: Any) -> None:
    with pytest.raises(Unsupported):
        fast([{key: 1}])
    # ... and dump_documents still writes them, through PyYAML.
    assert yamlout.dump_documents([{key: 1}]) == reference([{key: 1}])


def test_longest_simple_key_is_written_directly() -> None:
    doc = {"k" * 122: 1}
    assert fast([doc]) == reference([doc])


_texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12) | st.sampled_from(
    ["yes", "1e3", "0o17", "2026-01-01", "a\nb", "a\nb\n\n", " a", "a ", "- x", "x: y", "._", "\n", ""])
_scalars = (_texts | st.integers() | st.floats() | st.booleans() | st.none())
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4)
                       | st.dictionaries(_texts, inner, max_size=4), max_leaves=30)
_documents = st.lists(st.dictionaries(_texts, _values, max_size=5), max_size=3)


@pytest.mark.slow
@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_documents, st.booleans())
def test_same_bytes_as_pyyaml_for_random_documents(docs: list[dict[str, Any]], explicit_start: bool) -> None:
    explicit_start = explicit_start or len(docs) > 1
    try:
        out = fast(docs, explicit_start)
    except Unsupported:
        return  # dump_documents uses PyYAML itself for these
    assert out == reference(docs, explicit_start)
