"""``kubernaut verify IMAGE...``: check Cosign signatures the way the controller does.

Exit status: 0 every image verified; 1 any image rejected or not verifiable (one line per image on
stderr with the reason; a tag without a digest is rejected); 2 usage errors (unreadable key, bad
flags). Output is in argument order, so it is deterministic.
"""

from __future__ import annotations

import enum
import json
import sys
from pathlib import Path

import typer

from kubernaut.cli.app import app
from kubernaut.cli.common import EXIT_INVALID, EXIT_OK
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
    load_trust,
)
from reconciler.supplychain import ImageReferenceError, SignatureCheck, parse_reference, verify_image


class OutputChoice(enum.StrEnum):
    text = "text"
    json = "json"


@app.command()
def verify(
    images: list[str] = typer.Argument(..., metavar="IMAGE...", help="Images pinned by digest (name@sha256:...)."),
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
    output: OutputChoice = typer.Option(OutputChoice.text, "--output", "-o", help="Report format on stdout."),
) -> None:
    """Verify the Cosign signatures of images (legacy .sig or v3 bundles); exit 1 if any is rejected."""
    trust = load_trust(key, certificate_identity, certificate_identity_regexp, certificate_oidc_issuer,
                       certificate_oidc_issuer_regexp, trusted_root, signature_format, allow_http_registry,
                       registry_config, registry_cacert)
    results: list[tuple[str, SignatureCheck]] = []
    for image in images:
        try:
            ref = parse_reference(image)
        except ImageReferenceError as exc:
            check = SignatureCheck(False, str(exc))
        else:
            check = verify_image(ref, trust.authorities, trust.signature_format, trust.client)
        results.append((image, check))
        if not check.ok:
            transient = " (transient: retry later)" if check.retryable else ""
            sys.stderr.write(f"{image}: rejected: {check.reason}{transient}\n")
    if output is OutputChoice.json:
        typer.echo(json.dumps([{"image": image, "verified": check.ok, "reason": check.reason,
                                "retryable": check.retryable, "authority": check.authority}
                               for image, check in results], indent=2))
    else:
        for image, check in results:
            if check.ok:
                typer.echo(f"{image}: verified: {check.reason}")
    raise typer.Exit(EXIT_OK if all(check.ok for _, check in results) else EXIT_INVALID)
