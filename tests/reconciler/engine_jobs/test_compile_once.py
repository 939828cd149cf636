"""Issue 13, "compile once": the controller compiles a WorkflowExecution object as data — no YAML
text written and parsed again — to the same IR as the text ``kubernaut validate`` reads; the text
is written only when there is something to report, so diagnostics stay located."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.golden_contracts import contract_dirs

from compiler.contracts import Catalog, load_catalog
from compiler.frontend import compile_source
from reconciler import compile as compile_module
from reconciler.compile import compile_object, manifest_text, source_name
from targets.jobs import job_for_attempt, job_from_template, job_name, job_template

ROOT = Path(__file__).resolve().parents[3]
CATALOG = load_catalog()[0]
SOURCES = sorted((ROOT / "golden").glob("*/workflow.yaml")) + sorted((ROOT / "examples").glob("*.yaml"))


def _catalog_of(path: Path) -> Catalog:
    """The default catalog, plus the case's own ``contracts/`` folder when it has one."""
    dirs = contract_dirs(path)
    if not dirs:
        return CATALOG
    catalog, diagnostics = load_catalog(dirs)
    errors = [d for d in diagnostics if d.severity.value == "error"]
    assert not errors, errors
    return catalog


def _objects() -> list[Any]:
    found = []
    for path in SOURCES:
        catalog = _catalog_of(path)
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if isinstance(doc, dict) and doc.get("kind") == "WorkflowExecution":
                found.append(pytest.param(doc, catalog,
                                          id=f"{path.parent.name}/{path.name}:{doc['metadata']['name']}"))
    return found


@pytest.mark.parametrize(("obj", "catalog"), _objects())
def test_the_object_compiles_to_the_ir_of_its_text(obj: dict[str, Any], catalog: Catalog) -> None:
    direct = compile_object(obj, catalog)
    text = compile_source(source_name(obj), manifest_text(obj).encode("utf-8"), catalog)
    assert text.ok, text
    assert direct.workflow == text.workflows[0]


def test_a_valid_object_is_never_written_as_yaml(monkeypatch: pytest.MonkeyPatch) -> None:
    obj = yaml.safe_load((ROOT / "examples" / "single-action.yaml").read_text(encoding="utf-8"))

    def refuse(_: object) -> str:
        raise AssertionError("a valid object went through YAML text")

    monkeypatch.setattr(compile_module, "manifest_text", refuse)
    assert compile_object(obj, CATALOG).ok


def test_an_invalid_object_still_gets_located_diagnostics() -> None:
    obj = yaml.safe_load((ROOT / "examples" / "single-action.yaml").read_text(encoding="utf-8"))
    obj["metadata"]["namespace"] = "prod"
    obj["spec"]["steps"][0]["runAfter"] = ["nowhere"]
    compiled = compile_object(obj, CATALOG)
    assert compiled.workflow is None
    (headline,) = [h for h in compiled.headlines() if "error" in h]
    # The line of the step's runAfter in the text `kubectl get -o yaml` shows, not line 1.
    line = int(headline.split(":")[1])
    assert headline.startswith("wfe/prod/") and line > 1
    assert "nowhere" in manifest_text(obj).splitlines()[line - 1]


@pytest.mark.parametrize(("obj", "catalog"), _objects())
def test_every_attempt_from_the_template_is_the_planned_job(obj: dict[str, Any], catalog: Catalog) -> None:
    # The plan stored in spec.jobTemplate, with an attempt's number and image, is exactly the Job
    # `kubernaut compile` shows for that attempt: one builder, no drift.
    wf = compile_object(obj, catalog).workflow
    assert wf is not None
    for step in wf.steps:
        template = job_template(wf, step, step.inputs)
        for attempt in (1, 2, 3):
            planned = job_for_attempt(wf, step, attempt, step.inputs)
            built = job_from_template(template, job_name(wf, step, attempt), wf.namespace, attempt, step.image)
            assert built == planned
            # Key order too: the objects are written as they are built.
            assert json.dumps(built) == json.dumps(planned)
