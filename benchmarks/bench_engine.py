"""V1 engine benchmark: ``python benchmarks/bench_engine.py [--workflows N] [--profile]``.

Runs 5-step workflows (``a -> (b, c) -> d -> e``, steps of 1 virtual second, scripted so no
process is spawned) through the real loop — the WorkflowExecution and ActionExecution
controllers on a ``MemoryCluster`` with the simulated job controller — on a virtual clock, in
one thread (one core), and reports:

* **scheduling overhead per step transition**: wall time from the simulated job controller
  writing a Job's ``Complete`` condition to kubernaut creating the Job of the next step (the
  ActionExecution controller observes the Job, the WorkflowExecution controller schedules and
  creates the next ActionExecution, the ActionExecution controller records attempt 1 and creates
  its Job). Measured alone (one workflow) and under load (N concurrent workflows);
* **API requests per step** made by kubernaut's controllers, by verb and kind (the simulated
  job controller's own requests go through a separate counter and are excluded);
* **N concurrent workflows** (default 1,000): total wall time and per workflow.

* **step transitions per second**: steps run / wall seconds of the concurrent run, and per CPU
  second of the process (the same on an idle core; on a shared machine the wall figure also
  counts the time other processes held the core);
* **peak memory** (the process's maximum resident set) after the concurrent run.

``--profile`` prints the top cProfile entries of the concurrent run; ``--no-informers`` runs the
controllers without informer caches (every read a request: the behaviour before issue 13);
``--engine tekton`` runs the same workflows on V2 (the Tekton simulation) and also reports
kubernaut's writes per PipelineRun status change (the simulated Tekton controller's writes of a
PipelineRun's status). The collector is tuned as ``kubernaut run`` and ``kubernaut controller``
tune it (``compiler.gcpause.tune_for_long_running``); ``--default-gc`` keeps Python's defaults.

Measured (issue 13; 1,000 workflows, Python 3.11, on 2 cores shared with 6 other busy processes,
load 6-8, so the wall figures vary with the neighbours; this script at both commits):

=========================  ==========================  ==========================
                           before (9e9e484)            after (issue 13)
=========================  ==========================  ==========================
V1 steps per CPU second    106                         171
V1 steps per wall second   33                          86
V1 one workflow: step      3.3 ms median               7.0 ms median (20 runs;
transition, wall                                       noise: 5-11 ms either side)
V1 peak RSS                307 MiB                     315 MiB
V2 steps per CPU second    54                          119
V2 steps per wall second   25                          58
V2 one workflow: step      4.0 ms median               1.0 ms median
transition, wall
V2 peak RSS                356 MiB                     263 MiB
=========================  ==========================  ==========================

Requests per step, kubernaut + simulators: V1 10.0 + 13.0 -> 5.6 + 6.0, V2 2.8 + 23.4 -> 2.4 +
5.4. A single V1 workflow costs 38 -> 27 ms of CPU. In the V1 run after, about 17% of the CPU
is the garbage collector's full collections (the heap holds every object of 1,000 workflows).

Later, on a quiet machine (load below 1), 1,000 workflows: V1 212 steps per second with Python's
default collector thresholds, 261 with the long-running policy (peak RSS 314 MiB either way); V2
162 with the defaults.

Issue 13's second round (read-only snapshots instead of copies, one walk per request body,
event-driven watch delivery, controllers and simulators deciding once per version and not woken
by their own writes, collector thresholds (100,000, 20, 20)), quiet machine, 1,000 workflows,
per CPU second, this script at d90e86d and after (medians of 3 after):

=========================  ==========  ==========
                           d90e86d     after
=========================  ==========  ==========
V1 steps per CPU second    248         575
V1 peak RSS                314 MiB     242 MiB
V2 steps per CPU second    160         561
V2 peak RSS                263 MiB     204 MiB
=========================  ==========  ==========

Requests per step are unchanged on V1 (kubernaut 5.6 writes + 0.4 reads, the simulators 6.0);
on V2 kubernaut writes 2.6 per step (1.86 per PipelineRun status change), up from 2.4, because the
simulated Tekton controller, no longer queued behind the events of its own writes, now reports
two sibling TaskRuns finishing one at a time, as it does for a single workflow. Reconciles per
1,000 workflows: the Job simulator 20,000 -> 10,000, the TaskRun simulator 20,000 -> 10,000, the
PipelineRun simulator 13,600 -> 7,000.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import resource
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # runnable from a checkout without installing

from compiler.contracts import load_catalog  # noqa: E402
from compiler.gcpause import tune_for_long_running  # noqa: E402
from compiler.spec import API_VERSION, KIND  # noqa: E402
from reconciler.app import AppConfig, install  # noqa: E402
from reconciler.clock import VirtualClock  # noqa: E402
from reconciler.cluster.memory import MemoryCluster  # noqa: E402
from reconciler.cluster.memory_client import MemoryClient  # noqa: E402
from reconciler.metrics import Metrics  # noqa: E402
from reconciler.runtime import Manager  # noqa: E402
from reconciler.simulation.jobs import JobSimulator  # noqa: E402
from reconciler.simulation.tekton import tekton_controllers  # noqa: E402
from reconciler.simulation.wiring import simulated_pods  # noqa: E402
from reconciler.verification import ImagePolicy  # noqa: E402
from targets.common.labels import STEP, WORKFLOW  # noqa: E402

IMAGE = "ghcr.io/kubernaut/actions/thing@sha256:" + "c" * 64
STEPS = (("a", ()), ("b", ("a",)), ("c", ("a",)), ("d", ("b", "c")), ("e", ("d",)))
DEPS = dict(STEPS)
CATALOG = load_catalog()[0]


def workflow(name: str, engine: str = "jobs") -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION, "kind": KIND, "metadata": {"name": name, "namespace": "bench"},
        "spec": {"engine": engine, "steps": [
            {"name": step, "actionType": "custom/thing", "image": IMAGE, "runAfter": list(after),
             "usesWorkspace": step == "a"} for step, after in STEPS]},
    }


class Recording:
    """A ``Cluster`` that forwards every call and records (wall time, verb, kind, name, obj)."""

    _VERBS = ("get", "list", "create", "update", "apply", "patch_status", "delete", "watch")

    def __init__(self, inner: MemoryCluster | MemoryClient) -> None:
        self.inner = inner
        self.calls: list[tuple[float, str, str, str | None, Any]] = []

    def __getattr__(self, verb: str) -> Callable[..., Any]:
        target = getattr(self.inner, verb)
        if verb not in self._VERBS:
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            answer = target(*args, **kwargs)
            if verb in ("create", "update", "apply"):
                kind, name = args[0]["kind"], args[0]["metadata"].get("name")
            else:
                kind, name = args[1], (args[2] if len(args) > 2 and verb != "list" else None)
            # Only what transitions() reads: a Job's or TaskRun's workflow/step labels and
            # conditions. Keeping whole answers would grow the heap the garbage
            # collector scans, and so slow down what is being measured.
            kept = _run_facts(answer) if kind in ("Job", "TaskRun") and verb in ("patch_status", "create") else None
            self.calls.append((time.perf_counter(), verb, kind, name, kept))
            return answer

        setattr(self, verb, call)  # built once per verb: the next lookup finds it without __getattr__
        return call


def _run_facts(run: Any) -> dict[str, Any]:
    conditions = (run.get("status") or {}).get("conditions") or []
    return {"metadata": {"labels": {k: run["metadata"]["labels"][k] for k in (WORKFLOW, STEP)}},
            "status": {"conditions": [{"type": c.get("type"), "status": c.get("status")} for c in conditions]}}


class CountingMetrics(Metrics):
    """Metrics that also count finished workflows in a plain int: the driver asks before every
    reconcile, and reading the Prometheus registry would cost more than the work measured."""

    def __init__(self) -> None:
        super().__init__()
        self.finished = 0

    def workflow_finished(self, engine: str, outcome: str, duration_seconds: float | None) -> None:
        super().workflow_finished(engine, outcome, duration_seconds)
        self.finished += 1


def run(count: int, profile: bool = False, informers: bool = True, engine: str = "jobs") -> dict[str, Any]:
    clock = VirtualClock()
    cluster = MemoryCluster(clock=clock, seed=0)
    # kubernaut's controllers read through informer caches and never edit what they read, so
    # (as ``kubernaut run`` does) they are answered with read-only snapshots, not copies.
    engine_side = Recording(cluster.client("kubernaut", read_only_answers=informers))
    simulator_side = Recording(cluster.client("", read_only_answers=True))  # as reconciler.simulation wires them
    manager = Manager(cluster, clock)
    manager.add(JobSimulator(simulator_side, clock, default_duration=1.0).controller())
    if engine == "tekton":
        for controller in tekton_controllers(simulator_side, clock, default_duration=1.0):
            manager.add(controller)
    metrics = CountingMetrics()
    app = install(manager, AppConfig(image_policy=ImagePolicy("skip"), pod_lookup=simulated_pods, catalog=CATALOG,
                                     informer_cache=informers),
                  cluster=engine_side, metrics=metrics)
    for i in range(count):
        cluster.create(workflow(f"wf-{i:05d}", engine))
    profiler = cProfile.Profile() if profile else None
    started, cpu_started = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    done = manager.run_until(lambda: metrics.finished >= count, max_virtual_seconds=3600)
    manager.run_until_idle()  # the last cleanups (PVC deletion, finalizer) of the last reconciles
    if profiler:
        profiler.disable()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    phases = Counter((w.get("status") or {}).get("phase") for w in cluster.objects(KIND))
    out: dict[str, Any] = {"count": count, "done": done, "wall": wall, "cpu": cpu, "phases": dict(phases),
                           "virtual": clock.monotonic(), "engine_calls": engine_side.calls,
                           "simulator_calls": simulator_side.calls,
                           "reconciles": {c.name: c.stats.reconciles for c in manager.controllers},
                           "compiles": app.compiler.misses, "engine": engine}
    if profiler:
        text = io.StringIO()
        # BENCH_SORT=tottime, BENCH_TOP=60: another view of the same profile.
        sort, top = os.environ.get("BENCH_SORT", "cumulative"), int(os.environ.get("BENCH_TOP", "30"))
        pstats.Stats(profiler, stream=text).sort_stats(sort).print_stats(top)
        out["profile"] = text.getvalue()
    return out


def transitions(result: dict[str, Any]) -> list[float]:
    """Seconds from a dependency's run completing to the dependent's run being created: V1, a
    Job's ``Complete`` (the simulated job controller) to kubernaut creating the next Job; V2, a
    TaskRun's ``Succeeded`` to the (simulated) Tekton controller creating the next TaskRun."""
    run_kind, done, creates = (("TaskRun", "Succeeded", result["simulator_calls"]) if result["engine"] == "tekton"
                               else ("Job", "Complete", result["engine_calls"]))
    completed: dict[tuple[str, str], float] = {}
    for at, verb, kind, _name, answer in result["simulator_calls"]:
        if verb == "patch_status" and kind == run_kind and answer and any(
                c.get("type") == done and c.get("status") == "True"
                for c in (answer.get("status") or {}).get("conditions") or []):
            labels = answer["metadata"]["labels"]
            completed.setdefault((labels[WORKFLOW], labels[STEP]), at)
    gaps = []
    for at, verb, kind, _name, answer in creates:
        if verb == "create" and kind == run_kind and answer:
            labels = answer["metadata"]["labels"]
            workflow_name, step = labels[WORKFLOW], labels[STEP]
            deps = DEPS.get(step, ())
            if deps and all((workflow_name, d) in completed for d in deps):
                gaps.append(at - max(completed[(workflow_name, d)] for d in deps))
    return gaps


def describe(result: dict[str, Any]) -> None:
    count = result["count"]
    steps = count * len(STEPS)
    calls = result["engine_calls"]
    by = Counter(f"{verb} {kind}" for _, verb, kind, _, _ in calls if verb != "watch")
    gaps = transitions(result)
    print(f"  workflows {count}: done={result['done']} phases={result['phases']} "
          f"virtual {result['virtual']:.0f}s, wall {result['wall']:.2f}s "
          f"({1000 * result['wall'] / count:.2f} ms per workflow, {1000 * result['wall'] / steps:.2f} ms per step)")
    print(f"  reconciles: {result['reconciles']}; compiles: {result['compiles']}")
    if gaps:
        gaps.sort()
        what = ("TaskRun Succeeded -> next TaskRun created" if result["engine"] == "tekton"
                else "Job Complete -> next Job created")
        print(f"  step transition ({what}), {len(gaps)} transitions: "
              f"median {1000 * statistics.median(gaps):.2f} ms, p95 {1000 * gaps[int(0.95 * (len(gaps) - 1))]:.2f} ms,"
              f" max {1000 * gaps[-1]:.2f} ms")
    total = sum(by.values())
    write_verbs = ("create", "update", "apply", "patch_status", "delete")
    writes = sum(n for key, n in by.items() if key.split()[0] in write_verbs)
    print(f"  step transitions per second: {steps / result['wall']:.0f} "
          f"(per CPU second of this process: {steps / result['cpu']:.0f}); "
          f"writes per step: {writes / steps:.2f}; reads per step: {(total - writes) / steps:.2f}")
    print(f"  kubernaut API requests: {total} = {total / steps:.1f} per step "
          f"(simulated job controller: {len(result['simulator_calls']) / steps:.1f} per step, excluded)")
    for key, value in by.most_common():
        print(f"    {value / steps:6.2f}/step  {key}")
    if result.get("engine") == "tekton":
        changes = sum(1 for _, verb, kind, _, _ in result["simulator_calls"]
                      if kind == "PipelineRun" and verb in ("patch_status", "update"))
        if changes:
            print(f"  PipelineRun status changes: {changes}; kubernaut writes per change: {writes / changes:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workflows", type=int, default=1000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--no-informers", action="store_true", help="controllers read from the API server")
    parser.add_argument("--engine", choices=("jobs", "tekton"), default="jobs")
    parser.add_argument("--default-gc", action="store_true",
                        help="keep Python's collector thresholds (kubernaut run tunes them)")
    args = parser.parse_args()
    if not args.default_gc:
        tune_for_long_running()
    informers = not args.no_informers
    print("one workflow alone (scheduling overhead without queueing behind other work):")
    samples = [run(1, informers=informers, engine=args.engine) for _ in range(20)]
    gaps = sorted(g for s in samples for g in transitions(s))
    print(f"  step transition over 20 runs: median {1000 * statistics.median(gaps):.2f} ms, "
          f"max {1000 * gaps[-1]:.2f} ms")
    describe(samples[-1])
    print(f"\n{args.workflows} concurrent workflows, one thread:")
    result = run(args.workflows, profile=args.profile, informers=informers, engine=args.engine)
    describe(result)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak memory (max RSS of the process): {peak:.0f} MiB")
    if args.profile:
        print(result["profile"])


if __name__ == "__main__":
    main()
