"""``targets.common.outputs``: the one decoder of an action's printed outputs and the check of the
keys later steps read, shared by V1 (termination message) and V2 (``publish-outputs``)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from targets.common.outputs import (
    OUTPUTS_LIMIT,
    OUTPUTS_TOO_LARGE,
    OutputsError,
    OutputsProblem,
    check_required_outputs,
    decode_outputs,
    missing_output_message,
)


@pytest.mark.parametrize("printed", ["", "   ", "\n\t\n"])
def test_printing_nothing_means_no_outputs(printed: str) -> None:
    assert decode_outputs(printed, "s") == {}


def test_one_object_surrounded_by_whitespace() -> None:
    assert decode_outputs('\n {"a": [1, null], "b": "é"} \n', "s") == {"a": [1, None], "b": "é"}


@pytest.mark.parametrize(("printed", "problem", "message"), [
    ('{"a": NaN}', OutputsProblem.NOT_JSON, "outputs of step 's' are not valid JSON: NaN is not JSON"),
    ('{"a": -Infinity}', OutputsProblem.NOT_JSON, "outputs of step 's' are not valid JSON: -Infinity is not JSON"),
    ("{'a': 1}", OutputsProblem.NOT_JSON, "outputs of step 's' are not valid JSON"),
    ('{"a": 1} {"b": 2}', OutputsProblem.NOT_JSON, "outputs of step 's' are not valid JSON"),
    ("[1]", OutputsProblem.NOT_AN_OBJECT, "outputs of step 's' must be one JSON object, not list"),
    ('"text"', OutputsProblem.NOT_AN_OBJECT, "outputs of step 's' must be one JSON object, not str"),
    ("null", OutputsProblem.NOT_AN_OBJECT, "outputs of step 's' must be one JSON object, not NoneType"),
])
def test_anything_but_one_json_object_is_refused(printed: str, problem: OutputsProblem, message: str) -> None:
    with pytest.raises(OutputsError) as raised:
        decode_outputs(printed, "s")
    assert raised.value.problem is problem
    assert raised.value.message.startswith(message)


def test_the_limit_is_4096_bytes_of_the_printed_text() -> None:
    head = json.dumps({"a": "é" * ((OUTPUTS_LIMIT - 10) // 2)}, ensure_ascii=False)[:-1]
    fits = head + " " * (OUTPUTS_LIMIT - len(head.encode()) - 1) + "}"  # JSON whitespace inside
    assert len(fits.encode()) == OUTPUTS_LIMIT
    assert decode_outputs(fits, "s")
    # A trailing newline counts: the kubelet would keep the last 4096 bytes and lose the '{' (#15).
    with pytest.raises(OutputsError) as newline:
        decode_outputs(f"{fits}\n", "s")
    assert newline.value.problem is OutputsProblem.TOO_LARGE
    assert decode_outputs('\n  {"a": 1}\n', "s") == {"a": 1}  # surrounding whitespace is ignored once it fits
    too_large = fits[:-1] + " }"
    with pytest.raises(OutputsError) as raised:
        decode_outputs(too_large, "s")
    assert raised.value.problem is OutputsProblem.TOO_LARGE
    assert raised.value.message == f"{OUTPUTS_TOO_LARGE} ({OUTPUTS_LIMIT + 1} bytes)"


def test_the_first_missing_required_key_is_named() -> None:
    check_required_outputs("p", {"a": None, "b": False}, ["a", "b"])  # present, whatever the value
    with pytest.raises(OutputsError) as raised:
        check_required_outputs("p", {"b": 1}, ["c", "b", "a"])
    assert raised.value.problem is OutputsProblem.MISSING_KEY
    assert raised.value.message == missing_output_message("p", "c") == (
        "step 'p' did not produce output 'c' (read by later steps)")


@given(st.dictionaries(st.text(max_size=3), st.integers(), max_size=4), st.lists(st.text(max_size=3), max_size=4))
def test_required_keys_pass_exactly_when_all_are_present(outputs: dict[str, int], required: list[str]) -> None:
    missing = [key for key in required if key not in outputs]
    if not missing:
        check_required_outputs("p", outputs, required)
        return
    with pytest.raises(OutputsError, match="did not produce output") as raised:
        check_required_outputs("p", outputs, required)
    assert raised.value.message == missing_output_message("p", missing[0])
