"""The termination-message arithmetic against a reference: Go's encoder, emulated with json.dumps."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from targets.tekton.limits import (
    MAX_ARG_STRLEN,
    env_value_limit,
    go_json_string_size,
    termination_message_size,
)

# Bytes Go's json.Marshal writes beyond Python's json.dumps(ensure_ascii=False) for a character:
# HTML-safe escapes (1 byte -> 6), JavaScript line separators (3 -> 6), and \b \f as \u0008
# \u000c (2 -> 6; Go >= 1.22 writes \b \f, the estimate stays on the safe side).
_GO_EXTRA = {"<": 5, ">": 5, "&": 5, "\u2028": 3, "\u2029": 3, "\b": 4, "\f": 4}


def go_json_size(text: str) -> int:
    return len(json.dumps(text, ensure_ascii=False).encode("utf-8")) + sum(_GO_EXTRA.get(c, 0) for c in text)


@given(st.text())
def test_string_size_matches_go(text: str) -> None:
    surrogate_free = "".join(c for c in text if not 0xD800 <= ord(c) <= 0xDFFF)
    assert go_json_string_size(surrogate_free) == go_json_size(surrogate_free)


@given(outputs=st.text(), guards=st.text())
def test_message_size_is_the_longest_message(outputs: str, guards: str) -> None:
    started = "2006-01-02T15:04:05.999999999-07:00"
    frame = '[{"key":"StartedAt","value":,"type":3},{"key":"outputs","value":,"type":1},' \
            '{"key":"guardValues","value":,"type":1}]'
    expected = len(frame) + go_json_size(started) + go_json_size(outputs) + go_json_size(guards)
    if not any(0xD800 <= ord(c) <= 0xDFFF for c in outputs + guards):
        assert termination_message_size({"outputs": outputs, "guardValues": guards}) == expected


def test_env_value_limit() -> None:
    assert env_value_limit("ACTION_INPUTS") == MAX_ARG_STRLEN - len("ACTION_INPUTS=") - 1


def test_every_ascii_character_in_a_plain_value_is_counted_as_go_writes_it() -> None:
    # Plain printable ASCII takes a fast path (no loop over the characters): each character
    # inside such a value, and alone, must still count as Go's encoder writes it.
    for code in range(128):
        for text in (chr(code), f"sha256:{chr(code)}abc", f'{{"k": "v{chr(code)}"}}'):
            assert go_json_string_size(text) == go_json_size(text), repr(text)
    assert go_json_string_size("") == 2 and go_json_string_size('{"a": [1, 2]}') == go_json_size('{"a": [1, 2]}')
