"""Authorities from command-line style inputs: key files, a keyless identity, a trusted root.

Shared by ``kubernaut verify``/``contract`` and any other command taking cosign's trust flags, so
they all refuse the same bad input the same way (:class:`TrustMaterialError`, a usage error).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .authority import Authority, KeyAuthority, KeylessAuthority
from .bundle import load_trusted_root
from .errors import TrustMaterialError
from .keys import load_public_key


def authorities_from_flags(keys: Sequence[Path], identity: str | None = None, identity_regexp: str | None = None,
                           issuer: str | None = None, issuer_regexp: str | None = None,
                           trusted_root: Path | None = None) -> list[Authority]:
    authorities: list[Authority] = []
    for path in keys:
        try:
            pem = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise TrustMaterialError(f"cannot read public key {path}: {exc}") from exc
        load_public_key(pem, str(path))
        authorities.append(KeyAuthority(name=f"key {path.name}", public_keys_pem=(pem,)))
    keyless = (identity, identity_regexp, issuer, issuer_regexp, trusted_root)
    if any(value is not None for value in keyless):
        if identity is not None and identity_regexp is not None:
            raise TrustMaterialError("give --certificate-identity or --certificate-identity-regexp, not both")
        if issuer is not None and issuer_regexp is not None:
            raise TrustMaterialError("give --certificate-oidc-issuer or --certificate-oidc-issuer-regexp, not both")
        if identity is None and identity_regexp is None:
            raise TrustMaterialError("keyless verification needs --certificate-identity or "
                                     "--certificate-identity-regexp")
        if issuer is None and issuer_regexp is None:
            raise TrustMaterialError("keyless verification needs --certificate-oidc-issuer or "
                                     "--certificate-oidc-issuer-regexp")
        if trusted_root is None:
            raise TrustMaterialError("keyless verification needs --trusted-root FILE (a Sigstore trusted_root.json); "
                                     "it is pinned, never downloaded")
        try:
            root_json = trusted_root.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise TrustMaterialError(f"cannot read trusted root {trusted_root}: {exc}") from exc
        load_trusted_root(root_json)
        authorities.append(KeylessAuthority(
            name=f"keyless {identity or identity_regexp} from {issuer or issuer_regexp}",
            subject=identity, subject_regexp=identity_regexp, issuer=issuer, issuer_regexp=issuer_regexp,
            trusted_root_json=root_json))
    if not authorities:
        raise TrustMaterialError("nothing to trust: give --key PUB and/or a keyless identity (--certificate-identity"
                                 "[-regexp], --certificate-oidc-issuer[-regexp], --trusted-root)")
    return authorities
