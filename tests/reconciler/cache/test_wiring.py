"""The controller assembly (``reconciler.app``) reads through informers for both ``kubernaut
run`` and the in-cluster controller (``build_manager``, what ``reconciler.service`` runs)."""

from __future__ import annotations

from reconciler.app import AppConfig, build_manager
from reconciler.cache import CachedCluster
from reconciler.clock import VirtualClock
from reconciler.cluster.memory import MemoryCluster
from reconciler.controller import InformerSource, WatchSource
from reconciler.verification import ImagePolicy


def test_build_manager_feeds_every_watch_from_one_informer_per_kind() -> None:
    cluster = MemoryCluster(clock=VirtualClock(), seed=0)
    app = build_manager(cluster, cluster.clock, AppConfig(image_policy=ImagePolicy("skip")))
    informers = app.manager.informers
    assert informers is not None
    assert isinstance(app.workflows.cluster, CachedCluster) and app.engine_controllers
    assert all(isinstance(c.cluster, CachedCluster) for c in app.engine_controllers)
    sources = [s for c in app.manager.controllers for s in c.sources]
    assert sources and all(isinstance(s, InformerSource) for s in sources)
    kinds = {(s.spec.api_version, s.spec.kind) for s in sources}
    assert kinds == set(informers.informers)
    app.manager.run_until_idle()
    assert all(cluster.count("list", kind) == 1 and cluster.count("watch", kind) == 1 for _, kind in kinds)


def test_without_informers_each_watch_lists_and_watches_on_its_own() -> None:
    cluster = MemoryCluster(clock=VirtualClock(), seed=0)
    app = build_manager(cluster, cluster.clock, AppConfig(image_policy=ImagePolicy("skip"), informer_cache=False))
    assert app.manager.informers is None
    assert all(isinstance(s, WatchSource) for c in app.manager.controllers for s in c.sources)
    app.manager.run_until_idle()
    assert cluster.count("list", "WorkflowExecution") > 1
