"""Building blocks shared by every target.

``targets.common.naming`` — deterministic, Tekton-compatible child names and DNS-1123 checks;
``targets.common.security`` — the Pod Security Standard "restricted" security contexts.
Import from the submodules; this package keeps no state and re-exports nothing.
"""
