"""cosign's trust flags, shared by ``verify``, ``contract`` and any command that checks images.

Each command declares the options with the ``*Opt`` objects below (so ``--help`` is the same
everywhere) and turns them into a :class:`Trust` with :func:`load_trust`, which exits 2 with a
one-line reason on unusable input: an unreadable key, a bad regexp, a missing trusted root.
"""

from __future__ import annotations

import enum
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import typer

from kubernaut.cli.common import EXIT_USAGE
from reconciler.supplychain import (
    Authority,
    Credentials,
    RegistryClient,
    RegistrySettings,
    SignatureFormat,
    TrustMaterialError,
)
from reconciler.supplychain.trust import authorities_from_flags


class SignatureFormatChoice(enum.StrEnum):
    legacy = "legacy"
    bundle = "bundle"
    any = "any"


KeyOpt = typer.Option([], "--key", metavar="PUB", help="Trusted public key (PEM); repeat to trust several (rotation).")
IdentityOpt = typer.Option(None, "--certificate-identity", metavar="ID",
                           help="Keyless: the exact certificate identity (email, URI) that must have signed.")
IdentityRegexpOpt = typer.Option(None, "--certificate-identity-regexp", metavar="RE",
                                 help="Keyless: a regexp the whole certificate identity must match.")
IssuerOpt = typer.Option(None, "--certificate-oidc-issuer", metavar="URL",
                         help="Keyless: the exact OIDC issuer of the signing certificate.")
IssuerRegexpOpt = typer.Option(None, "--certificate-oidc-issuer-regexp", metavar="RE",
                               help="Keyless: a regexp the whole OIDC issuer must match.")
TrustedRootOpt = typer.Option(None, "--trusted-root", metavar="FILE",
                              help="Keyless: Sigstore trusted_root.json (Fulcio, Rekor, CT keys); never downloaded.")
SignatureFormatOpt = typer.Option(SignatureFormatChoice.any, "--signature-format",
                                  help="Which cosign signatures count: legacy .sig tags, v3 bundles, or either.")
AllowHttpOpt = typer.Option(False, "--allow-http-registry",
                            help="Talk to registries over plain HTTP (loopback test registries).")
RegistryConfigOpt = typer.Option(None, "--registry-config", metavar="DOCKER_CONFIG_JSON",
                                 help="Registry credentials (docker config.json; default: $DOCKER_CONFIG/config.json "
                                      "or ~/.docker/config.json when present).")
RegistryCACertOpt = typer.Option(None, "--registry-cacert", metavar="FILE",
                                 help="CA bundle (PEM) to trust for registry TLS.")


@dataclass(frozen=True)
class Trust:
    authorities: list[Authority]
    signature_format: SignatureFormat
    client: RegistryClient


def load_trust(keys: list[Path], identity: str | None, identity_regexp: str | None, issuer: str | None,
               issuer_regexp: str | None, trusted_root: Path | None, signature_format: SignatureFormatChoice,
               allow_http: bool, registry_config: Path | None, registry_cacert: Path | None,
               platform: str = "linux/amd64") -> Trust:
    try:
        authorities = authorities_from_flags(keys, identity, identity_regexp, issuer, issuer_regexp, trusted_root)
        credentials = _credentials(registry_config)
    except TrustMaterialError as exc:
        raise _usage(str(exc)) from None
    if registry_cacert is not None and not registry_cacert.is_file():
        raise _usage(f"--registry-cacert {registry_cacert}: no such file")
    if not re.fullmatch(r"[a-z0-9]+/[a-z0-9]+(/[a-z0-9]+)?", platform):
        raise _usage(f"--platform {platform!r}: expected OS/ARCH[/VARIANT], e.g. linux/amd64")
    settings = RegistrySettings(allow_http=allow_http, ca_bundle=str(registry_cacert) if registry_cacert else None,
                                platform=platform)
    format_value: SignatureFormat = signature_format.value
    return Trust(authorities, format_value, RegistryClient(settings, credentials))


def registry_credentials(path: Path | None) -> Credentials:
    """The credentials of ``--registry-config`` (or the environment's docker config); exit 2 when unusable."""
    try:
        return _credentials(path)
    except TrustMaterialError as exc:
        raise _usage(str(exc)) from None


def _credentials(path: Path | None) -> Credentials:
    if path is not None:
        return Credentials.from_docker_config(path)
    docker_config = os.environ.get("DOCKER_CONFIG")
    default = Path(docker_config) / "config.json" if docker_config else Path.home() / ".docker" / "config.json"
    return Credentials.from_docker_config(default) if default.is_file() else Credentials.anonymous()


def _usage(message: str) -> typer.Exit:
    sys.stderr.write(f"kubernaut: {message}\n")
    return typer.Exit(EXIT_USAGE)
