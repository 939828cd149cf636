"""Assemble kubernaut's controllers on a Manager: one place for ``kubernaut run`` (embedded
cluster, simulated workloads) and ``kubernaut controller`` (a real cluster).

Nothing here imports the simulators or ``MemoryCluster``: what an embedded run adds (e.g.
``pod_lookup=simulated_pods``) comes from ``reconciler.simulation.wiring``.

The engines are the registered ones (``reconciler.engines.registry``), each made by its own
builder; an unregistered engine (a test's) joins through ``extra_engines``. Nothing here knows
which engines exist.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from compiler.contracts import Catalog, load_catalog
from targets.release import HELPER_IMAGE

from .cache import CachedCluster, InformerCache, selectors_of
from .clock import Clock
from .cluster import Cluster
from .compile import WorkflowCompiler
from .engines.action_rbac import ActionRbac
from .engines.base import Engine, EngineSetup
from .engines.controllers import ControllerSetup, EngineController
from .engines.jobs import AttemptSettings, PodLookup, pods_by_label
from .engines.registry import known_engines
from .events import EventRecorder
from .metrics import Metrics
from .routing import RoutingPolicy, default_policy
from .runtime import Manager
from .verification import ImagePolicy, ImageVerification
from .workflow_controller import PolicyProvider, WorkflowController

__all__ = ["App", "AppConfig", "build_manager", "default_engines", "engine_controllers_of", "install"]


@dataclass(frozen=True)
class AppConfig:
    #: "verify" in the cluster (fails closed without a verifier), "skip" for ``kubernaut run``.
    image_policy: ImagePolicy = field(default_factory=ImagePolicy)
    attempts: AttemptSettings = field(default_factory=AttemptSettings)
    #: Where the routing policy comes from (``PolicySource(...).current`` in the cluster).
    policy_provider: PolicyProvider = default_policy
    #: Action contracts for the compiler; None: the built-in catalog.
    catalog: Catalog | None = None
    pod_lookup: PodLookup = pods_by_label
    workers: int = 1
    #: Engines besides ``jobs`` (the V2 engine joins here).
    extra_engines: Sequence[Engine] = ()
    #: The image of the V2 helper steps. ``require_released_helper`` (the in-cluster controller)
    #: refuses V2 work while it is the unreleased placeholder; ``kubernaut run`` simulates the
    #: helper steps and needs no pullable image.
    helper_image: str = HELPER_IMAGE
    require_released_helper: bool = False
    #: Who applies the action types' Roles and RoleBindings: ``require`` (the in-cluster
    #: controller: the administrator, from ``kubernaut compile``; the engines only check them) or
    #: ``apply`` (an embedded cluster, whose user is its administrator). See engines.action_rbac.
    action_rbac: ActionRbac = ActionRbac.APPLY
    #: Controllers read the kinds they watch from informer caches (one list+watch per kind)
    #: instead of asking the API server; False: every read is a request (the old behaviour).
    informer_cache: bool = True


@dataclass
class App:
    manager: Manager
    workflows: WorkflowController
    #: The controllers the engines added (``EngineInfo.controllers``; V1: the ActionExecution one).
    engine_controllers: Sequence[EngineController]
    engines: Mapping[str, Engine]
    compiler: WorkflowCompiler
    metrics: Metrics
    verification: ImageVerification


def default_engines(verification: ImageVerification | None = None, config: AppConfig | None = None) -> list[Engine]:
    # Without a verification hook the default policy applies: "verify", failing closed.
    config = config or AppConfig()
    setup = EngineSetup(verification or ImageVerification(ImagePolicy()), action_rbac=config.action_rbac,
                        helper_image=config.helper_image, require_released_helper=config.require_released_helper)
    return [info.load_builder()(setup) for info in known_engines()]


def install(manager: Manager, config: AppConfig | None = None, *, metrics: Metrics | None = None,
            cluster: Cluster | None = None) -> App:
    """Add the WorkflowExecution controller and the controllers the engines declare to ``manager``.

    ``cluster`` defaults to the manager's; passing another lets a caller interpose on the
    controllers' requests (``kubernaut run`` tags them as kubernaut's, the benchmark counts them).
    With ``config.informer_cache`` the controllers read the kinds they watch from informers that
    list and watch through ``cluster`` and feed their watches too; otherwise their watches use
    the manager's cluster.
    """
    config = config or AppConfig()
    metrics = metrics or Metrics()
    api = cluster or manager.cluster
    informers = InformerCache(api, manager.clock) if config.informer_cache else None
    cluster = CachedCluster(informers) if informers is not None else api
    clock: Clock = manager.clock
    catalog = config.catalog if config.catalog is not None else load_catalog()[0]
    compiler = WorkflowCompiler(catalog)
    verification = ImageVerification(config.image_policy, metrics)
    engines: dict[str, Engine] = {}
    for engine in [*default_engines(verification, config), *config.extra_engines]:
        engines[engine.name] = engine
    workflows = WorkflowController(
        cluster, clock, compiler, engines, policy_provider=config.policy_provider,
        recorder=EventRecorder(cluster, "kubernaut-workflowexecution", clock=clock), metrics=metrics)
    setup = ControllerSetup(cluster, clock, verification, metrics,
                            lambda component: EventRecorder(cluster, component, clock=clock),
                            attempts=config.attempts, pod_lookup=config.pod_lookup)
    engine_controllers = engine_controllers_of(setup)
    controllers = [workflows.controller(config.workers), *(c.controller(config.workers) for c in engine_controllers)]
    if informers is not None:
        for (api_version, kind), selector in selectors_of(w for c in controllers for w in c.watches).items():
            informers.add(api_version, kind, selector)
        manager.use_informers(informers)
    for controller in controllers:
        manager.add(controller)
    return App(manager, workflows, engine_controllers, engines, compiler, metrics, verification)


def engine_controllers_of(setup: ControllerSetup) -> list[EngineController]:
    """The controllers every registered engine declares (``EngineInfo.controllers``), in registry order."""
    made: list[EngineController] = []
    for info in known_engines():
        build = info.load_controllers()
        if build is not None:
            made.extend(build(setup))
    return made


def build_manager(cluster: Cluster, clock: Clock | None = None, config: AppConfig | None = None,
                  *, metrics: Metrics | None = None) -> App:
    """A new Manager on ``cluster`` with every kubernaut controller installed."""
    return install(Manager(cluster, clock), config, metrics=metrics)


def run_policy(policy: RoutingPolicy | None = None) -> PolicyProvider:
    """A fixed routing policy (``kubernaut run``: the default policy unless told otherwise)."""
    chosen = policy or default_policy()
    return lambda: chosen
