"""compiler.yamlout: reviewable YAML that always loads back to the same data."""

from __future__ import annotations

import enum
from types import MappingProxyType
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.yamlout import dump_document, dump_documents

TRICKY_SCALARS = [
    "yes", "Yes", "YES", "no", "on", "On", "off", "OFF", "y", "n", "Y", "N", "true", "False",
    "null", "Null", "~", "", "1e3", "1E3", "-1.5e-3", ".5", "+1.", "0x1F", "0o17", "017", "0b101",
    "1_000", "1:30", "-2:10:05.5", "2026-01-01", "2026-01-01T10:00:00Z", "2026-1-1 10:00:00 +01:00",
    ".inf", "-.Inf", ".nan", "NaN", "infinity", "=", "<<", "- item", "key: value", "#comment",
    "& anchor", "* alias", "!tag", "%directive", "@at", "`tick", "'quoted'", '"double"', "a #b",
    "[flow]", "{flow}", "?", ":", "-", "---", "...", " leading", "trailing ", "naïve ✓ 日本",
]


def roundtrip(docs: list[Any]) -> list[Any]:
    return list(yaml.safe_load_all(dump_documents(docs)))


# --- the house style -----------------------------------------------------------------------


def test_every_document_starts_with_a_separator_and_kind_fields_come_first() -> None:
    docs: list[dict[str, Any]] = [
        {"spec": {"b": 1, "a": 2}, "zeta": 1, "kind": "Job", "status": {}, "data": {},
         "metadata": {"labels": {"x": "y"}, "annotations": {}, "namespace": "ns", "uid": "u",
                      "ownerReferences": [], "generateName": "g-", "name": "job"},
         "apiVersion": "batch/v1"},
        {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "c"}},
    ]
    out = dump_documents(docs)
    assert out.startswith("---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: job\n")
    assert out.count("---\n") == 2
    loaded = roundtrip(docs)
    assert list(loaded[0]) == ["apiVersion", "kind", "metadata", "spec", "data", "status", "zeta"]
    assert list(loaded[0]["metadata"]) == [
        "name", "generateName", "namespace", "labels", "annotations", "ownerReferences", "uid",
    ]
    # Everything below the top level keeps the producer's order.
    assert list(loaded[0]["spec"]) == ["b", "a"]


def test_single_document_has_no_separator() -> None:
    assert dump_document({"kind": "X", "apiVersion": "v1"}) == "apiVersion: v1\nkind: X\n"
    assert dump_documents([]) == ""


def test_same_input_same_bytes() -> None:
    doc = {"kind": "Job", "spec": {"x": ["a\nb", "yes"]}}
    assert dump_documents([doc]) == dump_documents([dict(doc)])


@pytest.mark.parametrize("text", TRICKY_SCALARS)
def test_tricky_scalars_load_back_as_strings(text: str) -> None:
    assert roundtrip([{"v": text}]) == [{"v": text}]


@pytest.mark.parametrize(
    "text", ["yes", "on", "1e3", "0x1F", "1_000", "2026-01-01", "~", "null", "y", "0o17", "017", ""]
)
def test_bool_null_number_and_date_lookalikes_are_double_quoted(text: str) -> None:
    assert dump_document({"v": text}) == f'v: "{text}"\n'


def test_multiline_strings_use_literal_blocks() -> None:
    out = dump_document({"script": "#!/bin/sh\nset -eu\necho done\n"})
    assert out == "script: |\n  #!/bin/sh\n  set -eu\n  echo done\n"


@pytest.mark.parametrize("text", ["trailing \nspace", "tab\there\n", "cr\r\nlf", "nel\x85x", "ls\u2028x"])
def test_multiline_strings_a_block_cannot_hold_are_double_quoted(text: str) -> None:
    out = dump_document({"v": text})
    assert out.startswith('v: "')
    assert roundtrip([{"v": text}]) == [{"v": text}]


def test_no_anchors_even_for_shared_objects() -> None:
    shared = {"name": "x", "items": [1, 2]}
    out = dump_documents([{"a": shared, "b": shared, "c": [shared, shared]}])
    assert "&" not in out and "*" not in out
    assert roundtrip([{"a": shared, "b": shared, "c": [shared, shared]}])[0]["c"] == [shared, shared]


def test_long_lines_are_not_folded() -> None:
    long_text = " ".join(["word"] * 200)
    out = dump_document({"v": long_text, "q": "yes " * 100})
    assert len(out.splitlines()) == 2


def test_sequences_are_indented_under_their_key() -> None:
    out = dump_document({"containers": [{"name": "a", "args": ["x"]}]})
    assert out == "containers:\n  - name: a\n    args:\n      - x\n"


def test_unicode_is_written_as_is() -> None:
    assert dump_document({"v": "naïve ✓ 日本"}) == "v: naïve ✓ 日本\n"


def test_ir_friendly_inputs_are_converted() -> None:
    class Color(enum.StrEnum):
        RED = "red"

    class Level(enum.IntEnum):
        HIGH = 3

    doc = MappingProxyType({"t": (1, ("a", Color.RED)), "level": Level.HIGH})
    assert yaml.safe_load(dump_document(doc)) == {"t": [1, ["a", "red"]], "level": 3}


def test_unknown_types_are_reported_with_their_path() -> None:
    with pytest.raises(TypeError, match=r"document 0\.spec\.x\[1\]: cannot write a set"):
        dump_documents([{"spec": {"x": [1, {2}]}}])
    with pytest.raises(TypeError, match="document 0 is a list"):
        dump_documents([[1]])  # type: ignore[list-item]


# --- round trip over arbitrary JSON ---------------------------------------------------------

_text = st.one_of(
    st.sampled_from(TRICKY_SCALARS),
    st.text(),
    # Biased towards the characters that decide a scalar's style.
    st.text(alphabet=st.sampled_from(list("ab \n\t\r#:-'\"|>{}[],&*!%@`?~=.0123456789eE+_xo\x85\u2028é✓"))),
    st.lists(st.sampled_from(["line", "", " ", "  indented", "trailing ", "\t", "yes", "- x"]))
    .map("\n".join),
)
_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), _text,
)
_json = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(_text, children, max_size=4),
    ),
    max_leaves=20,
)
_documents = st.lists(st.dictionaries(_text, _json, max_size=5), max_size=3)


@settings(max_examples=400, deadline=None)
@given(_documents)
def test_roundtrip_arbitrary_documents(docs: list[dict[str, Any]]) -> None:
    assert roundtrip(docs) == docs


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_text, _json, max_size=5))
def test_roundtrip_single_document(doc: dict[str, Any]) -> None:
    assert yaml.safe_load(dump_document(doc)) == doc
