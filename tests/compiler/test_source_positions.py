"""Positions of nodes, and of characters inside strings, in every scalar style."""

from __future__ import annotations

from compiler.source import load_documents

TEXT = """\
a:
  plain: x $(y) z
  single: 'it''s $(y)'
  double: "tab\\t $(y)"
  block: |
    first line
    second $(y) here
  list:
    - one
    - two
"""


def positions():  # type: ignore[no-untyped-def]
    docs, problems, _ = load_documents("p.yaml", TEXT.encode())
    assert problems == []
    return docs[0]


def test_value_and_key_spans() -> None:
    doc = positions()
    assert (doc.span(("a", "plain")).line, doc.span(("a", "plain")).col) == (2, 10)
    assert (doc.key_span(("a", "plain")).line, doc.key_span(("a", "plain")).col) == (2, 3)
    assert (doc.span(("a", "list", 1)).line, doc.span(("a", "list", 1)).col) == (10, 7)


def test_missing_path_falls_back_to_nearest_ancestor() -> None:
    doc = positions()
    assert doc.span(("a", "list", 7)) == doc.span(("a", "list"))


def test_offsets_inside_strings() -> None:
    doc = positions()
    data = doc.data["a"]

    def col(key: str) -> tuple[int, int]:
        offset = data[key].index("$(y)")
        span = doc.span_in_string(("a", key), offset, 4)
        return span.line, span.col

    assert col("plain") == (2, 12)
    assert col("single") == (3, 18)  # '' counts as two source characters
    assert col("double") == (4, 18)  # \t counts as two source characters
    assert col("block") == (7, 12)


def test_timestamps_stay_strings() -> None:
    docs, _, _ = load_documents("t.yaml", b"when: 2026-01-01\n")
    assert docs[0].data == {"when": "2026-01-01"}
