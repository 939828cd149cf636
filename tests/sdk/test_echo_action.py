"""kubernaut/echo as a real process: outputs are its inputs, through both input modes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from kubernaut.actions import LOCAL_ENTRYPOINTS
from kubernaut.actions.echo import echo

INPUTS: dict[str, Any] = {"text": "héllo $(not.a.ref) $$(literal)", "n": 3, "f": 1.5, "ok": True,
                          "none": None, "list": [1, "two", {"three": 3}], "nested": {"a": {"b": []}}}


def run_echo(*, env: str | None, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "ACTION_INPUTS"}
    if env is not None:
        environ["ACTION_INPUTS"] = env
    return subprocess.run(list(LOCAL_ENTRYPOINTS["kubernaut/echo"]), env=environ, input=stdin or "",
                          capture_output=True, text=True, timeout=60, check=False)


def test_round_trip_through_action_inputs() -> None:
    done = run_echo(env=json.dumps(INPUTS))
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.count("\n") == 1  # exactly one JSON document
    assert json.loads(done.stdout) == INPUTS


def test_round_trip_through_stdin() -> None:
    done = run_echo(env=None, stdin=json.dumps(INPUTS))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == INPUTS


def test_key_order_is_preserved() -> None:
    assert run_echo(env='{"z": 1, "a": 2}').stdout == '{"z":1,"a":2}\n'


@pytest.mark.parametrize(("env", "stdin", "message"), [
    (None, "", "error: no inputs: ACTION_INPUTS is not set and stdin is empty"),
    ("[1, 2]", None, "error: inputs from $ACTION_INPUTS must be a JSON object, not an array"),
    ("{oops", None, "error: inputs from $ACTION_INPUTS are not valid JSON"),
])
def test_bad_inputs_fail_cleanly(env: str | None, stdin: str | None, message: str) -> None:
    done = run_echo(env=env, stdin=stdin)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip().startswith(message)
    assert "Traceback" not in done.stderr


def test_oversize_echo_fails_with_the_limit_message() -> None:
    done = run_echo(env=json.dumps({"blob": "x" * 5000}))
    assert done.returncode == 1 and done.stdout == ""
    assert "exceed the 4096-byte termination-message limit" in done.stderr


def test_echo_in_process() -> None:
    assert echo(dict(INPUTS)) == INPUTS


def test_local_entrypoints_registry_is_read_only() -> None:
    assert LOCAL_ENTRYPOINTS["kubernaut/echo"] == (sys.executable, "-m", "kubernaut.actions.echo")
    with pytest.raises(TypeError):
        LOCAL_ENTRYPOINTS["x"] = ("y",)  # type: ignore[index]
