"""Run-time resolution: typed whole references, text interpolation, guards, run-time errors."""

from __future__ import annotations

import json

import pytest

from compiler.expressions import (
    JSON,
    Context,
    Guard,
    Literal,
    Reference,
    ResolutionError,
    evaluate_guard,
    guard_literal_texts,
    guard_values,
    parse_guard,
    parse_template,
    resolve_inputs,
    resolve_reference,
    resolve_template,
    skip_message,
    to_text,
)

OBJECT = {"b": [1, 2], "a": {"z": None, "y": "ü"}}
OUTPUTS: dict[str, dict[str, JSON]] = {
    "a": {"s": "text", "n": 3, "f": 2.5, "t": True, "no": False, "nil": None, "obj": OBJECT,
          "list": ["x", 1], "u": "ünï ✓", "empty": "", "big": 10**20},
    "b": {},
}
CTX = Context(OUTPUTS, workflow_name="payment-oom-fix", workflow_namespace="production",
              workflow_uid="0b5c-uid", skipped=frozenset({"skipped"}))


def resolve(text: str) -> JSON:
    return resolve_template(parse_template(text), CTX)


# -- to_text --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "text"), [
    ("plain", "plain"), ("", ""), ("ünï", "ünï"), (3, "3"), (-1, "-1"), (2.5, "2.5"), (1.0, "1.0"),
    (True, "true"), (False, "false"), (None, "null"), ([], "[]"), ({}, "{}"),
    ({"b": 1, "a": [True, None]}, '{"a":[true,null],"b":1}'), (["ü", {"k": "v"}], '["ü",{"k":"v"}]'),
    ('quo"te', 'quo"te'), (10**20, "100000000000000000000"),
])
def test_to_text(value: JSON, text: str) -> None:
    assert to_text(value) == text


def test_to_text_is_the_documented_json_rule() -> None:
    value = {"z": [1, 2.5, "é"], "a": {"nested": False}}
    assert to_text(value) == json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


# -- whole references keep their JSON type --------------------------------------------------------

@pytest.mark.parametrize("key", list(OUTPUTS["a"]))
def test_whole_reference_returns_the_exact_object(key: str) -> None:
    assert resolve(f"$(steps.a.outputs.{key})") is OUTPUTS["a"][key]


def test_whole_references_to_identity_and_workspace() -> None:
    assert resolve("$(workflow.name)") == "payment-oom-fix"
    assert resolve("$(workflow.namespace)") == "production"
    assert resolve("$(workflow.uid)") == "0b5c-uid"
    assert resolve("$(workspace.path)") == "/workspace"
    custom = Context({}, "n", "ns", "u", workspace_path="/mnt/ws")
    assert resolve_template(parse_template("$(workspace.path)/x"), custom) == "/mnt/ws/x"


# -- interpolation as text ---------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "value"), [
    ("n=$(steps.a.outputs.n)", "n=3"),
    ("f=$(steps.a.outputs.f)", "f=2.5"),
    ("t=$(steps.a.outputs.t),$(steps.a.outputs.no)", "t=true,false"),
    ("nil=$(steps.a.outputs.nil)", "nil=null"),
    ("obj=$(steps.a.outputs.obj)", 'obj={"a":{"y":"ü","z":null},"b":[1,2]}'),
    ("list=$(steps.a.outputs.list)", 'list=["x",1]'),
    ("[$(steps.a.outputs.s)]", "[text]"),
    ("$(steps.a.outputs.u)!", "ünï ✓!"),
    ("<$(steps.a.outputs.empty)>", "<>"),
    ("$(steps.a.outputs.s)$(steps.a.outputs.n)", "text3"),
    ("$(workflow.namespace)/$(workflow.name)", "production/payment-oom-fix"),
    ("$(workspace.path)/repo", "/workspace/repo"),
    ("$$(echo $(steps.a.outputs.s))", "$(echo text)"),
    ("$$(steps.a.outputs.n)", "$(steps.a.outputs.n)"),
    ("", ""),
    ("no refs at all", "no refs at all"),
])
def test_interpolation(text: str, value: str) -> None:
    assert resolve(text) == value


def test_a_whole_escaped_reference_is_text_not_a_value() -> None:
    assert resolve("$$(steps.a.outputs.n)") == "$(steps.a.outputs.n)"


# -- resolve_inputs ---------------------------------------------------------------------------------

def test_resolve_inputs_nested() -> None:
    inputs: JSON = {
        "count": "$(steps.a.outputs.n)",
        "message": "found $(steps.a.outputs.n) pods in $(workflow.namespace)",
        "$(steps.a.outputs.s)": "keys are never templates",
        "nested": {"list": ["$(steps.a.outputs.obj)", "x=$(steps.a.outputs.t)", 7, None, False]},
        "script": "echo $$(date)",
        "plain": "unchanged",
    }
    assert resolve_inputs(inputs, CTX) == {
        "count": 3,
        "message": "found 3 pods in production",
        "$(steps.a.outputs.s)": "keys are never templates",
        "nested": {"list": [OBJECT, "x=true", 7, None, False]},
        "script": "echo $(date)",
        "plain": "unchanged",
    }


def test_resolve_inputs_keeps_identity_of_whole_values_and_does_not_mutate() -> None:
    inputs: JSON = {"o": "$(steps.a.outputs.obj)", "l": ["$(steps.a.outputs.list)"]}
    before = json.dumps(inputs)
    result = resolve_inputs(inputs, CTX)
    assert isinstance(result, dict)
    assert result["o"] is OBJECT
    assert json.dumps(inputs) == before


def test_resolve_inputs_tuples_become_lists_and_scalars_pass() -> None:
    assert resolve_inputs(("$(steps.a.outputs.n)", 1.5), CTX) == [3, 1.5]  # type: ignore[arg-type]
    assert resolve_inputs(None, CTX) is None
    assert resolve_inputs(12, CTX) == 12


def test_resolved_json_is_byte_identical_between_calls() -> None:
    inputs: JSON = {"b": "$(steps.a.outputs.obj)", "a": "v=$(steps.a.outputs.f)"}
    first = json.dumps(resolve_inputs(inputs, CTX), sort_keys=True)
    assert all(json.dumps(resolve_inputs(inputs, CTX), sort_keys=True) == first for _ in range(3))


# -- run-time errors ---------------------------------------------------------------------------------

def test_missing_output_key_names_what_was_produced() -> None:
    with pytest.raises(ResolutionError) as info:
        resolve("$(steps.a.outputs.missing)")
    produced = ", ".join(sorted(OUTPUTS["a"]))
    assert info.value.message == f"step 'a' has no output 'missing' (it produced: {produced})"
    assert info.value.skipped_step is None
    assert info.value.reference == Reference("step", "a", "missing")


def test_missing_key_of_a_step_without_outputs() -> None:
    with pytest.raises(ResolutionError, match=r"^step 'b' has no output 'x' \(it produced no outputs\)$"):
        resolve("x=$(steps.b.outputs.x)")


def test_skipped_step_is_reported_as_such() -> None:
    with pytest.raises(ResolutionError) as info:
        resolve("$(steps.skipped.outputs.x)")
    assert str(info.value) == "outputs of skipped step 'skipped' are missing"
    assert info.value.skipped_step == "skipped"


def test_unfinished_step() -> None:
    with pytest.raises(ResolutionError, match="outputs of step 'later' are not available"):
        resolve("$(steps.later.outputs.x)")


def test_resolve_inputs_errors_carry_the_input_path() -> None:
    with pytest.raises(ResolutionError) as info:
        resolve_inputs({"a": [{"b": "$(steps.a.outputs.nope)"}]}, CTX)
    assert info.value.path == ("a", 0, "b")
    assert info.value.message.startswith("step 'a' has no output 'nope'")


def test_resolve_inputs_rejects_a_malformed_template_cleanly() -> None:
    with pytest.raises(ResolutionError) as info:
        resolve_inputs({"cmd": ["$(date)"]}, CTX)
    assert info.value.path == ("cmd", 0)
    assert info.value.message == "inputs.cmd[0] is not a valid template: '$(date)' is not a reference"


def test_resolve_reference_directly() -> None:
    assert resolve_reference(Reference("step", "a", "n"), CTX) == 3


# -- guards ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("guard", "expected"), [
    ("$(steps.a.outputs.s) == 'text'", True),
    ("$(steps.a.outputs.s) != 'text'", False),
    ("$(steps.a.outputs.t) == true", True),
    ("$(steps.a.outputs.t) == 'true'", True),  # compared as text
    ("$(steps.a.outputs.n) == 3", True),
    ("$(steps.a.outputs.n) == '3'", True),
    ("$(steps.a.outputs.n) == 3.0", False),  # "3" vs "3.0"
    ("$(steps.a.outputs.f) == 2.5", True),
    ("$(steps.a.outputs.f) == 2.50", True),  # the literal is the number 2.5
    ("$(steps.a.outputs.nil) == null", True),
    ("$(steps.a.outputs.nil) == 'null'", True),
    ("$(steps.a.outputs.empty) == ''", True),
    ("$(steps.a.outputs.u) == 'ünï ✓'", True),
    ("$(steps.a.outputs.obj) == '{\"a\":{\"y\":\"ü\",\"z\":null},\"b\":[1,2]}'", True),
    ("$(steps.a.outputs.n) in [1, 2, 3]", True),
    ("$(steps.a.outputs.n) notin [1, 2, 3]", False),
    ("$(steps.a.outputs.s) in ['x', 'y']", False),
    ("$(steps.a.outputs.s) notin ['x', 'y']", True),
    ("$(workflow.namespace) == 'production'", True),
    ("$(workspace.path) == '/workspace'", True),
    ("'a' in ['a']", True),
    ("true == 'true'", True),
    ("1 != 1", False),
])
def test_evaluate_guard(guard: str, expected: bool) -> None:
    assert evaluate_guard(parse_guard(guard), CTX) is expected


def test_guard_on_a_skipped_step_raises_with_skipped_step() -> None:
    with pytest.raises(ResolutionError) as info:
        evaluate_guard(parse_guard("$(steps.skipped.outputs.x) == 'y'"), CTX)
    assert info.value.skipped_step == "skipped"


def test_guard_on_a_missing_key_fails() -> None:
    with pytest.raises(ResolutionError, match="has no output 'zz'"):
        evaluate_guard(parse_guard("$(steps.a.outputs.zz) == 'y'"), CTX)


def test_unknown_operator_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown guard operator"):
        evaluate_guard(Guard("x", Literal(1), ">", (1,)), CTX)


def test_guard_literal_texts() -> None:
    assert guard_literal_texts(parse_guard("$(steps.a.outputs.x) in ['a', 1, 1.5, true, null]")) == (
        "a", "1", "1.5", "true", "null")


def test_guard_values_match_the_v1_comparison() -> None:
    # What V2's publish-outputs emits and what V1 compares must be the same text.
    texts = guard_values("a", OUTPUTS["a"], ["n", "t", "obj", "s"])
    assert texts == ["3", "true", '{"a":{"y":"ü","z":null},"b":[1,2]}', "text"]
    for key, text in zip(["n", "t", "obj", "s"], texts, strict=True):
        quoted = "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
        assert evaluate_guard(parse_guard(f"$(steps.a.outputs.{key}) in [{quoted}]"), CTX)


def test_guard_values_missing_key_has_the_v1_message() -> None:
    with pytest.raises(ResolutionError) as v2:
        guard_values("a", OUTPUTS["a"], ["missing"])
    with pytest.raises(ResolutionError) as v1:
        evaluate_guard(parse_guard("$(steps.a.outputs.missing) == 1"), CTX)
    assert v2.value.message == v1.value.message


def test_skip_message_names_the_guard() -> None:
    assert skip_message(parse_guard("$(steps.a.outputs.s) == 'x'")) == \
        "when guard is false: $(steps.a.outputs.s) == 'x'"
