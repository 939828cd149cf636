"""kubernaut's ClusterImagePolicy as sigstore policy-controller's (``policy.sigstore.dev/v1beta1``),
for clusters that also run policy-controller as an admission webhook (the same rule at pod
admission, on both engines).

The translation is exact where the two agree and says so where they differ (``notes``: printed by
``kubernaut policy export``, never silently dropped):

* ``signatureFormat: any`` has no policy-controller equivalent; since one authority of a policy
  suffices in both, it becomes two authorities, ``<name>-legacy`` and ``<name>-bundle``;
* a key Secret: policy-controller reads the Secret from its own namespace and takes the whole
  Secret as the key, so a ``key`` selector or a namespace is reported;
* a keyless trusted root: policy-controller names a ``TrustRoot`` resource, not a ConfigMap, so the
  reference is exported by name and the note says to create that TrustRoot;
* ``allowHttpRegistry`` has no per-policy setting there;
* Docker Hub globs: policy-controller names Docker Hub ``index.docker.io``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from compiler.policy import Authority as AuthoritySpec
from compiler.policy import ClusterImagePolicySpec

__all__ = ["SIGSTORE_POLICY_API_VERSION", "Exported", "to_policy_controller"]

SIGSTORE_POLICY_API_VERSION = "policy.sigstore.dev/v1beta1"
_HUB = "docker.io/"
_HUB_THERE = "index.docker.io/"


@dataclass(frozen=True)
class Exported:
    manifest: dict[str, Any]
    #: Where the exported policy is not exactly equivalent, and what to do about it.
    notes: tuple[str, ...]


def _glob(glob: str) -> str:
    return _HUB_THERE + glob.removeprefix(_HUB) if glob.startswith(_HUB) else glob


def _authority_bodies(authority: AuthoritySpec, notes: list[str]) -> dict[str, Any]:
    if authority.key is not None:
        if authority.key.data is not None:
            return {"key": {"data": authority.key.data, "hashAlgorithm": "sha256"}}
        ref = authority.key.secretRef
        assert ref is not None  # the model requires data or secretRef
        if ref.key is not None or ref.namespace is not None:
            notes.append(f"authority {authority.name}: policy-controller reads Secret {ref.name} from its own "
                         f"namespace and uses the whole Secret as the key; copy the key there alone")
        return {"key": {"secretRef": {"name": ref.name}, "hashAlgorithm": "sha256"}}
    keyless = authority.keyless
    assert keyless is not None  # the model requires key or keyless
    root = keyless.trustRootRef
    notes.append(f"authority {authority.name}: trustRootRef names a policy-controller TrustRoot; create TrustRoot "
                 f"{root.name} from the trusted root in {root.kind} {root.name} (key {root.key})")
    identities = [{k: v for k, v in identity.model_dump().items() if v is not None} for identity in keyless.identities]
    return {"keyless": {"identities": identities, "trustRootRef": root.name}}


def to_policy_controller(name: str, spec: ClusterImagePolicySpec) -> Exported:
    notes: list[str] = []
    formats = ("legacy", "bundle") if spec.signatureFormat == "any" else (spec.signatureFormat,)
    authorities = []
    for authority in spec.authorities:
        body = _authority_bodies(authority, notes)
        for fmt in formats:
            suffix = f"-{fmt}" if len(formats) > 1 else ""
            authorities.append({"name": f"{authority.name}{suffix}", **body, "signatureFormat": fmt})
    if spec.allowHttpRegistry:
        notes.append("allowHttpRegistry has no per-policy equivalent in policy-controller")
    if any(g.glob.startswith(_HUB) for g in spec.images):
        notes.append("Docker Hub globs were rewritten to index.docker.io, the name policy-controller matches")
    manifest = {
        "apiVersion": SIGSTORE_POLICY_API_VERSION,
        "kind": "ClusterImagePolicy",
        "metadata": {"name": name},
        "spec": {
            "images": [{"glob": _glob(g.glob)} for g in spec.images],
            "authorities": authorities,
            "mode": spec.mode,
        },
    }
    return Exported(manifest, tuple(f"policy {name}: {note}" for note in notes))
