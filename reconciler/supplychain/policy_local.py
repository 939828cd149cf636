"""cosign-style trust flags as a ClusterImagePolicy, so the command line verifies through exactly the
code the controller runs (``PolicyVerifier``) — ``kubernaut run --verify`` puts these objects into
its embedded cluster.

The flags trust keys and at most one keyless identity for *every* image: one policy matching
``**`` with one authority per trusted key or identity, and the keyless trusted root in a
ConfigMap of the controller's namespace (policies name trust material by reference).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from compiler.policy import POLICY_API_VERSION, POLICY_KIND

from .authority import Authority, KeyAuthority, SignatureFormat

__all__ = ["FLAGS_POLICY", "flag_policy_objects"]

#: The name of the policy the trust flags become.
FLAGS_POLICY = "command-line-trust"


def flag_policy_objects(authorities: Sequence[Authority], signature_format: SignatureFormat, *,
                        allow_http: bool, namespace: str) -> list[dict[str, Any]]:
    """The ClusterImagePolicy (last) and the ConfigMaps it refers to (first)."""
    objects: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    for index, authority in enumerate(authorities):
        name = f"flag-{index + 1}"
        if isinstance(authority, KeyAuthority):
            entries.extend({"name": f"{name}-{n + 1}" if len(authority.public_keys_pem) > 1 else name,
                            "key": {"data": pem}} for n, pem in enumerate(authority.public_keys_pem))
            continue
        root = f"{FLAGS_POLICY}-{name}-trusted-root"
        objects.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": root, "namespace": namespace},
                        "data": {"trusted_root.json": authority.trusted_root_json}})
        identity = {"subject": authority.subject, "subjectRegExp": authority.subject_regexp,
                    "issuer": authority.issuer, "issuerRegExp": authority.issuer_regexp}
        entries.append({"name": name, "keyless": {
            "identities": [{k: v for k, v in identity.items() if v is not None}],
            "trustRootRef": {"kind": "ConfigMap", "name": root}}})
    objects.append({"apiVersion": POLICY_API_VERSION, "kind": POLICY_KIND, "metadata": {"name": FLAGS_POLICY},
                    "spec": {"images": [{"glob": "**"}], "authorities": entries,
                             "signatureFormat": signature_format, "allowHttpRegistry": allow_http}})
    return objects
