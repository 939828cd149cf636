"""Guards and skipping on V2: Tekton decides, the engine reports it with V1's messages
(docs/architecture.md, "Skipping follows Tekton exactly")."""

from __future__ import annotations

from tekton_engine_harness import Harness, outcomes, step, workflow

from reconciler.status import NOT_RUN_WORKFLOW_FAILED

SOURCE = step("source", inputs={"sha": "abc", "enabled": True, "mode": "fast"})


def _run(name: str, steps: str) -> Harness:
    h = Harness()
    h.create(workflow(name, SOURCE + steps))
    assert h.run()
    assert h.status(name)["phase"] == "Succeeded", h.status(name)
    return h


def test_the_first_false_guard_is_named() -> None:
    h = _run("guards", step("all-true", when=["$(steps.source.outputs.enabled) == 'true'",
                                              "$(steps.source.outputs.mode) in ['fast', 'slow']"])
             + step("second-false", when=["$(steps.source.outputs.enabled) == true",
                                          "$(steps.source.outputs.sha) notin ['abc']",
                                          "$(steps.source.outputs.mode) == 'slow'"])
             + step("identity", when=["$(workflow.namespace) == 'default'", "$(workflow.name) != 'other'"]))
    assert h.steps("guards") == {"source": ("Succeeded", 1), "all-true": ("Succeeded", 1),
                                 "second-false": ("Skipped", 0), "identity": ("Succeeded", 1)}
    assert h.messages("guards")["second-false"] == (
        "when guard is false: $(steps.source.outputs.sha) notin ['abc']")
    skipped = h.step("guards", "second-false")
    assert (skipped["startTime"], skipped["completionTime"], skipped["outputs"]) == (None, None, None)


def test_skips_cascade_as_the_rules_say() -> None:
    h = _run("cascade", step("off", inputs={"x": "1"}, when=["$(steps.source.outputs.sha) != 'abc'"])
             + step("after-off", after=["off"])
             + step("reads-off", inputs={"x": "$(steps.off.outputs.x)"})
             + step("after-reads", after=["reads-off"])
             + step("deeper", after=["after-reads", "after-off"])
             + step("equals-on-off", when=["$(steps.off.outputs.x) == '1'"])
             + step("differs-on-off", when=["$(steps.off.outputs.x) != '1'"]))
    assert h.steps("cascade") == {
        "source": ("Succeeded", 1),
        "off": ("Skipped", 0),
        "after-off": ("Succeeded", 1),  # rule 5: a guard-skipped dependency whose outputs it does not read
        "reads-off": ("Skipped", 0),
        "after-reads": ("Skipped", 0),
        "deeper": ("Skipped", 0),
        "equals-on-off": ("Skipped", 0),
        "differs-on-off": ("Skipped", 0),
    }
    assert h.messages("cascade") == {
        "source": None,
        "off": "when guard is false: $(steps.source.outputs.sha) != 'abc'",
        "after-off": None,
        "reads-off": "outputs of skipped step 'off' are missing",
        "after-reads": "a step it depends on was skipped: reads-off",
        "deeper": "a step it depends on was skipped: after-reads",
        # An unresolvable guard compares unequal to every literal: == is false, != is true
        # (and then the step reads a skipped step's outputs).
        "equals-on-off": "when guard is false: $(steps.off.outputs.x) == '1'",
        "differs-on-off": "outputs of skipped step 'off' are missing",
    }


def test_steps_not_run_after_a_failure_stay_pending_while_others_run() -> None:
    h = Harness(outcomes=outcomes("""
        steps:
          broken: [{result: failed, message: boom}]
          long: [{duration: 30s}]
    """))
    h.create(workflow("stopping", step("broken") + step("long") + step("later", after=["broken"])
                      + step("last", after=["long"])))
    # Tekton lists `later` and `last` as skipped ("PipelineRun was stopping") at once; V1 writes
    # them off only when nothing runs any more. The engine reports them as V1 does.
    assert h.run_until(lambda: h.steps("stopping").get("broken", ("", 0))[0] == "Failed")
    h.manager.run_until_idle()
    assert h.steps("stopping") == {"broken": ("Failed", 1), "long": ("Running", 1), "later": ("Pending", 0),
                                   "last": ("Pending", 0)}
    assert h.run()
    assert h.steps("stopping") == {"broken": ("Failed", 1), "long": ("Succeeded", 1), "later": ("Skipped", 0),
                                   "last": ("Skipped", 0)}
    assert h.messages("stopping")["later"] == NOT_RUN_WORKFLOW_FAILED
    assert h.messages("stopping")["last"] == NOT_RUN_WORKFLOW_FAILED
