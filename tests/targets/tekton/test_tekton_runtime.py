"""``targets.tekton.runtime``: the helper steps' logic (encoding, resolution, publishing, args)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import targets.jobs
from compiler.expressions import Context, ResolutionError, resolve_inputs
from targets.common.outputs import missing_output_message
from targets.tekton import runtime
from targets.tekton.inputs_param import encode_inputs_param
from targets.tekton.interface import ARG_GUARD_KEYS, ARG_UPSTREAM_OUTPUTS, ARG_UPSTREAM_STEPS
from targets.tekton.limits import OUTPUTS_TOO_LARGE

IDENTITY = runtime.WorkflowIdentity("wf", "ns", "uid-1")
SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
JSON_VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
DOLLAR_TEXT = st.text(alphabet=st.sampled_from(list("$$(){}x \\\"\n")), max_size=20)


@settings(max_examples=200)
@given(inputs=st.dictionaries(DOLLAR_TEXT | st.text(max_size=5), JSON_VALUES | DOLLAR_TEXT, max_size=5))
def test_inputs_param_has_no_dollar_and_round_trips(inputs: dict[str, object]) -> None:
    encoded = encode_inputs_param(inputs)
    assert "$" not in encoded
    assert runtime.decode_inputs_param(encoded) == inputs


@pytest.mark.parametrize("text", ["", "[1]", "nope", '"{}"'])
def test_a_malformed_inputs_param_is_a_task_error(text: str) -> None:
    with pytest.raises(runtime.TaskError):
        runtime.decode_inputs_param(text)


def test_resolution_uses_the_v1_resolver() -> None:
    template: Any = {"whole": "$(steps.a.outputs.n)", "text": "n=$(steps.a.outputs.n) $$(keep)",
                "deep": [{"x": "$(steps.a.outputs.obj)"}], "who": "$(workflow.uid)@$(workspace.path)"}
    outputs: Any = {"n": 7, "obj": {"k": [1, None]}}
    published, _ = runtime.publish(json.dumps(outputs), [], "a")
    resolved = runtime.resolve_step_inputs(encode_inputs_param(template), {"a": published}, IDENTITY)
    assert resolved == resolve_inputs(template, Context({"a": outputs}, "wf", "ns", "uid-1"))
    assert resolved == {"whole": 7, "text": "n=7 $(keep)", "deep": [{"x": {"k": [1, None]}}],
                        "who": "uid-1@/workspace"}


def test_a_missing_output_fails_with_the_v1_message() -> None:
    ctx = Context({"a": {"x": 1}}, "wf", "ns", "uid-1")
    template: Any = {"y": "$(steps.a.outputs.y)"}
    with pytest.raises(ResolutionError) as v1:
        resolve_inputs(template, ctx)
    with pytest.raises(ResolutionError) as v2:
        runtime.resolve_step_inputs(encode_inputs_param(template), {"a": '{"x":1}'}, IDENTITY)
    assert v2.value.message == v1.value.message == "step 'a' has no output 'y' (it produced: x)"
    assert v2.value.path == ("y",)


def test_a_malformed_upstream_result_is_a_task_error() -> None:
    with pytest.raises(runtime.TaskError, match="outputs of step 'a' must be one JSON object"):
        runtime.resolve_step_inputs("{}", {"a": "[1]"}, IDENTITY)


@given(st.dictionaries(st.text(max_size=6), JSON_VALUES, max_size=5))
def test_action_inputs_are_the_v1_text(resolved: Any) -> None:
    assert runtime.action_inputs_text(resolved) == targets.jobs.encode_inputs(resolved)


def test_action_inputs_beyond_one_env_var_fail() -> None:
    with pytest.raises(runtime.TaskError, match="ACTION_INPUTS can hold at most"):
        runtime.action_inputs_text({"x": "a" * 131_072})


def test_publish_normalizes_and_hides_dollars() -> None:
    outputs, guards = runtime.publish(' {\n "b": "$(x) $$", "a": [true, null], "n": 1.5 }\n', ["a", "b", "n"], "s")
    assert "$" not in outputs
    assert json.loads(outputs) == {"b": "$(x) $$", "a": [True, None], "n": 1.5}
    assert guards == ["[true,null]", "$(x) $$", "1.5"]  # to_text: guards compare texts


@pytest.mark.parametrize("printed", ["", "  \n"])
def test_no_output_is_an_empty_object(printed: str) -> None:
    assert runtime.publish(printed, [], "s") == ("{}", [])


@pytest.mark.parametrize(("printed", "message"), [
    ("[1, 2]", "must be one JSON object, not list"),
    ("{'a': 1}", "not valid JSON"),
    ('{"a": NaN}', "not valid JSON"),
    ('{"a": 1} {"b": 2}', "not valid JSON"),
])
def test_publish_rejects_what_is_not_one_json_object(printed: str, message: str) -> None:
    with pytest.raises(runtime.TaskError, match=message):
        runtime.publish(printed, [], "s")


def test_a_missing_required_output_fails_with_the_shared_message() -> None:
    with pytest.raises(runtime.TaskError) as raised:
        runtime.publish('{"a": 1, "c": 3}', ["a"], "s", ["a", "b", "c", "d"])
    # The first missing key in the order of first use; V1's ActionExecution controller says the same.
    assert raised.value.message == missing_output_message("s", "b") == (
        "step 's' did not produce output 'b' (read by later steps)")
    assert runtime.publish('{"a": 1, "b": null}', ["a"], "s", ["a", "b"]) == ('{"a":1,"b":null}', ["1"])


def test_a_missing_guard_key_is_a_missing_required_output() -> None:
    # A compiled Pipeline lists guard keys among the required ones; they are checked alike anyway.
    with pytest.raises(runtime.TaskError, match=r"^step 's' did not produce output 'ready' \(read by later steps\)$"):
        runtime.publish('{"a": 1}', ["ready"], "s")


def test_outputs_above_4096_bytes_are_rejected() -> None:
    with pytest.raises(runtime.TaskError) as raised:
        runtime.publish(json.dumps({"blob": "x" * 4100}), [], "s")
    assert raised.value.message.startswith(OUTPUTS_TOO_LARGE)
    assert runtime.publish(json.dumps({"blob": "x" * 3900}), [], "s")[0]


def test_escaping_overhead_counts_against_the_limit() -> None:
    # 3,000 bytes of outputs, but every '"' costs two bytes in the termination message and the
    # guard value repeats the text: well within 4096 for V1's raw check, too large for Tekton.
    printed = json.dumps({"q": '"' * 1490})
    assert len(printed) < 4096
    with pytest.raises(runtime.TaskError, match="as Tekton results"):
        runtime.publish(printed, ["q"], "s")


NAMES = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,10}[a-z0-9])?", fullmatch=True)
KEYS = st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,8}", fullmatch=True)


@given(steps=st.lists(NAMES, unique=True, max_size=4), keys=st.lists(KEYS, max_size=4),
       outputs=st.lists(st.dictionaries(st.text(max_size=4), JSON_VALUES, max_size=3), min_size=4, max_size=4))
def test_array_args_layout_round_trips(steps: list[str], keys: list[str], outputs: list[dict[str, object]]) -> None:
    published = [runtime.publish(json.dumps(o), [], "s")[0] for o in outputs[: len(steps)]]
    # Tekton splices each array param after its marker; an empty array leaves the marker alone.
    argv = [ARG_UPSTREAM_STEPS, *steps, ARG_UPSTREAM_OUTPUTS, *published]
    parts = runtime.parse_array_args(argv, [ARG_UPSTREAM_STEPS, ARG_UPSTREAM_OUTPUTS])
    assert runtime.upstream_results(parts[ARG_UPSTREAM_STEPS], parts[ARG_UPSTREAM_OUTPUTS]) == dict(
        zip(steps, published, strict=True))
    assert runtime.parse_array_args([ARG_GUARD_KEYS, *keys], [ARG_GUARD_KEYS]) == {ARG_GUARD_KEYS: keys}


@pytest.mark.parametrize(("argv", "message"), [
    (["a", ARG_UPSTREAM_STEPS], "comes before"),
    ([ARG_UPSTREAM_STEPS, ARG_UPSTREAM_STEPS], "given twice"),
    (["--other"], "unknown argument"),
])
def test_array_args_errors(argv: list[str], message: str) -> None:
    with pytest.raises(runtime.TaskError, match=message):
        runtime.parse_array_args(argv, [ARG_UPSTREAM_STEPS, ARG_UPSTREAM_OUTPUTS])


def test_upstream_arrays_must_pair_up() -> None:
    with pytest.raises(runtime.TaskError, match="2 upstream step"):
        runtime.upstream_results(["a", "b"], ["{}"])
    with pytest.raises(runtime.TaskError, match="listed twice"):
        runtime.upstream_results(["a", "a"], ["{}", "{}"])
