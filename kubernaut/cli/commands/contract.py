"""``kubernaut contract IMAGE``: print the ``/action-contract.yaml`` of a verified image.

The signature is checked first with the same trust flags as ``kubernaut verify``; the layers are
read only when it passes. Exit status: 0 printed; 1 verification failed, the image has no
contract, or its layers cannot be read; 2 usage errors.
"""

from __future__ import annotations

import sys

import typer

from kubernaut.cli.app import app
from kubernaut.cli.common import EXIT_INVALID
from kubernaut.cli.trust import TrustFlags, with_trust_flags
from reconciler.supplychain import ImageReferenceError, SupplyChainError, fetch_contract, parse_reference, verify_image


@app.command()
@with_trust_flags
def contract(
    image: str = typer.Argument(..., metavar="IMAGE", help="Image pinned by digest (name@sha256:...)."),
    platform: str = typer.Option("linux/amd64", "--platform", metavar="OS/ARCH[/VARIANT]",
                                 help="Which child of a multi-platform image index to read the contract from."),
    *,
    trust_flags: TrustFlags,
) -> None:
    """Print the action contract of a signed image, after verifying its signature."""
    trust = trust_flags.load(platform)
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
