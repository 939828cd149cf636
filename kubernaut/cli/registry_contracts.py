"""``--contracts-from-registry`` for ``validate`` and ``compile``: each step's contract is the
``/action-contract.yaml`` of its image, read only after the image's signature verified.

The images are verified the way the controller does it (``PolicyVerifier``; the trust flags become
one ClusterImagePolicy for every image, in a throw-away embedded cluster) and each image is asked
once however many steps use it. Anything that keeps a step from having a verified contract — an
unsigned image, an unreachable registry, no contract in the image, a contract for another action
type, two images disagreeing about one action type — is a located error (KN090) on the step's
``image`` line. Images that are not pinned by digest are left to KN015.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import typer

from compiler.contracts import ActionContract, Catalog
from compiler.diagnostics import Diagnostic, Span, error, sort_key
from compiler.frontend import FrontendResult, compile_files
from compiler.source import load_documents
from compiler.spec import API_VERSION, KIND
from kubernaut.cli.common import EXIT_USAGE, run_frontend
from kubernaut.cli.trust import Trust, TrustFlags
from reconciler.clock import RealClock
from reconciler.cluster.memory import MemoryCluster
from reconciler.engines.registry import known_engines
from reconciler.supplychain.errors import SupplyChainError
from reconciler.supplychain.policy_contracts import ContractProblem, parse_contract
from reconciler.supplychain.policy_local import flag_policy_objects
from reconciler.supplychain.policy_registry import RegistryBackend
from reconciler.supplychain.policy_verifier import PolicySettings, PolicyVerifier
from reconciler.supplychain.reference import parse_reference
from reconciler.verification import ImageContext

__all__ = ["CODE", "FromRegistryOpt", "RegistryContracts", "frontend", "registry_contracts", "registry_trust"]

CODE = "KN090"
_NAMESPACE = "kubernaut-system"

FromRegistryOpt = typer.Option(False, "--contracts-from-registry",
                               help="Read each step's contract from its image (after verifying its signature "
                                    "with the trust flags) instead of the catalog.")


@dataclass(frozen=True)
class _StepImage:
    image: str
    action_type: str
    span: Span


@dataclass
class RegistryContracts:
    catalog: Catalog
    diagnostics: list[Diagnostic] = field(default_factory=list)


def _step_images(files: Sequence[Path]) -> Iterator[_StepImage]:
    for path in files:
        try:
            raw = path.read_bytes()
        except OSError:
            continue  # the front end reports unreadable files
        docs, _, _ = load_documents(str(path), raw)
        for doc in docs:
            data = doc.data if isinstance(doc.data, dict) else {}
            if data.get("apiVersion") != API_VERSION or data.get("kind") != KIND:
                continue
            steps = (data.get("spec") or {}).get("steps") if isinstance(data.get("spec"), dict) else None
            for i, step in enumerate(steps if isinstance(steps, list) else []):
                if not isinstance(step, dict) or not isinstance(step.get("image"), str):
                    continue
                try:
                    parse_reference(step["image"])
                except SupplyChainError:
                    continue  # not pinned by digest: KN015 says so
                yield _StepImage(step["image"], str(step.get("actionType") or ""),
                                 doc.span(("spec", "steps", i, "image")))


def registry_contracts(files: Sequence[Path], trust: Trust, *, allow_http: bool) -> RegistryContracts:
    cluster = MemoryCluster(tekton_installed=False)
    for obj in flag_policy_objects(trust.authorities, trust.signature_format, allow_http=allow_http,
                                   namespace=_NAMESPACE):
        cluster.create(obj)
    verifier = PolicyVerifier(cluster, RealClock(), RegistryBackend(trust.client.settings, trust.client.credentials),
                              PolicySettings(namespace=_NAMESPACE))
    contracts: dict[str, ActionContract] = {}
    first_image: dict[str, str] = {}
    found = RegistryContracts(Catalog(contracts))
    answers: dict[str, ActionContract | str] = {}
    for step in _step_images(files):
        if step.image not in answers:
            answers[step.image] = _contract_of(verifier, step.image)
        answer = answers[step.image]
        if isinstance(answer, str):
            found.diagnostics.append(error(CODE, answer, step.span, _HINT))
            continue
        if answer.action_type != step.action_type:
            found.diagnostics.append(error(
                CODE, f"image {step.image} implements '{answer.action_type}', not '{step.action_type}'", step.span,
                "use the image of this action type, or fix the step's actionType"))
            continue
        known = contracts.get(answer.action_type)
        if known is None:
            contracts[answer.action_type] = answer
            first_image[answer.action_type] = step.image
        elif known != answer:
            found.diagnostics.append(error(
                CODE, f"image {step.image} declares another contract for '{answer.action_type}' than "
                f"{first_image[answer.action_type]}", step.span, "use one image per action type in a run"))
    return found


_HINT = "sign the image and give the trust flags (--key, --certificate-identity...), or drop --contracts-from-registry"


def _contract_of(verifier: PolicyVerifier, image: str) -> ActionContract | str:
    """The verified contract, or why there is none."""
    result = verifier.verify(image, ImageContext())
    if not result.ok:
        transient = " (transient: retry later)" if result.retryable else ""
        return f"the contract of {image} cannot be used: {result.reason}{transient}"
    if result.contract is None:
        return f"image {image} has no /action-contract.yaml"
    try:
        return parse_contract(result.contract)
    except ContractProblem as exc:
        return f"image {image}: {exc}"


def registry_trust(from_registry: bool, flags: TrustFlags) -> Trust | None:
    """The trust for ``--contracts-from-registry`` (exit 2 when unusable); None without it."""
    if from_registry:
        return flags.load()
    if flags.names_authority:
        sys.stderr.write("kubernaut: trust flags (--key, --certificate-identity..., --trusted-root) take effect "
                         "only with --contracts-from-registry\n")
        raise typer.Exit(EXIT_USAGE)
    return None


def frontend(files: list[Path], contract_dirs: list[Path], trust: Trust | None, *, allow_http: bool) -> FrontendResult:
    """The front end with the catalog (``trust`` None) or with the images' verified contracts."""
    if trust is None:
        return run_frontend(files, contract_dirs)
    missing = [f for f in files if not f.exists()]
    if missing:  # before any registry is asked; the same message as run_frontend's
        sys.stderr.write(f"kubernaut: no such file: {missing[0]}\n")
        raise typer.Exit(EXIT_USAGE)
    found = registry_contracts(files, trust, allow_http=allow_http)
    result = compile_files(files, catalog=found.catalog, engines=known_engines().names)
    result.diagnostics.extend(found.diagnostics)
    result.diagnostics.sort(key=sort_key)
    return result
