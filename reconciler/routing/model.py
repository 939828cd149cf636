"""The routing policy (the seed's V1/V2 feature flag) and its located validation.

A ``RoutingPolicy`` document lives in the ConfigMap ``kubernaut-config`` under ``routing.yaml``
(or in a plain file for ``kubernaut route``). It is parsed with ``compiler.source`` so that every
problem becomes a compiler-style diagnostic pointing at the offending line, exactly like a
workflow error: an operator editing the flag during a rollout gets ``file:line:col`` and a hint,
not a Python traceback.

The models are frozen: a policy is swapped as a whole on reload and shared between threads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Final, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, Strict, ValidationError
from pydantic_core import PydanticCustomError

from compiler.diagnostics import Diagnostic, Span, error, has_errors, render_all, sort_key
from compiler.didyoumean import did_you_mean
from compiler.source import Path as NodePath
from compiler.source import SourceDocument, load_documents
from compiler.structure import describe_value
from compiler.values import dns1123_label_problem

from ..engines.registry import known_engines

__all__ = [
    "API_VERSION",
    "KIND",
    "EngineName",
    "Match",
    "PolicyLoad",
    "RoutingPolicy",
    "Rule",
    "default_policy",
    "load_policy_file",
    "parse_policy",
]

API_VERSION: Final = "kubernaut.ai/v1alpha1"
KIND: Final = "RoutingPolicy"


def _one_or_many(value: Any) -> Any:
    """``workflowType: gitops`` and ``workflowType: [a, b]`` both mean "one of these types"."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple):
        if not value:
            raise PydanticCustomError("empty_list", "must name at least one workflow type")
        return tuple(value)
    raise PydanticCustomError("one_or_many", "must be a string or a list of strings")


def _none_is_empty_mapping(value: Any) -> Any:
    # `match:` with nothing after it reads as null in YAML; users mean "match everything".
    return {} if value is None else value


def _none_is_empty_list(value: Any) -> Any:
    return () if value is None else value


# Strict scalars: YAML makes `"10"` a string and `yes` a string (YAML 1.2 core via SafeLoader
# only knows true/false); coercing them silently would route traffic on a typo.
StrictStr = Annotated[str, Strict()]


def _registered_engine(value: str) -> str:
    """An engine of ``reconciler.engines.registry``, asked at validation time."""
    engines = known_engines()
    if value not in engines:
        raise PydanticCustomError("unknown_engine", "unknown engine", {"expected": engines.choices()})
    return value


#: An engine's name as a policy writes it: a registered engine, or a located KN007.
EngineName = Annotated[str, Strict(), AfterValidator(_registered_engine)]


def _fallback_engine() -> str:
    return known_engines().fallback.name
WorkflowTypes = Annotated[tuple[StrictStr, ...], BeforeValidator(_one_or_many)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Match(_Model):
    """Conditions of a rule; every one that is set must hold. No condition: matches everything."""

    workflowType: WorkflowTypes | None = Field(
        default=None, description="spec.workflowType equals this string, or one of these strings.")
    minSteps: Annotated[int, Strict(), Field(ge=1)] | None = Field(
        default=None, description="The workflow has at least this many steps.")
    hasDependencies: Annotated[bool, Strict()] | None = Field(
        default=None, description="Some step depends on another (runAfter or a reference): true or false.")
    percentage: Annotated[int, Strict(), Field(ge=0, le=100)] | None = Field(
        default=None, description="Stable share of workflows, by a hash of the workflow's uid (0-100).")

    def is_empty(self) -> bool:
        return all(getattr(self, name) is None for name in type(self).model_fields)


class Rule(_Model):
    name: StrictStr = Field(description="DNS-1123 label, unique in the policy; names the rule in reasons and metrics.")
    match: Annotated[Match, BeforeValidator(_none_is_empty_mapping)] = Field(default_factory=Match)
    engine: EngineName


class RoutingPolicy(_Model):
    apiVersion: Literal["kubernaut.ai/v1alpha1"] = API_VERSION
    kind: Literal["RoutingPolicy"] = KIND
    defaultEngine: EngineName = Field(default_factory=_fallback_engine,
                                      description="Engine when no rule matches (default: the fallback engine).")
    rules: Annotated[tuple[Rule, ...], BeforeValidator(_none_is_empty_list)] = Field(
        default=(), description="Ordered; the first matching rule wins.")


def default_policy() -> RoutingPolicy:
    """The built-in policy when nothing is configured: every workflow on V1 Jobs (the seed's
    Phase 1, and the safe state Tekton-less clusters need)."""
    return RoutingPolicy()


# -- loading with positions ----------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyLoad:
    """The outcome of reading one routing file: the policy (None on errors) and every diagnostic."""

    file: str
    policy: RoutingPolicy | None
    diagnostics: tuple[Diagnostic, ...] = ()
    text: str = ""  # the decoded source, for excerpts when rendering

    @property
    def ok(self) -> bool:
        return self.policy is not None and not has_errors(self.diagnostics)

    def render(self) -> str:
        """Diagnostics compiler-style, with excerpts (empty when there are none)."""
        return render_all(self.diagnostics, {self.file: self.text})


def load_policy_file(path: Path) -> PolicyLoad:
    """Read a routing file; an unreadable file is a located diagnostic too, never an exception."""
    name = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return PolicyLoad(name, None, (error("KN002", f"cannot read '{name}': {exc.strerror or exc}", None),))
    return parse_policy(name, raw)


def parse_policy(file: str, raw: bytes | str) -> PolicyLoad:
    """Parse and validate one ``RoutingPolicy`` document; never raises on bad input."""
    data = raw.encode("utf-8") if isinstance(raw, str) else raw
    documents, problems, text = load_documents(file, data)
    diagnostics = [_reword(d) for d in problems]
    if len(documents) > 1:
        extra = documents[1]
        diagnostics.append(error(
            "KN002", f"{len(documents)} YAML documents; a routing file holds exactly one RoutingPolicy",
            extra.span(()), "remove the extra '---' documents"))
    policy: RoutingPolicy | None = None
    if documents:
        doc = documents[0]
        diagnostics.extend(doc.problems)
        diagnostics.extend(_check_kind(doc))
        body = {k: v for k, v in doc.data.items() if k not in ("apiVersion", "kind")}
        try:
            policy = RoutingPolicy.model_validate(body)
        except ValidationError as exc:
            diagnostics.extend(_to_diagnostic(doc, problem) for problem in exc.errors())
        # On the raw data, so a bad name is reported in the same run as type errors elsewhere.
        diagnostics.extend(_check_rule_names(doc))
    diagnostics.sort(key=sort_key)
    if has_errors(diagnostics):
        policy = None
    return PolicyLoad(file, policy, tuple(diagnostics), text)


def _reword(d: Diagnostic) -> Diagnostic:
    """``load_documents`` speaks of workflows; say "routing policy" for these files."""
    if d.code != "KN002":
        return d
    if d.message.startswith("file is empty"):
        return replace(d, message="file is empty: no RoutingPolicy in it",
                       hint=f"start with 'apiVersion: {API_VERSION}' and 'kind: {KIND}'")
    if d.hint and "workflow" in d.hint:
        return replace(d, hint=f"a routing document is a mapping starting with 'apiVersion: {API_VERSION}'")
    return d


def _check_kind(doc: SourceDocument) -> list[Diagnostic]:
    found: list[Diagnostic] = []
    for key, expected in (("apiVersion", API_VERSION), ("kind", KIND)):
        value = doc.data.get(key)
        if value != expected:
            what = "missing" if value is None else f"'{value}'"
            found.append(error("KN004", f"{key} is {what}; expected '{expected}'",
                               doc.span((key,)), f"write '{key}: {expected}'"))
    return found


def _check_rule_names(doc: SourceDocument) -> list[Diagnostic]:
    # Rule names end up in status reasons, Events and the `rule` metric label: keep them
    # label-safe and unique so a dashboard line always means one rule.
    rules = doc.data.get("rules")
    found: list[Diagnostic] = []
    first: dict[str, Span] = {}
    for index, rule in enumerate(rules if isinstance(rules, list) else []):
        name = rule.get("name") if isinstance(rule, dict) else None
        if not isinstance(name, str):
            continue  # missing or mistyped: the model reports it
        path: NodePath = ("rules", index, "name")
        problem = dns1123_label_problem(name)
        if problem:
            found.append(error("KN010", f"rule name {problem}", doc.span(path),
                               "rule names are DNS-1123 labels, e.g. 'gitops-on-tekton'"))
        elif name in first:
            found.append(error("KN007", f"two rules are named '{name}'", doc.span(path),
                               "rule names must be unique: they identify the rule in reasons and metrics",
                               related=[(first[name], f"'{name}' first used here")]))
        else:
            first[name] = doc.span(path)
    return found


_TYPE_NAMES: Mapping[str, str] = MappingProxyType({
    "string_type": "a string", "int_type": "an integer", "bool_type": "true or false",
    "dict_type": "a mapping", "model_type": "a mapping", "model_attributes_type": "a mapping",
    "tuple_type": "a list", "list_type": "a list", "int_from_float": "an integer",
})


_RANGE_HINTS: Mapping[str | int, str] = MappingProxyType({
    "percentage": "a percentage is a whole number from 0 to 100",
    "minSteps": "minSteps: 4 routes workflows with more than 3 steps",
})


def _fields_at(path: NodePath) -> list[str]:
    """The field names allowed at ``path`` for 'did you mean' hints."""
    models: dict[tuple[str, ...], type[BaseModel]] = {(): RoutingPolicy, ("rules",): Rule, ("rules", "match"): Match}
    key = tuple(p for p in path if isinstance(p, str))
    model = models.get(key)
    if model is None:
        return []
    return [f for f in model.model_fields if f not in ("apiVersion", "kind")] + (
        ["apiVersion", "kind"] if model is RoutingPolicy else [])


def _to_diagnostic(doc: SourceDocument, problem: Mapping[str, Any]) -> Diagnostic:
    # Pydantic inserts validator names ("function-before[...]") into error locations; the loader's
    # positions are keyed by the document path only.
    path: NodePath = tuple(p for p in problem["loc"]
                           if not (isinstance(p, str) and (p.startswith("function-") or p.startswith("literal["))))
    dotted = ".".join(str(p) for p in path) or "document"
    kind = problem["type"]
    value = problem.get("input")
    if kind == "extra_forbidden":
        name = str(path[-1])
        allowed = _fields_at(path[:-1])
        where = ".".join(str(p) for p in path[:-1]) or "document"
        return error("KN005", f"unknown field '{name}' in {where}", doc.key_span(path),
                     did_you_mean(name, allowed) or f"allowed fields: {', '.join(allowed)}")
    if kind == "missing":
        parent = path[:-1]
        return error("KN006", f"missing required field '{dotted}'",
                     doc.key_span(parent) if parent else doc.span(()), f"add '{path[-1]}:'")
    if kind == "literal_error":
        expected = problem.get("ctx", {}).get("expected", "")
        return error("KN007", f"{dotted}: '{value}' is not allowed; expected {expected}", doc.span(path))
    if kind == "unknown_engine":
        expected = problem.get("ctx", {}).get("expected", "")
        return error("KN007", f"{dotted}: '{value}' is not allowed; expected {expected}", doc.span(path),
                     did_you_mean(str(value), known_engines().names))
    if kind in ("greater_than_equal", "less_than_equal"):
        ctx = problem.get("ctx", {})
        bound = f"at least {ctx['ge']}" if kind == "greater_than_equal" else f"at most {ctx['le']}"
        return error("KN007", f"{dotted} must be {bound}, not {value}", doc.span(path), _RANGE_HINTS.get(path[-1]))
    if kind in ("one_or_many", "empty_list"):
        return error("KN007", f"{dotted} {problem['msg']}", doc.span(path))
    expected = _TYPE_NAMES.get(kind)
    if expected:
        quoted = isinstance(value, str) and kind in ("int_type", "bool_type")
        hint = "write numbers and booleans without quotes" if quoted else None
        return error("KN007", f"{dotted} must be {expected}, not {describe_value(value)}", doc.span(path), hint)
    return error("KN007", f"{dotted}: {problem['msg']}", doc.span(path))
