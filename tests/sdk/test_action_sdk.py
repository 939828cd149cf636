"""kubernaut.sdk: dual input mode, contract checks, one JSON object out, clean failures."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from compiler.contracts import ActionContract
from kubernaut.sdk import (
    MAX_OUTPUT_BYTES,
    ActionError,
    InputError,
    action,
    check_inputs,
    encode_outputs,
    load_contract,
    read_inputs,
    run_action,
)


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def contract(**spec: Any) -> ActionContract:
    return ActionContract.model_validate({"apiVersion": "kubernaut.ai/v1alpha1", "kind": "ActionContract",
                                          "metadata": {"name": "test/scale"}, "spec": spec})


SCALE = contract(inputs=[
    {"name": "deployment", "type": "string", "required": True},
    {"name": "replicas", "type": "integer", "required": True},
    {"name": "ratio", "type": "number", "default": 0.5},
    {"name": "dryRun", "type": "boolean", "default": False},
    {"name": "labels", "type": "object"},
    {"name": "targets", "type": "array"},
])


def run(handler: Any, *, env: str | None = None, stdin: io.StringIO | None = None,
        contract: Any = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    environ = {} if env is None else {"ACTION_INPUTS": env}
    code = run_action(handler, contract=contract, environ=environ,
                      stdin=stdin if stdin is not None else FakeTTY(), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def identity(inputs: dict[str, Any]) -> dict[str, Any]:
    return inputs


# -- input modes --------------------------------------------------------------------------------


def test_env_mode() -> None:
    assert run(identity, env='{"a": 1}') == (0, '{"a":1}\n', "")


def test_env_wins_over_stdin() -> None:
    _, out, _ = run(identity, env='{"from": "env"}', stdin=io.StringIO('{"from": "stdin"}'))
    assert json.loads(out) == {"from": "env"}


def test_stdin_mode_when_env_is_unset_or_blank() -> None:
    assert run(identity, stdin=io.StringIO('{"b": [1, 2]}'))[1] == '{"b":[1,2]}\n'
    assert run(identity, env="  \n", stdin=io.StringIO('{"b": true}'))[1] == '{"b":true}\n'


def test_no_inputs_at_all() -> None:
    code, out, err = run(identity)  # no env, stdin is a terminal
    assert (code, out) == (1, "")
    assert err == "error: no inputs: set ACTION_INPUTS to a JSON object or pipe one on stdin\n"
    code, _, err = run(identity, stdin=io.StringIO(""))
    assert code == 1 and "stdin is empty" in err


def test_invalid_json_names_the_source_and_position() -> None:
    code, out, err = run(identity, env='{"a": }')
    assert (code, out) == (1, "")
    assert err == "error: inputs from $ACTION_INPUTS are not valid JSON: Expecting value (line 1, column 7)\n"
    assert "from stdin" in run(identity, stdin=io.StringIO("nope"))[2]


@pytest.mark.parametrize(("raw", "kind"), [("[1]", "an array"), ('"s"', "a string"), ("3", "a number"),
                                           ("null", "null"), ("true", "a boolean")])
def test_inputs_must_be_an_object(raw: str, kind: str) -> None:
    code, _, err = run(identity, env=raw)
    assert code == 1 and err == f"error: inputs from $ACTION_INPUTS must be a JSON object, not {kind}\n"


def test_read_inputs_defaults_to_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACTION_INPUTS", '{"x": "é"}')
    assert read_inputs() == {"x": "é"}


# -- contracts ----------------------------------------------------------------------------------


def test_contract_applies_defaults_and_accepts_valid_types() -> None:
    inputs = check_inputs({"deployment": "web", "replicas": 3, "targets": [], "labels": None}, SCALE)
    # A null input counts as absent; a falsy default (False) is still a default.
    assert inputs == {"deployment": "web", "replicas": 3, "ratio": 0.5, "dryRun": False, "targets": []}
    assert check_inputs({"deployment": "web", "replicas": 3.0, "ratio": 1}, SCALE)["replicas"] == 3.0


def test_contract_violations_are_all_reported_at_once() -> None:
    with pytest.raises(InputError) as caught:
        check_inputs({"replicas": "3", "ratio": True, "labels": [], "targets": {}, "replica": 1}, SCALE)
    assert str(caught.value) == (
        "invalid inputs for test/scale: missing required input 'deployment'; "
        "input 'replicas' must be an integer, not a string; input 'ratio' must be a number, not a boolean; "
        "input 'labels' must be an object, not an array; input 'targets' must be an array, not an object; "
        "unknown input 'replica' (did you mean 'replicas'?)")


def test_booleans_are_not_integers_and_fractions_are_not_integers() -> None:
    with pytest.raises(InputError, match="'replicas' must be an integer, not a boolean"):
        check_inputs({"deployment": "d", "replicas": True}, SCALE)
    with pytest.raises(InputError, match="'replicas' must be an integer, not a number"):
        check_inputs({"deployment": "d", "replicas": 2.5}, SCALE)


def test_additional_inputs_allowed_when_the_contract_says_so() -> None:
    open_contract = contract(additionalInputs=True, inputs=[{"name": "a", "required": True}])
    assert check_inputs({"a": "x", "anything": 1}, open_contract) == {"a": "x", "anything": 1}


def test_contract_violation_through_run_action() -> None:
    code, out, err = run(identity, env='{"deployment": 1}', contract=SCALE)
    assert (code, out) == (1, "")
    assert err.startswith("error: invalid inputs for test/scale: input 'deployment' must be a string")


def test_contract_from_a_file_and_from_the_builtin_catalog(tmp_path: Path) -> None:
    path = tmp_path / "contract.yaml"
    path.write_text("apiVersion: kubernaut.ai/v1alpha1\nkind: ActionContract\nmetadata: {name: t/x}\n"
                    "spec:\n  inputs: [{name: n, type: integer, default: 2}]\n")
    assert run(identity, env="{}", contract=path)[1] == '{"n":2}\n'
    assert load_contract("kubernaut/echo").spec.outputsFromInputs
    with pytest.raises(ValueError, match="no built-in contract"):
        load_contract("no/such-action")


# -- outputs and failures -----------------------------------------------------------------------


def test_exactly_one_compact_json_object_with_unicode_kept() -> None:
    code, out, err = run(lambda i: {"msg": "héllo ✓", "n": 1.5, "ok": None}, env="{}")
    assert (code, out, err) == (0, '{"msg":"héllo ✓","n":1.5,"ok":null}\n', "")


def test_handler_returning_none_means_no_outputs() -> None:
    assert run(lambda i: None, env="{}")[1] == "{}\n"


@pytest.mark.parametrize(("result", "message"), [
    ([1, 2], "must return a JSON object of outputs, not an array"),
    ("text", "must return a JSON object of outputs, not a string"),
    ({"when": object()}, "outputs are not JSON data"),
    ({"x": float("nan")}, "outputs are not JSON data"),
])
def test_outputs_that_cannot_be_sent(result: Any, message: str) -> None:
    code, out, err = run(lambda i: result, env="{}")
    assert (code, out) == (1, "") and message in err


def test_oversize_outputs_are_refused_with_a_clear_error() -> None:
    # The limit holds the printed text, newline included (the kubelet keeps the last 4096 bytes).
    at_limit = {"v": "x" * (MAX_OUTPUT_BYTES - 1 - len('{"v":""}'))}
    assert len(encode_outputs(at_limit).encode()) == MAX_OUTPUT_BYTES - 1
    code, out, _ = run(lambda i: at_limit, env="{}")
    assert code == 0 and len(out.encode()) == MAX_OUTPUT_BYTES
    code, out, err = run(lambda i: {"v": "é" * 2100}, env="{}")  # 2100 characters, 4208 bytes
    assert (code, out) == (1, "")
    assert err == ("error: outputs are 4208 bytes; with the newline that ends them they exceed the 4096-byte "
                   "termination-message limit (at most 4095 bytes of JSON; write large data to the workspace "
                   "instead)\n")


def test_action_error_is_a_clean_one_line_failure() -> None:
    def handler(inputs: dict[str, Any]) -> dict[str, Any]:
        raise ActionError("deployment web not found in namespace prod")

    assert run(handler, env="{}") == (1, "", "error: deployment web not found in namespace prod\n")


def test_unexpected_exceptions_print_a_traceback_then_the_message_last() -> None:
    def handler(inputs: dict[str, Any]) -> dict[str, Any]:
        return {"x": inputs["missing"]}

    code, out, err = run(handler, env="{}")
    assert (code, out) == (1, "")
    assert "Traceback" in err
    assert err.splitlines()[-1] == "error: KeyError: 'missing'"


def test_decorator_keeps_the_function_callable_and_runs_as_entrypoint(monkeypatch: pytest.MonkeyPatch,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    @action(contract=SCALE)
    def scale(inputs: dict[str, Any]) -> dict[str, Any]:
        return {"replicas": inputs["replicas"] * 2}

    assert scale({"replicas": 2}) == {"replicas": 4}  # unit-testable without any I/O
    monkeypatch.setenv("ACTION_INPUTS", '{"deployment": "web", "replicas": 3}')
    with pytest.raises(SystemExit) as exited:
        scale.run()
    assert exited.value.code == 0
    assert capsys.readouterr().out == '{"replicas":6}\n'
    monkeypatch.setenv("ACTION_INPUTS", '{"deployment": "web"}')
    with pytest.raises(SystemExit) as exited:
        scale.run()
    assert exited.value.code == 1
    assert "missing required input 'replicas'" in capsys.readouterr().err
