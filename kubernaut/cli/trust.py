"""cosign's trust flags, shared by ``verify``, ``contract`` and any command that checks images.

A command takes them all with one parameter ``trust_flags: TrustFlags`` and the
:func:`with_trust_flags` decorator, which puts the ten options into the command's signature (so
``--help`` is the same everywhere and no command repeats them). ``TrustFlags.load`` turns them into
a :class:`Trust`, exiting 2 with a one-line reason on unusable input: an unreadable key, a bad
regexp, a missing trusted root.
"""

from __future__ import annotations

import enum
import functools
import inspect
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, TypeVar, get_type_hints

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
class TrustFlags:
    """cosign's trust flags as given on the command line (field names are the option names)."""

    key: list[Path]
    certificate_identity: str | None
    certificate_identity_regexp: str | None
    certificate_oidc_issuer: str | None
    certificate_oidc_issuer_regexp: str | None
    trusted_root: Path | None
    signature_format: SignatureFormatChoice
    allow_http_registry: bool
    registry_config: Path | None
    registry_cacert: Path | None

    @property
    def names_authority(self) -> bool:
        """Whether any trust material (a key or a keyless identity) was given."""
        return bool(self.key or self.certificate_identity or self.certificate_identity_regexp
                    or self.certificate_oidc_issuer or self.certificate_oidc_issuer_regexp or self.trusted_root)

    def load(self, platform: str = "linux/amd64") -> Trust:
        return load_trust(self.key, self.certificate_identity, self.certificate_identity_regexp,
                          self.certificate_oidc_issuer, self.certificate_oidc_issuer_regexp, self.trusted_root,
                          self.signature_format, self.allow_http_registry, self.registry_config,
                          self.registry_cacert, platform)


_OPTIONS: dict[str, Any] = {
    "key": KeyOpt, "certificate_identity": IdentityOpt, "certificate_identity_regexp": IdentityRegexpOpt,
    "certificate_oidc_issuer": IssuerOpt, "certificate_oidc_issuer_regexp": IssuerRegexpOpt,
    "trusted_root": TrustedRootOpt, "signature_format": SignatureFormatOpt, "allow_http_registry": AllowHttpOpt,
    "registry_config": RegistryConfigOpt, "registry_cacert": RegistryCACertOpt,
}
_Command = TypeVar("_Command", bound=Callable[..., Any])


def with_trust_flags(command: _Command) -> _Command:
    """Give ``command`` cosign's trust options in place of its ``trust_flags: TrustFlags`` parameter.

    Typer reads a command's options from its signature, so the wrapper's signature lists the ten
    options (after the command's own) and the wrapper folds them back into one :class:`TrustFlags`.
    """
    signature = inspect.signature(command, eval_str=True)
    own = [p for name, p in signature.parameters.items() if name != "trust_flags"]
    hints = get_type_hints(TrustFlags)
    flags = [inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=_OPTIONS[f.name],
                               annotation=hints[f.name]) for f in fields(TrustFlags)]

    @functools.wraps(command)
    def wrapper(**kwargs: Any) -> Any:
        trust_flags = TrustFlags(**{p.name: kwargs.pop(p.name) for p in flags})
        return command(trust_flags=trust_flags, **kwargs)

    full = signature.replace(parameters=[*own, *flags])
    wrapper.__signature__ = full  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in full.parameters.values()} | {
        "return": full.return_annotation}
    return wrapper  # type: ignore[return-value]


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
