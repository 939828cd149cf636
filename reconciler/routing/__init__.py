"""Engine routing: the seed's V1/V2 feature flag (see ``docs/routing.md``).

``model`` parses and validates a ``RoutingPolicy`` with located diagnostics, ``evaluate`` decides
an engine for one workflow, ``source`` keeps the policy current from the ``kubernaut-config``
ConfigMap without a restart.
"""

from .evaluate import (
    DEFAULT_RULE_LABEL,
    OVERRIDE_RULE_LABEL,
    STICKY_RULE_LABEL,
    Decision,
    Served,
    decide,
    derived_uid,
    has_dependencies,
    percentage_bucket,
    sticky_engine,
)
from .model import (
    API_VERSION,
    KIND,
    EngineName,
    Match,
    PolicyLoad,
    RoutingPolicy,
    Rule,
    default_policy,
    load_policy_file,
    parse_policy,
)
from .source import DEFAULT_CONFIGMAP, DEFAULT_KEY, PolicySource, PolicyState

__all__ = [
    "API_VERSION",
    "DEFAULT_CONFIGMAP",
    "DEFAULT_KEY",
    "DEFAULT_RULE_LABEL",
    "KIND",
    "OVERRIDE_RULE_LABEL",
    "STICKY_RULE_LABEL",
    "Decision",
    "EngineName",
    "Match",
    "PolicyLoad",
    "PolicySource",
    "PolicyState",
    "RoutingPolicy",
    "Rule",
    "Served",
    "decide",
    "default_policy",
    "derived_uid",
    "has_dependencies",
    "load_policy_file",
    "parse_policy",
    "percentage_bucket",
    "sticky_engine",
]
