"""JobSimulator on MemoryCluster: pods, Job status like the job controller, scripted outcomes,
local entrypoints as subprocesses, deadlines, backoff, restarts and faults — on virtual time."""

from __future__ import annotations

import json
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from reconciler.clock import VirtualClock
from reconciler.cluster import FaultInjector
from reconciler.controller import Key
from reconciler.simulation import Simulation, job_finished, parse_outcomes, pod_name
from reconciler.simulation.jobs import JobSimulator
from targets.jobs import escape_env_value

ECHO = (sys.executable, "-m", "kubernaut.actions.echo")
NS = "ns"


def make_job(
    name: str,
    *,
    step: str | None = None,
    attempt: int = 1,
    inputs: Any = None,
    action: str | None = None,
    deadline: int | None = None,
    backoff_limit: int | None = 0,
    policy: str | None = "FallbackToLogsOnError",
    extra_env: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    labels = {"app.kubernetes.io/managed-by": "kubernaut", "kubernaut.ai/workflow": "wf"}
    if step:
        labels |= {"kubernaut.ai/step": step, "kubernaut.ai/attempt": str(attempt)}
    container: dict[str, Any] = {
        "name": "action", "image": "ghcr.io/kubernaut/echo@sha256:" + "0" * 64,
        # Escaped for the kubelet exactly as the jobs target does ($ -> $$), which expands it back.
        "env": [{"name": "ACTION_INPUTS", "value": escape_env_value(json.dumps(inputs if inputs is not None else {}))},
                *(extra_env or [])],
    }
    if policy:
        container["terminationMessagePolicy"] = policy
    spec: dict[str, Any] = {"template": {"metadata": {"labels": dict(labels)},
                                         "spec": {"restartPolicy": "Never", "containers": [container]}}}
    if backoff_limit is not None:
        spec["backoffLimit"] = backoff_limit
    if deadline is not None:
        spec["activeDeadlineSeconds"] = deadline
    meta: dict[str, Any] = {"name": name, "namespace": NS, "labels": labels}
    if action:
        meta["annotations"] = {"kubernaut.ai/action-type": action}
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta, "spec": spec}


def run_jobs(sim: Simulation, *jobs: dict[str, Any], max_seconds: float = 24 * 3600) -> list[dict[str, Any]]:
    for job in jobs:
        sim.cluster.create(job)
    names = [j["metadata"]["name"] for j in jobs]
    assert sim.run_until(lambda: all(job_finished(get_job(sim, n)) for n in names), max_seconds)
    return [get_job(sim, n) for n in names]


def get_job(sim: Simulation, name: str) -> dict[str, Any]:
    return sim.cluster.get("batch/v1", "Job", name, NS)


def pods_of(sim: Simulation, job: dict[str, Any]) -> list[dict[str, Any]]:
    return sim.cluster.list("v1", "Pod", NS, {"job-name": job["metadata"]["name"]}).items


def conditions(job: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(c["type"], c["status"], c["reason"]) for c in job["status"]["conditions"]]


def terminated(pod: dict[str, Any]) -> dict[str, Any]:
    return pod["status"]["containerStatuses"][0]["state"]["terminated"]


OUTCOMES = parse_outcomes(textwrap.dedent("""
    steps:
      clone:
        - {result: failed, message: "connection reset", duration: 2s}
        - {result: failed, message: "still down", exitCode: 42}
        - {result: succeeded, outputs: {commitSHA: abc123, n: 3}, duration: 3s}
      slow:
        - {result: succeeded, duration: 10m}
""")).outcomes


def test_success_sets_job_and_pod_status_like_the_job_controller() -> None:
    sim = Simulation(outcomes=OUTCOMES)
    (job,) = run_jobs(sim, make_job("wf-clone-3", step="clone", attempt=3))
    status = job["status"]
    assert status["startTime"] == "2026-01-01T00:00:00Z"
    assert status["completionTime"] == "2026-01-01T00:00:03Z"  # start + scripted duration
    assert status["succeeded"] == 1 and "active" not in status and "failed" not in status
    assert status["ready"] == 0 and status["terminating"] == 0 and status["uncountedTerminatedPods"] == {}
    assert conditions(job) == [("SuccessCriteriaMet", "True", "CompletionsReached"),
                               ("Complete", "True", "CompletionsReached")]
    (pod,) = pods_of(sim, job)
    meta = pod["metadata"]
    uid = job["metadata"]["uid"]
    assert meta["name"] == pod_name("wf-clone-3", uid) and meta["name"].startswith("wf-clone-3-")
    assert len(meta["name"]) == len("wf-clone-3-") + 5
    for label, value in {"job-name": "wf-clone-3", "batch.kubernetes.io/job-name": "wf-clone-3",
                         "controller-uid": uid, "batch.kubernetes.io/controller-uid": uid,
                         "kubernaut.ai/step": "clone"}.items():
        assert meta["labels"][label] == value
    assert meta["ownerReferences"] == [{"apiVersion": "batch/v1", "kind": "Job", "name": "wf-clone-3",
                                        "uid": uid, "controller": True, "blockOwnerDeletion": True}]
    assert pod["spec"] == job["spec"]["template"]["spec"]
    assert pod["status"]["phase"] == "Succeeded"
    assert terminated(pod) == {"exitCode": 0, "reason": "Completed", "message": '{"commitSHA":"abc123","n":3}',
                               "startedAt": "2026-01-01T00:00:00Z", "finishedAt": "2026-01-01T00:00:03Z",
                               "containerID": ""}


def test_scripted_failure_fails_the_job_with_backoff_limit_exceeded() -> None:
    sim = Simulation(outcomes=OUTCOMES)
    first, second = run_jobs(sim, make_job("wf-clone-1", step="clone", attempt=1),
                             make_job("wf-clone-2", step="clone", attempt=2))
    assert conditions(first) == [("FailureTarget", "True", "BackoffLimitExceeded"),
                                 ("Failed", "True", "BackoffLimitExceeded")]
    assert first["status"]["conditions"][1]["message"] == "Job has reached the specified backoff limit"
    assert first["status"]["failed"] == 1 and "completionTime" not in first["status"]
    (pod,) = pods_of(sim, first)
    assert pod["status"]["phase"] == "Failed"
    assert terminated(pod)["exitCode"] == 1 and terminated(pod)["reason"] == "Error"
    # The Job's script writes the failing action's last stderr lines to the termination log.
    assert terminated(pod)["message"] == "connection reset\n"
    assert terminated(pod)["finishedAt"] == "2026-01-01T00:00:02Z"
    assert terminated(pods_of(sim, second)[0])["exitCode"] == 42


def test_attempts_past_the_script_repeat_the_last_entry() -> None:
    sim = Simulation(outcomes=OUTCOMES)
    (job,) = run_jobs(sim, make_job("wf-clone-9", step="clone", attempt=9))
    assert job_finished(job) == "Complete"
    assert json.loads(terminated(pods_of(sim, job)[0])["message"]) == {"commitSHA": "abc123", "n": 3}


def test_unscripted_step_without_entrypoint_succeeds_with_empty_outputs() -> None:
    sim = Simulation(outcomes=OUTCOMES, default_duration=5)
    (job,) = run_jobs(sim, make_job("wf-other", step="other"))
    assert job_finished(job) == "Complete" and job["status"]["completionTime"] == "2026-01-01T00:00:05Z"
    assert terminated(pods_of(sim, job)[0])["message"] == "{}"


def test_active_deadline_kills_the_pod_and_fails_the_job() -> None:
    sim = Simulation(outcomes=OUTCOMES)
    (job,) = run_jobs(sim, make_job("wf-slow", step="slow", deadline=60))
    assert conditions(job) == [("FailureTarget", "True", "DeadlineExceeded"), ("Failed", "True", "DeadlineExceeded")]
    assert job["status"]["conditions"][1]["message"] == "Job was active longer than specified deadline"
    assert job["status"]["conditions"][1]["lastTransitionTime"] == "2026-01-01T00:01:00Z"
    assert job["status"]["failed"] == 1 and "completionTime" not in job["status"]
    assert pods_of(sim, job) == []  # the job controller deleted the running pod
    assert sim.clock.monotonic() == 60


def test_run_that_fits_the_deadline_succeeds() -> None:
    sim = Simulation(outcomes=OUTCOMES)
    (job,) = run_jobs(sim, make_job("wf-slow", step="slow", deadline=600))
    assert job_finished(job) == "Complete" and job["status"]["completionTime"] == "2026-01-01T00:10:00Z"


def test_watchers_see_running_then_interim_then_terminal_condition() -> None:
    sim = Simulation(outcomes=OUTCOMES)
    watch = sim.cluster.watch("batch/v1", "Job", NS, resource_version=sim.cluster.resource_version)
    run_jobs(sim, make_job("wf-clone-3", step="clone", attempt=3))
    seen = []
    while (event := watch.next(0)) is not None:
        status = event.object.get("status") or {}
        seen.append((status.get("active"), tuple(c["type"] for c in status.get("conditions") or [])))
    assert (1, ()) in seen
    assert seen.index((None, ("SuccessCriteriaMet",))) < seen.index((None, ("SuccessCriteriaMet", "Complete")))


def test_echo_entrypoint_runs_with_action_inputs_exactly_as_in_the_pod() -> None:
    inputs = {"text": "héllo $(steps.x) $$(literal)", "n": 3, "nested": {"ok": True}, "list": [1, None]}
    sim = Simulation(entrypoints={"kubernaut/echo": ECHO})
    (job,) = run_jobs(sim, make_job("wf-echo", step="echo", action="kubernaut/echo", inputs=inputs))
    assert job_finished(job) == "Complete"
    message = terminated(pods_of(sim, job)[0])["message"]
    assert json.loads(message) == inputs
    assert sim.jobs.processes_started == 1


def test_entrypoint_gets_the_container_env_and_not_the_hosts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dump = tmp_path / "dump.py"
    dump.write_text("import json, os\nprint(json.dumps({k: os.environ.get(k) for k in "
                    "('ACTION_INPUTS', 'EXTRA', 'FROM_CM', 'FROM_SECRET')}))\n")
    monkeypatch.setenv("ACTION_INPUTS", '{"host": "leak"}')
    monkeypatch.setenv("EXTRA", "host-value")
    sim = Simulation(entrypoints={"test/dump": (sys.executable, str(dump))})
    sim.cluster.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg", "namespace": NS},
                        "data": {"k": "from-configmap"}})
    sim.cluster.create({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "sec", "namespace": NS},
                        "data": {"k": "c2VjcmV0"}})
    env: list[dict[str, Any]] = [{"name": "EXTRA", "value": "pod-value"},
           {"name": "FROM_CM", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "k"}}},
           {"name": "FROM_SECRET", "valueFrom": {"secretKeyRef": {"name": "sec", "key": "k"}}}]
    raw_inputs = '{ "spaced" :  1 }'
    job = make_job("wf-dump", action="test/dump", extra_env=env)
    job["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"] = raw_inputs
    (done,) = run_jobs(sim, job)
    seen = json.loads(terminated(pods_of(sim, done)[0])["message"])
    assert seen == {"ACTION_INPUTS": raw_inputs, "EXTRA": "pod-value", "FROM_CM": "from-configmap",
                    "FROM_SECRET": "secret"}

    no_inputs = make_job("wf-dump-2", action="test/dump")
    no_inputs["spec"]["template"]["spec"]["containers"][0]["env"] = []
    (done,) = run_jobs(sim, no_inputs)
    assert json.loads(terminated(pods_of(sim, done)[0])["message"])["ACTION_INPUTS"] is None


def test_failing_entrypoint_reports_the_last_stderr_lines_the_script_writes(tmp_path: Path) -> None:
    script = tmp_path / "fail.py"
    script.write_text("import sys\nfor i in range(200):\n    print(f'log line {i}', file=sys.stderr)\n"
                      "print('error: repository not found', file=sys.stderr)\nsys.exit(3)\n")
    sim = Simulation(entrypoints={"test/fail": (sys.executable, str(script))})
    fallback, file_policy = run_jobs(sim, make_job("wf-fail", action="test/fail"),
                                     make_job("wf-fail-file", action="test/fail", policy="File"))
    assert job_finished(fallback) == "Failed"
    state = terminated(pods_of(sim, fallback)[0])
    assert state["exitCode"] == 3 and state["reason"] == "Error"
    # The script (targets/jobs/job.py) writes the last 5 non-blank stderr lines to the file, so
    # the policy does not matter.
    expected = "log line 196\nlog line 197\nlog line 198\nlog line 199\nerror: repository not found\n"
    assert state["message"] == expected
    assert terminated(pods_of(sim, file_policy)[0])["message"] == expected


def test_echo_sdk_failure_message_is_the_last_stderr_line() -> None:
    sim = Simulation(entrypoints={"kubernaut/echo": ECHO})
    job = make_job("wf-bad", action="kubernaut/echo")
    job["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"] = "[1, 2]"
    (done,) = run_jobs(sim, job)
    state = terminated(pods_of(sim, done)[0])
    assert state["exitCode"] == 1
    assert state["message"].strip().splitlines()[-1] == (
        "error: inputs from $ACTION_INPUTS must be a JSON object, not an array")


def test_entrypoint_hanging_past_the_deadline_is_killed() -> None:
    sleeper = (sys.executable, "-c", "import time; time.sleep(30)")
    sim = Simulation(entrypoints={"test/hang": sleeper})
    started = time.monotonic()
    (job,) = run_jobs(sim, make_job("wf-hang", action="test/hang", deadline=1))
    assert time.monotonic() - started < 10
    assert conditions(job)[-1] == ("Failed", "True", "DeadlineExceeded")


def test_backoff_limit_creates_new_pods_with_the_job_controllers_backoff() -> None:
    outcomes = parse_outcomes("steps: {flaky: [{result: failed, duration: 1s}]}").outcomes
    sim = Simulation(outcomes=outcomes)
    (job,) = run_jobs(sim, make_job("wf-flaky", step="flaky", backoff_limit=2))
    pods = sorted(pods_of(sim, job), key=lambda p: terminated(p)["startedAt"])
    assert len(pods) == 3 and len({p["metadata"]["name"] for p in pods}) == 3
    # Pod 1 runs 0-1 s, then 10 s backoff; pod 2 runs 11-12 s, then 20 s; pod 3 runs 32-33 s.
    assert [terminated(p)["startedAt"][-3:-1] for p in pods] == ["00", "11", "32"]
    assert job["status"]["failed"] == 3 and conditions(job)[-1] == ("Failed", "True", "BackoffLimitExceeded")


def test_missing_backoff_limit_defaults_to_six_like_the_api_server() -> None:
    outcomes = parse_outcomes("steps: {flaky: [{result: failed}]}").outcomes
    sim = Simulation(outcomes=outcomes)
    (job,) = run_jobs(sim, make_job("wf-flaky", step="flaky", backoff_limit=None))
    assert job["status"]["failed"] == 7 and len(pods_of(sim, job)) == 7


def test_reads_come_from_its_informers_and_the_writes_are_unchanged() -> None:
    sim = Simulation(outcomes=OUTCOMES)
    sim.cluster.create(make_job("wf-clone-3", step="clone", attempt=3))
    assert sim.run_until(lambda: bool(job_finished(sim.cluster.objects("Job")[0])), 60)
    # Like the job controller: one list+watch per kind, then no GET; the same status writes.
    assert {kind: sim.cluster.count("get", kind) for kind in ("Job", "Pod")} == {"Job": 0, "Pod": 0}
    assert {kind: sim.cluster.count("list", kind) for kind in ("Job", "Pod")} == {"Job": 1, "Pod": 1}
    assert sim.cluster.count("patch_status", "Job") == 3 and sim.cluster.count("patch_status", "Pod") == 2
    assert sim.cluster.count("create", "Pod") == 1


def test_a_reconcile_before_the_informers_listed_reads_the_api_server() -> None:
    sim = Simulation(outcomes=OUTCOMES)
    job = sim.cluster.create(make_job("wf-clone-3", step="clone", attempt=3))
    simulator = JobSimulator(sim.cluster, sim.clock, outcomes=OUTCOMES)
    simulator.reconcile(Key(NS, job["metadata"]["name"]))  # never polled: not synced
    assert sim.cluster.count("get", "Job") == 1
    (pod,) = pods_of(sim, get_job(sim, "wf-clone-3"))
    assert pod["status"]["phase"] == "Running"


def test_a_restarted_simulator_finishes_the_run_without_a_second_pod() -> None:
    sim = Simulation(outcomes=OUTCOMES)
    sim.cluster.create(make_job("wf-clone-3", step="clone", attempt=3))
    sim.manager.run_until_idle()  # pod created and running; the 3 s timer is pending
    (pod,) = pods_of(sim, get_job(sim, "wf-clone-3"))
    assert pod["status"]["phase"] == "Running"
    assert isinstance(sim.clock, VirtualClock)
    sim.clock.advance(1)
    # A new simulator process: no memory of the run, same cluster and clock.
    from reconciler.runtime import Manager

    manager = Manager(sim.cluster, sim.clock)
    manager.add(JobSimulator(sim.cluster, sim.clock, outcomes=OUTCOMES).controller())
    assert manager.run_until(lambda: bool(job_finished(get_job(sim, "wf-clone-3"))), max_virtual_seconds=60)
    job = get_job(sim, "wf-clone-3")
    assert job["status"]["completionTime"] == "2026-01-01T00:00:03Z"
    assert [p["metadata"]["name"] for p in pods_of(sim, job)] == [pod["metadata"]["name"]]


def test_jobs_finish_correctly_under_injected_api_faults() -> None:
    faults = FaultInjector(rate=0.1, seed=11, lost_response_rate=0.05)
    sim = Simulation(outcomes=OUTCOMES, faults=faults)
    jobs = [make_job(f"wf-{i}", step="clone", attempt=1 + i % 3) for i in range(12)]
    for job in jobs:
        while True:
            try:
                sim.cluster.create(job)
                break
            except Exception:
                if any(j["metadata"]["name"] == job["metadata"]["name"] for j in sim.cluster.objects("Job")):
                    break
    faults_on = faults.injected
    names = [j["metadata"]["name"] for j in jobs]
    assert sim.run_until(lambda: all(job_finished(get_job_safely(sim, n)) for n in names), 3600)
    sim.cluster.faults = None
    assert faults.injected > faults_on
    for i, name in enumerate(names):
        job = get_job(sim, name)
        assert job_finished(job) == ("Complete" if i % 3 == 2 else "Failed")
        assert len(pods_of(sim, job)) == 1  # never a duplicate pod


def get_job_safely(sim: Simulation, name: str) -> dict[str, Any]:
    faults, sim.cluster.faults = sim.cluster.faults, None  # the predicate is an observer, not a client
    try:
        return get_job(sim, name)
    finally:
        sim.cluster.faults = faults


def test_finished_and_deleted_jobs_are_left_alone() -> None:
    sim = Simulation(outcomes=OUTCOMES)
    run_jobs(sim, make_job("wf-clone-3", step="clone", attempt=3))
    writes = sum(1 for r in sim.cluster.requests if r.verb in ("create", "patch_status", "delete"))
    sim.cluster.patch_status("batch/v1", "Job", "wf-clone-3", NS, {"ready": 0})  # wake it up
    sim.manager.run_until_idle()
    assert sum(1 for r in sim.cluster.requests if r.verb in ("create", "patch_status", "delete")) == writes + 1
    sim.cluster.delete("batch/v1", "Job", "wf-clone-3", NS)
    sim.manager.run_until_idle()
    assert sim.cluster.objects("Pod") == []  # garbage-collected with its owner


def test_events_like_the_job_controller_when_enabled() -> None:
    sim = Simulation(outcomes=OUTCOMES, record_events=True)
    run_jobs(sim, make_job("wf-clone-3", step="clone", attempt=3), make_job("wf-clone-1", step="clone", attempt=1))
    reasons = {(e["involvedObject"]["name"], e["type"], e["reason"]) for e in sim.cluster.objects("Event")}
    assert reasons == {("wf-clone-3", "Normal", "SuccessfulCreate"), ("wf-clone-3", "Normal", "Completed"),
                       ("wf-clone-1", "Normal", "SuccessfulCreate"),
                       ("wf-clone-1", "Warning", "BackoffLimitExceeded")}
    assert all(e["source"]["component"] == "job-controller" for e in sim.cluster.objects("Event"))


def test_realtime_waits_for_real() -> None:
    outcomes = parse_outcomes("steps: {s: [{duration: 300ms}]}").outcomes
    sim = Simulation(outcomes=outcomes, realtime=True)
    assert sim.realtime
    started = time.monotonic()
    (job,) = run_jobs(sim, make_job("wf-real", step="s"), max_seconds=30)
    assert job_finished(job) == "Complete"
    assert time.monotonic() - started >= 0.3


def test_virtual_time_does_not_wait() -> None:
    sim = Simulation(outcomes=parse_outcomes("steps: {s: [{duration: 2h}]}").outcomes)
    started = time.monotonic()
    (job,) = run_jobs(sim, make_job("wf-virtual", step="s"))
    assert job["status"]["completionTime"] == "2026-01-01T02:00:00Z"
    assert time.monotonic() - started < 2


def test_pod_names_are_deterministic_and_fit_the_limit() -> None:
    assert pod_name("job", "uid-1") == pod_name("job", "uid-1")
    assert pod_name("job", "uid-1") != pod_name("job", "uid-2") != pod_name("job", "uid-1", 1)
    long = pod_name("j" * 63, "uid")
    assert len(long) == 63 and long.startswith("j" * 58)
    assert all(ch in "bcdfghjklmnpqrstvwxz2456789" for ch in long[-5:])
