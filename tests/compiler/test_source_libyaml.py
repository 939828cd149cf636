"""compiler.source on LibYAML: the same documents, positions and diagnostics as pure PyYAML.

The loader composes with LibYAML when PyYAML has it and falls back to the pure-Python composer
for texts where the two disagree; these tests load each text both ways and compare everything
the rest of the compiler sees.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler import source

pytestmark = pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML was built without LibYAML")


def both_ways(text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    fast = source.load_documents("f.yaml", text.encode())
    with monkeypatch.context() as patched:
        patched.setattr(source, "_CLoader", None)
        slow = source.load_documents("f.yaml", text.encode())
    return fast, slow


def test_libyaml_is_used_when_available(monkeypatch: pytest.MonkeyPatch) -> None:
    used: list[type] = []
    real = yaml.compose_all

    def spy(stream: str, Loader: type) -> Any:
        used.append(Loader)
        return real(stream, Loader=Loader)

    monkeypatch.setattr(source.yaml, "compose_all", spy)
    source.load_documents("f.yaml", b"a: 1\n")
    assert used == [source._CLoader]


TEXTS = [
    "a:\n  b: 'x''y'\n  c: |\n    hi\n  d: [1, 2]\n  é: ü\n  e: \"q\\t\"\n  f:\n    - x\nz: 1\n",
    # no final line break: LibYAML ends the last nodes on a line of their own
    "a: b", "a:\n  - b", "a: |\n  x", "---\n- ", "?", "a: {b: [c, d]}", "x: y\n >---?b",
    "a: b\r\nc: d", "a: b\rc: d", "a: b\x85c: d", "k: v\u2028w",
    # where LibYAML accepts what PyYAML rejects, or counts columns differently
    "|#", ">#?x", "a: |#\n  x\n", "a:\n\tb: c\n", "a: \"\ufeffx\"\n", "- ?...'\t,#",
    # errors keep PyYAML's wording and place
    "a: b: c\n", "a: [1, 2\n", "- a\nb: c\n", "a: 'x\n", "\x01", "a: *nope\n",
    # documents that are not mappings, empty ones, duplicates
    "- 1\n", "x\n", "", "---\n---\n", "a: 1\na: 2\n", "? [a]\n: 1\n", "a: 1\n---\nb: 2\n...\n",
]


@pytest.mark.parametrize("text", TEXTS)
def test_same_result_both_ways(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, slow = both_ways(text, monkeypatch)
    assert fast == slow


_PIECES = ["a", "b", "1", " ", "  ", "\n", "\n  ", "\n- ", ": ", ":", "-", "'", '"', "|", ">", "#", "[",
           "]", "{", "}", ",", "&x ", "*x", "!!str ", "?", "\\", "é", "\r\n", "\r", "...", "---", "%",
           "|-\n  ", "x: y\n", "  - z\n", "!t ", "@", "😀", "\t", "\x85", "\u2028", "\ufeff", "\\t"]


@pytest.mark.slow
@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=25).map("".join))
def test_same_result_both_ways_for_random_texts(text: str) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        fast, slow = both_ways(text, monkeypatch)
    assert fast == slow
