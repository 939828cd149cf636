"""Engine routing: which engine runs a workflow, and why.

Order of precedence (each step explains itself in ``Decision.reason``):

1. ``status.engine`` already recorded (only when the caller passes ``status``): that engine,
   whatever the policy says now — a running workflow is never moved between engines;
2. the workflow's own ``spec.engine`` (a registered engine, ``reconciler.engines.registry``);
3. the policy's rules, in order, first match wins;
4. the policy's ``defaultEngine``.

A choice of an engine whose kinds the cluster does not serve (``EngineInfo.requires``: Tekton's
CRDs for ``tekton``) falls back to the registry's fallback engine (``fallback`` is set) so a
workflow never waits forever for a controller that does not exist. A recorded engine is exempt:
moving a started workflow would break stickiness, so the engine reports the missing CRDs on that
workflow instead.

Everything here is a pure function of its arguments: the same workflow, uid and policy always
give the same decision, which is what makes ``kubernaut route`` a faithful preview.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from compiler import ir

from ..engines.registry import EngineInfo, known_engines
from .model import Match, RoutingPolicy

__all__ = [
    "DEFAULT_RULE_LABEL",
    "OVERRIDE_RULE_LABEL",
    "STICKY_RULE_LABEL",
    "Decision",
    "Served",
    "decide",
    "derived_uid",
    "has_dependencies",
    "percentage_bucket",
    "sticky_engine",
]

# `rule` metric label values for decisions no rule made. Rule names are DNS-1123 labels
# (lowercase, no dots), so these can never collide with a configured rule.
DEFAULT_RULE_LABEL = "defaultEngine"
OVERRIDE_RULE_LABEL = "spec.engine"
STICKY_RULE_LABEL = "status.engine"

#: What the cluster serves: ``has_kind(apiVersion, kind)``, or True (everything an engine may
#: need) / False (none of it: only engines that require nothing can run).
Served = bool | Callable[[str, str], bool]

# uuid5 namespace for uids derived from namespace/name (kubernaut route without --uid).
_UID_NAMESPACE = uuid.UUID("6f1d0c3e-6b7a-5b8e-9c61-6b75626572e1")


@dataclass(frozen=True)
class Decision:
    engine: str
    reason: str
    rule: str | None = None  # the matching rule's name, None when no rule decided
    fallback: bool = False  # the chosen engine cannot run on this cluster: the fallback engine instead
    #: The ``rule`` label of ``kubernaut_routing_decisions_total``: the rule's name, or one of
    #: the ``*_RULE_LABEL`` values when no rule decided.
    rule_label: str = DEFAULT_RULE_LABEL


def percentage_bucket(uid: str) -> int:
    """0..99, stable for a uid: the first 32 bits of its SHA-256, modulo 100."""
    return int(hashlib.sha256(uid.encode("utf-8")).hexdigest()[:8], 16) % 100


def derived_uid(namespace: str | None, name: str) -> str:
    """A stable stand-in uid for a workflow not yet created (the API server assigns real ones)."""
    return str(uuid.uuid5(_UID_NAMESPACE, f"{namespace or 'default'}/{name}"))


def has_dependencies(workflow: ir.Workflow) -> bool:
    """Some step waits for another, by ``runAfter`` or by referencing its outputs."""
    return any(step.dependencies for step in workflow.steps)


def sticky_engine(status: Mapping[str, Any] | None) -> str | None:
    """The engine recorded when the workflow started (``status.engine``), or None if not yet."""
    if not status:
        return None
    info = known_engines().get(status.get("engine"))
    return info.name if info is not None else None


def _match(match: Match, workflow: ir.Workflow, uid: str) -> list[str] | None:
    """Why ``match`` holds (one phrase per condition), or None when it does not."""
    why: list[str] = []
    if match.workflowType is not None:
        if workflow.workflow_type not in match.workflowType:
            return None
        why.append(f"workflowType is '{workflow.workflow_type}'")
    if match.minSteps is not None:
        count = len(workflow.steps)
        if count < match.minSteps:
            return None
        why.append(f"{count} steps >= minSteps {match.minSteps}")
    if match.hasDependencies is not None:
        if has_dependencies(workflow) != match.hasDependencies:
            return None
        why.append("steps have dependencies" if match.hasDependencies else "no step has dependencies")
    if match.percentage is not None:
        bucket = percentage_bucket(uid)
        if bucket >= match.percentage:
            return None
        why.append(f"uid bucket {bucket} < {match.percentage}%")
    return why or ["matches every workflow"]


def _choose(workflow: ir.Workflow, uid: str, policy: RoutingPolicy) -> Decision:
    if workflow.engine != "auto":
        return Decision(workflow.engine, f"spec.engine is '{workflow.engine}'", None, rule_label=OVERRIDE_RULE_LABEL)
    for rule in policy.rules:
        why = _match(rule.match, workflow, uid)
        if why is not None:
            return Decision(rule.engine, f"rule '{rule.name}': {', '.join(why)}", rule.name, rule_label=rule.name)
    preface = "no rule matched" if policy.rules else "no rules"
    return Decision(policy.defaultEngine, f"{preface}; defaultEngine is {policy.defaultEngine}", None)


def decide(
    workflow: ir.Workflow,
    uid: str,
    policy: RoutingPolicy,
    served: Served,
    *,
    status: Mapping[str, Any] | None = None,
) -> Decision:
    """The engine for ``workflow`` (see the module docstring for the precedence); ``served``
    says which kinds the cluster serves (``Cluster.has_kind``)."""
    recorded = sticky_engine(status)
    if recorded is not None:
        return Decision(recorded, f"engine '{recorded}' was recorded in status.engine when the workflow started",
                        None, rule_label=STICKY_RULE_LABEL)
    decision = _choose(workflow, uid, policy)
    engines = known_engines()
    info = engines.get(decision.engine)
    if info is None or _runs(info, served):
        return decision
    fallback = engines.fallback.name
    missing = info.missing or f"the cluster does not serve what the {info.name} engine needs"
    return Decision(fallback, f"{decision.reason}; {missing}: falling back to {fallback}", decision.rule,
                    fallback=True, rule_label=decision.rule_label)


def _runs(info: EngineInfo, served: Served) -> bool:
    if isinstance(served, bool):
        return served or not info.requires
    return info.available(served)
