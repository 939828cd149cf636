"""Strict, offline validation of Tekton ``tekton.dev/v1`` Task, TaskRun, Pipeline and PipelineRun.

Two layers, both collecting every error:

1. **Schema** — the CRDs vendored in ``tests/data/tekton`` (see SOURCE.md there), turned into JSON
   Schema: ``x-kubernetes-int-or-string`` becomes integer-or-string, the other ``x-kubernetes-*``
   keys go, and every object with ``properties`` forbids unknown ones unless it says
   ``x-kubernetes-preserve-unknown-fields``. The CRDs leave embedded specs and Kubernetes types
   opaque; they are validated here with the Task/Pipeline spec schemas and with the Kubernetes
   OpenAPI definitions (``support.kube_schema``). Known gaps of the CRDs are relaxed:
   ``steps[].name`` and a step/sidecar workspace's ``mountPath`` are optional.

2. **Webhook rules** — what Tekton's admission webhook checks beyond the schema, re-implemented
   from tektoncd/pipeline ``pkg/apis/pipeline/v1`` (``*_validation.go``, ``resultref.go``) at the
   commit the CRDs come from: names, uniqueness, the DAG, ``when`` expressions, and variables.
   Every ``$(...)`` in a string must be a Tekton variable valid where it stands and must name a
   declared param, workspace, result or task — Tekton rejects unknown variables in pipeline task
   params and ``when``; elsewhere it passes them through untouched, which would hand a literal
   ``$(...)`` to the action, so this validator is deliberately stricter. The exception is
   ``script``: shell command substitution ``$(cmd)`` is legitimate there and Tekton leaves it
   alone, so only ``$(...)`` that start like a Tekton variable are checked in scripts.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema.exceptions
import yaml

from support.kube_schema import check_labels, check_object_metadata, validate_kube_definition

__all__ = ["TEKTON_KINDS", "crd_json_schema", "tekton_schemas_dir", "validate_tekton"]

TEKTON_API_VERSION = "tekton.dev/v1"
TEKTON_KINDS = {
    "Task": "300-task.yaml",
    "TaskRun": "300-taskrun.yaml",
    "Pipeline": "300-pipeline.yaml",
    "PipelineRun": "300-pipelinerun.yaml",
}

# --- names (tektoncd/pipeline pkg/apis/pipeline/v1) -------------------------------------------
# task_validation.go: stringAndArrayVariableNameFormat / objectVariableNameFormat
_PARAM_NAME = re.compile(r"^[_a-zA-Z][_a-zA-Z0-9.-]*$")
_OBJECT_PARAM_NAME = re.compile(r"^[_a-zA-Z][_a-zA-Z0-9-]*$")
# resultref.go: ResultNameFormat (task results and step results)
_RESULT_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
# k8s.io/apimachinery IsDNS1123Label / IsDNS1123Subdomain; pipeline task and step names are
# labels (pipeline_validation.go ValidateName, container_validation.go Step.Validate); object
# names are subdomains of at most 63 characters (pkg/apis/validate/metadata.go).
_DNS_LABEL_PART = r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL = re.compile(rf"^{_DNS_LABEL_PART}$")
_DNS1123_SUBDOMAIN = re.compile(rf"^{_DNS_LABEL_PART}(?:\.{_DNS_LABEL_PART})*$")
_OBJECT_NAME_MAX = 63
_WHEN_OPERATORS = ("in", "notin")  # when_validation.go validWhenOperators
_STEP_ON_ERROR = ("continue", "stopAndFail")  # container_validation.go
# Go's time.ParseDuration, which Tekton uses for every timeout.
_GO_DURATION = re.compile(r"^[-+]?(?:0|(?:[0-9]*\.?[0-9]+(?:ns|us|µs|μs|ms|s|m|h))+)$")
_GO_DURATION_PART = re.compile(r"([0-9]*\.?[0-9]+)(ns|us|µs|μs|ms|s|m|h)")
_DEFAULT_TIMEOUT_SECONDS = 60 * 60  # config default-timeout-minutes

# --- variables (docs/variables.md, pkg/substitution, pipeline/task_validation.go) ---------------
_V_PARAM = r"[_a-zA-Z][-_a-zA-Z0-9.]*"
_V_BRACKET = r"\[(?:'(?P<q1>[^'\]]+)'|\"(?P<q2>[^\"\]]+)\")\]"
_V_INDEX = r"(?:\[(?:[0-9]+|\*)\])"
_V_TASK = _DNS_LABEL_PART
_V_RESULT = r"[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?"
_V_WORKSPACE = r"[-_a-zA-Z0-9.]+"
_V_STEP = _DNS_LABEL_PART

_PARAM_REF = re.compile(rf"^params(?:\.(?P<dotted>{_V_PARAM})|{_V_BRACKET}){_V_INDEX}?$")
_TASK_RESULT_REF = re.compile(
    rf"^(?P<section>tasks|finally)\.(?P<task>{_V_TASK})\.results\.(?P<result>{_V_RESULT}){_V_INDEX}?$"
)
_PIPELINE_FORMS = {
    "task status": re.compile(rf"^tasks\.(?P<task>{_V_TASK})\.(?:status|reason)$"),
    "aggregate status": re.compile(r"^tasks\.status$"),
    "matrix length": re.compile(rf"^tasks\.(?P<task>{_V_TASK})\.matrix(?:\.{_V_RESULT})?\.length$"),
    "artifact": re.compile(rf"^tasks\.(?P<task>{_V_TASK})\.(?:outputs|inputs)\.{_V_PARAM}$"),
    "workspace bound": re.compile(rf"^workspaces\.(?P<workspace>{_V_WORKSPACE})\.bound$"),
}
_PIPELINE_CONTEXT = frozenset(
    ["context.pipelineRun.name", "context.pipelineRun.namespace", "context.pipelineRun.uid",
     "context.pipeline.name"]
)
_PIPELINE_TASK_CONTEXT = frozenset(["context.pipelineTask.retries"])
_TASK_CONTEXT = frozenset(
    ["context.taskRun.name", "context.taskRun.namespace", "context.taskRun.uid", "context.task.name",
     "context.task.retry-count", "credentials.path", "artifacts.path", "step.artifacts.path"]
)
_TASK_FORMS = {
    "result path": re.compile(
        rf"^results(?:\.(?P<result>{_V_RESULT})|\[(?:'(?P<r1>{_V_RESULT})'|\"(?P<r2>{_V_RESULT})\")\])\.path$"
    ),
    "workspace": re.compile(rf"^workspaces\.(?P<workspace>{_V_WORKSPACE})\.(?:path|bound|claim|volume)$"),
    "step exit code": re.compile(rf"^steps\.step-(?P<step>{_V_STEP})\.exitCode\.path$"),
    "step result path": re.compile(rf"^step\.results\.{_V_RESULT}\.path$"),
    "step result": re.compile(rf"^steps\.(?P<step>{_V_STEP})\.results\.{_V_RESULT}$"),
}
# In scripts only these are Tekton's business; anything else is shell.
_TEKTON_LOOKING = re.compile(
    r"^(?:params|tasks|finally|context|workspaces|results|steps|step|credentials|artifacts)[.\[]"
)


# --- schemas -----------------------------------------------------------------------------------


def tekton_schemas_dir() -> Path:
    """``tests/data/tekton``: the CRDs vendored unmodified with their LICENSE and SOURCE.md."""
    directory = Path(__file__).resolve().parents[1] / "data" / "tekton"
    missing = [name for name in TEKTON_KINDS.values() if not (directory / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"Tekton CRD schemas not found: {directory} lacks {', '.join(missing)} "
            "(they are part of the repository: restore them with git)."
        )
    return directory


_SCHEMA_MAP_KEYWORDS = ("properties",)  # values are maps of name -> schema
_SCHEMA_KEYWORDS = ("items", "additionalProperties", "not")  # values are schemas
_SCHEMA_LIST_KEYWORDS = ("anyOf", "allOf", "oneOf")  # values are lists of schemas


def _to_json_schema(node: Any) -> Any:
    """An OpenAPI v3 structural-schema node as strict JSON Schema (see the module docstring).

    Only schema-valued keywords are descended into, so data such as ``default`` and ``enum``
    and property *names* are copied untouched.
    """
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        # Descriptions are dropped only to keep the validators small.
        if key.startswith("x-kubernetes-") or key == "description":
            continue
        if key in _SCHEMA_MAP_KEYWORDS:
            out[key] = {name: _to_json_schema(schema) for name, schema in value.items()}
        elif key in _SCHEMA_KEYWORDS:
            out[key] = _to_json_schema(value)
        elif key in _SCHEMA_LIST_KEYWORDS:
            out[key] = [_to_json_schema(schema) for schema in value]
        else:
            out[key] = value
    if node.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out.setdefault("anyOf", [{"type": "integer"}, {"type": "string"}])
    if "properties" in node and not node.get("x-kubernetes-preserve-unknown-fields"):
        out.setdefault("additionalProperties", False)
    return out


def _relax_optional(schema: dict[str, Any], names: tuple[str, ...]) -> None:
    if "required" in schema:
        schema["required"] = [name for name in schema["required"] if name not in names]


@functools.cache
def _crd_schema(kind: str) -> dict[str, Any]:
    text = (tekton_schemas_dir() / TEKTON_KINDS[kind]).read_text(encoding="utf-8")
    # The CRDs are 1.3 MB of YAML: use libyaml when PyYAML has it.
    crd = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    (version,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1"]
    schema: dict[str, Any] = _to_json_schema(version["schema"]["openAPIV3Schema"])
    if kind == "Task":
        spec = schema["properties"]["spec"]["properties"]
        for container_list in ("steps", "sidecars"):
            item = spec[container_list]["items"]
            if container_list == "steps":
                _relax_optional(item, ("name",))
            _relax_optional(item["properties"]["workspaces"]["items"], ("mountPath",))
    # `metadata` is only {type: object} in the CRDs; it is checked as a Kubernetes ObjectMeta.
    return schema


def crd_json_schema(kind: str) -> dict[str, Any]:
    """The strict JSON Schema made from the v1 CRD of ``kind`` (cached: do not mutate it)."""
    return _crd_schema(kind)


def _validator(schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    # The schemas are not re-checked here (check_schema takes seconds); a test does it once.
    return jsonschema.Draft202012Validator(schema)


@functools.cache
def _object_validator(kind: str) -> jsonschema.Draft202012Validator:
    return _validator(_crd_schema(kind))


@functools.cache
def _task_spec_validator(embedded: bool) -> jsonschema.Draft202012Validator:
    spec = dict(_crd_schema("Task")["properties"]["spec"])
    if embedded:
        # pipeline_types.go EmbeddedTask: TypeMeta, spec (custom tasks), metadata (labels and
        # annotations only), then the TaskSpec inline.
        string_map = {"type": "object", "additionalProperties": {"type": "string"}}
        spec["properties"] = {
            **spec["properties"],
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "spec": {"type": "object"},
            "metadata": {"type": "object", "additionalProperties": False,
                         "properties": {"labels": string_map, "annotations": string_map}},
        }
    return _validator(spec)


@functools.cache
def _pipeline_spec_validator() -> jsonschema.Draft202012Validator:
    return _validator(_crd_schema("Pipeline")["properties"]["spec"])


def _join(path: str, part: str | int) -> str:
    if isinstance(part, int):
        return f"{path}[{part}]"
    return f"{path}.{part}" if path else part


def _schema_errors(validator: jsonschema.Draft202012Validator, value: Any, path: str) -> list[str]:
    errors = []
    for error in validator.iter_errors(value):
        shown = jsonschema.exceptions.best_match(error.context) if error.context else error
        assert shown is not None
        where = path
        for part in shown.absolute_path:
            where = _join(where, part)
        errors.append(f"{where or '<root>'}: {shown.message}")
    return sorted(set(errors))


# --- helpers -----------------------------------------------------------------------------------


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _names(items: Any) -> list[str]:
    return [str(item.get("name")) for item in _list(items) if isinstance(item, Mapping) and "name" in item]


def _duplicates(items: Any, path: str, what: str) -> list[str]:
    seen: set[str] = set()
    errors = []
    for index, name in enumerate(_names(items)):
        if name in seen:
            errors.append(f"{path}[{index}].name: {what} {name!r} is not unique")
        seen.add(name)
    return errors


def _go_duration_seconds(text: str) -> float | None:
    if not _GO_DURATION.match(text):
        return None
    units = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
    sign = -1 if text.startswith("-") else 1
    return sign * sum(float(n) * units[u] for n, u in _GO_DURATION_PART.findall(text))


def _duration_error(value: Any, path: str) -> list[str]:
    if value is None or (isinstance(value, str) and _go_duration_seconds(value) is not None):
        return []
    return [f"{path}: {value!r} is not a Go duration (e.g. 90s, 10m, 1h30m)"]


def _strings(value: Any, path: str) -> Iterator[tuple[str, str, str]]:
    """Every string under ``value`` as (path, the key it sits under, text)."""
    stack: list[tuple[Any, str, str]] = [(value, path, "")]
    while stack:
        item, where, key = stack.pop()
        if isinstance(item, str):
            yield where, key, item
        elif isinstance(item, Mapping):
            stack.extend((v, _join(where, str(k)), str(k)) for k, v in reversed(list(item.items())))
        elif isinstance(item, list):
            stack.extend((v, _join(where, i), key) for i, v in reversed(list(enumerate(item))))


def _expressions(text: str, lenient: bool) -> Iterator[tuple[str | None, str]]:
    """The contents of every ``$(...)`` in ``text``; ``(None, reason)`` for a malformed one."""
    start = 0
    while (begin := text.find("$(", start)) >= 0:
        end = text.find(")", begin + 2)
        content = text[begin + 2: end] if end >= 0 else text[begin + 2:]
        start = begin + 2
        if lenient and not _TEKTON_LOOKING.match(content):
            continue  # shell command substitution in a script
        if end < 0:
            yield None, f"unterminated '$(' in {text!r}"
            return
        start = end + 1
        yield content, ""


# --- variable scopes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scope:
    """What a ``$(...)`` may name where it stands. ``None`` means "not known here, do not check"."""

    # "task" (a Task or a TaskRun's taskSpec), "embedded" (a taskSpec inside a pipeline),
    # "pipeline" (pipeline task fields) or "pipeline-results".
    where: str
    params: frozenset[str] | None = None
    workspaces: frozenset[str] | None = None
    results: frozenset[str] | None = None
    steps: frozenset[str] | None = None
    tasks: Mapping[str, frozenset[str] | None] = field(default_factory=dict)  # task -> its results
    finally_tasks: Mapping[str, frozenset[str] | None] = field(default_factory=dict)
    in_finally: bool = False


def _param_declared(name: str, declared: frozenset[str] | None) -> bool:
    # `params.a.b` is either the param "a.b" or key "b" of the object param "a".
    return declared is None or name in declared or name.split(".", 1)[0] in declared


def _check_task_result_ref(match: re.Match[str], scope: _Scope) -> str | None:
    section, task, result = match["section"], match["task"], match["result"]
    if section == "finally":
        # pipeline_validation.go validatePipelineResults: only pipeline results read finally tasks.
        if scope.where != "pipeline-results":
            return "results of finally tasks can only be used in pipeline results"
        if task not in scope.finally_tasks:
            return f"unknown finally task {task!r}"
        declared = scope.finally_tasks[task]
    elif task in scope.tasks:
        declared = scope.tasks[task]
    elif task in scope.finally_tasks:
        return f"{task!r} is a finally task; only pipeline results may use its results"
    else:
        return f"unknown pipeline task {task!r}"
    # Results of a taskRef'd task are unknown here; an embedded taskSpec declares its own.
    if declared is not None and result not in declared and result.split(".", 1)[0] not in declared:
        return f"task {task!r} declares no result {result!r}"
    return None


def _check_expression(content: str, scope: _Scope) -> str | None:
    """None when ``$(content)`` is valid in ``scope``, else why not."""
    if scope.where == "pipeline-results":
        # Pipeline results are task result references and nothing else.
        if match := _TASK_RESULT_REF.match(content):
            return _check_task_result_ref(match, scope)
        return "pipeline results may only reference task results"
    pipeline_like = scope.where == "pipeline"
    task_like = scope.where in ("task", "embedded")
    if match := _PARAM_REF.match(content):
        name = match["dotted"] or match["q1"] or match["q2"]
        return None if _param_declared(name, scope.params) else f"param {name!r} is not declared"
    # apply.go: pipelineRun/pipeline context reaches pipeline task params and (propagated)
    # embedded taskSpecs; pipelineTask context only the params of the pipeline task itself.
    if content in _PIPELINE_CONTEXT and scope.where != "task":
        return None
    if content in _PIPELINE_TASK_CONTEXT and pipeline_like:
        return None
    if content in _TASK_CONTEXT and task_like:
        return None
    if (match := _TASK_RESULT_REF.match(content)) and scope.where != "task":
        return _check_task_result_ref(match, scope)
    if pipeline_like:
        for form, pattern in _PIPELINE_FORMS.items():
            if match := pattern.match(content):
                if form in ("task status", "aggregate status") and not scope.in_finally:
                    return f"{content} is only available in finally tasks"
                task = match.groupdict().get("task")
                if task is not None and task not in scope.tasks:
                    return f"unknown pipeline task {task!r}"
                workspace = match.groupdict().get("workspace")
                if workspace is not None and scope.workspaces is not None and workspace not in scope.workspaces:
                    return f"workspace {workspace!r} is not declared"
                return None
    if task_like:
        for form, pattern in _TASK_FORMS.items():
            if match := pattern.match(content):
                groups = match.groupdict()
                result = groups.get("result") or groups.get("r1") or groups.get("r2")
                if form == "result path" and scope.results is not None and result not in scope.results:
                    return f"result {result!r} is not declared"
                workspace = groups.get("workspace")
                if workspace is not None and scope.workspaces is not None and workspace not in scope.workspaces:
                    return f"workspace {workspace!r} is not declared"
                step = groups.get("step")
                if (form == "step result" and step is not None and scope.steps is not None
                        and step not in scope.steps):
                    return f"step {step!r} does not exist"
                return None
    return "not a Tekton variable here"


def _variable_errors(value: Any, path: str, scope: _Scope) -> list[str]:
    errors = []
    for where, key, text in _strings(value, path):
        for content, problem in _expressions(text, lenient=key == "script"):
            if content is None:
                errors.append(f"{where}: {problem}")
            elif (why := _check_expression(content, scope)) is not None:
                errors.append(f"{where}: $({content}): {why}")
    return errors


# --- Task --------------------------------------------------------------------------------------


def _when_errors(when: Any, path: str) -> list[str]:
    errors = []
    for index, expression in enumerate(_list(when)):
        at = f"{path}[{index}]"
        if not isinstance(expression, Mapping):
            continue
        if expression.get("cel"):
            if any(expression.get(k) for k in ("input", "operator", "values")):
                errors.append(f"{at}: cel and input+operator+values cannot be set together")
            continue
        if expression.get("operator") not in _WHEN_OPERATORS:
            errors.append(f"{at}.operator: {expression.get('operator')!r} is not one of in, notin")
        if not _list(expression.get("values")):
            errors.append(f"{at}.values: expecting non-empty values")
    return errors


def _param_spec_errors(params: Any, path: str) -> list[str]:
    errors = _duplicates(params, path, "param")
    for index, param in enumerate(_list(params)):
        name, kind = str(_map(param).get("name", "")), _map(param).get("type", "string")
        if kind == "object":
            if not _OBJECT_PARAM_NAME.match(name):
                errors.append(f"{path}[{index}].name: object param name {name!r} must match "
                              f"{_OBJECT_PARAM_NAME.pattern}")
            if "properties" not in _map(param):
                errors.append(f"{path}[{index}].properties: required for an object param")
            errors += [f"{path}[{index}].properties: key {key!r} must match {_OBJECT_PARAM_NAME.pattern}"
                       for key in _map(_map(param).get("properties")) if not _OBJECT_PARAM_NAME.match(key)]
        elif not _PARAM_NAME.match(name):
            errors.append(f"{path}[{index}].name: param name {name!r} must match {_PARAM_NAME.pattern}")
    return errors


def _result_errors(results: Any, path: str) -> list[str]:
    errors = _duplicates(results, path, "result")
    for index, name in enumerate(_names(results)):
        if not _RESULT_NAME.match(name):
            errors.append(f"{path}[{index}].name: result name {name!r} must match {_RESULT_NAME.pattern}")
    return errors


def _step_errors(step: Mapping[str, Any], path: str) -> list[str]:
    errors = []
    name = step.get("name")
    if name is not None and not (isinstance(name, str) and len(name) <= 63 and _DNS1123_LABEL.match(name)):
        errors.append(f"{path}.name: step name {name!r} must be a DNS-1123 label")
    if step.get("ref") is None:
        if not step.get("image"):
            errors.append(f"{path}.image: required")
        if step.get("script") and step.get("command"):
            errors.append(f"{path}.script: script cannot be used with command")
    on_error = step.get("onError")
    if on_error is not None and on_error not in _STEP_ON_ERROR and "$(" not in str(on_error):
        errors.append(f"{path}.onError: {on_error!r} is not one of continue, stopAndFail")
    errors += _result_errors(step.get("results"), f"{path}.results")
    errors += _when_errors(step.get("when"), f"{path}.when")
    errors += _duration_error(step.get("timeout"), f"{path}.timeout")
    return errors


def _kube_list_errors(items: Any, definition: str, path: str) -> list[str]:
    errors = []
    for index, item in enumerate(_list(items)):
        errors += validate_kube_definition(item, definition, f"{path}[{index}]")
    return errors


def _task_spec_errors(spec: Any, path: str, scope: _Scope, embedded: bool = False) -> list[str]:
    """TaskSpec.Validate (task_validation.go) plus the schema; ``scope`` says what is declared
    around the task (pipeline params, results of other tasks)."""
    if not isinstance(spec, Mapping):
        return [f"{path}: expected an object"]
    errors = _schema_errors(_task_spec_validator(embedded), spec, path)
    steps = _list(spec.get("steps"))
    if embedded and steps:
        # pipeline_validation.go validateEmbeddedOrType: TypeMeta is for custom tasks only.
        errors += [f"{path}.{key}: {key} cannot be specified when using taskSpec.steps"
                   for key in ("apiVersion", "kind") if spec.get(key)]
    if not steps and not (embedded and spec.get("apiVersion")):  # custom tasks have no steps
        errors.append(f"{path}.steps: at least one step is required")
    errors += _duplicates(steps, f"{path}.steps", "step")
    errors += _duplicates(spec.get("sidecars"), f"{path}.sidecars", "sidecar")
    errors += _duplicates(spec.get("workspaces"), f"{path}.workspaces", "workspace")
    errors += _duplicates(spec.get("volumes"), f"{path}.volumes", "volume")
    errors += _kube_list_errors(spec.get("volumes"), "io.k8s.api.core.v1.Volume", f"{path}.volumes")
    errors += _param_spec_errors(spec.get("params"), f"{path}.params")
    errors += _result_errors(spec.get("results"), f"{path}.results")
    for index, step in enumerate(steps):
        if isinstance(step, Mapping):
            errors += _step_errors(step, f"{path}.steps[{index}]")
    declared_workspaces = frozenset(_names(spec.get("workspaces")))
    for index, step in enumerate(steps):
        for w_index, usage in enumerate(_list(_map(step).get("workspaces"))):
            if _map(usage).get("name") not in declared_workspaces:
                errors.append(f"{path}.steps[{index}].workspaces[{w_index}].name: undefined workspace "
                              f"{_map(usage).get('name')!r}")
    params = frozenset(_names(spec.get("params")))
    task_scope = replace(
        scope,
        where="embedded" if embedded else "task",
        params=params | scope.params if scope.params is not None else (None if embedded else params),
        workspaces=declared_workspaces,
        results=frozenset(_names(spec.get("results"))),
        steps=frozenset(_names(steps)),
    )
    checked = {k: v for k, v in spec.items() if k not in ("description", "displayName", "metadata")}
    errors += _variable_errors(checked, path, task_scope)
    return errors


# --- Pipeline ----------------------------------------------------------------------------------


def _result_refs(value: Any) -> Iterator[str]:
    """Names of the tasks whose results ``value`` references (each one is a DAG edge)."""
    for _, _, text in _strings(value, ""):
        for content, _ in _expressions(text, lenient=False):
            if content and (match := _TASK_RESULT_REF.match(content)) and match["section"] == "tasks":
                yield match["task"]


def _cycle(edges: Mapping[str, set[str]]) -> list[str] | None:
    """A dependency cycle in ``edges`` (task -> tasks it needs), or None."""
    state: dict[str, int] = {}  # 1 visiting, 2 done
    trail: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        trail.append(node)
        for dependency in sorted(edges.get(node, ())):
            if state.get(dependency) == 1:
                return [*trail[trail.index(dependency):], dependency]
            if dependency not in state and (found := visit(dependency)):
                return found
        trail.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (found := visit(node)):
            return found
    return None


def _pipeline_task_errors(task: Mapping[str, Any], path: str, scope: _Scope,
                          pipeline_workspaces: frozenset[str], is_finally: bool) -> list[str]:
    errors = []
    name = task.get("name")
    if not (isinstance(name, str) and len(name) <= 63 and _DNS1123_LABEL.match(name)):
        errors.append(f"{path}.name: pipeline task name {name!r} must be a DNS-1123 label")
    refs = [key for key in ("taskRef", "taskSpec", "pipelineRef", "pipelineSpec") if task.get(key) is not None]
    if len(refs) != 1:
        errors.append(f"{path}: expected exactly one of taskRef, taskSpec, got {refs or 'none'}")
    if is_finally and task.get("runAfter"):
        errors.append(f"{path}.runAfter: no runAfter allowed in finally tasks")
    errors += _duplicates(task.get("params"), f"{path}.params", "param")
    errors += _when_errors(task.get("when"), f"{path}.when")
    errors += _duration_error(task.get("timeout"), f"{path}.timeout")
    on_error = task.get("onError")
    if on_error not in (None, "continue", "stopAndFail"):
        errors.append(f"{path}.onError: {on_error!r} is not one of continue, stopAndFail")
    if on_error == "continue" and _map(task).get("retries", 0):
        errors.append(f"{path}.onError: cannot be continue when retries > 0")
    errors += _duplicates(task.get("workspaces"), f"{path}.workspaces", "workspace binding")
    for index, binding in enumerate(_list(task.get("workspaces"))):
        wanted = _map(binding).get("workspace") or _map(binding).get("name")
        if wanted not in pipeline_workspaces:
            errors.append(f"{path}.workspaces[{index}]: pipeline task {name!r} expects workspace "
                          f"{wanted!r} but none exists in the pipeline spec")
    task_scope = replace(scope, in_finally=is_finally)
    outside_spec = {k: v for k, v in task.items()
                    if k not in ("taskSpec", "pipelineSpec", "description", "name")}
    errors += _variable_errors(outside_spec, path, task_scope)
    if isinstance(task.get("taskSpec"), Mapping):
        errors += _task_spec_errors(task["taskSpec"], f"{path}.taskSpec", task_scope, embedded=True)
    if isinstance(task.get("pipelineSpec"), Mapping):
        errors += _pipeline_spec_errors(task["pipelineSpec"], f"{path}.pipelineSpec", None)
    return errors


def _pipeline_spec_errors(spec: Any, path: str, outer_params: frozenset[str] | None,
                          standalone: bool = False) -> list[str]:
    """PipelineSpec.Validate (pipeline_validation.go) plus the schema.

    ``outer_params`` are the PipelineRun's params, which propagate into an embedded spec;
    ``standalone`` (a Pipeline object) requires every used param to be declared in the spec.
    """
    if not isinstance(spec, Mapping):
        return [f"{path}: expected an object"]
    errors = _schema_errors(_pipeline_spec_validator(), spec, path)
    tasks = [t for t in _list(spec.get("tasks")) if isinstance(t, Mapping)]
    finally_tasks = [t for t in _list(spec.get("finally")) if isinstance(t, Mapping)]
    if finally_tasks and not tasks:
        errors.append(f"{path}.finally: spec.tasks is empty but spec.finally has {len(finally_tasks)} tasks")
    seen: set[str] = set()
    for section, items in (("tasks", tasks), ("finally", finally_tasks)):
        for index, task in enumerate(items):
            name = str(task.get("name"))
            if name in seen:
                errors.append(f"{path}.{section}[{index}].name: pipeline task name {name!r} is not unique")
            seen.add(name)
    # Pipelines check only uniqueness of params; the name format is a Task rule
    # (ValidatePipelineParameterVariables vs ValidateParameterVariables).
    errors += _duplicates(spec.get("params"), f"{path}.params", "param")
    errors += _duplicates(spec.get("workspaces"), f"{path}.workspaces", "workspace")
    for index, workspace in enumerate(_list(spec.get("workspaces"))):
        if not _map(workspace).get("name"):
            errors.append(f"{path}.workspaces[{index}].name: workspace has an empty name")

    def results_of(task: Mapping[str, Any]) -> frozenset[str] | None:
        embedded = task.get("taskSpec")
        return frozenset(_names(embedded.get("results"))) if isinstance(embedded, Mapping) else None

    params = frozenset(_names(spec.get("params")))
    scope = _Scope(
        where="pipeline",
        params=params if standalone else (params | outer_params if outer_params is not None else None),
        workspaces=frozenset(_names(spec.get("workspaces"))),
        tasks={str(t.get("name")): results_of(t) for t in tasks},
        finally_tasks={str(t.get("name")): results_of(t) for t in finally_tasks},
    )
    task_names = set(scope.tasks)
    edges: dict[str, set[str]] = {}
    for section, items in (("tasks", tasks), ("finally", finally_tasks)):
        is_finally = section == "finally"
        for index, task in enumerate(items):
            at = f"{path}.{section}[{index}]"
            errors += _pipeline_task_errors(task, at, scope, scope.workspaces or frozenset(), is_finally)
            if is_finally:
                continue
            needs = set()
            for r_index, after in enumerate(_list(task.get("runAfter"))):
                if after not in task_names:
                    errors.append(f"{at}.runAfter[{r_index}]: task {task.get('name')!r} depends on "
                                  f"{after!r} but {after!r} is not a task of the pipeline")
                needs.add(str(after))
            needs.update(_result_refs({k: task.get(k) for k in ("params", "when", "matrix")}))
            edges[str(task.get("name"))] = needs & task_names
    if cycle := _cycle(edges):
        errors.append(f"{path}.tasks: dependency cycle {' -> '.join(cycle)}")
    results_scope = replace(scope, where="pipeline-results")
    for index, result in enumerate(_list(spec.get("results"))):
        at = f"{path}.results[{index}]"
        value = _map(result).get("value")
        if not any(content for _, _, text in _strings(value, "") for content, _ in _expressions(text, False)):
            errors.append(f"{at}.value: expected pipeline results to be task result expressions")
        errors += _variable_errors(value, f"{at}.value", results_scope)
    return errors


# --- runs --------------------------------------------------------------------------------------

_WORKSPACE_SOURCES = ("emptyDir", "persistentVolumeClaim", "volumeClaimTemplate", "configMap", "secret",
                      "projected", "csi")
_POD_TEMPLATE_K8S_FIELDS = {
    "securityContext": "io.k8s.api.core.v1.PodSecurityContext",
    "affinity": "io.k8s.api.core.v1.Affinity",
}


def _pod_template_errors(template: Any, path: str) -> list[str]:
    if not isinstance(template, Mapping):
        return []
    errors = []
    for key, definition in _POD_TEMPLATE_K8S_FIELDS.items():
        if template.get(key) is not None:
            errors += validate_kube_definition(template[key], definition, f"{path}.{key}")
    errors += _kube_list_errors(template.get("volumes"), "io.k8s.api.core.v1.Volume", f"{path}.volumes")
    return errors


def _workspace_binding_errors(bindings: Any, path: str) -> list[str]:
    errors = _duplicates(bindings, path, "workspace binding")
    for index, binding in enumerate(_list(bindings)):
        sources = [key for key in _WORKSPACE_SOURCES if _map(binding).get(key) is not None]
        if len(sources) != 1:
            errors.append(f"{path}[{index}]: expected exactly one volume source of "
                          f"{', '.join(_WORKSPACE_SOURCES)}, got {sources or 'none'}")
        claim = _map(binding).get("volumeClaimTemplate")
        if claim is not None:
            errors += validate_kube_definition(
                claim, "io.k8s.api.core.v1.PersistentVolumeClaim", f"{path}[{index}].volumeClaimTemplate"
            )
            errors += check_labels(_map(_map(claim).get("metadata")).get("labels"),
                                   f"{path}[{index}].volumeClaimTemplate.metadata.labels")
    return errors


def _run_timeout_errors(timeouts: Any, path: str) -> list[str]:
    timeouts = _map(timeouts)
    errors = []
    seconds = {}
    for key in ("pipeline", "tasks", "finally"):
        errors += _duration_error(timeouts.get(key), f"{path}.{key}")
        if isinstance(timeouts.get(key), str):
            seconds[key] = _go_duration_seconds(timeouts[key])
    if errors:
        return errors
    # pipelinerun_validation.go validatePipelineTimeout; 0 means "no timeout".
    limit = seconds.get("pipeline", _DEFAULT_TIMEOUT_SECONDS)
    if limit:
        for key in ("tasks", "finally"):
            if key in seconds and (seconds[key] == 0 or (seconds[key] or 0) > limit):
                errors.append(f"{path}.{key}: {timeouts[key]} should be <= the pipeline timeout")
        if "tasks" in seconds and "finally" in seconds and (seconds["tasks"] or 0) + (seconds["finally"] or 0) > limit:
            errors.append(f"{path}: tasks + finally should be <= the pipeline timeout")
    return errors


def _pipelinerun_errors(obj: Mapping[str, Any]) -> list[str]:
    spec = _map(obj.get("spec"))
    errors = []
    refs = [key for key in ("pipelineRef", "pipelineSpec") if spec.get(key) is not None]
    if len(refs) != 1:
        errors.append(f"spec: expected exactly one of pipelineRef, pipelineSpec, got {refs or 'none'}")
    errors += _duplicates(spec.get("params"), "spec.params", "param")
    if isinstance(spec.get("pipelineSpec"), Mapping):
        run_params = frozenset(_names(spec.get("params")))
        errors += _pipeline_spec_errors(spec["pipelineSpec"], "spec.pipelineSpec", run_params)
    errors += _workspace_binding_errors(spec.get("workspaces"), "spec.workspaces")
    errors += _run_timeout_errors(spec.get("timeouts"), "spec.timeouts")
    errors += _pod_template_errors(_map(spec.get("taskRunTemplate")).get("podTemplate"),
                                   "spec.taskRunTemplate.podTemplate")
    for index, run_spec in enumerate(_list(spec.get("taskRunSpecs"))):
        errors += _pod_template_errors(_map(run_spec).get("podTemplate"), f"spec.taskRunSpecs[{index}].podTemplate")
        errors += _duration_error(_map(run_spec).get("timeout"), f"spec.taskRunSpecs[{index}].timeout")
    return errors


def _taskrun_errors(obj: Mapping[str, Any]) -> list[str]:
    spec = _map(obj.get("spec"))
    errors = []
    refs = [key for key in ("taskRef", "taskSpec") if spec.get(key) is not None]
    if len(refs) != 1:
        errors.append(f"spec: expected exactly one of taskRef, taskSpec, got {refs or 'none'}")
    errors += _duplicates(spec.get("params"), "spec.params", "param")
    if isinstance(spec.get("taskSpec"), Mapping):
        run_params = frozenset(_names(spec.get("params")))
        errors += _task_spec_errors(spec["taskSpec"], "spec.taskSpec", _Scope("task", params=run_params))
    errors += _workspace_binding_errors(spec.get("workspaces"), "spec.workspaces")
    errors += _duration_error(spec.get("timeout"), "spec.timeout")
    errors += _pod_template_errors(spec.get("podTemplate"), "spec.podTemplate")
    return errors


def _object_name_errors(obj: Mapping[str, Any]) -> list[str]:
    """validate.ObjectMetadata: a DNS-1123 subdomain of at most 63 characters."""
    name = _map(obj.get("metadata")).get("name")
    if not isinstance(name, str) or not name:
        return []  # generateName, or reported by check_object_metadata
    errors = []
    if not _DNS1123_SUBDOMAIN.match(name):
        errors.append(f"metadata.name: invalid resource name {name!r}: must be a valid DNS label")
    if len(name) > _OBJECT_NAME_MAX:
        errors.append(f"metadata.name: {name!r} is longer than {_OBJECT_NAME_MAX} characters")
    return errors


def validate_tekton(obj: dict[str, Any]) -> list[str]:
    """Every error in a ``tekton.dev/v1`` Task, TaskRun, Pipeline or PipelineRun as
    ``"<path>: <message>"``; ``[]`` when Tekton would accept it."""
    if not isinstance(obj, Mapping):
        return [f"<root>: expected an object, got {type(obj).__name__}"]
    kind = obj.get("kind")
    if obj.get("apiVersion") != TEKTON_API_VERSION or kind not in TEKTON_KINDS:
        return [f"<root>: not a {TEKTON_API_VERSION} {'/'.join(TEKTON_KINDS)} "
                f"(apiVersion {obj.get('apiVersion')!r}, kind {kind!r})"]
    errors = _schema_errors(_object_validator(kind), obj, "")
    if obj.get("metadata") is not None:
        errors += validate_kube_definition(obj["metadata"], "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
                                           "metadata")
    errors += check_object_metadata(obj)
    errors += _object_name_errors(obj)
    spec = obj.get("spec")
    if kind == "Task":
        errors += _task_spec_errors(spec, "spec", _Scope("task"))
    elif kind == "Pipeline":
        errors += _pipeline_spec_errors(spec, "spec", None, standalone=True)
    elif kind == "PipelineRun":
        errors += _pipelinerun_errors(obj)
    else:
        errors += _taskrun_errors(obj)
    # Schema errors for one place can repeat through several layers; report each once.
    return list(dict.fromkeys(errors))
