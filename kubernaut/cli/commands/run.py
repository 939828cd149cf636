"""``kubernaut run``: workflows end to end on the embedded cluster, with live progress.

Several files run concurrently on the same embedded cluster (workflows of one target take turns:
``spec.targetResource``); ``--output json`` then prints a ``v1`` ``List`` of the final
WorkflowExecutions.

The very loop the in-cluster controller runs (``reconciler.app``), on a ``MemoryCluster`` with
simulated Jobs: ``kubernaut/echo`` runs its local entrypoint, ``--simulate`` scripts attempts,
other steps succeed with no outputs. Time is virtual unless ``--realtime``: backoff and step
durations cost nothing. Images are not run, so by default their signatures are not verified
(policy "skip"); ``--verify`` with cosign's trust flags verifies every image for real, through the
controller's ClusterImagePolicy verifier (the flags become one policy matching every image).

Exit status: 0 Succeeded; 1 Failed, Cancelled, did not finish, or an invalid workflow (with the
diagnostics ``validate`` prints); 2 usage errors, an invalid outcomes file included.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import typer
import yaml
from rich.console import Console

from compiler import ir
from compiler.contracts import load_catalog
from compiler.diagnostics import render_all
from compiler.spec import API_VERSION as WFE_API_VERSION
from compiler.spec import KIND as WFE_KIND
from kubernaut.actions import LOCAL_ENTRYPOINTS
from kubernaut.cli.app import app
from kubernaut.cli.cluster_run import run_in_cluster
from kubernaut.cli.clusterargs import ContextOpt, KubeconfigOpt, open_target
from kubernaut.cli.common import EXIT_INVALID, EXIT_OK, EXIT_USAGE, ContractsOpt, report, run_frontend
from kubernaut.cli.progress import Progress
from kubernaut.cli.run_stats import CLI_CLIENT, KUBERNAUT_CLIENT, steps_run, write_stats
from kubernaut.cli.trust import Trust, TrustFlags, with_trust_flags
from reconciler.app import AppConfig, install
from reconciler.engines.registry import known_engines
from reconciler.inspect import save_state
from reconciler.simulation import LoadedOutcomes, OutcomesError, Simulation, load_outcomes
from reconciler.simulation.wiring import add_engine_simulators, simulated_pods
from reconciler.status import TERMINAL_WORKFLOW_PHASES
from reconciler.supplychain.policy_local import flag_policy_objects
from reconciler.supplychain.policy_registry import RegistryBackend
from reconciler.supplychain.policy_verifier import PolicySettings, PolicyVerifier
from reconciler.verification import ImagePolicy
from reconciler.workflow_controller import FINALIZER

#: Printed on stderr by every embedded run without --verify.
SKIPPED_VERIFICATION_NOTICE = ("kubernaut: image signatures are NOT verified in this run (no --verify); pass --verify "
                               "with trust flags (--key, --certificate-identity... or --trusted-root) to check them "
                               "as the controller would")

#: Where --verify keeps the trust material of its policy in the embedded cluster.
_POLICY_NAMESPACE = "kubernaut-system"
OUTPUTS = ("text", "json")
#: Virtual seconds allowed past the workflow's own timeout (final status, cleanup).
_MARGIN_SECONDS = 120.0
# Engines `run` cannot drive yet, and why: one line per engine to switch on.
_UNAVAILABLE: dict[str, str] = {}
_SERVER_METADATA = ("uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp",
                    "deletionGracePeriodSeconds", "managedFields", "selfLink", "finalizers", "ownerReferences")


def _usage(message: str) -> typer.Exit:
    sys.stderr.write(f"kubernaut: {message}\n")
    return typer.Exit(EXIT_USAGE)


def _outcomes(path: Path | None, steps: list[str]) -> LoadedOutcomes | None:
    if path is None:
        return None
    if not path.is_file():
        raise _usage(f"no such file: {path}")
    try:
        loaded = load_outcomes(path)
    except OutcomesError as exc:
        sys.stderr.write(exc.render() + "\n")
        raise typer.Exit(EXIT_USAGE) from None
    warnings = loaded.check_steps(steps)
    if warnings:
        sys.stderr.write(render_all(warnings, loaded.sources) + "\n")
    return loaded


def _workflow_object(data: dict[str, Any], engine: str | None) -> dict[str, Any]:
    """The document as a user would ``kubectl create`` it: no server fields, no status."""
    obj = json.loads(json.dumps(data))
    obj.pop("status", None)
    meta = obj.setdefault("metadata", {})
    for key in _SERVER_METADATA:
        meta.pop(key, None)
    meta.setdefault("namespace", "default")
    if engine is not None:
        obj.setdefault("spec", {})["engine"] = engine
    return obj


def _save_state(path: Path, sim: Simulation) -> None:
    try:
        save_state(path, sim.cluster.objects(), sim.cluster.pod_logs(), sim.clock.now())
    except OSError as exc:
        sys.stderr.write(f"kubernaut: cannot write the state file {path}: {exc.strerror or exc}\n")
        raise typer.Exit(EXIT_INVALID) from None


def _verifying_policy(sim: Simulation, trust: Trust, allow_http: bool) -> ImagePolicy:
    """The trust flags as a ClusterImagePolicy in the embedded cluster, checked by the controller's verifier."""
    for obj in flag_policy_objects(trust.authorities, trust.signature_format, allow_http=allow_http,
                                   namespace=_POLICY_NAMESPACE):
        sim.cluster.create(obj)
    backend = RegistryBackend(trust.client.settings, trust.client.credentials)
    return ImagePolicy("verify", PolicyVerifier(sim.cluster, sim.clock, backend,
                                                PolicySettings(namespace=_POLICY_NAMESPACE)))


@app.command()
@with_trust_flags
def run(
    files: list[Path] = typer.Argument(..., help="WorkflowExecution YAML files (one workflow each); several "
                                        "run concurrently on one embedded cluster.", show_default=False),
    engine: str | None = typer.Option(None, "--engine", help="Run on this engine (sets spec.engine): "
                                      f"{known_engines().choices()}. Default: the routing policy "
                                      f"({known_engines().fallback.name}).", show_default=False),
    simulate: Path | None = typer.Option(None, "--simulate", help="Outcomes file scripting the attempts "
                                         "of steps (see docs/running.md).", show_default=False),
    output: str = typer.Option("text", "--output", help="text: live progress and a summary; "
                               "json: the final WorkflowExecution only."),
    realtime: bool = typer.Option(False, "--realtime", help="Wait for real durations and backoff "
                                  "instead of virtual time."),
    save_state: Path | None = typer.Option(None, "--save-state", help="At the end, write the embedded "
                                           "cluster's objects and pod logs to this file (read it with "
                                           "get/describe/logs --state).", show_default=False),
    stats: Path | None = typer.Option(None, "--stats", help="At the end, write the run's API requests by verb "
                                      "(kubernaut's and the simulators'), its step count and wall time to this "
                                      "JSON file (see docs/running.md).", show_default=False),
    in_cluster: bool = typer.Option(False, "--cluster", help="Create the workflow in a real cluster (kubeconfig "
                                    "or in-cluster config) and follow it there, instead of the embedded one."),
    kubeconfig: Path | None = KubeconfigOpt,
    context: str | None = ContextOpt,
    namespace: str | None = typer.Option(None, "-n", "--namespace", help="With --cluster: the namespace (default: "
                                         "the file's, else the context's).", show_default=False),
    cancel_on_interrupt: bool = typer.Option(False, "--cancel-on-interrupt", help="With --cluster: Ctrl-C cancels "
                                             "the workflow (default: it keeps running)."),
    contracts: list[Path] = ContractsOpt,
    verify: bool = typer.Option(False, "--verify", help="Verify every image's Cosign signature against the "
                                "trust flags before its step runs (default: skip; images are not run)."),
    *,
    trust_flags: TrustFlags,
) -> None:
    """Run a workflow end to end on an embedded cluster with simulated Jobs."""
    trust: Trust | None = None
    if verify:
        trust = trust_flags.load()
    elif trust_flags.names_authority:
        raise _usage("trust flags (--key, --certificate-identity..., --trusted-root) take effect only with --verify")
    if output not in OUTPUTS:
        raise _usage(f"--output must be one of {', '.join(OUTPUTS)}, not '{output}'")
    if engine is not None and engine not in known_engines():
        raise _usage(f"--engine must be one of {', '.join(known_engines().names)}, not '{engine}'")
    if engine in _UNAVAILABLE:
        raise _usage(_UNAVAILABLE[engine or ""])
    result = run_frontend(files, contracts)
    if not result.ok:
        report(result)
        raise typer.Exit(EXIT_INVALID)
    for file in files:
        count = sum(1 for u in result.units if u.document.file == str(file))
        if count != 1:
            raise _usage(f"{file} holds {count} workflows; run takes one workflow per file")
    report(result, quiet_ok=True)
    unit = result.units[0]
    workflow = unit.workflow
    assert workflow is not None  # result.ok
    if in_cluster or kubeconfig is not None or context is not None:
        if len(files) > 1:
            raise _usage("--cluster runs one workflow; several files run on the embedded cluster only")
        embedded_only = {"--simulate": simulate, "--realtime": realtime, "--save-state": save_state, "--verify": verify,
                         "--stats": stats}
        used = [flag for flag, value in embedded_only.items() if value]
        if used:
            raise _usage(f"{', '.join(used)} apply to the embedded cluster only, not with --cluster")
        obj = _workflow_object(unit.document.data, engine)
        target = open_target(None, kubeconfig, context, namespace or (unit.document.data.get("metadata") or {})
                             .get("namespace"))
        obj["metadata"]["namespace"] = target.namespace
        try:
            run_in_cluster(target, obj, output=output, timeout=workflow.timeout_seconds + _MARGIN_SECONDS,
                           cancel_on_interrupt=cancel_on_interrupt)
        finally:
            target.close()
    elif cancel_on_interrupt or namespace is not None:
        raise _usage("--cancel-on-interrupt and -n/--namespace need --cluster")
    workflows = [u.workflow for u in result.units if u.workflow is not None]
    loaded = _outcomes(simulate, [s.name for wf in workflows for s in wf.steps])

    sim = Simulation(outcomes=loaded.outcomes if loaded else None, entrypoints=LOCAL_ENTRYPOINTS,
                     realtime=realtime)
    add_engine_simulators(sim)  # same outcomes and entrypoints as the Jobs: one outcomes file drives every engine
    catalog, _ = load_catalog(contracts)
    if trust is None:
        # Said once, on stderr (stdout stays the progress or the JSON): a run that passes here has
        # not checked a single signature, which the in-cluster controller would.
        sys.stderr.write(SKIPPED_VERIFICATION_NOTICE + "\n")
    image_policy = (ImagePolicy("skip") if trust is None
                    else _verifying_policy(sim, trust, trust_flags.allow_http_registry))
    # kubernaut's controllers and this command talk to the embedded cluster as clients of their
    # own, so --stats can tell their requests from the simulators'. The controllers never edit
    # what they read (their cache's contract), so they are answered with read-only snapshots.
    install(sim.manager, AppConfig(image_policy=image_policy, catalog=catalog, pod_lookup=simulated_pods),
            cluster=sim.cluster.client(KUBERNAUT_CLIENT, read_only_answers=True))
    cli = sim.cluster.client(CLI_CLIENT)
    for obj in _mounted_objects(files, (unit.document.data.get("metadata") or {}).get("namespace")):
        cli.create(obj)  # the Secrets/ConfigMaps shipped next to the workflow
    if len(result.units) > 1:
        _run_many(sim, [u.document.data for u in result.units], workflows, engine, output, save_state, stats)
    created = cli.create(_workflow_object(unit.document.data, engine))
    name, namespace = created["metadata"]["name"], created["metadata"]["namespace"]

    console = Console(file=sys.stdout)
    progress = Progress(console, sim.clock.now) if output == "text" else None
    latest: dict[str, Any] = created

    def finished() -> bool:
        nonlocal latest
        latest = cli.get(WFE_API_VERSION, WFE_KIND, name, namespace)
        if progress is not None:
            progress.update(latest)
        phase = (latest.get("status") or {}).get("phase")
        return phase in TERMINAL_WORKFLOW_PHASES and FINALIZER not in (latest["metadata"].get("finalizers") or [])

    bound = workflow.timeout_seconds + _MARGIN_SECONDS
    started = time.perf_counter()
    try:
        done = sim.run_until(finished, bound)
    finally:
        if progress is not None:
            progress.close()
    phase = (latest.get("status") or {}).get("phase")
    if save_state is not None:
        _save_state(save_state, sim)
    if stats is not None:
        _write_stats(stats, sim, [latest], time.perf_counter() - started)
    if output == "json":
        sys.stdout.write(json.dumps(latest, indent=2, ensure_ascii=False) + "\n")
    elif progress is not None:
        progress.summary(latest)
    if not done and phase not in TERMINAL_WORKFLOW_PHASES:
        sys.stderr.write(f"kubernaut: workflow {name} did not finish within {bound:g}s\n")
        raise typer.Exit(EXIT_INVALID)
    raise typer.Exit(EXIT_OK if phase == "Succeeded" else EXIT_INVALID)


def _mounted_objects(files: list[Path], namespace: str | None) -> list[dict[str, Any]]:
    """The ``v1`` Secrets and ConfigMaps in the workflow files (the compiler skips them with a
    note): on the embedded cluster they exist as written, so steps that mount them can run."""
    found: list[dict[str, Any]] = []
    for file in files:
        for doc in yaml.safe_load_all(file.read_text(encoding="utf-8")):
            if isinstance(doc, dict) and doc.get("apiVersion") == "v1" and doc.get("kind") in {"Secret", "ConfigMap"}:
                doc.setdefault("metadata", {}).setdefault("namespace", namespace or "default")
                found.append(doc)
    return found


def _write_stats(path: Path, sim: Simulation, finals: list[dict[str, Any]], wall_seconds: float) -> None:
    try:
        write_stats(path, sim.cluster, steps_run(finals), wall_seconds)
    except OSError as exc:
        sys.stderr.write(f"kubernaut: cannot write the stats file {path}: {exc.strerror or exc}\n")
        raise typer.Exit(EXIT_INVALID) from None


def _run_many(sim: Simulation, documents: list[dict[str, Any]], workflows: list[ir.Workflow], engine: str | None,
              output: str, save_state: Path | None, stats: Path | None) -> None:
    """Several workflows at once on the same embedded cluster (workflows of the same target take
    turns: target locks). Text: one summary per workflow; JSON: a ``v1`` ``List`` of the final
    WorkflowExecutions, in the order of the files. Exits 0 only when every one succeeded."""
    keys = []
    for document in documents:
        created = sim.cluster.client(CLI_CLIENT).create(_workflow_object(document, engine))
        keys.append((created["metadata"]["name"], created["metadata"]["namespace"]))
    latest: list[dict[str, Any]] = []

    def finished() -> bool:
        cli = sim.cluster.client(CLI_CLIENT)
        latest[:] = [cli.get(WFE_API_VERSION, WFE_KIND, name, namespace) for name, namespace in keys]
        return all((w.get("status") or {}).get("phase") in TERMINAL_WORKFLOW_PHASES
                   and FINALIZER not in (w["metadata"].get("finalizers") or []) for w in latest)

    # Workflows of one target run one after the other: allow for all of them in a row.
    bound = sum(wf.timeout_seconds for wf in workflows) + _MARGIN_SECONDS
    started = time.perf_counter()
    done = sim.run_until(finished, bound)
    if save_state is not None:
        _save_state(save_state, sim)
    if stats is not None:
        _write_stats(stats, sim, latest, time.perf_counter() - started)
    if output == "json":
        listing = {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": latest}
        sys.stdout.write(json.dumps(listing, indent=2, ensure_ascii=False) + "\n")
    else:
        summaries = Progress(Console(file=sys.stdout), sim.clock.now, live=False)
        for wfe in latest:
            summaries.summary(wfe)
    phases = [(w.get("status") or {}).get("phase") for w in latest]
    if not done:
        for (name, _), phase in zip(keys, phases, strict=True):
            if phase not in TERMINAL_WORKFLOW_PHASES:
                sys.stderr.write(f"kubernaut: workflow {name} did not finish within {bound:g}s\n")
        raise typer.Exit(EXIT_INVALID)
    raise typer.Exit(EXIT_OK if all(phase == "Succeeded" for phase in phases) else EXIT_INVALID)
