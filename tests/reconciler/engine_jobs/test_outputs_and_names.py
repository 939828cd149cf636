"""Reading an attempt's result (termination messages, limits) and the names the V1 engine
computes from strings, which must match the jobs target's."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jobs_engine_harness import echo_step, workflow

from compiler.contracts import load_catalog
from reconciler.compile import compile_object
from reconciler.engines.jobs import names
from reconciler.engines.jobs.outputs import (
    OUTPUTS_TOO_LARGE,
    OutputsError,
    Terminated,
    attempt_failure,
    parse_outputs,
    terminated_state,
)
from targets import jobs as target
from targets.tekton import runtime


@pytest.mark.parametrize(("message", "outputs"), [
    ('{"a": 1}', {"a": 1}),
    ('  {"a": null, "b": [true]}\n', {"a": None, "b": [True]}),
    ("", {}),
    ("\n  \n", {}),
    ('{"ü": "ß"}', {"ü": "ß"}),
])
def test_outputs_are_one_json_object(message: str, outputs: dict[str, object]) -> None:
    assert parse_outputs(message, "s") == outputs


@pytest.mark.parametrize(("message", "error"), [
    ("[1]", "outputs of step 's' must be one JSON object, not list"),
    ('"text"', "outputs of step 's' must be one JSON object, not str"),
    ("not json", "outputs of step 's' are not valid JSON: "),
    ('{"a": NaN}', "outputs of step 's' are not valid JSON: NaN is not JSON"),
    ('{"a": "' + "x" * 5000 + '"}', OUTPUTS_TOO_LARGE),
    ('{"a": "' + "x" * 4200, OUTPUTS_TOO_LARGE),
])
def test_bad_outputs_are_reported(message: str, error: str) -> None:
    with pytest.raises(OutputsError) as caught:
        parse_outputs(message, "s")
    assert caught.value.message.startswith(error)


def test_a_truncated_termination_message_is_reported_as_too_large() -> None:
    truncated = ('{"a": "' + "x" * 5000)[:4096]
    with pytest.raises(OutputsError, match="truncated"):
        parse_outputs(truncated, "s")


def test_exactly_4096_bytes_of_valid_json_are_fine() -> None:
    text = json.dumps({"a": "x" * (4096 - 9)})
    assert len(text.encode()) == 4096
    assert parse_outputs(text, "s") == {"a": "x" * 4087}


def test_failure_messages_and_reasons() -> None:
    deadline = {"type": "Failed", "reason": "DeadlineExceeded", "message": "Job was active longer..."}
    backoff = {"type": "Failed", "reason": "BackoffLimitExceeded", "message": "Job has reached the limit"}
    policy = {"type": "Failed", "reason": "PodFailurePolicy", "message": "Container action ... FailJob rule"}
    said = Terminated(1, "Traceback...\n  line\nerror: no route to host\n")
    timed_out = attempt_failure(2, 30, deadline, said)
    assert (timed_out.reason, timed_out.message, timed_out.exit_code) == ("DeadlineExceeded",
                                                                         "attempt 2 timed out after 30s", None)
    # The script's last stderr lines are the message (docs/running.md, "Failure details").
    failed = attempt_failure(1, 30, backoff, said)
    assert (failed.reason, failed.message, failed.exit_code, failed.retryable) == (
        "ActionFailed", "Traceback...\n  line\nerror: no route to host", 1, True)
    assert attempt_failure(1, 30, backoff, Terminated(137, "")).message == "the action exited with code 137"
    oom = attempt_failure(1, 30, backoff, Terminated(137, "", "OOMKilled"))
    assert (oom.reason, oom.message) == ("OOMKilled", "the action ran out of memory and was killed (exit code 137)")
    stopped = attempt_failure(1, 30, policy, Terminated(3, "not found\n"))
    assert (stopped.reason, stopped.retryable, stopped.exit_code) == ("ActionFailed", False, 3)
    assert attempt_failure(1, 30, backoff, None).message == "Job has reached the limit"
    assert attempt_failure(3, 30, None, None).message == "attempt 3 failed"


def test_the_newest_terminated_action_container_wins() -> None:
    def pod(finished: str, message: str, name: str = "action") -> dict[str, Any]:
        return {"status": {"containerStatuses": [
            {"name": "sidecar", "state": {"terminated": {"exitCode": 0, "finishedAt": finished}}},
            {"name": name, "state": {"terminated": {"exitCode": 1, "message": message, "finishedAt": finished}}}]}}

    pods: list[dict[str, Any]] = [pod("2026-01-01T00:00:05Z", "old"), pod("2026-01-01T00:00:09Z", "new"),
                                  {"status": {}}]
    state = terminated_state(pods)
    assert state is not None and (state.message, state.exit_code) == ("new", 1)
    assert terminated_state([{"status": {"containerStatuses": [{"name": "action", "state": {"running": {}}}]}}]) \
        is None


@pytest.mark.parametrize(("wf_name", "step"), [
    ("fix", "clone"),
    ("a" * 60, "step-with-a-long-name"),
    ("payment-oom-" + "x" * 40, "s" * 63),
])
def test_names_match_the_jobs_target(wf_name: str, step: str) -> None:
    compiled = compile_object(workflow(wf_name, echo_step(step, usesWorkspace=True)), load_catalog()[0])
    wf = compiled.workflow
    assert wf is not None, compiled.render()
    ir_step = wf.steps[0]
    assert names.action_execution_name(wf_name, step) == target.action_execution_name(wf, ir_step)
    for attempt in (1, 2, 10):
        assert names.job_name(names.action_execution_name(wf_name, step), attempt) == \
            target.job_name(wf, ir_step, attempt)
    assert names.workspace_claim_name(wf_name) == target.workspace_claim_name(wf)
    job = target.job_for_attempt(wf, ir_step, 1, {})
    assert names.step_key(job)[0].name == names.action_execution_name(wf_name, step)
    assert names.step_key({"metadata": {"labels": {}}}) == []


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                                                      max_size=3), max_leaves=6)
PRINTED = st.one_of(JSON_VALUES.map(json.dumps), st.text(max_size=20),
                    st.sampled_from(["", " \n", '{"a": NaN}', '{"a": 1} {}', '{"a": Infinity}']))


@given(PRINTED)
def test_v1_reads_outputs_exactly_as_v2_publishes_them(printed: str) -> None:
    """One decoder for both engines: the same text gives the same outputs or the same message."""
    try:
        v1: object = parse_outputs(printed, "s")
    except OutputsError as exc:
        v1 = exc.message
    try:
        text, _ = runtime.publish(printed, [], "s")
        v2: object = json.loads(text)
    except runtime.TaskError as exc:
        v2 = exc.message
    assert v1 == v2


def test_a_disrupted_pod_never_decides_the_outcome_of_its_job() -> None:
    # Both pods of a Job ended in the same second: the one the podFailurePolicy Ignore rule let go
    # (evicted) and the one that ran the attempt after it.
    evicted = {"status": {"conditions": [{"type": "DisruptionTarget", "status": "True"}], "containerStatuses": [
        {"name": "action", "state": {"terminated": {"exitCode": 137, "finishedAt": "2026-01-01T00:00:05Z"}}}]}}
    ran = {"status": {"containerStatuses": [
        {"name": "action", "state": {"terminated": {"exitCode": 0, "message": '{"a":1}',
                                                    "finishedAt": "2026-01-01T00:00:05Z"}}}]}}
    for pods in ([ran, evicted], [evicted, ran]):
        state = terminated_state(pods, complete=True)
        assert state is not None and (state.exit_code, state.message) == (0, '{"a":1}')
        state = terminated_state(pods)
        assert state is not None and state.exit_code == 0
    assert terminated_state([evicted], complete=True) is None
    only = terminated_state([evicted])
    assert only is not None and only.exit_code == 137
