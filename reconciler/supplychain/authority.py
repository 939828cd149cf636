"""Who may sign: public keys, or keyless identities checked against a pinned Sigstore trusted root."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from .errors import TrustMaterialError

SignatureFormat = Literal["legacy", "bundle", "any"]
SIGNATURE_FORMATS: tuple[SignatureFormat, ...] = ("legacy", "bundle", "any")


@dataclass(frozen=True)
class KeyAuthority:
    """Any of ``public_keys_pem`` (several during a rotation) may sign."""

    name: str
    public_keys_pem: tuple[str, ...]


@dataclass(frozen=True)
class KeylessAuthority:
    """A Fulcio certificate for ``subject``/``subject_regexp`` issued by ``issuer``/``issuer_regexp``.

    ``trusted_root_json`` is the content of a Sigstore ``trusted_root.json`` (Fulcio CAs, Rekor and
    CT log keys): pinned, never fetched, so verification works offline and cannot be redirected.
    """

    name: str
    subject: str | None
    subject_regexp: str | None
    issuer: str | None
    issuer_regexp: str | None
    trusted_root_json: str

    def __post_init__(self) -> None:
        if (self.subject is None) == (self.subject_regexp is None):
            raise TrustMaterialError(f"keyless authority {self.name!r}: give exactly one of subject and subject regexp")
        if (self.issuer is None) == (self.issuer_regexp is None):
            raise TrustMaterialError(f"keyless authority {self.name!r}: give exactly one of issuer and issuer regexp")
        for pattern in (self.subject_regexp, self.issuer_regexp):
            if pattern is not None:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise TrustMaterialError(f"keyless authority {self.name!r}: bad regexp {pattern!r}: {exc}") \
                        from exc


Authority = KeyAuthority | KeylessAuthority
