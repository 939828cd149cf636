"""Issue 5 acceptance (3): no step starts before all its dependencies completed, and independent
steps overlap. Checked on the cluster's own history (watch events in revision order)."""

from __future__ import annotations

from jobs_engine_harness import Harness, Seen, echo_step, outcomes, workflow


def thing(name: str, **fields: object) -> str:
    return echo_step(name, action_type="custom/thing", **fields)  # type: ignore[arg-type]


def _job_finished(seen: Seen) -> bool:
    return any(c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
               for c in (seen.obj.get("status") or {}).get("conditions") or [])


def _timeline(h: Harness) -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    """Per step: revision of its Job's creation, of its Job's completion, of its
    ActionExecution becoming final."""
    created: dict[str, int] = {}
    finished: dict[str, int] = {}
    for event in h.seen("Job"):
        step = event.label("kubernaut.ai/step") or ""
        if event.type == "ADDED":
            created.setdefault(step, event.rv)
        elif _job_finished(event):
            finished.setdefault(step, event.rv)
    final: dict[str, int] = {}
    for event in h.seen("ActionExecution"):
        if event.phase in ("Succeeded", "Failed"):
            final.setdefault(event.obj["spec"]["step"], event.rv)
    return created, finished, final


DIAMOND = "".join([
    thing("restart-pods"),
    thing("scale-deployment"),
    thing("create-pr", after=["restart-pods", "scale-deployment"], usesWorkspace=True),
    thing("notify", inputs={"pr": "$(steps.create-pr.outputs.url)"}),
    thing("audit", after=["scale-deployment"]),
])
TIMES = outcomes("""
    steps:
      restart-pods: [{duration: 5s}]
      scale-deployment: [{duration: 3s}]
      create-pr: [{outputs: {url: "https://example/pr/1"}, duration: 4s}]
      audit: [{duration: 10s}]
""")


def test_no_step_starts_before_its_dependencies_completed() -> None:
    h = Harness(outcomes=TIMES)
    h.create(workflow("dag", DIAMOND))
    assert h.run()
    assert h.status("dag")["phase"] == "Succeeded"
    created, finished, final = _timeline(h)
    deps = {"create-pr": ["restart-pods", "scale-deployment"], "notify": ["create-pr"], "audit": ["scale-deployment"]}
    for step, needs in deps.items():
        for dep in needs:
            assert finished[dep] < final[dep] < created[step], (step, dep)
    # Every ActionExecution was created after its dependencies' ActionExecutions were final too.
    ae_created = {e.obj["spec"]["step"]: e.rv for e in h.seen("ActionExecution") if e.type == "ADDED"}
    for step, needs in deps.items():
        assert all(final[dep] < ae_created[step] for dep in needs)
    # Step start and completion times in status agree: virtual time, so exact.
    steps = {s["name"]: s for s in h.status("dag")["steps"]}
    assert steps["create-pr"]["startTime"] == "2026-01-01T00:00:05Z"  # after the slower of the two
    assert steps["notify"]["startTime"] == "2026-01-01T00:00:09Z"
    assert steps["audit"]["startTime"] == "2026-01-01T00:00:03Z"


def test_independent_steps_overlap() -> None:
    h = Harness(outcomes=TIMES)
    h.create(workflow("dag", DIAMOND))
    assert h.run()
    created, finished, _ = _timeline(h)
    both_running = created["restart-pods"] < finished["scale-deployment"] and \
        created["scale-deployment"] < finished["restart-pods"]
    assert both_running
    # audit (after scale) runs alongside restart-pods and create-pr.
    assert created["audit"] < finished["restart-pods"] and created["create-pr"] < finished["audit"]
    # Both roots were started in the very first scheduling pass.
    first = sorted(created.values())[:2]
    assert {step for step, rv in created.items() if rv in first} == {"restart-pods", "scale-deployment"}


def test_many_parallel_roots_all_start_together() -> None:
    h = Harness()
    roots = [f"s{i}" for i in range(8)]
    h.create(workflow("fan", "".join(thing(name) for name in roots) + thing("join", after=roots)))
    assert h.run()
    steps = {s["name"]: s for s in h.status("fan")["steps"]}
    assert {steps[f"s{i}"]["startTime"] for i in range(8)} == {"2026-01-01T00:00:00Z"}
    assert steps["join"]["startTime"] == "2026-01-01T00:00:01Z"
