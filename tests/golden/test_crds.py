"""CRDs generated from the models: structural, in sync with deploy/crds/, and accepting the corpus."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from support.kube_schema import validate_kube

from compiler.yamlout import dump_documents
from targets.crds import (
    action_execution_crd,
    cluster_image_policy_crd,
    crds,
    structural,
    workflow_execution_crd,
    workflow_json_schema,
)

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "crds"
Cli = Callable[[list[str]], Any]


def _nodes(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for key, value in node.items():
            if key in ("properties",):
                for sub in value.values():
                    yield from _nodes(sub)
            elif key in ("items", "additionalProperties") and isinstance(value, dict):
                yield from _nodes(value)


@pytest.mark.parametrize(("file", "crd"), [("workflowexecution.yaml", workflow_execution_crd),
                                           ("actionexecution.yaml", action_execution_crd),
                                           ("clusterimagepolicy.yaml", cluster_image_policy_crd)])
def test_deploy_files_are_the_generated_bytes(file: str, crd: Callable[[], dict[str, Any]]) -> None:
    # Regenerate with: kubernaut crds, split per document (see docs/cli.md).
    assert (DEPLOY / file).read_text(encoding="utf-8") == dump_documents([crd()])


def test_kubernaut_crds_prints_both(cli: Cli) -> None:
    result = cli(["crds"])
    assert result.exit_code == 0
    files = ("workflowexecution.yaml", "actionexecution.yaml", "clusterimagepolicy.yaml")
    assert result.stdout == "".join((DEPLOY / name).read_text() for name in files)


@pytest.mark.parametrize("crd", crds(), ids=lambda c: c["spec"]["names"]["kind"])
def test_crds_pass_the_strict_kubernetes_schema(crd: dict[str, Any]) -> None:
    assert validate_kube(crd) == []


@pytest.mark.parametrize("crd", crds(), ids=lambda c: c["spec"]["names"]["kind"])
def test_schemas_are_structural(crd: dict[str, Any]) -> None:
    version = crd["spec"]["versions"][0]
    assert version["subresources"] == {"status": {}}
    assert [c["name"] for c in version["additionalPrinterColumns"]][-1] == "Age"
    for node in _nodes(version["schema"]["openAPIV3Schema"]):
        assert not {"$ref", "$defs", "anyOf", "oneOf", "title", "default", "const"} & set(node), node
        assert "type" in node or node.get("x-kubernetes-preserve-unknown-fields") is True, node
        assert node.get("additionalProperties") is not False, node
        assert not ("properties" in node and "additionalProperties" in node), node


def test_free_form_fields_preserve_unknown_fields() -> None:
    wfe = workflow_execution_crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]
    assert wfe["spec"]["properties"]["steps"]["items"]["properties"]["inputs"]["x-kubernetes-preserve-unknown-fields"]
    assert wfe["status"] == {"description": "Written by kubernaut's controllers only.", "type": "object",
                             "x-kubernetes-preserve-unknown-fields": True}
    axe = action_execution_crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]
    assert axe["spec"]["properties"]["inputs"]["x-kubernetes-preserve-unknown-fields"]


def test_structural_conversion_rules() -> None:
    defs = {"Inner": {"title": "Inner", "type": "object", "additionalProperties": False,
                      "properties": {"a": {"type": "integer", "exclusiveMinimum": 0}}}}
    node = {"anyOf": [{"$ref": "#/$defs/Inner"}, {"type": "null"}], "default": None, "description": "d"}
    assert structural(node, defs) == {"description": "d", "type": "object",
                                      "properties": {"a": {"type": "integer", "minimum": 0, "exclusiveMinimum": True}}}
    assert structural({"const": "x", "type": "string", "default": "x"}, {}) == {
        "description": "Default: x.", "type": "string", "enum": ["x"]}
    assert structural({}, {}) == {"x-kubernetes-preserve-unknown-fields": True}
    assert structural({"type": "object", "additionalProperties": {"type": "string"}}, {}) == {
        "type": "object", "additionalProperties": {"type": "string"}}


def _workflow_documents() -> list[Path]:
    return sorted(ROOT.glob("golden/*/workflow.yaml")) + sorted(ROOT.glob("examples/*.yaml"))


@pytest.mark.parametrize("path", _workflow_documents(), ids=lambda p: str(p.relative_to(ROOT)))
def test_corpus_is_accepted_by_the_crd_and_the_editor_schema(path: Path,
                                                             crd_validator: Callable[[str], Any]) -> None:
    for doc in yaml.safe_load_all(path.read_text()):
        if doc.get("kind") != "WorkflowExecution":
            continue  # e.g. the Secret shipped with the GitOps example
        assert list(crd_validator("WorkflowExecution").iter_errors(doc)) == []
        jsonschema.Draft202012Validator(workflow_json_schema()).validate(doc)


def test_crd_rejects_what_the_api_server_would_prune(crd_validator: Callable[[str], Any]) -> None:
    doc = yaml.safe_load((ROOT / "examples" / "single-action.yaml").read_text())
    doc["spec"]["steps"][0]["runafter"] = ["typo"]
    assert list(crd_validator("WorkflowExecution").iter_errors(doc)) != []


def test_kubernaut_schema_prints_a_valid_json_schema(cli: Cli) -> None:
    result = cli(["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["kind"]["const"] == "WorkflowExecution"
    bad = {"apiVersion": "workflowexecution.kubernaut.ai/v1alpha1", "kind": "WorkflowExecution",
           "metadata": {"name": "x"}, "spec": {"steps": [{"name": "a", "actionType": "t", "image": "i",
                                                          "retry": 1}]}}
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(bad)) != []


def test_action_execution_crd_keeps_the_controller_fields() -> None:
    """A real API server prunes fields its CRD schema does not know; the V1 controller writes
    ``spec.resolvedInputs`` (free-form JSON), ``spec.cancel`` and ``spec.requiredOutputs`` and must
    read them back."""
    spec = action_execution_crd()["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    assert spec["properties"]["resolvedInputs"].get("x-kubernetes-preserve-unknown-fields") is True
    assert spec["properties"]["cancel"]["type"] == "boolean"
    assert spec["properties"]["requiredOutputs"]["items"]["type"] == "string"
