"""``kubernaut contract IMAGE``: print the ``/action-contract.yaml`` of a verified image.

The signature is checked first with the same trust flags as ``kubernaut verify``; the layers are
read only when it passes. Exit status: 0 printed; 1 verification failed, the image has no
contract, or its layers cannot be read; 2 usage errors.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from kubernaut.cli.app import app
from kubernaut.cli.common import EXIT_INVALID
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
from reconciler.supplychain import ImageReferenceError, SupplyChainError, fetch_contract, parse_reference, verify_image


@app.command()
def contract(
    image: str = typer.Argument(..., metavar="IMAGE", help="Image pinned by digest (name@sha256:...)."),
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
    platform: str = typer.Option("linux/amd64", "--platform", metavar="OS/ARCH[/VARIANT]",
                                 help="Which child of a multi-platform image index to read the contract from."),
) -> None:
    """Print the action contract of a signed image, after verifying its signature."""
    trust = load_trust(key, certificate_identity, certificate_identity_regexp, certificate_oidc_issuer,
                       certificate_oidc_issuer_regexp, trusted_root, signature_format, allow_http_registry,
                       registry_config, registry_cacert, platform)
    try:
        ref = parse_reference(image)
    except ImageReferenceError as exc:
        raise _fail(image, str(exc)) from None
    check = verify_image(ref, trust.authorities, trust.signature_format, trust.client)
    if not check.ok:
        raise _fail(image, f"rejected: {check.reason}")
    try:
        text = fetch_contract(ref, trust.client)
    except SupplyChainError as exc:
        raise _fail(image, f"cannot read the contract: {exc}") from None
    if text is None:
        raise _fail(image, "the image has no /action-contract.yaml")
    sys.stdout.write(text.decode("utf-8", errors="replace"))
    if not text.endswith(b"\n"):
        sys.stdout.write("\n")


def _fail(image: str, message: str) -> typer.Exit:
    sys.stderr.write(f"{image}: {message}\n")
    return typer.Exit(EXIT_INVALID)
