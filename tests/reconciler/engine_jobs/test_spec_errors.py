"""Issue 5 acceptance (5): an invalid spec ends the workflow Failed with located diagnostics in
status, `Compiled=False`, a Warning event, nothing created and no retries. Also how the controller
compiles a WorkflowExecution object (positions in `wfe/<namespace>/<name>`, caching)."""

from __future__ import annotations

import copy

from jobs_engine_harness import Harness, echo_step, workflow

from compiler.contracts import load_catalog
from reconciler.compile import WorkflowCompiler, compile_object, manifest_text, source_name
from reconciler.workflow_controller import FINALIZER

CATALOG = load_catalog()[0]


def _bad() -> dict[str, object]:
    return workflow("bad", echo_step("a", inputs={"x": 1}) + echo_step("b", inputs={"y": "$(step.a.outputs.x)"})
                    + echo_step("c", after=["nope"]))


def test_a_spec_error_fails_the_workflow_with_diagnostics_in_status() -> None:
    h = Harness()
    h.create(_bad())
    assert h.run()
    status = h.status("bad")
    assert status["phase"] == "Failed"
    assert status["message"] == "the workflow spec is invalid (2 errors)"
    diagnostics = status["diagnostics"]
    assert len(diagnostics) == 2
    assert all(d.startswith("wfe/default/bad:") and ": error[KN" in d for d in diagnostics)
    assert any("$(step.a.outputs.x)" in d or "step.a" in d for d in diagnostics)
    assert any("nope" in d for d in diagnostics)
    conditions = {c["type"]: c for c in status["conditions"]}
    assert (conditions["Compiled"]["status"], conditions["Compiled"]["reason"]) == ("False", "SpecInvalid")
    assert conditions["Compiled"]["message"] == diagnostics[0]
    assert status.get("engine") is None  # never started: no engine was chosen
    warnings = [(t, r) for t, r, _ in h.events("bad") if t == "Warning"]
    assert ("Warning", "SpecInvalid") in warnings
    # Nothing was created, and the workflow holds no finalizer.
    assert not h.objects("ActionExecution") and not h.objects("Job") and not h.objects("PersistentVolumeClaim")
    assert FINALIZER not in (h.wfe("bad")["metadata"].get("finalizers") or [])


def test_a_spec_error_is_final_and_not_retried() -> None:
    h = Harness()
    h.create(_bad())
    assert h.run()
    before = h.wfe("bad")
    controller = h.app.manager.get("workflowexecutions")
    errors = controller.stats.transient_errors + controller.stats.unexpected_errors
    # Touching the object wakes the controller; nothing changes and nothing is retried.
    touched = copy.deepcopy(before)
    touched["metadata"].setdefault("annotations", {})["touched"] = "yes"
    h.cluster.update(touched)
    h.manager.run_until_idle()
    assert h.wfe("bad")["status"] == before["status"]
    assert controller.stats.transient_errors + controller.stats.unexpected_errors == errors
    assert controller.queue.pending_timers == 0


def test_diagnostics_point_into_the_objects_yaml() -> None:
    h = Harness()
    created = h.create(_bad())
    compiled = compile_object(created, CATALOG)
    assert not compiled.ok
    assert source_name(created) == "wfe/default/bad"
    text = manifest_text(created)
    lines = text.splitlines()
    for diagnostic in compiled.diagnostics:
        assert diagnostic.span is not None and diagnostic.span.file == "wfe/default/bad"
        assert diagnostic.span.line <= len(lines)
    rendered = compiled.render()
    assert "wfe/default/bad:" in rendered and "^" in rendered
    # Server fields never reach the text the diagnostics point into.
    assert "uid" not in text and "managedFields" not in text and "status" not in text


def test_the_compiler_cache_is_keyed_by_uid_and_generation() -> None:
    h = Harness()
    created = h.create(workflow("ok", echo_step("a")))
    compiler = WorkflowCompiler(CATALOG)
    first = compiler.compile(created)
    assert first.ok and compiler.compile(created) is first and compiler.misses == 1
    changed = copy.deepcopy(created)
    changed["metadata"]["generation"] = 2
    changed["spec"]["steps"][0]["retries"] = 2
    second = compiler.compile(changed)
    assert second is not first and second.workflow is not None and second.workflow.steps[0].retries == 2
    assert compiler.misses == 2


def test_the_cache_is_bounded() -> None:
    compiler = WorkflowCompiler(CATALOG, max_entries=2)
    doc = workflow("ok", echo_step("a"))
    for i in range(5):
        obj = copy.deepcopy(doc)
        obj["metadata"].update(uid=f"u{i}", generation=1)
        compiler.compile(obj)
    assert len(compiler._cache) == 2
