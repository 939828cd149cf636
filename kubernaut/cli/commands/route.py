"""``kubernaut route``: which engine a workflow would get from a routing policy, and why.

The same ``decide`` the controller uses, so the answer is a faithful preview — with one caveat
for percentage rules: they hash the workflow's uid, which the API server assigns on creation.
Without ``--uid`` the command uses ``metadata.uid`` from the file if present, else a uid derived
from namespace/name (``reconciler.routing.derived_uid``), stable from run to run.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import typer

from compiler.diagnostics import sort_key
from compiler.didyoumean import did_you_mean
from kubernaut.cli.app import app
from kubernaut.cli.common import EXIT_INVALID, EXIT_OK, EXIT_USAGE, ContractsOpt, report, run_frontend
from reconciler.engines.registry import known_engines
from reconciler.routing import RoutingPolicy, decide, default_policy, derived_uid, load_policy_file


@app.command()
def route(
    file: Path = typer.Argument(..., help="A WorkflowExecution YAML file."),
    config: Path | None = typer.Option(
        None, "--config", help="A RoutingPolicy YAML file (the ConfigMap's routing.yaml). "
        "Default: the built-in policy, every workflow on jobs."),
    uid: str | None = typer.Option(
        None, "--uid", help="The workflow uid that percentage rules hash. Default: metadata.uid, "
        "else a uid derived from namespace/name."),
    unavailable: list[str] = typer.Option(
        [], "--unavailable", metavar="ENGINE", help="Preview a cluster that lacks what ENGINE needs "
        "(its CRDs): a workflow routed to it falls back to "
        f"{known_engines().fallback.name}. Repeatable; one of {', '.join(e.name for e in known_engines().candidates)}.",
        show_default=False),
    # The flag of the two-engine days: --no-tekton said "no engine's CRDs are installed".
    every_engine_available: bool = typer.Option(True, "--tekton-available/--no-tekton", hidden=True),
    contracts: list[Path] = ContractsOpt,
) -> None:
    """Print, for each workflow, the engine it would run on and why: '<name>: <engine> (<reason>)'."""
    if config is not None and not config.is_file():
        sys.stderr.write(f"kubernaut: no such file: {config}\n")
        raise typer.Exit(EXIT_USAGE)
    served = _served(unavailable, every_engine_available)
    result = run_frontend([file], contracts)
    policy: RoutingPolicy = default_policy()
    if config is not None:
        # Report the config's diagnostics together with the workflow's: one run shows every problem.
        loaded = load_policy_file(config)
        result.diagnostics.extend(loaded.diagnostics)
        result.diagnostics.sort(key=sort_key)
        result.sources[str(config)] = loaded.text
        if loaded.policy is not None:
            policy = loaded.policy
    if not result.ok:
        report(result)
        raise typer.Exit(EXIT_INVALID)
    report(result, quiet_ok=True)
    for unit in result.units:
        workflow = unit.workflow
        if workflow is None:
            continue
        metadata = unit.document.data.get("metadata") or {}
        file_uid = metadata.get("uid") if isinstance(metadata.get("uid"), str) else None
        chosen_uid = uid or file_uid or derived_uid(workflow.namespace, workflow.name)
        decision = decide(workflow, chosen_uid, policy, served)
        typer.echo(f"{workflow.name}: {decision.engine} ({decision.reason})")
    raise typer.Exit(EXIT_OK)


def _served(unavailable: list[str], every_engine_available: bool) -> Callable[[str, str], bool]:
    """Which kinds the previewed cluster serves: all but those the ``--unavailable`` engines need."""
    engines = known_engines()
    for name in unavailable:
        info = engines.get(name)
        if info is None or not info.requires:
            choices = ", ".join(e.name for e in engines.candidates)
            why = (f"'{name}' needs nothing from the cluster, it is always available" if info is not None
                   else f"no engine is called '{name}'")
            hint = did_you_mean(name, [e.name for e in engines.candidates]) if info is None else None
            sys.stderr.write(f"kubernaut: --unavailable: {why} (engines that can be unavailable: {choices})"
                             f"{'; ' + hint if hint else ''}\n")
            raise typer.Exit(EXIT_USAGE)
    if not every_engine_available:
        return lambda api_version, kind: False
    missing = {kind for name in unavailable for kind in engines[name].requires}
    return lambda api_version, kind: (api_version, kind) not in missing
