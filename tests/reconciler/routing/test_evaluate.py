"""decide(): every rule kind, the spec.engine override, fallback, stickiness, percentage hashing."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from compiler import ir
from reconciler.routing import (
    DEFAULT_RULE_LABEL,
    OVERRIDE_RULE_LABEL,
    STICKY_RULE_LABEL,
    RoutingPolicy,
    decide,
    derived_uid,
    has_dependencies,
    percentage_bucket,
    sticky_engine,
)

Factory = Callable[..., ir.Workflow]
UID = "0b5e3f6a-1111-4222-8333-944455556666"


def policy(*rules: dict[str, Any], default: str = "jobs") -> RoutingPolicy:
    return RoutingPolicy.model_validate({"defaultEngine": default, "rules": list(rules)})


def rule(name: str, engine: str = "tekton", **match: Any) -> dict[str, Any]:
    return {"name": name, "engine": engine, "match": match}


def test_no_rules_uses_the_default_engine(workflow: Factory) -> None:
    for default in ("jobs", "tekton"):
        d = decide(workflow(), UID, policy(default=default), True)
        assert (d.engine, d.rule, d.fallback, d.rule_label) == (default, None, False, DEFAULT_RULE_LABEL)
        assert d.reason == f"no rules; defaultEngine is {default}"


def test_workflow_type_rule_matches_one_or_many_types(workflow: Factory) -> None:
    p = policy(rule("gitops", workflowType="gitops-pr-creation"), rule("others", workflowType=["a", "b"]))
    gitops = decide(workflow(workflow_type="gitops-pr-creation"), UID, p, True)
    assert (gitops.engine, gitops.rule) == ("tekton", "gitops")
    assert gitops.reason == "rule 'gitops': workflowType is 'gitops-pr-creation'"
    assert decide(workflow(workflow_type="b"), UID, p, True).rule == "others"
    untyped = decide(workflow(), UID, p, True)
    assert (untyped.engine, untyped.rule) == ("jobs", None)
    assert untyped.reason == "no rule matched; defaultEngine is jobs"


def test_min_steps_rule_is_inclusive(workflow: Factory) -> None:
    p = policy(rule("multi", minSteps=4))
    assert decide(workflow(3), UID, p, True).engine == "jobs"
    four = decide(workflow(4), UID, p, True)
    assert (four.engine, four.reason) == ("tekton", "rule 'multi': 4 steps >= minSteps 4")


def test_has_dependencies_rule_both_ways(workflow: Factory) -> None:
    chain, flat = workflow(2, chained=True), workflow(2)
    assert has_dependencies(chain) and not has_dependencies(flat)
    p = policy(rule("dag", hasDependencies=True))
    assert decide(chain, UID, p, True).engine == "tekton"
    assert decide(flat, UID, p, True).engine == "jobs"
    p = policy(rule("flat", hasDependencies=False))
    assert decide(flat, UID, p, True).reason == "rule 'flat': no step has dependencies"
    assert decide(chain, UID, p, True).engine == "jobs"


def test_percentage_rule_uses_the_documented_hash(workflow: Factory) -> None:
    bucket = int(hashlib.sha256(UID.encode()).hexdigest()[:8], 16) % 100
    assert percentage_bucket(UID) == bucket
    assert decide(workflow(), UID, policy(rule("c", percentage=bucket + 1)), True).engine == "tekton"
    assert decide(workflow(), UID, policy(rule("c", percentage=bucket)), True).engine == "jobs"
    reason = decide(workflow(), UID, policy(rule("c", percentage=bucket + 1)), True).reason
    assert reason == f"rule 'c': uid bucket {bucket} < {bucket + 1}%"


def test_percentage_splits_traffic_close_to_the_share(workflow: Factory) -> None:
    p = policy(rule("canary", percentage=10))
    uids = [str(uuid.UUID(int=i * 7919 + 1)) for i in range(5000)]
    on_tekton = sum(decide(workflow(), u, p, True).engine == "tekton" for u in uids)
    assert 400 <= on_tekton <= 600  # 10% of 5000, with room for the hash's spread
    assert all(decide(workflow(), u, policy(rule("none", percentage=0)), True).engine == "jobs" for u in uids[:200])
    assert all(decide(workflow(), u, policy(rule("all", percentage=100)), True).engine == "tekton"
               for u in uids[:200])


@given(st.text(min_size=1, max_size=60), st.integers(0, 100), st.integers(0, 100))
def test_percentage_is_deterministic_and_monotonic(uid: str, low: int, high: int) -> None:
    low, high = min(low, high), max(low, high)
    wf = ir.Workflow(name="wf", steps=(ir.Step(name="s", action_type="t", image="i", inputs={}),))
    first = decide(wf, uid, policy(rule("c", percentage=low)), True)
    assert first == decide(wf, uid, policy(rule("c", percentage=low)), True)  # same uid, same answer
    if first.engine == "tekton":  # in the 10% canary means in every larger canary too
        assert decide(wf, uid, policy(rule("c", percentage=high)), True).engine == "tekton"


def test_conditions_of_one_rule_must_all_hold(workflow: Factory) -> None:
    p = policy(rule("both", workflowType="gitops-pr-creation", minSteps=3, hasDependencies=True))
    assert decide(workflow(3, workflow_type="gitops-pr-creation", chained=True), UID, p, True).reason == (
        "rule 'both': workflowType is 'gitops-pr-creation', 3 steps >= minSteps 3, steps have dependencies")
    assert decide(workflow(3, workflow_type="gitops-pr-creation"), UID, p, True).engine == "jobs"
    assert decide(workflow(2, workflow_type="gitops-pr-creation", chained=True), UID, p, True).engine == "jobs"
    assert decide(workflow(3, workflow_type="other", chained=True), UID, p, True).engine == "jobs"


def test_first_matching_rule_wins_and_empty_match_matches_everything(workflow: Factory) -> None:
    p = policy(rule("v1-for-singles", engine="jobs", minSteps=1), rule("rest", engine="tekton"), default="tekton")
    d = decide(workflow(5), UID, p, True)
    assert (d.engine, d.rule) == ("jobs", "v1-for-singles")
    catch_all = decide(workflow(), UID, policy(rule("all")), True)
    assert (catch_all.engine, catch_all.reason) == ("tekton", "rule 'all': matches every workflow")


def test_spec_engine_overrides_the_policy(workflow: Factory) -> None:
    everything_on_tekton = policy(rule("all"), default="tekton")
    d = decide(workflow(engine="jobs"), UID, everything_on_tekton, True)
    assert (d.engine, d.rule, d.rule_label, d.reason) == ("jobs", None, OVERRIDE_RULE_LABEL, "spec.engine is 'jobs'")
    d = decide(workflow(engine="tekton"), UID, policy(), True)
    assert (d.engine, d.reason) == ("tekton", "spec.engine is 'tekton'")


def test_tekton_falls_back_to_jobs_when_its_crds_are_missing(workflow: Factory) -> None:
    d = decide(workflow(workflow_type="g"), UID, policy(rule("gitops", workflowType="g")), False)
    assert (d.engine, d.fallback, d.rule, d.rule_label) == ("jobs", True, "gitops", "gitops")
    assert d.reason.startswith("rule 'gitops': workflowType is 'g'; Tekton is not installed")
    assert "falling back to jobs" in d.reason
    # The override is no exception: a tekton-only cluster feature must not strand a workflow.
    forced = decide(workflow(engine="tekton"), UID, policy(), False)
    assert (forced.engine, forced.fallback) == ("jobs", True)
    # Jobs decisions never "fall back".
    assert decide(workflow(), UID, policy(), False).fallback is False


def test_sticky_engine_reads_status() -> None:
    assert sticky_engine(None) is None
    assert sticky_engine({}) is None
    assert sticky_engine({"phase": "Pending"}) is None
    assert sticky_engine({"engine": "argo"}) is None
    assert sticky_engine({"engine": "tekton", "phase": "Running"}) == "tekton"


def test_recorded_engine_wins_over_any_policy_change(workflow: Factory) -> None:
    wf = workflow(5, chained=True, workflow_type="gitops-pr-creation")
    started_on_jobs = {"phase": "Running", "engine": "jobs"}
    for p in (policy(), policy(rule("all")), policy(default="tekton"), policy(rule("x", percentage=100))):
        d = decide(wf, UID, p, True, status=started_on_jobs)
        assert (d.engine, d.rule_label, d.fallback) == ("jobs", STICKY_RULE_LABEL, False)
        assert "status.engine" in d.reason
    # A workflow started on tekton stays there even if Tekton disappears (the engine reports it).
    d = decide(wf, UID, policy(), False, status={"engine": "tekton"})
    assert (d.engine, d.fallback) == ("tekton", False)
    # Not started yet (no status.engine): the current policy decides.
    assert decide(wf, UID, policy(rule("all")), True, status={"phase": "Pending"}).engine == "tekton"


def test_derived_uid_is_stable_and_distinct() -> None:
    assert derived_uid("production", "a") == derived_uid("production", "a")
    assert derived_uid(None, "a") == derived_uid("default", "a")
    assert derived_uid("production", "a") != derived_uid("staging", "a")
    uuid.UUID(derived_uid("production", "a"))  # a well-formed uuid
