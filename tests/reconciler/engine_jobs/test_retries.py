"""Issue 5 acceptance (2): scripted failures. Retries succeed on the right attempt with the right
count and exponential backoff; exhausted retries fail the workflow with the last message, and
dependent steps never run. Also how an attempt's outcome is read (messages, outputs limits)."""

from __future__ import annotations

import sys
from pathlib import Path

from jobs_engine_harness import Harness, echo_step, outcomes, workflow

from reconciler.app import AppConfig
from reconciler.clock import parse_rfc3339
from reconciler.engines.jobs import AttemptSettings
from reconciler.engines.jobs.outputs import OUTPUTS_TOO_LARGE
from reconciler.simulation.wiring import simulated_pods
from reconciler.status import NOT_RUN_WORKFLOW_FAILED
from reconciler.verification import ImagePolicy
from reconciler.workqueue import Backoff


def thing(name: str, **fields: object) -> str:
    return echo_step(name, action_type="custom/thing", **fields)  # type: ignore[arg-type]


def history(h: Harness, step: str) -> list[dict[str, object]]:
    (ae,) = [a for a in h.objects("ActionExecution") if a["spec"]["step"] == step]
    return list(ae["status"]["attemptHistory"])


def gap(later: object, earlier: object) -> float:
    return (parse_rfc3339(str(later)) - parse_rfc3339(str(earlier))).total_seconds()


def test_retries_succeed_on_the_scripted_attempt_with_exponential_backoff() -> None:
    h = Harness(outcomes=outcomes("""
        steps:
          flaky:
            - {result: failed, message: "connection reset", duration: 2s}
            - {result: failed, message: "502 from the git server"}
            - {result: succeeded, outputs: {sha: abc123}, duration: 3s}
    """))
    consumer = thing("after", inputs={"sha": "$(steps.flaky.outputs.sha)"})
    h.create(workflow("retry", thing("flaky", retries=3) + consumer))
    assert h.run()
    assert h.steps("retry") == {"flaky": ("Succeeded", 3), "after": ("Succeeded", 1)}
    assert h.step("retry", "flaky")["outputs"] == {"sha": "abc123"}
    (after,) = [a for a in h.objects("ActionExecution") if a["spec"]["step"] == "after"]
    assert after["spec"]["resolvedInputs"] == {"sha": "abc123"}
    entries = history(h, "flaky")
    assert [(e["attempt"], e["phase"], e["message"]) for e in entries] == [
        (1, "Failed", "connection reset"), (2, "Failed", "502 from the git server"), (3, "Succeeded", None)]
    assert [e["job"] for e in entries] == ["retry-flaky-1", "retry-flaky-2", "retry-flaky-3"]
    # Backoff base 1s, factor 2: attempt 2 starts 1s after attempt 1 failed, attempt 3 2s after 2.
    assert gap(entries[1]["startTime"], entries[0]["completionTime"]) == 1
    assert gap(entries[2]["startTime"], entries[1]["completionTime"]) == 2
    created = [(j.label("kubernaut.ai/step"), j.label("kubernaut.ai/attempt")) for j in h.job_creations()]
    assert created == [("flaky", "1"), ("flaky", "2"), ("flaky", "3"), ("after", "1")]


def test_backoff_is_configurable_and_capped() -> None:
    config = AppConfig(image_policy=ImagePolicy("skip"), pod_lookup=simulated_pods,
                       attempts=AttemptSettings(backoff=Backoff(base=2.0, factor=3.0, cap=10.0)))
    h = Harness(config=config, outcomes=outcomes("""
        steps:
          s: [{result: failed}, {result: failed}, {result: failed}, {result: succeeded}]
    """))
    h.create(workflow("capped", thing("s", retries=5)))
    assert h.run()
    entries = history(h, "s")
    gaps = [gap(entries[i + 1]["startTime"], entries[i]["completionTime"]) for i in range(3)]
    assert gaps == [2, 6, 10]
    assert h.steps("capped") == {"s": ("Succeeded", 4)}


def test_exhausted_retries_fail_the_workflow_and_dependents_never_run() -> None:
    h = Harness(outcomes=outcomes("""
        steps:
          bad:
            - {result: failed, message: "first try"}
            - {result: failed, message: "disk full", exitCode: 3}
          slow: [{result: succeeded, outputs: {done: true}, duration: 60s}]
    """))
    h.create(workflow("exhaust", "".join([
        thing("bad", retries=1),
        thing("slow"),
        thing("needs-bad", after=["bad"]),
        thing("uses-bad", inputs={"v": "$(steps.bad.outputs.x)"}),
        thing("needs-slow", after=["slow"]),
    ])))
    assert h.run()
    status = h.status("exhaust")
    assert (status["phase"], status["message"]) == ("Failed", "disk full")
    assert h.steps("exhaust") == {"bad": ("Failed", 2), "slow": ("Succeeded", 1), "needs-bad": ("Skipped", 0),
                                  "uses-bad": ("Skipped", 0), "needs-slow": ("Skipped", 0)}
    assert h.step("exhaust", "bad")["message"] == "disk full"
    for name in ("needs-bad", "uses-bad", "needs-slow"):
        assert h.step("exhaust", name)["message"] == NOT_RUN_WORKFLOW_FAILED
    # The running step finished (running steps are not killed by a failure), and nothing after
    # the failure got an ActionExecution or a Job.
    assert h.step("exhaust", "slow")["outputs"] == {"done": True}
    assert {a["spec"]["step"] for a in h.objects("ActionExecution")} == {"bad", "slow"}
    assert {j.label("kubernaut.ai/step") for j in h.job_creations()} == {"bad", "slow"}
    # The workflow ended only once the running step had finished.
    assert status["completionTime"] == h.step("exhaust", "slow")["completionTime"]


def test_failure_message_is_the_last_lines_of_stderr_not_stdout(tmp_path: Path) -> None:
    script = tmp_path / "crash.py"
    script.write_text("import sys\nprint('{\"partial\": 1}')\n"
                      "sys.stderr.write('one\\ntwo\\nTraceback (most recent call last):\\n  File x\\n\\n"
                      "  line\\nerror: cannot reach the API server\\n')\nsys.exit(2)\n")
    h = Harness(entrypoints={"custom/crash": (sys.executable, str(script))})
    h.create(workflow("crash", echo_step("c", action_type="custom/crash")))
    assert h.run()
    # The last 5 non-blank stderr lines (docs/running.md, "Failure details"); what it printed on
    # stdout before failing is not its reason.
    expected = "two\nTraceback (most recent call last):\n  File x\n  line\nerror: cannot reach the API server"
    assert h.step("crash", "c")["message"] == expected
    assert h.step("crash", "c")["failure"] == {"reason": "ActionFailed", "exitCode": 2, "message": expected,
                                               "retryable": True}
    assert h.status("crash")["message"] == expected
    assert h.status("crash")["failureDetails"]["step"] == "c"


def test_a_silent_failure_reports_the_exit_code(tmp_path: Path) -> None:
    script = tmp_path / "silent.py"
    script.write_text("import sys\nsys.exit(7)\n")
    h = Harness(entrypoints={"custom/silent": (sys.executable, str(script))})
    h.create(workflow("silent", echo_step("c", action_type="custom/silent")))
    assert h.run()
    assert h.step("silent", "c")["message"] == "the action exited with code 7"


def _printing(tmp_path: Path, text: str) -> Harness:
    script = tmp_path / "print.py"
    script.write_text(f"print({text!r})\n")
    return Harness(entrypoints={"custom/print": (sys.executable, str(script))})


def test_outputs_over_4096_bytes_fail_the_attempt(tmp_path: Path) -> None:
    h = _printing(tmp_path, '{"blob": "' + "x" * 5000 + '"}')
    h.create(workflow("big", echo_step("p", action_type="custom/print", retries=1)))
    assert h.run()
    step = h.step("big", "p")
    assert (step["phase"], step["attempts"]) == ("Failed", 2)
    assert step["message"].startswith(OUTPUTS_TOO_LARGE)


def test_outputs_must_be_one_json_object(tmp_path: Path) -> None:
    h = _printing(tmp_path, "[1, 2]")
    h.create(workflow("list", echo_step("p", action_type="custom/print")))
    assert h.run()
    assert h.step("list", "p")["message"] == "outputs of step 'p' must be one JSON object, not list"


def test_no_output_at_all_is_an_empty_object(tmp_path: Path) -> None:
    h = _printing(tmp_path, "")
    h.create(workflow("empty", echo_step("p", action_type="custom/print")))
    assert h.run()
    assert h.step("empty", "p")["outputs"] == {}
    assert h.status("empty")["phase"] == "Succeeded"


# -- outputs later steps read are the producer's promise ---------------------------------------------

PROMISE = """
    steps:
      produce:
        - {result: succeeded, outputs: {other: 1}}
        - {result: succeeded, outputs: {sha: abc123, ready: true}}
"""


def _promise_workflow(name: str, retries: int) -> dict[str, object]:
    return workflow(name, thing("produce", retries=retries)
                    + thing("consume", inputs={"sha": "$(steps.produce.outputs.sha)"},
                            when=["$(steps.produce.outputs.ready) == true"])
                    + thing("unrelated", after=["produce"]))


def test_an_attempt_without_a_consumed_output_fails_and_the_retry_provides_it() -> None:
    h = Harness(outcomes=outcomes(PROMISE))
    h.create(_promise_workflow("promise", retries=1))
    assert h.run()
    assert h.steps("promise") == {"produce": ("Succeeded", 2), "consume": ("Succeeded", 1),
                                  "unrelated": ("Succeeded", 1)}
    entries = history(h, "produce")
    assert [(e["attempt"], e["phase"], e["message"]) for e in entries] == [
        (1, "Failed", "step 'produce' did not produce output 'sha' (read by later steps)"), (2, "Succeeded", None)]
    # The ActionExecution carries the keys itself (consumer inputs first, then guards).
    (produce,) = [a for a in h.objects("ActionExecution") if a["spec"]["step"] == "produce"]
    assert produce["spec"]["requiredOutputs"] == ["sha", "ready"]
    (consume,) = [a for a in h.objects("ActionExecution") if a["spec"]["step"] == "consume"]
    assert consume["spec"]["resolvedInputs"] == {"sha": "abc123"} and "requiredOutputs" not in consume["spec"]


def test_without_retries_left_the_producer_fails_and_its_consumers_never_run() -> None:
    h = Harness(outcomes=outcomes("""
        steps:
          produce: [{result: succeeded, outputs: {sha: abc123}}, {result: succeeded, outputs: {}}]
    """))
    h.create(_promise_workflow("broken", retries=1))
    assert h.run()
    missing = "step 'produce' did not produce output 'ready' (read by later steps)"  # sha was there at first
    assert [(e["attempt"], e["phase"], e["message"]) for e in history(h, "produce")] == [
        (1, "Failed", missing), (2, "Failed", "step 'produce' did not produce output 'sha' (read by later steps)")]
    status = h.status("broken")
    assert (status["phase"], status["message"]) == ("Failed", "step 'produce' did not produce output 'sha' "
                                                             "(read by later steps)")
    assert h.steps("broken") == {"produce": ("Failed", 2), "consume": ("Skipped", 0), "unrelated": ("Skipped", 0)}
    assert h.step("broken", "consume")["message"] == h.step("broken", "unrelated")["message"] == NOT_RUN_WORKFLOW_FAILED
    assert {a["spec"]["step"] for a in h.objects("ActionExecution")} == {"produce"}
