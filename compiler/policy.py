"""The ``ClusterImagePolicy`` resource (``policy.kubernaut.ai/v1alpha1``): which signatures an action
image needs before kubernaut runs it.

Modelled on sigstore policy-controller's ClusterImagePolicy (same field names where the meaning is
the same, so ``kubernaut policy export`` is a translation, not a reinterpretation): ``images`` globs
select the images a policy governs; an image needs one valid signature from *any* of the policy's
``authorities``; every policy whose globs match must pass. The model lives in the compiler so the
CRD generator (``targets.crds``) and the controller (``reconciler.supplychain``) share it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "POLICY_API_GROUP",
    "POLICY_API_VERSION",
    "POLICY_KIND",
    "Authority",
    "ClusterImagePolicy",
    "ClusterImagePolicySpec",
    "Identity",
    "ImageGlob",
    "KeyRef",
    "KeylessRef",
    "SecretKeyRef",
    "TrustRootRef",
]

POLICY_API_GROUP = "policy.kubernaut.ai"
POLICY_API_VERSION = f"{POLICY_API_GROUP}/v1alpha1"
POLICY_KIND = "ClusterImagePolicy"

SignatureFormat = Literal["legacy", "bundle", "any"]
PolicyMode = Literal["enforce", "warn"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ImageGlob(_Model):
    glob: str = Field(min_length=1, description=(
        "Image name (registry/repository, no tag or digest) pattern: '*' matches within one path "
        "segment, '**' across segments, e.g. ghcr.io/kubernaut/actions/*."))


class SecretKeyRef(_Model):
    name: str = Field(min_length=1, description="The Secret's name.")
    namespace: str | None = Field(
        default=None, description="The Secret's namespace. Default: the controller's namespace.")
    key: str | None = Field(
        default=None, description="The data key holding one PEM public key. Default: every key of the "
                                  "Secret is a trusted public key (key rotation).")


class KeyRef(_Model):
    data: str | None = Field(default=None, description="A PEM public key, inline.")
    secretRef: SecretKeyRef | None = Field(default=None, description="Public keys read from a Secret.")

    @model_validator(mode="after")
    def _one_source(self) -> KeyRef:
        if (self.data is None) == (self.secretRef is None):
            raise ValueError("a key needs exactly one of 'data' and 'secretRef'")
        return self


class Identity(_Model):
    subject: str | None = Field(default=None, description="The certificate's exact subject (SAN).")
    subjectRegExp: str | None = Field(default=None, description="A regular expression the subject must match.")
    issuer: str | None = Field(default=None, description="The exact OIDC issuer.")
    issuerRegExp: str | None = Field(default=None, description="A regular expression the issuer must match.")

    @model_validator(mode="after")
    def _complete(self) -> Identity:
        if (self.subject is None) == (self.subjectRegExp is None):
            raise ValueError("an identity needs exactly one of 'subject' and 'subjectRegExp'")
        if (self.issuer is None) == (self.issuerRegExp is None):
            raise ValueError("an identity needs exactly one of 'issuer' and 'issuerRegExp'")
        return self


class TrustRootRef(_Model):
    kind: Literal["ConfigMap", "Secret"] = Field(description="Where the trusted root is stored.")
    name: str = Field(min_length=1, description="The ConfigMap's or Secret's name.")
    namespace: str | None = Field(
        default=None, description="Its namespace. Default: the controller's namespace.")
    key: str = Field(default="trusted_root.json", description="The data key holding the Sigstore trusted root JSON.")


class KeylessRef(_Model):
    identities: list[Identity] = Field(min_length=1, description="Accepted signer identities (any one).")
    trustRootRef: TrustRootRef = Field(description=(
        "The Sigstore trusted root (Fulcio CAs, Rekor keys) to verify against, pinned: the "
        "controller never fetches one over the network."))


class Authority(_Model):
    name: str = Field(min_length=1, description="A name for messages and metrics.")
    key: KeyRef | None = Field(default=None, description="Key-based signatures.")
    keyless: KeylessRef | None = Field(default=None, description="Keyless (Fulcio certificate) signatures.")

    @model_validator(mode="after")
    def _one_kind(self) -> Authority:
        if (self.key is None) == (self.keyless is None):
            raise ValueError(f"authority '{self.name}' needs exactly one of 'key' and 'keyless'")
        return self


class ClusterImagePolicySpec(_Model):
    images: list[ImageGlob] = Field(min_length=1, description="The images this policy governs.")
    authorities: list[Authority] = Field(
        min_length=1, description="A governed image needs a valid signature from at least one of them.")
    signatureFormat: SignatureFormat = Field(
        default="any", description="legacy (cosign .sig tags), bundle (cosign v3 Sigstore bundles) or any.")
    mode: PolicyMode = Field(
        default="enforce", description="enforce: a failure stops the step; warn: it is reported and the step runs.")
    allowHttpRegistry: bool = Field(
        default=False, description="Reach the governed registries over plain HTTP (test registries only).")


class ClusterImagePolicy(_Model):
    apiVersion: Literal["policy.kubernaut.ai/v1alpha1"] = "policy.kubernaut.ai/v1alpha1"
    kind: Literal["ClusterImagePolicy"] = "ClusterImagePolicy"
    metadata: dict[str, Any] = Field(default_factory=dict)
    spec: ClusterImagePolicySpec
    status: dict[str, Any] | None = None
