"""The in-cluster controller process: routing config, metrics, leader election, the controllers.

``kubernaut controller`` builds a :class:`ServiceConfig` from its flags and calls :func:`serve`
with a real ``KubeCluster``; the tests call it with a ``MemoryCluster``. Everything the process
does between start and SIGTERM is here, so it is tested through the same code path.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from compiler.contracts import Catalog
from targets.release import HELPER_IMAGE, is_placeholder

from .app import App, AppConfig, build_manager
from .clock import Clock, RealClock
from .cluster import Cluster
from .engines.action_rbac import ActionRbac
from .engines.base import Engine
from .leader import LeaderElector
from .metrics import Metrics, MetricsServer
from .routing import PolicySource
from .supplychain.policy_registry import RegistryBackend
from .supplychain.policy_verifier import PolicySettings, PolicyVerifier
from .supplychain.registry import RegistrySettings
from .verification import ImagePolicy

__all__ = ["ServiceConfig", "serve"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServiceConfig:
    #: Namespace of the routing ConfigMap and of the leader-election Lease.
    namespace: str = "kubernaut-system"
    config_name: str = "kubernaut-config"
    #: Port of /metrics; None: no metrics endpoint.
    metrics_port: int | None = 9090
    metrics_addr: str = "0.0.0.0"  # inside a pod, /metrics is meant to be scraped
    leader_elect: bool = True
    lease_name: str = "kubernaut-controller"
    #: "verify": ClusterImagePolicies decide (fail closed); "skip" is for test clusters only.
    image_policy: str = "verify"
    #: An image no ClusterImagePolicy matches: "deny" (the default) or "allow".
    no_match_policy: str = "deny"
    #: A PEM CA bundle for registries with a private CA (image verification).
    registry_ca_bundle: str | None = None
    workers: int = 2
    #: The image of the V2 helper steps (``--helper-image``, ConfigMap key ``helperImage``). The
    #: unreleased placeholder makes the tekton engine refuse new work (docs/operations.md).
    helper_image: str = HELPER_IMAGE
    #: Action contracts (``--contracts``: ActionContracts and upstream RemediationWorkflow
    #: entries); None: the built-in catalog.
    catalog: Catalog | None = None
    identity: str = field(default_factory=lambda: f"{socket.gethostname()}_{uuid.uuid4().hex[:8]}")


def _image_policy(cluster: Cluster, clock: Clock, config: ServiceConfig) -> ImagePolicy:
    """``verify``: the ClusterImagePolicy verifier over the registry client; ``skip``: no checks."""
    if config.image_policy == "skip":
        return ImagePolicy("skip")
    if config.image_policy != "verify":
        raise ValueError(f"image policy must be 'verify' or 'skip', not {config.image_policy!r}")
    backend = RegistryBackend(RegistrySettings(ca_bundle=config.registry_ca_bundle))
    settings = PolicySettings(namespace=config.namespace, no_match=config.no_match_policy)  # type: ignore[arg-type]
    return ImagePolicy("verify", PolicyVerifier(cluster, clock, backend, settings))


def _policy_source(cluster: Cluster, config: ServiceConfig) -> PolicySource:
    source = PolicySource(cluster, config.namespace, config.config_name)
    return source.start()


def serve(
    cluster: Cluster,
    config: ServiceConfig,
    stop: threading.Event,
    *,
    clock: Clock | None = None,
    engines: Sequence[Engine] = (),
    on_ready: Callable[[App], None] | None = None,
) -> None:
    """Run the controllers until ``stop`` is set (or leadership is lost). Blocks.

    With leader election, the controllers run only while this replica leads; losing the lease
    stops them at once and returns (the Deployment restarts the pod, as client-go programs do).
    """
    clock = clock or RealClock()
    metrics = Metrics()
    server: MetricsServer | None = None
    if config.metrics_port is not None:
        server = metrics.serve(config.metrics_port, config.metrics_addr)
        log.info("serving metrics on %s", server.url)
    source = _policy_source(cluster, config)
    app = build_manager(cluster, clock, AppConfig(
        image_policy=_image_policy(cluster, clock, config),
        policy_provider=source.current,
        workers=config.workers,
        extra_engines=tuple(engines),
        helper_image=config.helper_image,
        require_released_helper=True,
        catalog=config.catalog,
        # The administrator grants the action types' permissions (docs/security.md).
        action_rbac=ActionRbac.REQUIRE,
    ), metrics=metrics)
    if is_placeholder(config.helper_image):
        log.warning("no helper image is configured (%s is the placeholder of an unreleased kubernaut): workflows "
                    "routed to tekton run on jobs, those with spec.engine: tekton fail; set --helper-image or the "
                    "ConfigMap key helperImage", config.helper_image)
    if on_ready is not None:
        on_ready(app)
    try:
        if config.leader_elect:
            elector = LeaderElector(cluster, config.namespace, config.lease_name, identity=config.identity,
                                    clock=clock)
            metrics.leading(False)

            def started() -> None:
                metrics.leading(True)
                app.manager.start()

            def stopped() -> None:
                metrics.leading(False)
                app.manager.stop()

            elector.run(on_started_leading=started, on_stopped_leading=stopped, stop_event=stop)
        else:
            metrics.leading(True)  # the only replica: it always runs the controllers
            app.manager.start()
            stop.wait()
            app.manager.stop()
    finally:
        source.stop()
        if server is not None:
            server.close()


def in_cluster() -> bool:
    return "KUBERNETES_SERVICE_HOST" in os.environ
