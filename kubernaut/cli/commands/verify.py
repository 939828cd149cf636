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
from kubernaut.cli.policy_files import load_policy_files, verify_with_policies
from kubernaut.cli.trust import Trust, TrustFlags, registry_credentials, with_trust_flags
from reconciler.supplychain import ImageReferenceError, RegistrySettings, SignatureCheck, parse_reference, verify_image


class OutputChoice(enum.StrEnum):
    text = "text"
    json = "json"


def _check(image: str, trust: Trust) -> SignatureCheck:
    try:
        ref = parse_reference(image)
    except ImageReferenceError as exc:
        return SignatureCheck(False, str(exc))
    return verify_image(ref, trust.authorities, trust.signature_format, trust.client)


def _policy_checks(images: list[str], files: list[Path], flags: TrustFlags) -> list[SignatureCheck]:
    """``--policy``: the controller's policy verifier; trust flags, if any, are one more policy."""
    loaded = load_policy_files(files, trust_objects=True)
    loaded.exit_on_errors()
    trust = flags.load() if flags.names_authority else None
    allow_http = flags.allow_http_registry
    settings = trust.client.settings if trust else RegistrySettings(
        allow_http=allow_http, ca_bundle=str(flags.registry_cacert) if flags.registry_cacert else None)
    credentials = trust.client.credentials if trust else registry_credentials(flags.registry_config)
    answers = verify_with_policies(images, loaded, trust, allow_http=allow_http, credentials=credentials,
                                   settings=settings)
    return [SignatureCheck(a.ok, a.reason, a.retryable) for a in answers]


@app.command()
@with_trust_flags
def verify(
    images: list[str] = typer.Argument(..., metavar="IMAGE...", help="Images pinned by digest (name@sha256:...)."),
    output: OutputChoice = typer.Option(OutputChoice.text, "--output", "-o", help="Report format on stdout."),
    policy: list[Path] = typer.Option([], "--policy", metavar="FILE",
                                      help="ClusterImagePolicy YAML (with the Secrets and ConfigMaps it names): "
                                           "verify as the controller would; repeatable."),
    *,
    trust_flags: TrustFlags,
) -> None:
    """Verify the Cosign signatures of images (legacy .sig or v3 bundles); exit 1 if any is rejected."""
    if policy:
        checks = _policy_checks(images, policy, trust_flags)
    else:
        trust = trust_flags.load()
        checks = [_check(image, trust) for image in images]
    results: list[tuple[str, SignatureCheck]] = []
    for image, check in zip(images, checks, strict=True):
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
