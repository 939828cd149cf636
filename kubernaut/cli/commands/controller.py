"""``kubernaut controller``: the in-cluster reconciler."""

from __future__ import annotations

import enum
import logging
import signal
import sys
import threading
from pathlib import Path

import typer

from compiler.contracts import load_catalog
from kubernaut.cli.app import app
from kubernaut.cli.common import EXIT_USAGE
from reconciler.cluster.errors import ApiError
from reconciler.cluster.kube import KubeCluster
from reconciler.cluster.rate_limit import DEFAULT_BURST, DEFAULT_QPS
from reconciler.service import ServiceConfig, in_cluster, serve
from targets.release import HELPER_IMAGE, REFERENCE_FORM, reference_problem

HELPER_IMAGE_ENV = "KUBERNAUT_HELPER_IMAGE"
QPS_ENV = "KUBERNAUT_KUBE_API_QPS"
BURST_ENV = "KUBERNAUT_KUBE_API_BURST"


class PolicyMode(enum.StrEnum):
    verify = "verify"
    skip = "skip"


class NoMatch(enum.StrEnum):
    deny = "deny"
    allow = "allow"


def _cluster(kubeconfig: Path | None, context: str | None, qps: float, burst: int) -> KubeCluster:
    if kubeconfig is None and context is None and in_cluster():
        return KubeCluster.from_in_cluster(qps=qps, burst=burst)
    return KubeCluster.from_kubeconfig(str(kubeconfig) if kubeconfig else None, context, qps=qps, burst=burst)


@app.command()
def controller(
    kubeconfig: Path | None = typer.Option(None, "--kubeconfig", help="Kubeconfig file (default: in-cluster, "
                                           "else $KUBECONFIG or ~/.kube/config)."),
    context: str | None = typer.Option(None, "--context", help="Kubeconfig context."),
    config_namespace: str = typer.Option("kubernaut-system", "--config-namespace",
                                         help="Namespace of the routing ConfigMap and the leader Lease."),
    config_name: str = typer.Option("kubernaut-config", "--config-name", help="The routing ConfigMap."),
    metrics_port: int = typer.Option(9090, "--metrics-port", help="Port of /metrics (0: pick one; -1: none)."),
    metrics_addr: str = typer.Option("0.0.0.0", "--metrics-addr", help="Address /metrics listens on."),
    leader_elect: bool = typer.Option(True, "--leader-elect/--no-leader-elect",
                                      help="Run only while holding the Lease (for several replicas)."),
    image_policy: PolicyMode = typer.Option(PolicyMode.verify, "--image-policy",
                                            help="verify (fail closed) or skip image signature checks."),
    no_match_policy: NoMatch = typer.Option(NoMatch.deny, "--no-match-policy",
                                            help="An image no ClusterImagePolicy matches: deny or allow."),
    registry_ca_bundle: Path | None = typer.Option(None, "--registry-ca-bundle", metavar="PEM",
                                                   help="CA bundle for registries with a private CA."),
    workers: int = typer.Option(2, "--workers", min=1, help="Worker threads per controller."),
    kube_api_qps: float = typer.Option(DEFAULT_QPS, "--kube-api-qps", envvar=QPS_ENV, min=0.0,
                                       help="Requests per second to the API server, sustained (client-side token "
                                            "bucket; 0: no limit). ConfigMap key kubeApiQps."),
    kube_api_burst: int = typer.Option(DEFAULT_BURST, "--kube-api-burst", envvar=BURST_ENV, min=1,
                                       help="Requests the controller may send at once after a quiet spell. "
                                            "ConfigMap key kubeApiBurst."),
    helper_image: str = typer.Option(
        HELPER_IMAGE, "--helper-image", envvar=HELPER_IMAGE_ENV, metavar="REF",
        help=f"Image of the V2 helper steps ({REFERENCE_FORM}); deploy/ sets it from the ConfigMap key "
             f"helperImage. The unreleased placeholder makes the tekton engine refuse new work."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging."),
    contracts: list[Path] = typer.Option([], "--contracts", help="Extra directory of ActionContract or upstream "
                                         "RemediationWorkflow YAML files (repeatable)."),
) -> None:
    """Run the reconciler against a cluster until SIGTERM (what the Deployment in deploy/ runs)."""
    problem = reference_problem(helper_image)
    if problem is not None:
        sys.stderr.write(f"kubernaut: --helper-image: {problem}\n")
        raise typer.Exit(EXIT_USAGE)
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    catalog, problems = load_catalog(contracts)
    if any(d.is_error for d in problems):
        sys.stderr.write("\n".join(d.headline() for d in problems if d.is_error) + "\n")
        raise typer.Exit(EXIT_USAGE)
    try:
        cluster = _cluster(kubeconfig, context, kube_api_qps, kube_api_burst)
    except Exception as exc:  # the kubernetes client raises several types for bad configs
        sys.stderr.write(f"kubernaut: cannot connect: {exc}\n")
        raise typer.Exit(EXIT_USAGE) from exc
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    config = ServiceConfig(
        namespace=config_namespace, config_name=config_name,
        metrics_port=None if metrics_port < 0 else metrics_port, metrics_addr=metrics_addr,
        leader_elect=leader_elect, image_policy=image_policy.value, no_match_policy=no_match_policy.value,
        registry_ca_bundle=str(registry_ca_bundle) if registry_ca_bundle else None, workers=workers,
        helper_image=helper_image, catalog=catalog)
    try:
        serve(cluster, config, stop)
    except ApiError as exc:
        sys.stderr.write(f"kubernaut: API error: {exc}\n")
        raise typer.Exit(1) from exc
