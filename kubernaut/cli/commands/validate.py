"""``kubernaut validate``: diagnostics only."""

from __future__ import annotations

from pathlib import Path

import typer

from kubernaut.cli.app import app
from kubernaut.cli.common import EXIT_INVALID, EXIT_OK, ContractsOpt, FilesArg, report
from kubernaut.cli.registry_contracts import FromRegistryOpt, frontend, registry_trust
from kubernaut.cli.trust import (
    AllowHttpOpt,
    IdentityOpt,
    IdentityRegexpOpt,
    IssuerOpt,
    IssuerRegexpOpt,
    KeyOpt,
    RegistryCACertOpt,
    RegistryConfigOpt,
    SignatureFormatChoice,
    SignatureFormatOpt,
    TrustedRootOpt,
)


@app.command()
def validate(
    files: list[Path] = FilesArg,
    contracts: list[Path] = ContractsOpt,
    contracts_from_registry: bool = FromRegistryOpt,
    key: list[Path] = KeyOpt,
    certificate_identity: str | None = IdentityOpt,
    certificate_identity_regexp: str | None = IdentityRegexpOpt,
    certificate_oidc_issuer: str | None = IssuerOpt,
    certificate_oidc_issuer_regexp: str | None = IssuerRegexpOpt,
    trusted_root: Path | None = TrustedRootOpt,
    signature_format: SignatureFormatChoice = SignatureFormatOpt,
    allow_http_registry: bool = AllowHttpOpt,
    registry_config: Path | None = RegistryConfigOpt,
    registry_cacert: Path | None = RegistryCACertOpt,
) -> None:
    """Check workflows and print compiler-style diagnostics (exit 1 on errors)."""
    trust = registry_trust(contracts_from_registry, key, certificate_identity, certificate_identity_regexp,
                           certificate_oidc_issuer, certificate_oidc_issuer_regexp, trusted_root, signature_format,
                           allow_http_registry, registry_config, registry_cacert)
    result = frontend(files, contracts, trust, allow_http=allow_http_registry)
    report(result)
    if result.ok:
        for wf in result.workflows:
            plural = "s" if len(wf.steps) != 1 else ""
            typer.echo(f"{wf.source}: ok: workflow '{wf.name}' ({len(wf.steps)} step{plural})")
    raise typer.Exit(EXIT_OK if result.ok else EXIT_INVALID)
