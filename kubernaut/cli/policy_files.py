"""ClusterImagePolicy files on the command line: reading them with located diagnostics
(``kubernaut policy export``) and verifying images against them exactly as the controller does
(``kubernaut verify --policy``: the policies, and the Secrets and ConfigMaps they name, go into a
throw-away embedded cluster checked by ``PolicyVerifier``)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError

from compiler.diagnostics import Diagnostic, error, render_all
from compiler.policy import POLICY_API_VERSION, POLICY_KIND, ClusterImagePolicy
from compiler.source import SourceDocument, load_documents
from kubernaut.cli.common import EXIT_INVALID, EXIT_USAGE
from kubernaut.cli.trust import Trust
from reconciler.clock import RealClock
from reconciler.cluster.memory import MemoryCluster
from reconciler.supplychain.policy_local import flag_policy_objects
from reconciler.supplychain.policy_registry import RegistryBackend
from reconciler.supplychain.policy_verifier import PolicySettings, PolicyVerifier
from reconciler.supplychain.registry import Credentials, RegistrySettings
from reconciler.verification import ImageContext, VerificationResult

__all__ = ["LoadedFiles", "load_policy_files", "verify_with_policies"]

#: Kinds a policy file may hold besides policies: the trust material they refer to.
_TRUST_KINDS = ("Secret", "ConfigMap")
_NAMESPACE = "kubernaut-system"


@dataclass
class LoadedFiles:
    policies: list[ClusterImagePolicy] = field(default_factory=list)
    #: Secrets and ConfigMaps, as written.
    trust_objects: list[dict[str, Any]] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)

    def exit_on_errors(self) -> None:
        """Print the diagnostics and exit 1 when any is an error."""
        if any(d.is_error for d in self.diagnostics):
            sys.stderr.write(render_all(self.diagnostics, self.sources) + "\n")
            raise typer.Exit(EXIT_INVALID)


def _problems(doc: SourceDocument, exc: ValidationError) -> list[Diagnostic]:
    found = []
    for problem in exc.errors():
        path = tuple(p for p in problem["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        dotted = ".".join(map(str, path)) or "document"
        if problem["type"] == "extra_forbidden":
            found.append(error("KN005", f"unknown field '{path[-1]}' in {'.'.join(map(str, path[:-1])) or 'document'}",
                               doc.key_span(path)))
        elif problem["type"] == "missing":
            found.append(error("KN006", f"missing required field '{dotted}'", doc.key_span(path[:-1]),
                               f"add '{path[-1]}:'"))
        else:
            found.append(error("KN007", f"{dotted}: {problem['msg'].removeprefix('Value error, ')}", doc.span(path)))
    return found


def _policy(doc: SourceDocument) -> tuple[ClusterImagePolicy | None, list[Diagnostic]]:
    data: Any = doc.data
    try:
        loaded = ClusterImagePolicy.model_validate(data)
    except ValidationError as exc:
        return None, _problems(doc, exc)
    if not isinstance(loaded.metadata.get("name"), str) or not loaded.metadata["name"]:
        return None, [error("KN006", "missing required field 'metadata.name'", doc.span(("metadata",)))]
    return loaded, []


def load_policy_files(files: Sequence[Path], *, trust_objects: bool = False) -> LoadedFiles:
    """Every ClusterImagePolicy of ``files`` (and, with ``trust_objects``, their Secrets and
    ConfigMaps); anything else is a located KN004 error. Exit 2 on an unreadable file."""
    loaded = LoadedFiles()
    allowed = f"'{POLICY_KIND}'" + (" or a Secret or ConfigMap" if trust_objects else "")
    for file in files:
        try:
            raw = file.read_bytes()
        except OSError as exc:
            sys.stderr.write(f"kubernaut: cannot read {file}: {exc.strerror or exc}\n")
            raise typer.Exit(EXIT_USAGE) from None
        docs, problems, text = load_documents(str(file), raw)
        loaded.sources[str(file)] = text
        loaded.diagnostics.extend(problems)
        for doc in docs:
            loaded.diagnostics.extend(doc.problems)
            if doc.problems:
                continue
            data: Any = doc.data
            if trust_objects and data.get("apiVersion") == "v1" and data.get("kind") in _TRUST_KINDS:
                loaded.trust_objects.append(dict(data))
                continue
            if data.get("apiVersion") != POLICY_API_VERSION or data.get("kind") != POLICY_KIND:
                loaded.diagnostics.append(error(
                    "KN004", f"expected apiVersion '{POLICY_API_VERSION}' and kind {allowed}, not "
                             f"'{data.get('apiVersion')}' / '{data.get('kind')}'", doc.span(("kind",))))
                continue
            policy, found = _policy(doc)
            loaded.diagnostics.extend(found)
            if policy is not None:
                loaded.policies.append(policy)
    return loaded


def verify_with_policies(images: Sequence[str], loaded: LoadedFiles, trust: Trust | None, *, allow_http: bool,
                         credentials: Credentials, settings: RegistrySettings) -> list[VerificationResult]:
    """Each image's answer under the policies (and the trust flags as one more policy, if given)."""
    cluster = MemoryCluster(tekton_installed=False)
    for obj in loaded.trust_objects:
        obj = {**obj, "metadata": {"namespace": _NAMESPACE, **(obj.get("metadata") or {})}}
        cluster.create(obj)
    for policy in loaded.policies:
        cluster.create(policy.model_dump(exclude_none=True, exclude={"status"}))
    if trust is not None:
        for obj in flag_policy_objects(trust.authorities, trust.signature_format, allow_http=allow_http,
                                       namespace=_NAMESPACE):
            cluster.create(obj)
    backend = RegistryBackend(settings, credentials)
    verifier = PolicyVerifier(cluster, RealClock(), backend, PolicySettings(namespace=_NAMESPACE))
    return [verifier.verify(image, ImageContext()) for image in images]
