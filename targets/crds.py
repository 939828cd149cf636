"""CustomResourceDefinitions of kubernaut's own resources, generated from their pydantic models.

``kubernaut crds`` prints them and ``deploy/crds/`` holds the same bytes (a test keeps them in
sync), so the schema the API server enforces can never drift from the models the compiler and
the controllers use. The editor JSON Schema of ``kubernaut schema`` comes from the same model.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from compiler import policy, spec
from targets.jobs.actionexecution import ActionExecutionSpec

CRD_API_VERSION = "apiextensions.k8s.io/v1"
VERSION = "v1alpha1"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

# JSON Schema keywords with no place in a Kubernetes structural schema, or no meaning there.
_DROPPED = frozenset({"title", "default", "$defs", "additionalProperties", "const", "anyOf",
                      "exclusiveMinimum", "exclusiveMaximum"})
# Keys of a schema node in the order a reader wants them; others follow in model order.
_KEY_ORDER = ("description", "type", "format", "enum", "minimum", "exclusiveMinimum", "maximum",
              "exclusiveMaximum", "required", "properties", "items", "additionalProperties",
              "x-kubernetes-preserve-unknown-fields")


class SchemaError(ValueError):
    """A model uses a construct a structural schema cannot express (a bug in the model)."""


def _resolve(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if ref is None:
        return node
    name = ref.removeprefix("#/$defs/")
    if name not in defs:
        raise SchemaError(f"unresolvable $ref {ref}")
    # Sibling keywords (pydantic puts a field's description next to its $ref) win.
    return {**defs[name], **{k: v for k, v in node.items() if k != "$ref"}}


def _non_null(node: dict[str, Any]) -> dict[str, Any]:
    """``X | None`` -> X. A null is pruned by the API server unless ``nullable``, which is
    the behaviour wanted: an explicit null means "not set"."""
    options = [o for o in node["anyOf"] if o != {"type": "null"}]
    if len(options) != 1:
        raise SchemaError(f"a structural schema cannot express anyOf {node['anyOf']}")
    merged = {**options[0], **{k: v for k, v in node.items() if k != "anyOf"}}
    return merged


def _describe_default(node: dict[str, Any], out: dict[str, Any]) -> None:
    # The compiler owns defaults (one place, applied identically for both engines), so the CRD
    # carries none and stored objects stay exactly as written; `kubectl explain` still shows it.
    default = node.get("default")
    if default is None or default in ([], {}):
        return
    shown = str(default).lower() if isinstance(default, bool) else str(default)
    text = out.get("description", "")
    if "default" not in text.lower():
        out["description"] = f"{text} Default: {shown}.".strip()


def structural(node: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    """A pydantic JSON schema node as a Kubernetes structural schema node.

    Inlines ``$ref``; turns ``X | None`` into X; free-form objects (``dict[str, Any]``) and
    ``Any`` become ``x-kubernetes-preserve-unknown-fields``; drops titles and defaults; maps
    ``const`` to a one-value ``enum`` and JSON Schema's numeric ``exclusiveMinimum`` to
    OpenAPI 3.0's boolean form.
    """
    node = _resolve(node, defs)
    if "anyOf" in node:
        node = _non_null(node)
        node = _resolve(node, defs)
    if not node or node == {"description": node.get("description")}:
        # `Any`: whatever JSON the user writes is kept as is.
        out: dict[str, Any] = {k: v for k, v in node.items() if k == "description"}
        out["x-kubernetes-preserve-unknown-fields"] = True
        return _ordered(out)
    out = {k: v for k, v in node.items() if k not in _DROPPED}
    _describe_default(node, out)
    if "const" in node:
        out["enum"] = [node["const"]]
    for key in ("exclusiveMinimum", "exclusiveMaximum"):
        if key in node:
            out[key.replace("exclusiveM", "m")] = node[key]
            out[key] = True
    if "properties" in node:
        out["properties"] = {name: structural(sub, defs) for name, sub in node["properties"].items()}
    if "items" in node:
        out["items"] = structural(node["items"], defs)
    extra = node.get("additionalProperties")
    if isinstance(extra, dict) and extra:
        out["additionalProperties"] = structural(extra, defs)
    elif extra is True or extra == {}:
        out["x-kubernetes-preserve-unknown-fields"] = True
    # extra False: pruning unknown fields is what the API server does anyway (and a structural
    # schema may not say it explicitly).
    return _ordered(out)


def _ordered(node: dict[str, Any]) -> dict[str, Any]:
    out = {key: node[key] for key in _KEY_ORDER if key in node}
    out.update((key, value) for key, value in node.items() if key not in out)
    return out


def _model_schema(model: type[BaseModel]) -> dict[str, Any]:
    raw = model.model_json_schema()
    return structural(raw, raw.get("$defs", {}))


#: The one spec field a user (``kubernaut cancel``) or the V1 engine may change after creation.
MUTABLE_SPEC_FIELDS = frozenset({"cancel"})


# CEL's reserved words: the API server makes a property of such a name readable only as
# `__<word>__`, which the embedded cluster's CEL evaluator would not understand.
_CEL_RESERVED = frozenset({"true", "false", "null", "in", "as", "break", "const", "continue", "else", "for",
                           "function", "if", "import", "let", "loop", "package", "namespace", "return", "var",
                           "void", "while"})


def _unchanged(field: str) -> str:
    if field in _CEL_RESERVED or not field.isidentifier():
        raise SchemaError(f"spec field {field!r} cannot be named in a CEL rule as is")
    # Presence too: a field added or removed after creation is a change. (`==` alone would
    # need both sides present; CEL reports a missing one as an error, not as a difference.)
    return f"(has(self.{field}) ? has(oldSelf.{field}) && self.{field} == oldSelf.{field} : !has(oldSelf.{field}))"


def immutable_spec_rule(spec_model: type[BaseModel]) -> dict[str, str]:
    """A CEL transition rule (``x-kubernetes-validations``) on ``spec``: every field but ``cancel``
    keeps the value it was created with.

    Why: the controllers verify a step's image, and bind its account, once; a later edit of
    ``spec.steps[].image`` or ``serviceAccountName`` must not reach a retry (docs/security.md).
    Generated from the model, so a new field is immutable by default. The rule sits on ``spec``
    (it cannot read ``status``): immutable from creation on, not only once running, since a
    workflow is queued and verified as soon as it exists. Cost: one ``has``/``==`` per field, and
    ``==`` costs 0.1 per list item or map entry at the top of the field (cel-go's estimate), so
    the estimated cost stays far below the API server's per-rule budget whatever the lists hold.
    """
    fields = [name for name in spec_model.model_fields if name not in MUTABLE_SPEC_FIELDS]
    return {
        "rule": " && ".join(_unchanged(name) for name in fields),
        "message": "spec is immutable once created, apart from spec.cancel",
    }


def _resource_schema(description: str, spec_model: type[BaseModel], *, immutable: bool = False) -> dict[str, Any]:
    spec_schema = _model_schema(spec_model)
    if immutable:
        spec_schema["x-kubernetes-validations"] = [immutable_spec_rule(spec_model)]
    return {
        "description": description,
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": spec_schema,
            "status": {
                "description": "Written by kubernaut's controllers only.",
                "type": "object",
                "x-kubernetes-preserve-unknown-fields": True,
            },
        },
        "required": ["spec"],
    }


def _column(name: str, path: str, kind: str = "string") -> dict[str, str]:
    return {"name": name, "type": kind, "jsonPath": path}


_AGE = _column("Age", ".metadata.creationTimestamp", "date")


def _crd(group: str, kind: str, short: str, schema: dict[str, Any],
         columns: list[dict[str, str]], scope: str = "Namespaced", plural: str | None = None) -> dict[str, Any]:
    plural = plural or kind.lower() + "s"
    return {
        "apiVersion": CRD_API_VERSION,
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}", "labels": {"app.kubernetes.io/part-of": "kubernaut"}},
        "spec": {
            "group": group,
            "names": {"kind": kind, "listKind": f"{kind}List", "plural": plural, "singular": kind.lower(),
                      "shortNames": [short], "categories": ["kubernaut"]},
            "scope": scope,
            "versions": [{
                "name": VERSION,
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "additionalPrinterColumns": columns,
                "schema": {"openAPIV3Schema": schema},
            }],
        },
    }


def workflow_execution_crd() -> dict[str, Any]:
    schema = _resource_schema(
        "A remediation workflow: a DAG of steps, each running one action container.", spec.WorkflowSpec,
        immutable=True)
    columns = [_column("Phase", ".status.phase"), _column("Engine", ".status.engine"), _AGE]
    return _crd(spec.API_GROUP, spec.KIND, "wfe", schema, columns)


def action_execution_crd() -> dict[str, Any]:
    schema = _resource_schema(
        "One step of a WorkflowExecution on the jobs (V1) engine; owns the Jobs of its attempts.",
        ActionExecutionSpec, immutable=True)
    # Phase/Age as for workflows; the engine is always jobs here, the workflow and step are not.
    columns = [_column("Workflow", ".spec.workflowName"), _column("Step", ".spec.step"),
               _column("Phase", ".status.phase"), _AGE]
    return _crd(spec.ACTION_API_GROUP, spec.ACTION_KIND, "axe", schema, columns)


def cluster_image_policy_crd() -> dict[str, Any]:
    schema = _resource_schema(
        "Which signatures an action image needs before kubernaut runs it (cluster-wide; every policy "
        "whose images match must pass).", policy.ClusterImagePolicySpec)
    columns = [_column("Mode", ".spec.mode"), _column("Format", ".spec.signatureFormat"), _AGE]
    return _crd(policy.POLICY_API_GROUP, policy.POLICY_KIND, "kcip", schema, columns, scope="Cluster",
                plural="clusterimagepolicies")


def crds() -> list[dict[str, Any]]:
    """The CustomResourceDefinitions, WorkflowExecution first."""
    return [workflow_execution_crd(), action_execution_crd(), cluster_image_policy_crd()]


def workflow_json_schema() -> dict[str, Any]:
    """A JSON Schema of a WorkflowExecution document for editors (yaml-language-server etc.)."""
    schema = spec.WorkflowExecution.model_json_schema()
    properties = schema["properties"]
    properties["apiVersion"] = {"const": spec.API_VERSION, "type": "string"}
    properties["kind"] = {"const": spec.KIND, "type": "string"}
    properties.pop("status", None)  # the controller's, never written by hand
    schema["title"] = spec.KIND
    return {"$schema": JSON_SCHEMA_DIALECT, **schema}
